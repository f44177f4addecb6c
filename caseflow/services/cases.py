"""Reading cases within the caller's reach, notes and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ScalarSelect, Select, String, func, select
from sqlalchemy.orm import aliased, joinedload, load_only, selectinload, with_expression

from caseflow.extensions import db
from caseflow.models import Case, CaseEvent, OrgUnit, Task, User
from caseflow.models.types import utcnow
from caseflow.services import access, audit, limits
from caseflow.services.errors import Forbidden, Invalid, NotFound, Why
from caseflow.services.visibility import case_view
from caseflow.workflow.engine import Engine

MAX_NOTE_CHARS = limits.LONG_TEXT_CHARS
# Ids are 32-bit integers in the schema: a larger one from a URL names no row, and must not
# reach the database (PostgreSQL and SQLite both raise on it instead of finding nothing).
MAX_ID = 2**31 - 1
# A list counts its cases up to this many and says "more than" beyond: a province's exact total
# read every case of the register on each page, and nobody pages past the first thousands.
COUNT_CAP = 10_000


def get_case(
    user: User, case_id: int, *, for_update: bool = False, for_display: bool = False, to_decide: bool = False
) -> Case:
    """A case the user may see, or 404 (existence outside the caller's reach is not revealed).

    `for_display`: also load, in the same query, all its JSON shows (see `kept_after_commit`).
    `to_decide`: also a case a handover asks the user's commune to take over (to open it and
    answer; its notes, trail and files stay out of reach until it accepts).
    """
    if not 0 < case_id <= MAX_ID:
        raise NotFound("No such case")
    # One query with everything joined: a second query for the tasks (selectinload) cost a
    # quarter more CPU than the rows a case's few tasks repeat.
    query = (
        select(Case)
        .where(Case.id == case_id, access.case_detail_scope(user) if to_decide else access.case_scope(user))
        .options(joinedload(Case.tasks).joinedload(Task.agency, innerjoin=True))
    )
    if for_display:
        query = query.options(*_DISPLAY_ONE_TO_ONE)
    case = db.session.scalars(query).unique().one_or_none()
    if case is None:
        raise NotFound("No such case")
    return case


def read_case(engine: Engine, user: User, case_id: int) -> Case:
    """Load a case for display and write the read into its trail (Decree 56 Art. 33)."""
    case = get_case(user, case_id, for_display=True, to_decide=True)
    shown_identity = access.can_see_identity(user, case)
    # A plain row, not an object to flush; the read changes nothing of the case, so what was
    # loaded is what is shown, without reading it back after the commit.
    audit.insert_rows([audit.event_row(case.id, "read", actor=user, data={"identity_shown": shown_identity})])
    with kept_after_commit():
        db.session.commit()
    return case


_DISPLAY_ONE_TO_ONE = (
    joinedload(Case.incident_commune),
    joinedload(Case.residence_commune),
    joinedload(Case.child),
    joinedload(Case.informant),
)


@contextmanager
def kept_after_commit() -> Iterator[None]:
    """Keep the session's objects loaded across the commits inside the block.

    A commit expires every loaded object, and showing the case afterwards read it all back,
    one relationship at a time. A change that loaded what it shows beforehand (`get_case(...,
    for_display=True)`) holds the very values it just wrote, ids and versions included:
    the response is built from them. A rollback still expires everything.
    """
    session = db.session()
    previous = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = previous


def case_query(
    user: User,
    *,
    state: str | None = None,
    overdue: bool = False,
    org_unit: OrgUnit | None = None,
    reference: str | None = None,
    risk_level: str | None = None,
    harm_type: str | None = None,
) -> Select:
    query = select(Case).where(access.case_scope(user))
    if state:
        query = query.where(Case.state == state)
    if risk_level:
        query = query.where(Case.risk_level == risk_level)
    if reference:
        query = query.where(Case.reference.contains(reference.strip().upper(), autoescape=True))
    if harm_type:
        # JSON list membership, portable across SQLite and PostgreSQL.
        query = query.where(Case.harm_types.cast(String).contains(f'"{harm_type}"'))
    if org_unit is not None:
        ids = _subtree_ids(org_unit)
        query = query.where((Case.incident_commune_id.in_(ids)) | (Case.residence_commune_id.in_(ids)))
    if overdue:
        # IN over the overdue tasks, computed once: a correlated EXISTS made SQLite walk every
        # overdue task of the database for each case in reach (its index is on status, due_at).
        query = query.where(Case.id.in_(_overdue_task_cases()))
    return query


class CasePage(NamedTuple):
    items: list[Case]
    total: int  # at most COUNT_CAP
    exact: bool  # False: more than `total` cases match


# What a list shows of a case (services/serialize.case_summary_json, the supervisor's page):
# the other columns are long encrypted texts, decrypted on load for nothing.
_LISTED = (
    load_only(
        Case.reference,
        Case.state,
        Case.version,
        Case.risk_level,
        Case.harm_types,
        Case.channel,
        Case.incident_commune_id,
        Case.residence_commune_id,
        Case.received_at,
        Case.closed_at,
        Case.separation,
    ),
    # Joined: two more statements cost more than the page's join to a few hundred communes.
    joinedload(Case.incident_commune, innerjoin=True),
    joinedload(Case.residence_commune, innerjoin=True),
)


def _listed(now: datetime) -> tuple:
    """The list's loader options: its columns, its communes, and each case's open overdue tasks
    counted in the same query (one range of ix_tasks_open_received per case) rather than every
    task of the page loaded as objects to count them."""
    overdue = (
        select(func.count())
        .where(
            Task.status == "open",
            Task.case_received_at == Case.received_at,
            Task.case_id == Case.id,
            Task.due_at < now,
        )
        .correlate(Case)
        .scalar_subquery()
    )
    return (*_LISTED, with_expression(Case.listed_overdue, overdue))


def list_cases(user: User, page: int, per_page: int, **filters) -> CasePage:  # noqa: ANN003
    now = utcnow()
    if filters.get("overdue") and user.role == "supervisor":
        return _list_overdue(user, now, page, per_page, **filters)
    query = case_query(user, **filters)
    if filters.get("overdue"):
        # A commune's few cases, each looked up among the overdue ones: walking the province's
        # overdue tasks newest first for the few of one commune would cost more.
        total = db.session.scalar(_overdue_count(user, now, **filters)) or 0
    else:
        if user.role == "supervisor":
            # Always true, and the condition of the partial ix_cases_received_id: a supervisor's
            # many cases are read newest first in index order, and counted from that narrow index;
            # commune lists never state it, and keep their own bitmap scans.
            query = query.where(Case.id > 0)
        # The count over the filters themselves, not over a subquery of every case column, and
        # stopped one past the cap: its cost follows the cap, not the register.
        capped = query.with_only_columns(Case.id).order_by(None).limit(COUNT_CAP + 1).subquery()
        total = db.session.scalar(select(func.count()).select_from(capped)) or 0
    items = db.session.scalars(
        query.order_by(Case.received_at.desc(), Case.id.desc())
        .options(*_listed(now))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return CasePage(list(items), min(total, COUNT_CAP), total <= COUNT_CAP)


def _list_overdue(user: User, now: datetime, page: int, per_page: int, **filters) -> CasePage:  # noqa: ANN003
    """A supervisor's cases with an open overdue task, in the list's order, from the tasks' side.

    The newest cases are rarely overdue: read from the cases, a page walked tens of thousands
    of them. Open tasks carry their case's receipt (`Task.case_received_at`), so the page walks
    ix_tasks_open_received newest first, keeps the overdue ones (one row per case) and joins
    their cases by id, where the caller's reach and the other filters apply. Overdue cases are
    as many as the overdue work, and counted in full (see `_overdue_count`).
    """
    # Ordered inside: PostgreSQL plans a DISTINCT subquery on its own, and without its order
    # hashed every case in reach before sorting them.
    overdue = (
        select(Task.case_received_at, Task.case_id)
        .where(Task.status == "open", Task.due_at < now)
        .distinct()
        .order_by(Task.case_received_at.desc(), Task.case_id.desc())
        .subquery()
    )
    query = case_query(user, **{**filters, "overdue": False}).join(overdue, overdue.c.case_id == Case.id)
    total = db.session.scalar(_overdue_count(user, now, **filters)) or 0
    items = db.session.scalars(
        query.order_by(overdue.c.case_received_at.desc(), overdue.c.case_id.desc())
        .options(*_listed(now))
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return CasePage(list(items), min(total, COUNT_CAP), total <= COUNT_CAP)


def _overdue_count(
    user: User, now: datetime, *, org_unit: OrgUnit | None = None, **filters: object
) -> Select:
    """How many cases in reach have an open overdue task.

    From the tasks alone when only the reach (and a unit) narrow the list: tasks carry their
    case's communes, and PostgreSQL, which cannot tell that few open tasks are overdue, hashed
    every case of the register to join them. Other filters are on the cases: joined then.
    """
    by_case = any(value for key, value in filters.items() if key != "overdue")
    if by_case or user.role == "agency_staff":
        query = case_query(user, org_unit=org_unit, **filters).order_by(None)
        return query.with_only_columns(func.count(Case.id))
    query = select(func.count(Task.case_id.distinct())).where(
        Task.status == "open", Task.due_at < now, access.task_commune_scope(user)
    )
    if org_unit is not None:
        ids = _subtree_ids(org_unit)
        query = query.where(Task.incident_commune_id.in_(ids) | Task.residence_commune_id.in_(ids))
    return query


def _subtree_ids(unit: OrgUnit) -> ScalarSelect:
    return select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True)).scalar_subquery()


def export_rows(user: User, **filters) -> Select:  # noqa: ANN003
    """The case list as plain columns for CSV: one query, no ORM objects, and by construction no
    column of the child or the informant (they live in other tables)."""
    incident, residence = aliased(OrgUnit), aliased(OrgUnit)
    overdue = (
        select(Task.case_id, func.count().label("n"))
        .where(Task.status == "open", Task.due_at < utcnow())
        .group_by(Task.case_id)
        .subquery()
    )
    query = case_query(user, **filters).order_by(None)
    return (
        query.join(incident, Case.incident_commune_id == incident.id)
        .join(residence, Case.residence_commune_id == residence.id)
        .outerjoin(overdue, overdue.c.case_id == Case.id)
        .with_only_columns(
            Case.reference,
            Case.state,
            Case.risk_level,
            Case.harm_types,
            Case.channel,
            incident.name,
            residence.name,
            Case.received_at,
            Case.closed_at,
            func.coalesce(overdue.c.n, 0).label("overdue_tasks"),
        )
        .order_by(Case.received_at.desc(), Case.id.desc())
    )


def _overdue_task_cases() -> Select:
    return select(Task.case_id).where(Task.status == "open", Task.due_at < utcnow())


def add_note(engine: Engine, user: User, case_id: int, payload: object) -> CaseEvent:
    case = get_case(user, case_id)
    text = payload.get("text") if isinstance(payload, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise Invalid({"text": Why("required")})
    if len(text) > MAX_NOTE_CHARS:
        raise Invalid({"text": Why("too_long", max=MAX_NOTE_CHARS)})
    event = audit.add(case.id, "note", actor=user, data={"text": text.strip()})
    db.session.commit()
    return event


def trail_of(case: Case) -> list[CaseEvent]:
    """The trail of a case the caller already holds through `read_case`, whose read is logged there."""
    return list(
        db.session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .options(selectinload(CaseEvent.actor))
            .order_by(CaseEvent.id)
        )
    )


def events_of(engine: Engine, user: User, case_id: int) -> list[CaseEvent]:
    case = get_case(user, case_id)
    if not case_view(user, case).trail:
        raise Forbidden("Your role may not read the audit trail")
    audit.add(case.id, "read", actor=user, data={"view": "events"})
    db.session.commit()
    return list(
        db.session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id)
            .options(selectinload(CaseEvent.actor))
            .order_by(CaseEvent.id)
        )
    )
