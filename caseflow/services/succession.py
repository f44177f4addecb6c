"""The 2025 reform's successors: which unit now answers for a unit that was merged away.

Closed units keep their rows and their history; whoever asks "who acts for this commune
now" (routing, escalation, access) follows `successor_id` to the unit that took it over.
"""

from __future__ import annotations

from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import OrgUnit

MAX_CHAIN = 20  # a merged unit merged again, and again: never a loop, but never trust data blindly


def current_unit(unit: OrgUnit) -> OrgUnit:
    """The unit itself, or the last successor in its chain of mergers."""
    seen = 0
    while unit.successor_id is not None and seen < MAX_CHAIN:
        successor = db.session.get(OrgUnit, unit.successor_id)
        if successor is None:
            break
        unit, seen = successor, seen + 1
    return unit


def predecessor_ids(unit_id: int) -> list[int]:
    """Every unit merged (directly or through others) into this one."""
    found: list[int] = []
    frontier = [unit_id]
    while frontier and len(found) < 10_000:
        rows = list(db.session.scalars(select(OrgUnit.id).where(OrgUnit.successor_id.in_(frontier))))
        rows = [r for r in rows if r not in found and r != unit_id]
        found += rows
        frontier = rows
    return found
