"""Criminal proceedings beside the protection workflow (Art. 25.3): the investigating body, its
case number and each decision it takes, kept on the case as they come."""

from __future__ import annotations

from typing import Any

from caseflow.services.effects.applicability import applicability
from caseflow.workflow.registry import effect


@applicability("referred")
def _referred(run: Any) -> str | None:
    return None if run.case.criminal_referral else "The case has not been referred to the police"


@effect("record_proceedings")
def record_proceedings(run: Any, transition: Any) -> None:
    values = run.values
    if not (values.get("criminal_referral") or run.case.criminal_referral):
        return  # verify without a referral: nothing to record
    record = dict(run.case.proceedings or {"investigating_body": None, "case_number": None, "decisions": []})
    record.setdefault("referred_at", run.now.isoformat())
    if values.get("investigating_body"):
        record["investigating_body"] = values["investigating_body"]
    if values.get("police_case_number"):
        record["case_number"] = values["police_case_number"]
    if values.get("decision"):
        record["decisions"] = [
            *record.get("decisions", []),
            {
                "at": run.now.isoformat(),
                "text": values["decision"],
                "by": run.actor.name if run.actor else None,
            },
        ]
    run.change(run.case, proceedings=record)
