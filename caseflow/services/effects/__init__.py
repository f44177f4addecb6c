"""The guards and effects workflow files name, registered by importing this package.

Each topic has its module; importing them here registers their names with
caseflow.workflow.registry before a definition is loaded (the app factory imports this
package first), so the loader can refuse a name nobody implements.
"""

from __future__ import annotations

from caseflow.services.effects import guards, handover

__all__ = ["guards", "handover"]
