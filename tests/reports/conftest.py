"""A register of known children, built through the API, for checking the reports by hand count.

| # | incident/residence | received | sex, age | harm | setting | what happened |
|---|---|---|---|---|---|---|
| 1 | A/A | now | girl 4 | violence | family | verified, serious harm; police and health on time |
| 2 | A/A | 100 days ago | boy 8 (estimated) | sexual abuse, violence | school | verified (late) |
| 3 | A/A | now | girl 12 | neglect | community | dismissed as unfounded |
| 4 | A/A | 300 days ago | unknown 15 | exploitation | workplace | outside the period |
| 5 | B/B | 50 days ago | girl 6 (estimated) | violence | online | planned on time, closed: safe at home, two services |
| 6 | B/B | 13 hours ago | boy 11, H'Mông, physical disability | trafficking | - | verified, caregiver the abuser; police late, health and separation open |
| 7 | C/C | 13 hours ago | girl under 1 | abandonment | family | not verified (overdue) |
| 8 | C/A | 100 days ago | boy 10 (estimated) | violence | family | not verified (overdue) |
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from caseflow.workflow.clock import LOCAL_TZ

# The obligation ladder runs through a real RQ worker: the queue fixtures live with the jobs tests.
from tests.jobs.conftest import mail_config, queue_prefix, redis_url, worker  # noqa: F401

VERIFY_MILD = {
    "risk_level": "low",
    "serious_harm": False,
    "caregiver_is_abuser": False,
    "findings": "Checked.",
}


@dataclass
class Register:
    cases: dict[int, dict]
    today: date  # local
    start: date  # the period: 200 days ago to today

    def query(self, unit: str, **extra) -> dict:
        return {"org_unit": unit, "from": self.start.isoformat(), "to": self.today.isoformat(), **extra}


def _born(today: date, years: int) -> str:
    return (today - timedelta(days=int(365.25 * years) + 60)).isoformat()


@pytest.fixture
def register(api, world, open_case, fire) -> Register:
    now = datetime.now(UTC)
    today = now.astimezone(LOCAL_TZ).date()

    def ago(**delta) -> str:
        return (now - timedelta(**delta)).isoformat()

    def child(sex: str, *, years: int | None = None, estimated: int | None = None, **more) -> dict:
        data = {"full_name": "Trẻ Thử", "sex": sex, "address": "Thôn 2", **more}
        if years is not None:
            data["date_of_birth"] = _born(today, years)
        else:
            data["estimated_age"] = estimated
        return data

    def complete(task: dict, as_: str) -> None:
        resp = api.post(f"/api/v1/tasks/{task['id']}/complete", as_, json={"outcome": "done", "note": "ok"})
        assert resp.status_code == 200, resp.get_json()

    def task_of(case: dict, kind: str, agency: str | None = None) -> dict:
        return next(
            t
            for t in case["tasks"]
            if t["kind"] == kind and t["status"] == "open" and agency in (None, t["agency"])
        )

    cases = {}
    c = open_case("A", harm_types=["violence"], harm_setting="family", child=child("female", years=4))
    c = fire(c, "verify", "officer_a@test.vn", {**VERIFY_MILD, "serious_harm": True, "risk_level": "high"})
    complete(task_of(c, "emergency_protection", "A-police"), "police_a@test.vn")
    complete(task_of(c, "emergency_protection", "A-health"), "health_a@test.vn")
    cases[1] = c
    c = open_case(
        "A",
        received_at=ago(days=100),
        harm_types=["sexual_abuse", "violence"],
        harm_setting="school",
        perpetrator_relation="teacher",
        child=child("male", estimated=8),
    )
    cases[2] = fire(c, "verify", "officer_a@test.vn", VERIFY_MILD)
    c = open_case("A", harm_types=["neglect"], harm_setting="community", child=child("female", years=12))
    cases[3] = fire(c, "dismiss", "officer_a@test.vn", {"reason": "Nothing found."})
    cases[4] = open_case(
        "A",
        received_at=ago(days=300),
        harm_types=["exploitation"],
        harm_setting="workplace",
        child=child("unknown", estimated=15),
    )
    c = open_case(
        "B",
        received_at=ago(days=50),
        harm_types=["violence"],
        harm_setting="online",
        child=child("female", estimated=6),
    )
    c = fire(c, "verify", "officer_b@test.vn", VERIFY_MILD)
    due = (now + timedelta(days=10)).isoformat()
    c = fire(
        c,
        "submit_plan",
        "officer_b@test.vn",
        {"plan": "Support", "measures": [{"agency": "B-health", "description": "Care", "due_at": due}]},
    )
    c = fire(c, "approve_plan", "chair_b@test.vn")
    complete(task_of(c, "measure"), "health_b@test.vn")
    c = api.get(f"/api/v1/cases/{c['id']}", "officer_b@test.vn").get_json()
    c = fire(c, "start_follow_up", "officer_b@test.vn")
    cases[5] = fire(
        c,
        "close",
        "chair_b@test.vn",
        {
            "no_longer_at_risk": True,
            "stable": True,
            "summary": "Safe.",
            "closure_outcome": "safe_at_home",
            "services": ["medical_care", "psychological_therapy"],
        },
    )
    c = open_case(
        "B",
        received_at=ago(hours=13),
        harm_types=["trafficking"],
        child=child("male", years=11, ethnicity="hmong", disability="physical"),
    )
    c = fire(c, "verify", "officer_b@test.vn", {**VERIFY_MILD, "caregiver_is_abuser": True})
    complete(task_of(c, "emergency_protection", "B-police"), "police_b@test.vn")
    # Art. 31: the police also preserved the evidence (late, like their protection task).
    complete(task_of(c, "evidence_preservation", "B-police"), "police_b@test.vn")
    cases[6] = c
    cases[7] = open_case(
        "C",
        received_at=ago(hours=13),
        harm_types=["abandonment"],
        harm_setting="family",
        child=child("female", years=0),
    )
    cases[8] = open_case(
        "C",
        residence_commune="A",
        received_at=ago(days=100),
        harm_types=["violence"],
        harm_setting="family",
        child=child("male", estimated=10),
    )
    return Register(cases=cases, today=today, start=today - timedelta(days=200))


@pytest.fixture
def inprocess_mail(smtp_server) -> dict:
    """Mail sent in-process (no Redis) to the real SMTP server of the test process."""
    return {
        "REDIS_URL": None,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_SUPPRESS_SEND": False,
        "MAIL_TIMEOUT": 10,
        "SWEEP_GRACE_SECONDS": 0,
    }
