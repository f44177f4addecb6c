"""The ad-hoc report of a serious case: the province hears as soon as the case is verified.

What makes a case serious is data (the workflow file's `reports.adhoc`: trigger fields such
as serious_harm or child_died, and harm types such as sexual abuse and trafficking), and so is
where it is checked (the `adhoc_report` effect on verify) and who hears. The report names the case by reference and the commune; the mail, like every mail, carries no
identity of the child.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Insert, bindparam, exists, insert, select

from caseflow.extensions import db
from caseflow.models import AdhocReport, OrgUnit, User
from caseflow.services import outbox
from caseflow.services.recipients import load_ancestors, recipients_of

if TYPE_CHECKING:
    from caseflow.services.transition import TransitionRun

KIND = "adhoc_report"  # the notification the workflow file declares for it


def reasons(run: TransitionRun) -> list[str]:
    """Why the case is serious (empty: it is not): trigger fields that are true, harm types."""
    rule = run.definition.lists.reports.adhoc
    found = [name for name in rule.when_any if run.values.get(name) is True]
    found += [harm for harm in rule.harm_types if harm in (run.case.harm_types or [])]
    return found


def report_if_serious(run: TransitionRun) -> None:
    """Record the ad-hoc report and queue the workflow file's `adhoc_report` mail to its
    recipients (the province's supervisors), in the transition's own transaction. Once per
    case: a case verified again after a reopen was reported already."""
    found = reasons(run)
    case = run.case
    if not found:
        return
    # The case's versioned write first: of two verifications racing, the loser stops here with
    # a 409 (StaleDataError), before its report or its mails meet the winner's unique keys.
    run.write_changes()
    commune = case.incident_commune
    load_ancestors([commune, case.residence_commune])  # the province, and the recipients' units
    province = ([commune, *commune.ancestors()])[-1]
    # One statement checks and writes: a case already reported keeps its first report.
    written = (
        db.session.connection()
        .execute(
            _INSERT_UNLESS_REPORTED,
            {
                "case_id": case.id,
                "province_id": province.id,
                "commune_id": commune.id,
                "reasons": found,
                "harm_types": list(case.harm_types or []),
                "created_at": run.now,
            },
        )
        .first()
    )
    if written is None:
        return
    notification = run.definition.notifications.get(KIND)
    recipients = recipients_of(run.definition, case, notification) if notification else []
    # Fresh rows: only the transaction that writes the case's report writes its mails, so no
    # row can hold their keys yet (the unique key stays the backstop).
    run.queue_mails(
        [
            outbox.case_row(
                KIND,
                recipient.email,
                case=case,
                locale=recipient.locale,
                dedupe=f"{KIND}:{case.id}:{recipient.email}",
            )
            for recipient in recipients
        ]
    )
    run.record(KIND, data={"reasons": found, "recipients": [r.email for r in recipients]})


def _insert_unless_reported() -> Insert:
    table = AdhocReport.__table__
    names = ("case_id", "province_id", "commune_id", "reasons", "harm_types", "created_at")
    values = select(*(bindparam(name, type_=table.c[name].type) for name in names)).where(
        ~exists().where(table.c.case_id == bindparam("case_id"))
    )
    return insert(table).from_select(names, values).returning(table.c.id)


# Built once: building and keying a statement anew costs as much CPU as running it.
_INSERT_UNLESS_REPORTED = _insert_unless_reported()


def for_user(user: User) -> list[dict]:
    """The ad-hoc reports of the supervisor's subtree, newest first (references, never a child)."""
    from caseflow.models import Case

    if user.org_unit is None:
        return []
    units = select(OrgUnit.id).where(OrgUnit.path.startswith(user.org_unit.path, autoescape=True))
    rows = db.session.execute(
        select(AdhocReport, Case.reference, Case.id, OrgUnit.code, OrgUnit.name)
        .join(Case, Case.id == AdhocReport.case_id)
        .join(OrgUnit, OrgUnit.id == AdhocReport.commune_id)
        .where(AdhocReport.commune_id.in_(units))
        .order_by(AdhocReport.created_at.desc(), AdhocReport.id.desc())
        .limit(500)
    ).all()
    return [
        {
            "id": report.id,
            "case_id": case_id,
            "case_reference": reference,
            "commune": code,
            "commune_name": name,
            "reasons": report.reasons,
            "harm_types": report.harm_types,
            "created_at": report.created_at.isoformat(),
        }
        for report, reference, case_id, code, name in rows
    ]
