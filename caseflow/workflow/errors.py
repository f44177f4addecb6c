"""The error a wrong workflow file raises, for the loaders (definition, lists, forms) alike."""

from __future__ import annotations


class WorkflowError(ValueError):
    """The definition file is wrong; the message names the file and line."""


__all__ = ["WorkflowError"]
