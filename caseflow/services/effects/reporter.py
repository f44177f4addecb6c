"""Who else hears of a step: the agency that reported the case follows its status (hotline 111
supports and monitors each plan, Art. 22.5), and a reopened case looks for the child's other records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import User
from caseflow.services import duplicates, outbox
from caseflow.services.effects import effect


@effect("tell_reporter")
def tell_reporter(run: Any, transition: Any) -> None:
    """A status mail (reference and step only, never the child) to the reporting agency's staff."""
    agency = run.case.reported_by_agency
    if agency is None:
        return
    staff = list(
        db.session.scalars(
            select(User).where(
                User.agency_id == agency.id, User.role == "agency_staff", User.active.is_(True)
            )
        )
    )
    recipients = [(u.email, u.locale or "vi") for u in staff] or [(agency.email, agency.locale or "vi")]
    for email, locale in recipients:
        outbox.queue(
            "case_status",
            email,
            case=run.case,
            locale=locale,
            dedupe=f"case_status:{run.case.id}:{run.case.version}:{email}",
            context={"state": run.case.state},
        )


@effect("link_earlier_reports")
def link_earlier_reports(run: Any, transition: Any) -> None:
    found = duplicates.earlier_cases(run.case)
    if found != (run.case.related_case_ids or []):
        run.change(run.case, related_case_ids=found)
