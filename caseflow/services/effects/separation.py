"""Temporary separation of the child (Decree 56 Art. 32) as its own sub-process beside the plan.

The chair decides (Mẫu 07: ground, decision number, shelter, alternative carer, until when),
may extend and ends it. It lasts 15 calendar days at most in all, counted from the first
decision and extensions included, unless a competent authority's order requires more. Its
expiry is a deadline task for the residence commune's committee, warned like any other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from caseflow.services.effects.applicability import applicability
from caseflow.services.errors import Invalid, Why
from caseflow.workflow.clock import LOCAL_TZ, to_local
from caseflow.workflow.registry import effect

# Art. 32.3: "không quá 15 ngày" in all, unless the competent authority decides otherwise.
MAX_DAYS = 15
# Where the child is and who cares for it: kept in the decision on the case (shown only to
# those who may see the child), never copied into the trail that supervisors read.
WHEREABOUTS = ("shelter", "alternative_carer")
END_OF_DAY = time(23, 59, 59)


def public(record: dict | None) -> dict | None:
    """What the case shows of a separation in every list (never the shelter or the carer)."""
    if not record:
        return None
    return {key: record.get(key) for key in ("active", "ground", "since", "until", "decision_number")}


def expiry_moment(until: date) -> datetime:
    """A separation runs to the end of its last day, in Vietnam time."""
    return datetime.combine(until, END_OF_DAY, tzinfo=LOCAL_TZ).astimezone(UTC)


def _expiry_template(run: Any) -> Any:
    """The task template whose deadline the decision sets (`deadline: {from: decision}`)."""
    return next(t for t in run.definition.tasks.values() if t.deadline.anchor == "decision")


def _check_until(until: date, first: date, today: date, authority_order: str | None) -> None:
    if until < today:
        raise Invalid({"data.until": f"is before today ({today.isoformat()})"})
    cap = first + timedelta(days=MAX_DAYS)
    if until > cap and not authority_order:
        raise Invalid(
            {
                "data.until": f"is more than {MAX_DAYS} calendar days after the first decision "
                f"({first.isoformat()}): at most {cap.isoformat()}, unless authority_order names the "
                "competent authority's order"
            }
        )


@applicability("separated")
def _separated(run: Any) -> str | None:
    record = run.case.separation
    return None if record and record.get("active") else "The child is not separated"


@applicability("not_separated")
def _not_separated(run: Any) -> str | None:
    record = run.case.separation
    if record and record.get("active"):
        return Why("separated", until=record["until"])
    return None


@effect("start_separation")
def start_separation(run: Any, transition: Any) -> None:
    values = run.values
    today = to_local(run.now).date()
    _check_until(values["until"], today, today, values.get("authority_order"))
    record = {
        "active": True,
        "ground": values["ground"],
        "since": run.now.isoformat(),
        "first_decision_on": today.isoformat(),
        "until": values["until"].isoformat(),
        "decision_number": values["decision_number"],
        "shelter": values["shelter"],
        "alternative_carer": values["alternative_carer"],
        "authority_order": values.get("authority_order"),
        "extensions": [],
        "ended_at": None,
        "end_reason": None,
    }
    run.change(run.case, separation=record)
    run.create_task(_expiry_template(run), due=expiry_moment(values["until"]))
    for key in WHEREABOUTS:  # a leading underscore keeps a value out of the transition's event
        values["_" + key] = values.pop(key)


@effect("extend_separation")
def extend_separation(run: Any, transition: Any) -> None:
    values, record = run.values, dict(run.case.separation)
    current = date.fromisoformat(record["until"])
    if values["until"] <= current:
        raise Invalid({"data.until": f"must be later than the current end of the separation ({current})"})
    order = values.get("authority_order") or record.get("authority_order")
    first = date.fromisoformat(record["first_decision_on"])
    _check_until(values["until"], first, to_local(run.now).date(), order)
    record["extensions"] = [
        *record.get("extensions", []),
        {
            "at": run.now.isoformat(),
            "from": record["until"],
            "until": values["until"].isoformat(),
            "reason": values["reason"],
            "authority_order": values.get("authority_order"),
        },
    ]
    record["until"] = values["until"].isoformat()
    record["authority_order"] = order
    run.change(run.case, separation=record)
    template = _expiry_template(run)
    due = expiry_moment(values["until"])
    for task in run.case.tasks:
        if task.status == "open" and task.template == template.id:
            # A new deadline: its warning and ladder start again.
            run.change(task, due_at=due, warned_at=None, escalation_level=0)
            run.record(
                "task_rescheduled",
                data={"task_id": task.id, "kind": task.kind, "due_at": due, "by_trigger": transition.trigger},
            )


@effect("end_separation")
def end_separation(run: Any, transition: Any) -> None:
    record = dict(run.case.separation)
    record.update(active=False, ended_at=run.now.isoformat(), end_reason=run.values["reason"])
    run.change(run.case, separation=record)
    template = _expiry_template(run)
    for task in run.case.tasks:
        if task.status == "open" and task.template == template.id:
            run.change(task, status="cancelled", completed_at=run.now)
            run.record(
                "task_cancelled",
                data={"task_id": task.id, "kind": task.kind, "by_trigger": transition.trigger},
            )
