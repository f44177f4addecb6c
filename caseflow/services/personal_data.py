"""The data subject's rights and the limits on keeping data (Law 91/2025/QH15 on personal data).

- `export_case`: one child's whole record, for an access request (the chair of the case's
  commune; the export itself goes into the trail).
- `access_log`: who opened, exported or downloaded a case and whether the identity was shown,
  for a breach inquiry.
- `correct_child`: a correction of the identity, kept as a revision (who, why, what it was).
- `record_disclosure`: a disclosure outside the handling bodies needs the parent's consent and,
  from 7 years of age, the child's (Law on Children Art. 6, 33; Law 91/2025 Art. 24).
- `anonymise_due` (`flask caseflow retention`): closed cases past the retention period lose the
  identity and the free text; the statistics (sex, age, harm, communes, dates, tasks) stay.
  That reaches every place the case's people are written down: the child, the informant, the
  case's and tasks' free text, every revision of every form (what is erased is read from the
  form's declaration, `erase_form_values`), the attached files, the cached printed documents,
  and the content of the trail (its digests stay, so the chain still verifies).
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select

from caseflow.extensions import db
from caseflow.models import Attachment, Case, CaseEvent, FormRecord, Informant, Task, User
from caseflow.models.types import utcnow
from caseflow.services import access, audit, audit_chain, document_cache
from caseflow.services.backup import attachments_dir
from caseflow.services.cases import get_case, trail_of
from caseflow.services.errors import Conflict, Forbidden
from caseflow.services.validation import Fields
from caseflow.workflow import current_forms
from caseflow.workflow.clock import LOCAL_TZ
from caseflow.workflow.forms import PERSON_PARTS, FormDef, FormField

ACCESS_KINDS = ("read", "export", "access_log", "document", "attachment_download", "disclosure")
CHILD_CONSENT_AGE = 7
CORRECTABLE = ("full_name", "date_of_birth", "address", "school", "family", "sex", "estimated_age")


def _chair_of(user: User, case: Case) -> None:
    if user.role != "chair" or user.org_unit_id not in (case.incident_commune_id, case.residence_commune_id):
        raise Forbidden("Only the chair of the case's commune may do this")


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, date | datetime) else value


def export_case(user: User, case_id: int) -> dict[str, Any]:
    """Everything CaseFlow holds about one case's child, as JSON; the export is logged."""
    case = get_case(user, case_id, for_display=True)
    _chair_of(user, case)
    child = case.child.to_json() if case.child else None
    informant: Informant | None = case.informant
    record = {
        "exported_at": utcnow().isoformat(),
        "case": {
            "id": case.id,
            "reference": case.reference,
            "state": case.state,
            "received_at": _iso(case.received_at),
            "closed_at": _iso(case.closed_at),
            "channel": case.channel,
            "harm_types": case.harm_types,
            "risk_level": case.risk_level,
            "summary": case.summary,
            "findings": case.findings,
            "plan": case.plan,
            "closure_reason": case.closure_reason,
            "data": case.data or {},
            "incident_commune": case.incident_commune.code,
            "residence_commune": case.residence_commune.code,
        },
        "child": child,
        "informant": None
        if informant is None
        else {
            "consent": informant.consent,
            "name": informant.name,
            "phone": informant.phone,
            "relation": informant.relation,
        },
        "tasks": [
            {
                "id": t.id,
                "kind": t.kind,
                "agency": t.agency.code,
                "status": t.status,
                "due_at": _iso(t.due_at),
                "completed_at": _iso(t.completed_at),
                "description": t.description,
                "outcome": t.outcome,
                "note": t.note,
            }
            for t in case.tasks
        ],
        "trail": [e.to_json() for e in trail_of(case)],
    }
    audit.add(case.id, "export", actor=user, data={"purpose": "access request"})
    db.session.commit()
    return record


def access_log(user: User, case_id: int) -> list[dict[str, Any]]:
    """Every access to the case's data, oldest first (chair of its commune, or a supervisor)."""
    case = get_case(user, case_id)
    if user.role != "supervisor":
        _chair_of(user, case)
    rows = db.session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.kind.in_(ACCESS_KINDS))
        .order_by(CaseEvent.seq, CaseEvent.id)
    ).all()
    items = [
        {
            "at": e.at.isoformat(),
            "actor": e.actor.email if e.actor else (e.actor_label or "system"),
            "role": e.actor.role if e.actor else None,
            "kind": e.kind,
            "identity_shown": bool((e.data or {}).get("identity_shown")) or e.kind == "export",
            "view": (e.data or {}).get("view"),
        }
        for e in rows
    ]
    audit.add(case.id, "access_log", actor=user, data={"entries": len(items)})
    db.session.commit()
    return items


def correct_child(user: User, case_id: int, payload: object) -> Case:
    """Correct the child's identity: the old and new values and the reason become a revision
    in the trail (encrypted like all event data), and the child row takes the new values."""
    case = get_case(user, case_id, for_display=True)
    if not (user.role in access.COMMUNE_ROLES and access.can_see_identity(user, case)):
        raise Forbidden("Only the commune handling the case may correct the child's identity")
    fields = Fields(payload)
    reason = fields.string("reason", required=True, max_length=2000)
    version = fields.data.get("version")
    changes = fields.data.get("changes")
    if not isinstance(changes, dict) or not changes:
        fields.error("changes", f"must be an object with some of: {', '.join(CORRECTABLE)}")
        changes = {}
    unknown = sorted(set(changes) - set(CORRECTABLE))
    for name in unknown:
        fields.error(f"changes.{name}", "cannot be corrected here")
    new = Fields(changes, "changes.")
    values: dict[str, Any] = {}
    for name in changes:
        if name in ("full_name", "school"):
            values[name] = new.string(name, required=name == "full_name", max_length=200)
        elif name in ("address", "family"):
            values[name] = new.string(name, max_length=2000)
        elif name == "date_of_birth":
            values[name] = new.day(name)
        elif name == "estimated_age":
            values[name] = new.integer(name, low=0, high=15)
        elif name == "sex":
            values[name] = new.choice(name, ("female", "male", "unknown"), required=True)
    fields.errors.update(new.errors)
    fields.raise_if_any()
    if version != case.version:
        raise Conflict(f"The case changed since you loaded it (version {case.version}, you sent {version})")
    child = case.child
    before = {name: _iso(getattr(child, name)) for name in values}
    for name, value in values.items():
        setattr(child, name, value)
    audit.add(
        case.id,
        "correction",
        actor=user,
        data={
            "reason": reason,
            "before": before,
            "after": {k: _iso(v) for k, v in values.items()},
            # Past retention the trail keeps only a digest of this event: with a random salt in
            # it, nobody can confirm a guessed name (and a common reason) against that digest.
            "salt": secrets.token_hex(16),
        },
    )
    db.session.commit()
    return case


def _age(child: object, on: date) -> int | None:
    born = getattr(child, "date_of_birth", None)
    if born is None:
        return getattr(child, "estimated_age", None)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def record_disclosure(user: User, case_id: int, payload: object) -> CaseEvent:
    """A disclosure of the child's information outside the handling bodies, with the consents
    the law asks for: the parent's always, the child's from 7 years of age."""
    case = get_case(user, case_id)
    if not (user.role in access.COMMUNE_ROLES and access.can_see_identity(user, case)):
        raise Forbidden("Only the commune handling the case may record a disclosure")
    fields = Fields(payload)
    recipient = fields.string("recipient", required=True, max_length=200)
    purpose = fields.string("purpose", required=True, max_length=2000)
    parent = fields.boolean("parent_consent", required=True)
    child_consent = fields.boolean("child_consent")
    age = _age(case.child, utcnow().astimezone(LOCAL_TZ).date())
    if parent is False:
        fields.error("parent_consent", "must be true: no disclosure without the parent's consent")
    if (age is None or age >= CHILD_CONSENT_AGE) and child_consent is not True:
        fields.error("child_consent", "must be true: a child of 7 or older (or of unknown age) consents too")
    fields.raise_if_any()
    event = audit.add(
        case.id,
        "disclosure",
        actor=user,
        data={
            "recipient": recipient,
            "purpose": purpose,
            "parent_consent": True,
            "child_consent": child_consent,
            "child_age": age,
        },
    )
    db.session.commit()
    return event


def retention_years() -> float:
    return float(current_app.config.get("CASEFLOW_RETENTION_YEARS", 10))


def due_for_anonymisation(now: datetime | None = None) -> list[Case]:
    cutoff = (now or utcnow()) - timedelta(days=365.25 * retention_years())
    return list(
        db.session.scalars(
            select(Case)
            .where(Case.closed_at.is_not(None), Case.closed_at < cutoff, Case.anonymised_at.is_(None))
            .order_by(Case.id)
        )
    )


# What a form keeps past retention, decided from each field's declared type: codes and numbers
# are what the figures count and name nobody; free text names people, and a person's parts keep
# only their coded ones (sex, age), whoever the person is. Dates of the procedure stay, like the
# case's own; a birth date is a person's part and goes.
KEPT_TYPES = ("bool", "choice", "choices", "number", "date", "datetime")
KEPT_PERSON_TYPES = ("choice", "number")
# What a separation keeps: when and why, never where the child was or with whom.
SEPARATION_KEPT = ("active", "ground", "since", "first_decision_on", "until", "decision_number", "ended_at")


def _kept_person(spec: FormField, value: Any, born_age: int | None) -> dict | None:
    if not isinstance(value, dict):
        return None
    kept = {part: v for part, v in value.items() if PERSON_PARTS.get(part) in KEPT_PERSON_TYPES}
    if "age" in spec.parts and "age" not in kept and value.get("birth_date") and born_age is not None:
        kept["age"] = born_age  # the age survives the birth date, as on the child's row
    return kept or None


def _kept_value(spec: FormField, value: Any, born_age: int | None) -> Any:
    if value is None:
        return None
    if spec.type == "person":
        return _kept_person(spec, value, born_age)
    if spec.identity:
        return None  # declared identity (an address, a shelter, the family): nothing of it stays
    if spec.type == "rows":
        rows = [
            kept
            for row in value
            if isinstance(row, dict)
            and (kept := {c.name: row[c.name] for c in spec.fields if c.name in row and c.type in KEPT_TYPES})
        ]
        return rows or None
    return value if spec.type in KEPT_TYPES else None


def erase_form_values(form: FormDef | None, values: dict, born_age: int | None = None) -> tuple[dict, dict]:
    """A revision's values past retention, split as the form keeps them (data, identity): each
    field's declaration decides, never a list of names. `born_age`: the age to keep in a person
    whose birth date goes. A form no longer declared keeps nothing."""
    if form is None:
        return {}, {}
    kept = {
        spec.name: value
        for spec in form.fields
        if (value := _kept_value(spec, values.get(spec.name), born_age)) is not None
    }
    identity = set(form.identity_fields)
    return (
        {k: v for k, v in kept.items() if k not in identity},
        {k: v for k, v in kept.items() if k in identity},
    )


@dataclass
class Erasure:
    """What an anonymisation erases (or, in a dry run, would): form revisions, attached files,
    cached printed documents and trail events."""

    form_revisions: int = 0
    attachments: int = 0
    cached_documents: int = 0
    trail_events: int = 0

    def add(self, other: Erasure) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_json(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _attachment_folder(case: Case) -> Path:
    return attachments_dir() / str(case.id)


def erasure_of(case: Case) -> Erasure:
    """What `anonymise` would erase of this case, counted without changing anything."""
    table = CaseEvent.__table__
    redacted = 0
    events = 0
    for (data,) in db.session.execute(select(table.c.data).where(table.c.case_id == case.id)):
        events += 1
        redacted += set(data or {}) == {audit_chain.REDACTED}
    return Erasure(
        form_revisions=db.session.scalar(select(func.count()).where(FormRecord.case_id == case.id)) or 0,
        attachments=db.session.scalar(select(func.count()).where(Attachment.case_id == case.id)) or 0,
        cached_documents=len(document_cache.files_of(case.id)),
        trail_events=events - redacted,
    )


def _erase_forms(case: Case, born_age: int | None) -> int:
    forms = current_forms().forms
    records = list(db.session.scalars(select(FormRecord).where(FormRecord.case_id == case.id)))
    for record in records:
        values = {**(record.data or {}), **(record.identity or {})}
        record.data, record.identity = erase_form_values(forms.get(record.code), values, born_age)
        record.reason = None
    return len(records)


def _erase_attachments(case: Case) -> int:
    """The case's files and their rows go. Every attachment is evidence or a signed scan of a
    form, so any of them may show the child; nothing the figures count is in them; and a row
    kept without its file would only keep its free-text description and serve a broken link.
    The trail keeps, as a digest, that a file was added and downloaded."""
    items = list(db.session.scalars(select(Attachment).where(Attachment.case_id == case.id)))
    root = attachments_dir()
    for item in items:
        (root / item.stored_name).unlink(missing_ok=True)
    folder = _attachment_folder(case)
    if folder.is_dir():  # what an interrupted upload left (.part) goes too
        shutil.rmtree(folder)
    db.session.execute(delete(Attachment).where(Attachment.case_id == case.id))
    return len(items)


def anonymise(case: Case, now: datetime | None = None) -> Erasure:
    """Erase the identity and the free text of one closed case; keep what statistics count.
    The files go before the commit: should the commit fail, the case is still due and the next
    run erases again what is left."""
    now = now or utcnow()
    counted = erasure_of(case)
    child = case.child
    born_age = None
    if child is not None:
        received = case.received_at.astimezone(LOCAL_TZ).date()
        born_age = _age(child, received)
        child.estimated_age = born_age  # the age group survives the birth date
        child.full_name, child.date_of_birth = "", None
        child.address = child.school = child.family = None
    if case.informant is not None:
        case.informant.name = case.informant.phone = case.informant.relation = None
    case.summary, case.findings, case.closure_reason = "", None, None
    case.plan, case.data = None, None
    if case.separation:
        case.separation = {k: case.separation.get(k) for k in SEPARATION_KEPT if k in case.separation}
    if case.proceedings:  # the decisions' text and the police's case number lead back to the child
        case.proceedings = {
            k: v for k, v in case.proceedings.items() if k in ("referred_at", "investigating_body")
        }
    case.police_case_number = None
    for task in db.session.scalars(select(Task).where(Task.case_id == case.id)):
        task.description = task.outcome = task.note = None
    _erase_forms(case, born_age)
    _erase_attachments(case)
    document_cache.clear(case.id)
    case.anonymised_at = now
    db.session.flush()
    # The trail's content goes too, its digests stay: the chain still verifies (audit_chain).
    audit_chain.allow_rewrite(db.session)
    table = CaseEvent.__table__
    for event_id, data in db.session.execute(
        select(table.c.id, table.c.data).where(table.c.case_id == case.id)
    ):
        if set(data or {}) == {audit_chain.REDACTED}:
            continue
        db.session.execute(
            table.update()
            .where(table.c.id == event_id)
            .values(data={audit_chain.REDACTED: audit_chain.data_digest(data)})
        )
    audit.add(
        case.id,
        "anonymised",
        actor_label="retention",
        data={"retention_years": retention_years(), "erased": counted.to_json()},
    )
    return counted


def anonymise_due(dry_run: bool = False) -> tuple[list[str], Erasure]:
    """Anonymise every closed case past the retention period: the references of those done (or,
    in a dry run, due) and what was (would be) erased of them."""
    done, total = [], Erasure()
    for case in due_for_anonymisation():
        done.append(case.reference or str(case.id))
        if dry_run:
            total.add(erasure_of(case))
        else:
            total.add(anonymise(case))
            db.session.commit()
    return done, total
