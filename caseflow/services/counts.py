"""The open-case counters: changed in the same transaction as the case, by atomic increments."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.dialects import postgresql, sqlite

from caseflow.extensions import db
from caseflow.models import Case, OpenCaseCount

CommunePair = tuple[int, int]  # (incident_commune_id, residence_commune_id)


def record_open_change(before: CommunePair | None, after: CommunePair | None) -> None:
    """A case was open under `before` (None: it was not open) and is now open under `after`.

    Each counter moves by `SET open_cases = open_cases + delta` in one upsert, so concurrent
    transactions add up instead of overwriting each other. Rows are touched in key order, so two
    handovers crossing each other cannot deadlock on PostgreSQL's row locks.
    """
    deltas: Counter[CommunePair] = Counter()
    if before is not None:
        deltas[before] -= 1
    if after is not None:
        deltas[after] += 1
    changes = sorted((pair, n) for pair, n in deltas.items() if n)
    if not changes:
        return
    db.session.flush()  # the case's own UPDATE (and its version check) goes first
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    for (incident, residence), delta in changes:
        stmt = dialect.insert(OpenCaseCount).values(
            incident_commune_id=incident, residence_commune_id=residence, open_cases=delta
        )
        db.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[OpenCaseCount.incident_commune_id, OpenCaseCount.residence_commune_id],
                set_={"open_cases": OpenCaseCount.open_cases + stmt.excluded.open_cases},
            )
        )


def open_pair(case: Case, is_open: bool) -> CommunePair | None:
    return (case.incident_commune_id, case.residence_commune_id) if is_open else None
