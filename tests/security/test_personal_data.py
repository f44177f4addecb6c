"""Law 91/2025 on personal data: export, access log, corrections, consent to disclose, retention."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import Case, CaseEvent, Child, Informant, Task
from caseflow.models.types import utcnow
from tests.security.conftest import CHILD_NAME, INFORMANT_PHONE, NOTE_TEXT


def test_the_chair_exports_the_whole_record_and_the_export_is_in_the_trail(api, identity_case):
    case_id = identity_case["id"]
    resp = api.get(f"/api/v1/cases/{case_id}/export", "chair_a@test.vn")
    assert resp.status_code == 200
    record = resp.get_json()
    assert record["child"]["full_name"] == CHILD_NAME
    assert record["informant"]["phone"] == INFORMANT_PHONE
    assert any(e["data"].get("text") == NOTE_TEXT for e in record["trail"])
    assert {t["agency"] for t in record["tasks"]} >= {"A-police", "A-health"}
    trail = api.get(f"/api/v1/cases/{case_id}/events", "chair_a@test.vn").get_json()["items"]
    assert any(e["kind"] == "export" and e["actor"] == "chair_a@test.vn" for e in trail)
    for who, status in (("officer_a@test.vn", 403), ("chair_b@test.vn", 404), ("police_a@test.vn", 403)):
        assert api.get(f"/api/v1/cases/{case_id}/export", who).status_code == status, who


def test_the_access_log_lists_every_read_with_whether_the_identity_was_shown(api, identity_case):
    case_id = identity_case["id"]
    api.get(f"/api/v1/cases/{case_id}", "supervisor_p@test.vn")
    api.get(f"/api/v1/cases/{case_id}", "health_a@test.vn")
    resp = api.get(f"/api/v1/cases/{case_id}/access-log", "chair_a@test.vn")
    assert resp.status_code == 200
    items = resp.get_json()["items"]
    by_actor = {(i["actor"], i["identity_shown"]) for i in items if i["kind"] == "read"}
    assert ("supervisor_p@test.vn", False) in by_actor and ("health_a@test.vn", True) in by_actor
    assert api.get(f"/api/v1/cases/{case_id}/access-log", "officer_a@test.vn").status_code == 403


def test_a_correction_is_a_revision_with_who_why_and_what_it_was(api, identity_case):
    case_id = identity_case["id"]
    resp = api.post(
        f"/api/v1/cases/{case_id}/child/corrections",
        "officer_a@test.vn",
        json={
            "version": identity_case["version"],
            "reason": "Giấy khai sinh ghi khác",
            "changes": {"full_name": "Hoàng Mai Khuê"},
        },
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["child"]["full_name"] == "Hoàng Mai Khuê"
    trail = api.get(f"/api/v1/cases/{case_id}/events", "officer_a@test.vn").get_json()["items"]
    revision = next(e for e in trail if e["kind"] == "correction")
    assert (
        revision["actor"] == "officer_a@test.vn" and revision["data"]["reason"] == "Giấy khai sinh ghi khác"
    )
    assert revision["data"]["before"] == {"full_name": CHILD_NAME}
    bad = api.post(
        f"/api/v1/cases/{case_id}/child/corrections",
        "officer_a@test.vn",
        json={"version": identity_case["version"], "changes": {"case_id": 9}},
    )
    assert bad.status_code == 422 and {"reason", "changes.case_id"} <= set(bad.get_json()["error"]["fields"])
    assert (
        api.post(
            f"/api/v1/cases/{case_id}/child/corrections",
            "supervisor_p@test.vn",
            json={"version": 1, "reason": "x", "changes": {"sex": "male"}},
        ).status_code
        == 403
    )


def test_a_disclosure_needs_the_parents_and_the_childs_consent_from_age_7(api, identity_case):
    case_id = identity_case["id"]  # the child was born in 2015: over 7
    url = f"/api/v1/cases/{case_id}/disclosures"
    base = {"recipient": "Báo Thanh Niên", "purpose": "Phóng sự về phòng chống bạo lực"}
    refused = api.post(url, "chair_a@test.vn", json={**base, "parent_consent": True})
    assert refused.status_code == 422 and "child_consent" in refused.get_json()["error"]["fields"]
    refused = api.post(url, "chair_a@test.vn", json={**base, "parent_consent": False, "child_consent": True})
    assert refused.status_code == 422 and "parent_consent" in refused.get_json()["error"]["fields"]
    ok = api.post(url, "chair_a@test.vn", json={**base, "parent_consent": True, "child_consent": True})
    assert ok.status_code == 201 and ok.get_json()["data"]["child_age"] >= 7


def test_retention_anonymises_old_closed_cases_keeping_statistics_and_the_chain(
    app, runner, identity_case, sql, backend
):
    case_id = identity_case["id"]
    old = utcnow() - timedelta(days=365 * 11)
    sql(
        "UPDATE cases SET closed_at = :at, state = 'closed' WHERE id = :id",
        at=old.replace(tzinfo=None),
        id=case_id,
    )
    db.session.commit()
    dry = runner.invoke(args=["caseflow", "retention", "--dry-run"])
    assert dry.exit_code == 0 and identity_case["reference"] in dry.output and "would be" in dry.output
    assert db.session.scalar(select(Child.full_name)) == CHILD_NAME  # the dry run changed nothing
    done = runner.invoke(args=["caseflow", "retention"])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    child = db.session.scalar(select(Child))
    assert child.full_name == "" and child.date_of_birth is None and child.address is None
    assert child.sex == "female" and child.estimated_age is not None  # statistics stay
    assert db.session.scalar(select(Informant.phone)) is None
    case = db.session.get(Case, case_id)
    assert case.anonymised_at is not None and case.summary == "" and case.harm_types == ["violence"]
    assert all(t.outcome is None for t in db.session.scalars(select(Task)))
    events = list(
        db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq))
    )
    assert all(NOTE_TEXT not in str(e.data) for e in events)
    assert events[-1].kind == "anonymised"
    verify = runner.invoke(args=["caseflow", "verify-audit"])
    assert verify.exit_code == 0, verify.output
    again = runner.invoke(args=["caseflow", "retention"])
    assert "0 case(s)" in again.output


def test_erasing_an_events_content_on_a_case_not_anonymised_is_a_break(app, runner, backend, identity_case):
    from caseflow.services import audit_chain

    event = db.session.scalar(select(CaseEvent).where(CaseEvent.kind == "note"))
    audit_chain.allow_rewrite(db.session)
    db.session.execute(
        CaseEvent.__table__.update()
        .where(CaseEvent.__table__.c.id == event.id)
        .values(data={audit_chain.REDACTED: audit_chain.data_digest(event.data)})
    )
    db.session.commit()
    result = runner.invoke(args=["caseflow", "verify-audit"])
    assert result.exit_code == 1 and "not anonymised" in result.output
