"""The ad-hoc report of a serious case: the province hears as soon as the case is verified.

What makes a case serious is data (the workflow file's `reports.adhoc`: trigger fields such
as serious_harm or child_died, and harm types such as sexual abuse and trafficking). The
report names the case by reference and the commune; the mail, like every mail, carries no
identity of the child.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import AdhocReport, OrgUnit, User
from caseflow.services import outbox

if TYPE_CHECKING:
    from caseflow.services.transition import TransitionRun
    from caseflow.workflow.definition import TransitionDef


def reasons(run: TransitionRun, transition: TransitionDef) -> list[str]:
    """Why this transition makes an ad-hoc report (empty: it does not)."""
    rule = run.definition.lists.reports.adhoc
    if transition.trigger not in rule.triggers:
        return []
    found = [name for name in rule.when_any if run.values.get(name) is True]
    found += [harm for harm in rule.harm_types if harm in (run.case.harm_types or [])]
    return found


def after_transition(run: TransitionRun, transition: TransitionDef) -> None:
    """Record the ad-hoc report and queue a mail to each supervisor of the province, in the
    transition's own transaction. Once per case: a case verified again after a reopen was
    reported already."""
    found = reasons(run, transition)
    case = run.case
    if not found or db.session.scalar(select(AdhocReport.id).where(AdhocReport.case_id == case.id)):
        return
    commune = case.incident_commune
    province = ([commune, *commune.ancestors()])[-1]
    db.session.add(
        AdhocReport(
            case_id=case.id,
            province_id=province.id,
            commune_id=commune.id,
            reasons=found,
            harm_types=list(case.harm_types or []),
            created_at=run.now,
        )
    )
    supervisors = list(
        db.session.scalars(
            select(User)
            .where(User.org_unit_id == province.id, User.role == "supervisor", User.active.is_(True))
            .order_by(User.id)
        )
    )
    for user in supervisors:
        outbox.queue(
            "adhoc_report",
            user.email,
            case=case,
            locale=user.locale or "vi",
            context={"unit_id": commune.id},
            dedupe=f"adhoc_report:{case.id}:{user.email}",
        )
    run.record("adhoc_report", data={"reasons": found, "recipients": [u.email for u in supervisors]})


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
