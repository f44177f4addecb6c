"""The procedure's rules through the services, without HTTP: which agency and commune owns
each task, who may fire what, the audit trail, and what a transition leaves behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import Agency, Case, CaseEvent, Task
from caseflow.services import access, intake, tasks, transition
from caseflow.services.errors import Conflict, Forbidden, Invalid
from caseflow.services.reference import add_org_unit
from caseflow.services.serialize import case_json
from caseflow.workflow import current_engine
from tests.conftest import new_case_payload

VERIFY = {"risk_level": "medium", "serious_harm": False, "caregiver_is_abuser": False, "findings": "Seen"}
SERIOUS = {**VERIFY, "risk_level": "high", "serious_harm": True}


def _open(world, who: str = "officer_a", commune: str = "A", **overrides) -> Case:
    return intake.open_case(world.users[who], new_case_payload(commune, **overrides))


def _fire(world, case: Case, trigger: str, who: str, data: dict | None = None) -> Case:
    return transition.fire(current_engine(), case, world.users[who], trigger, case.version, data or {})


def _open_tasks(case: Case) -> dict[str, list[str]]:
    db.session.refresh(case)
    out: dict[str, list[str]] = {}
    for task in case.tasks:
        if task.status == "open":
            out.setdefault(task.template, []).append(task.agency.code)
    return out


def _plan(*agencies: str) -> dict:
    due = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    return {
        "plan": "Plan",
        "measures": [{"agency": a, "description": f"by {a}", "due_at": due} for a in agencies],
    }


def test_incident_commune_verifies_and_residence_commune_plans(world):
    case = _open(world, residence_commune="B")
    assert _open_tasks(case) == {"verify_report": ["A-commune_committee"]}
    engine = current_engine()
    assert access.may_fire(world.users["officer_a"], engine.definition, case, "verify")
    assert not access.may_fire(world.users["officer_b"], engine.definition, case, "verify")
    case = _fire(world, case, "verify", "officer_a", {**SERIOUS, "caregiver_is_abuser": True})
    assert _open_tasks(case) == {
        "draft_plan": ["B-commune_committee"],
        "emergency_police": ["A-police"],  # where it happened
        "emergency_health": ["A-health"],
        "preserve_evidence": ["A-police"],  # Art. 31
        "separation_decision": ["B-commune_committee"],  # where the child lives (Art. 32)
    }
    assert not access.may_fire(world.users["officer_a"], engine.definition, case, "submit_plan")
    assert access.may_fire(world.users["officer_b"], engine.definition, case, "submit_plan")
    with pytest.raises(Forbidden):
        _fire(world, case, "submit_plan", "officer_a", _plan("B-health"))
    case = _fire(world, case, "submit_plan", "officer_b", _plan("B-health"))
    assert case.state == "planned"


def test_a_commune_without_its_own_agency_is_served_from_up_the_tree(world):
    c2 = add_org_unit("C2", "Xã C2", "commune", world.units["D"])
    db.session.add_all(
        [
            Agency(
                code="C2-cc", name="UBND C2", kind="commune_committee", org_unit=c2, email="c2@agency.test"
            ),
            Agency(
                code="D-police",
                name="Công an huyện",
                kind="police",
                org_unit=world.units["D"],
                email="police.d@agency.test",
            ),
            Agency(
                code="P-health",
                name="Sở Y tế",
                kind="health",
                org_unit=world.units["P"],
                email="health.p@agency.test",
            ),
        ]
    )
    db.session.commit()
    case = _open(world, "hotline", "C2")
    officer = world.users["officer_c"]
    officer.org_unit = c2
    db.session.commit()
    case = _fire(world, case, "verify", "officer_c", SERIOUS)
    open_tasks = _open_tasks(case)
    assert open_tasks["emergency_police"] == ["D-police"]  # the district office serves the commune
    assert open_tasks["emergency_health"] == ["P-health"]  # nothing in C2 or D: the province
    assert open_tasks["draft_plan"] == ["C2-cc"]


def test_a_task_no_agency_serves_is_a_409_and_nothing_is_written(world):
    c2 = add_org_unit("C2", "Xã C2", "commune", world.units["D"])
    db.session.add(
        Agency(code="C2-cc", name="UBND C2", kind="commune_committee", org_unit=c2, email="c2@agency.test")
    )
    db.session.commit()
    case = _open(world, "hotline", "C2")
    world.users["officer_c"].org_unit = c2
    db.session.commit()
    tasks_before, version = db.session.scalar(select(db.func.count()).select_from(Task)), case.version
    with pytest.raises(Conflict, match="No police agency serves commune C2"):
        _fire(world, case, "verify", "officer_c", SERIOUS)
    db.session.refresh(case)
    assert (case.state, case.version) == ("received", version)
    assert db.session.scalar(select(db.func.count()).select_from(Task)) == tasks_before


def test_handover_reroutes_open_commune_tasks_and_leaves_agency_tasks(world):
    case = _fire(world, _open(world), "verify", "officer_a", SERIOUS)
    case = _fire(world, case, "handover", "chair_a", {"residence_commune": "C"})
    assert case.residence_commune.code == "A" and case.pending_handover.code == "C"
    case = _fire(world, case, "accept_handover", "officer_c")
    assert (case.state, case.residence_commune.code, case.incident_commune.code) == ("verified", "C", "A")
    open_tasks = _open_tasks(case)
    assert open_tasks["draft_plan"] == ["C-commune_committee"]
    assert open_tasks["emergency_police"] == ["A-police"]
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
    rerouted = [e.data for e in events if e.kind == "task_rerouted"]
    assert [(d["from"], d["to"]) for d in rerouted] == [("A-commune_committee", "C-commune_committee")]
    handover = [e for e in events if e.kind == "transition" and e.data["trigger"] == "accept_handover"]
    assert handover[0].data["from_commune"] == "A" and handover[0].data["residence_commune"] == "C"
    assert (handover[0].from_state, handover[0].to_state) == ("verified", "verified")


def test_allowed_triggers_follow_role_state_and_commune(world):
    engine = current_engine()
    case = _open(world)

    def allowed(who: str) -> set[str]:
        return set(case_json(case, world.users[who], engine)["allowed_triggers"])

    assert {"verify", "dismiss", "handover"} <= allowed("officer_a") == allowed("chair_a")
    assert allowed("supervisor_p") == allowed("police_a") == allowed("hotline") == set()
    case = _fire(world, case, "verify", "officer_a", VERIFY)
    assert "submit_plan" in allowed("officer_a") and "submit_plan" not in allowed("chair_a")
    assert "verify" not in allowed("officer_a") and "dismiss" not in allowed("chair_a")
    case = _fire(world, case, "submit_plan", "officer_a", _plan("A-health"))
    assert {"approve_plan", "reject_plan"} <= allowed("chair_a")
    assert not {"approve_plan", "reject_plan"} & allowed("officer_a")


def test_every_task_keeps_its_rule_legal_basis_and_workflow_version(world):
    case = _fire(world, _open(world), "verify", "officer_a", {**SERIOUS, "caregiver_is_abuser": True})
    db.session.refresh(case)
    assert len(case.tasks) == 6
    for task in case.tasks:
        assert task.rule and task.legal_basis.startswith("Nghị định 56/2017"), task.template
        assert task.workflow_version == case.workflow_version == "decree56/2017.1"


def test_late_verification_gives_emergency_tasks_already_due_from_receipt(world):
    received = datetime.now(UTC) - timedelta(hours=20)
    case = _fire(world, _open(world, received_at=received.isoformat()), "verify", "officer_a", SERIOUS)
    db.session.refresh(case)
    emergency = [t for t in case.tasks if t.kind == "emergency_protection"]
    assert len(emergency) == 2
    for task in emergency:
        assert task.due_at == received + timedelta(hours=12)
        assert task.is_overdue()


def test_close_leaves_no_open_task_and_reopen_starts_a_new_report(world):
    case = _fire(world, _open(world), "verify", "officer_a", SERIOUS)
    case = _fire(world, case, "submit_plan", "officer_a", _plan("A-education"))
    case = _fire(world, case, "approve_plan", "chair_a")
    [measure] = [t for t in case.tasks if t.kind == "measure" and t.status == "open"]
    tasks.complete_task(current_engine(), world.users["education_a"], measure, {"outcome": "Enrolled"})
    case = _fire(world, case, "start_follow_up", "officer_a")
    case = _fire(
        world, case, "close", "chair_a", {"no_longer_at_risk": True, "stable": True, "summary": "Safe"}
    )
    db.session.refresh(case)
    assert case.closed_at is not None and not [t for t in case.tasks if t.status == "open"]
    cancelled = {t.template for t in case.tasks if t.status == "cancelled"}
    assert {"emergency_police", "emergency_health"} <= cancelled
    before = datetime.now(UTC)
    case = _fire(world, case, "reopen", "officer_a", {"reason": "New report"})
    assert case.state == "received" and case.closed_at is None and case.reopened_at >= before
    case = _fire(world, case, "verify", "officer_a", SERIOUS)
    db.session.refresh(case)
    fresh = [t for t in case.tasks if t.kind == "emergency_protection" and t.status == "open"]
    assert len(fresh) == 2 and all(t.due_at >= before + timedelta(hours=12) for t in fresh)


def test_refer_criminal_keeps_the_state_and_records_the_police_case(world):
    case = _fire(world, _open(world), "verify", "officer_a", VERIFY)
    version = case.version
    case = _fire(
        world,
        case,
        "refer_criminal",
        "chair_a",
        {"criminal_referral": True, "police_case_number": "VKS-2026-17"},
    )
    assert (case.state, case.criminal_referral, case.police_case_number) == ("verified", True, "VKS-2026-17")
    assert case.version == version + 1
    with pytest.raises(Invalid) as info:
        _fire(world, case, "refer_criminal", "chair_a", {"criminal_referral": False})
    assert "data.criminal_referral" in info.value.fields


def test_guard_refuses_follow_up_while_a_measure_is_open(world):
    case = _fire(world, _open(world), "verify", "officer_a", VERIFY)
    case = _fire(world, case, "submit_plan", "officer_a", _plan("A-health", "A-police"))
    case = _fire(world, case, "approve_plan", "chair_a")
    version = case.version
    with pytest.raises(Conflict, match="2 plan task"):
        _fire(world, case, "start_follow_up", "officer_a")
    db.session.refresh(case)
    assert (case.state, case.version) == ("intervention", version)


def test_task_completion_is_for_the_assigned_agency_or_the_commune(world):
    case = _fire(world, _open(world), "verify", "officer_a", SERIOUS)
    police = next(t for t in case.tasks if t.template == "emergency_police")
    engine = current_engine()
    for who in ("health_a", "officer_a", "chair_a", "police_b", "supervisor_p"):
        with pytest.raises(Forbidden):
            tasks.complete_task(engine, world.users[who], police, {"outcome": "x"})
    tasks.complete_task(engine, world.users["police_a"], police, {"outcome": "Stopped", "note": "Arrest"})
    db.session.refresh(police)
    assert (police.status, police.outcome, police.note) == ("done", "Stopped", "Arrest")
    assert police.completed_by_id == world.users["police_a"].id
    with pytest.raises(Conflict):
        tasks.complete_task(engine, world.users["police_a"], police, {"outcome": "Again"})


def test_the_audit_trail_cannot_be_changed_or_deleted(world):
    case = _open(world)
    event = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).first()
    event.data = {"rewritten": True}
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    event = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).first()
    db.session.delete(event)
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


def test_case_reference_uses_the_province_abbreviation_and_local_year(world):
    # 2025-12-31 20:00 UTC is already 2026 in Viet Nam.
    case = _open(world, received_at="2025-12-31T20:00:00+00:00")
    assert case.reference == f"TT-2026-{case.id:06d}"
    assert db.session.get(Task, case.tasks[0].id).due_at == datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
