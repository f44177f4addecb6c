"""The tamper-evident trail: every event is hashed with the previous event of its case.

Each case's events form a chain: `seq` counts them from 1, `prev_hash` is the previous
event's `hash`, and `hash` is sha256 over the canonical JSON of the event's fields (its
data by digest) and `prev_hash`. An SQL UPDATE or DELETE of an event, or an INSERT past
CaseFlow, breaks the chain where it happened and `flask caseflow verify-audit` names it.

Every event is sealed as it is written, whichever way: `seal_rows` for the rows a
transition inserts in one statement, and a `before_flush` hook for events added to the
session as objects. Two writers on one case are serialised for the moment of sealing
(PostgreSQL: a transaction-scoped advisory lock per case, taken only after the writer's
other row locks, so it adds no lock cycle; SQLite: the database's single write lock), and
the unique (case_id, seq) refuses a fork whatever happens.

The retention path may erase an event's content: its data becomes ``{"_redacted": digest}``
with the digest of what it held, so the chain still verifies, and only on an anonymised case.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, bindparam, event, func, select, text
from sqlalchemy.orm import Session

from caseflow.models import AdminEvent, Case, CaseEvent
from caseflow.models.types import utcnow

ADVISORY_CLASS = 5601  # pg_advisory_xact_lock(class, case_id): the audit chain of one case
ADMIN_ADVISORY_CLASS = 5602  # pg_advisory_xact_lock(class, 0): the administrators' chain
REDACTED = "_redacted"
_FIELDS = ("case_id", "seq", "at", "actor_id", "actor_label", "kind", "from_state", "to_state")
_ADMIN_FIELDS = ("seq", "at", "actor_id", "actor_label", "action", "target")


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def data_digest(data: dict | None) -> str:
    """What the hash covers of an event's data: the digest of its canonical JSON, or the digest
    an anonymisation kept when it erased the content."""
    data = data or {}
    if set(data) == {REDACTED} and isinstance(data[REDACTED], str):
        return data[REDACTED]
    return hashlib.sha256(canonical(data).encode("utf-8")).hexdigest()


def _moment(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(row: dict, prev_hash: str | None, fields: tuple[str, ...] = _FIELDS) -> str:
    body = {name: row.get(name) for name in fields}
    body["at"] = _moment(row["at"])
    body["data"] = data_digest(row.get("data"))
    body["prev_hash"] = prev_hash
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


def _lock_heads(session: Session, case_ids: list[int]) -> dict[int, tuple[int, str | None]]:
    """Serialise the writers of these cases' chains until commit, then read each chain's head."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        for case_id in sorted(case_ids):  # one order for everyone: no deadlock between sealers
            connection.execute(_LOCK_CASE, {"c": ADVISORY_CLASS, "k": case_id})
    else:
        # SQLite runs a SELECT outside a transaction: take the write lock first, so no other
        # writer can append between reading the head and inserting after it.
        connection.execute(_LOCK_SQLITE)
    if len(case_ids) == 1:  # a transition, a read, a note: the index's last entry of one case
        head = connection.execute(_HEAD_OF_ONE, {"case_id": case_ids[0]}).first()
        return {case_ids[0]: (head.seq, head.hash)} if head else {}
    table = CaseEvent.__table__
    last = (
        select(table.c.case_id, func.max(table.c.seq).label("seq"))
        .where(table.c.case_id.in_(case_ids))
        .group_by(table.c.case_id)
        .subquery()
    )
    rows = connection.execute(
        select(table.c.case_id, table.c.seq, table.c.hash).join(
            last, (last.c.case_id == table.c.case_id) & (last.c.seq == table.c.seq)
        )
    )
    return {case_id: (seq, digest) for case_id, seq, digest in rows}


def _head_of_one() -> Select:
    table = CaseEvent.__table__
    return (
        select(table.c.seq, table.c.hash)
        .where(table.c.case_id == bindparam("case_id"), table.c.seq.is_not(None))
        .order_by(table.c.seq.desc())
        .limit(1)
    )


# Built once: building and keying these anew costs as much CPU as running them.
_HEAD_OF_ONE = _head_of_one()
_LOCK_CASE = text("SELECT pg_advisory_xact_lock(:c, :k)")
_LOCK_SQLITE = text("UPDATE case_events SET seq = seq WHERE 0 = 1")


def seal_rows(session: Session, rows: list[dict]) -> None:
    """Give rows about to be inserted into case_events their seq, prev_hash and hash, in order.
    One query for the heads of all their cases; the hashes are computed here."""
    if not rows:
        return
    for row in rows:
        row.setdefault("at", utcnow())
        if row.get("data") is None:
            row["data"] = {}
    heads = _lock_heads(session, list(dict.fromkeys(row["case_id"] for row in rows)))
    for row in rows:
        seq, prev = heads.get(row["case_id"], (0, None))
        row["seq"], row["prev_hash"] = seq + 1, prev
        row["hash"] = event_hash(row, prev)
        heads[row["case_id"]] = (row["seq"], row["hash"])


def _row_of(obj: CaseEvent) -> dict:
    return {name: getattr(obj, name) for name in (*_FIELDS, "data")}


def _seal_admin_events(session: Session, new: list[AdminEvent]) -> None:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:c, 0)"), {"c": ADMIN_ADVISORY_CLASS})
    else:
        connection.execute(text("UPDATE admin_events SET seq = seq WHERE 0 = 1"))
    table = AdminEvent.__table__
    head = connection.execute(select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)).first()
    seq, prev = head if head else (0, None)
    for obj in new:
        if obj.at is None:
            obj.at = utcnow()
        if obj.data is None:
            obj.data = {}
        seq += 1
        obj.seq, obj.prev_hash = seq, prev
        obj.hash = prev = event_hash(
            {name: getattr(obj, name) for name in (*_ADMIN_FIELDS, "data")}, obj.prev_hash, _ADMIN_FIELDS
        )


@event.listens_for(Session, "before_flush")
def _seal_new_events(session: Session, flush_context, instances) -> None:  # noqa: ANN001
    from caseflow.services import admin_audit

    admin_audit.collect(session)
    admin = [obj for obj in session.new if isinstance(obj, AdminEvent) and obj.hash is None]
    if admin:
        admin.sort(key=lambda obj: obj._sa_instance_state.insert_order)
        _seal_admin_events(session, admin)
    new = [obj for obj in session.new if isinstance(obj, CaseEvent) and obj.hash is None]
    if not new:
        return
    new.sort(key=lambda obj: obj._sa_instance_state.insert_order)
    for obj in new:
        if obj.case_id is None and obj.case is not None:  # pragma: no cover - events are built with ids
            obj.case_id = obj.case.id
        if obj.at is None:
            obj.at = utcnow()
        if obj.data is None:
            obj.data = {}
    rows = [_row_of(obj) for obj in new]
    seal_rows(session, rows)
    for obj, row in zip(new, rows, strict=True):
        obj.seq, obj.prev_hash, obj.hash = row.get("seq"), row.get("prev_hash"), row.get("hash")


@dataclass
class Break:
    """The first place a case's chain does not hold."""

    case_id: int
    reference: str | None
    event_id: int | None
    seq: int | None
    why: str

    def __str__(self) -> str:
        where = f"event #{self.seq}" if self.seq is not None else "an event"
        ident = f" (id {self.event_id})" if self.event_id is not None else ""
        trail = "the administration trail" if self.case_id == 0 else f"case {self.reference or self.case_id}"
        return f"{trail}: {where}{ident} {self.why}"


def _events_by_case(session: Session, batch: int = 2000) -> Iterator[tuple[int, list[dict]]]:
    table = CaseEvent.__table__
    columns = [
        table.c.id,
        *(table.c[name] for name in _FIELDS),
        table.c.data,
        table.c.prev_hash,
        table.c.hash,
    ]
    result = session.execute(
        select(*columns).order_by(table.c.case_id, table.c.seq.nulls_last(), table.c.id),
        execution_options={"yield_per": batch},
    )
    current, events = None, []
    for row in result.mappings():
        if row["case_id"] != current and events:
            yield current, events
            events = []
        current = row["case_id"]
        events.append(dict(row))
    if events:
        yield current, events


def check_case(events: list[dict], anonymised: bool) -> tuple[int | None, int | None, str] | None:
    """(event id, seq, why) of the first break in one case's events (in seq order), or None."""
    prev = None
    for position, row in enumerate(events, start=1):
        if row["seq"] is None:
            return row["id"], None, "was added outside CaseFlow (no place in the chain)"
        if row["seq"] != position:
            return row["id"], position, f"was removed (the chain goes on at #{row['seq']})"
        if row["prev_hash"] != prev:
            return row["id"], row["seq"], "does not follow the event before it: one was removed or changed"
        data = row["data"] or {}
        if set(data) == {REDACTED} and not anonymised:
            return row["id"], row["seq"], "had its content erased on a case that is not anonymised"
        if event_hash(row, prev) != row["hash"]:
            return row["id"], row["seq"], "was changed"
        prev = row["hash"]
    return None


def verify(session: Session) -> Iterable[Break]:
    """Every break, the first of each case, in case order."""
    cases = {
        cid: (ref, anonymised)
        for cid, ref, anonymised in session.execute(
            select(Case.id, Case.reference, Case.anonymised_at.is_not(None))
        )
    }
    for case_id, events in _events_by_case(session):
        reference, anonymised = cases.get(case_id, (None, False))
        found = check_case(events, bool(anonymised))
        if found:
            event_id, seq, why = found
            yield Break(case_id, reference, event_id, seq, why)


def verify_admin(session: Session) -> Break | None:
    table = AdminEvent.__table__
    columns = [
        table.c.id,
        *(table.c[name] for name in _ADMIN_FIELDS),
        table.c.data,
        table.c.prev_hash,
        table.c.hash,
    ]
    prev = None
    for position, row in enumerate(
        session.execute(select(*columns).order_by(table.c.seq.nulls_last(), table.c.id)).mappings(), 1
    ):
        why = None
        if row["seq"] is None:
            why = "was added outside CaseFlow (no place in the chain)"
        elif row["seq"] != position:
            why = f"was removed (the chain goes on at #{row['seq']})"
        elif row["prev_hash"] != prev:
            why = "does not follow the event before it: one was removed or changed"
        elif event_hash(dict(row), prev, _ADMIN_FIELDS) != row["hash"]:
            why = "was changed"
        if why:
            return Break(0, "administration", row["id"], row["seq"], why)
        prev = row["hash"]
    return None


def reseal_case(session: Session, case_id: int) -> int:
    """Recompute one case's chain after CaseFlow itself rewrote its history (the demo's aging
    of fake cases). On PostgreSQL the caller must have allowed the rewrite (`allow_rewrite`)."""
    table = CaseEvent.__table__
    rows = [
        dict(r)
        for r in session.execute(
            select(table.c.id, *(table.c[name] for name in _FIELDS), table.c.data)
            .where(table.c.case_id == case_id)
            .order_by(table.c.seq.nulls_last(), table.c.id)
        ).mappings()
    ]
    prev = None
    for position, row in enumerate(rows, start=1):
        row["seq"] = position
        digest = event_hash(row, prev)
        session.execute(
            table.update().where(table.c.id == row["id"]).values(seq=position, prev_hash=prev, hash=digest)
        )
        prev = digest
    return len(rows)


def allow_rewrite(session: Session) -> None:
    """Let this transaction UPDATE or DELETE trail rows past the PostgreSQL trigger: for the
    retention path, key rotation and the demo only. The chain still shows any change."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT set_config('caseflow.audit_rewrite', 'on', true)"))
