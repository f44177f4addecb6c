"""Recording a new report (form Mẫu 01): check it, then open the case in the first state."""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app

from caseflow.extensions import db
from caseflow.models import Case, Child, Informant, OrgUnit, User
from caseflow.models.cases import CHANNELS, HARM_TYPES, SEXES
from caseflow.models.types import utcnow
from caseflow.services import access, counts, duplicates, figures, forms, limits
from caseflow.services.directory import commune_by_code
from caseflow.services.errors import Forbidden, Why
from caseflow.services.limits import CHILD_AGE_LIMIT
from caseflow.services.transition import TransitionRun
from caseflow.services.trigger_input import parse_fields
from caseflow.services.validation import Fields
from caseflow.services.writes import case_write
from caseflow.workflow import current_engine
from caseflow.workflow.clock import LOCAL_TZ
from caseflow.workflow.lists import Lists

CLOCK_SKEW = timedelta(minutes=5)


def _child(payload: object, fields: Fields, today: date, lists: Lists) -> Child | None:
    child = Fields(payload, "child.") if isinstance(payload, dict) else None
    if child is None:
        fields.error("child", Why("object_required"))
        return None
    full_name = child.string("full_name", required=True, max_length=limits.NAME_CHARS)
    dob = child.day("date_of_birth")
    age = child.integer("estimated_age", low=0, high=CHILD_AGE_LIMIT - 1)
    sex = child.choice("sex", SEXES) or "unknown"
    address = child.string("address", max_length=limits.ADDRESS_CHARS)
    school = child.string("school", max_length=limits.NAME_CHARS)
    family = child.string("family", max_length=limits.SHORT_TEXT_CHARS)
    stats = figures.child_figures(child, lists)
    if dob is not None:
        if dob > today:
            child.error("date_of_birth", Why("in_future"))
        elif not limits.is_child(dob, today):
            child.error("date_of_birth", Why("not_a_child", limit=CHILD_AGE_LIMIT))
    if (
        dob is None
        and age is None
        and "estimated_age" not in child.errors
        and "date_of_birth" not in child.errors
    ):
        child.error("date_of_birth", Why("dob_or_age"))
    fields.errors.update(child.errors)
    return Child(
        full_name=full_name or "",
        date_of_birth=dob,
        estimated_age=age,
        sex=sex,
        address=address,
        school=school,
        family=family,
        **stats,
    )


def _informant(payload: object, fields: Fields) -> Informant | None:
    if payload is None:
        return None
    info = Fields(payload, "informant.") if isinstance(payload, dict) else None
    if info is None:
        fields.error("informant", Why("must_be_object"))
        return None
    consent = info.boolean("consent", required=True)
    name = info.string("name", max_length=limits.NAME_CHARS)
    phone = info.string("phone", max_length=limits.PHONE_CHARS)
    relation = info.string("relation", max_length=limits.RELATION_CHARS)
    fields.errors.update(info.errors)
    # Without consent the informant's identity is not recorded at all (Decree 56 Art. 33).
    if not consent:
        return Informant(consent=False)
    return Informant(consent=True, name=name, phone=phone, relation=relation)


def open_case(user: User, payload: object) -> Case:
    """Validate a report and open its case; the whole thing commits or nothing does."""
    if not access.may_open_case(user):
        raise Forbidden("Your role may not record reports")
    fields = Fields(payload)
    now = utcnow()
    today = now.astimezone(LOCAL_TZ).date()
    incident = commune_by_code(
        fields,
        "incident_commune",
        fields.string("incident_commune", required=True, max_length=limits.CODE_CHARS),
    )
    residence_code = fields.string("residence_commune", max_length=limits.CODE_CHARS)
    residence = commune_by_code(fields, "residence_commune", residence_code) if residence_code else incident
    received_at = fields.moment("received_at") or now
    if received_at > now + CLOCK_SKEW:
        fields.error("received_at", Why("in_future"))
    earliest = date.fromisoformat(str(current_app.config.get("CASEFLOW_EARLIEST_RECEIVED_AT", "2017-07-01")))
    if received_at.astimezone(LOCAL_TZ).date() < earliest:
        # A report "received in 1899" is a typing mistake, and would skew every statistic.
        fields.error("received_at", f"is before CaseFlow's earliest date ({earliest.isoformat()})")
    channel = fields.choice("channel", CHANNELS, required=True)
    harm_types = fields.choices("harm_types", HARM_TYPES, required=True)
    summary = fields.string("summary", required=True, max_length=current_app.config["MAX_SUMMARY_CHARS"])
    lists = current_engine().definition.lists
    stats = figures.case_figures(fields, lists)
    child = _child(fields.data.get("child"), fields, today, lists)
    informant = _informant(fields.data.get("informant"), fields)
    engine = current_engine()
    # What the report itself says (serious harm...), as the workflow file declares it.
    said = parse_fields(fields, engine.definition.intake.fields, now)
    fields.raise_if_any()
    if not access.may_open_case_in(user, incident):
        raise Forbidden(
            "You may record reports only for communes in your own area",
            {"incident_commune": Why("outside_area")},
        )

    case = Case(
        state=engine.definition.initial,
        workflow_version=f"{engine.definition.name}/{engine.definition.version}",
        harm_types=harm_types,
        incident_commune=incident,
        residence_commune=residence,
        channel=channel,
        summary=summary,
        received_at=min(received_at, now),
        state_entered_at=now,
        created_by_id=user.id,
        reported_by_agency_id=user.agency_id if user.role == "agency_staff" else None,
        **{name: value for name, value in said.items() if value is not None and name in Case.__table__.c},
        **stats,
    )
    child.age_at_receipt = figures.age_at_receipt(child.date_of_birth, child.estimated_age, case.received_at)
    with case_write():  # a task that cannot be routed must not leave a half-opened case behind
        db.session.add(case)
        db.session.flush()  # the id makes the reference
        case.reference = f"{_prefix(incident)}-{case.received_at.astimezone(LOCAL_TZ).year}-{case.id:06d}"
        child.case = case
        db.session.add(child)
        if informant is not None:
            informant.case_id = case.id
            db.session.add(informant)
        run = TransitionRun(engine, case, user, {})
        run.record(
            "created",
            to_state=case.state,
            data={
                "channel": channel,
                "harm_types": harm_types,
                **{k: v for k, v in said.items() if v is not None},
            },
        )
        run.enter_state(case.state)
        # Art. 26.3, 31: a report of serious harm opens the emergency tasks now, 12 h from receipt.
        run.spawn(engine.definition.intake.creates, said)
        run.finish_tasks()
        case.related_case_ids = duplicates.earlier_cases(case) or None
        forms.record_at_intake(run)  # Mẫu 01 from the report as stored
        counts.record_open_change(
            None, counts.open_pair(case, not engine.definition.states[case.state].terminal)
        )
    return case


def _prefix(commune: OrgUnit) -> str:
    units = [commune, *commune.ancestors()]
    return next((u.abbrev for u in reversed(units) if u.abbrev), "CF")
