"""The annex forms through the API: declarations, revisions, what triggers record, who sees what."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from caseflow.extensions import db
from caseflow.models import FormRecord
from caseflow.workflow.clock import to_local

OFFICER = "officer_a@test.vn"
CHAIR = "chair_a@test.vn"
VERIFY = {
    "risk_level": "medium",
    "serious_harm": False,
    "caregiver_is_abuser": False,
    "findings": "Bầm tím ở tay",
}
MEETING = {
    "held_at": "2026-11-30T09:00:00+07:00",
    "chaired_by": "Nguyễn Văn Chủ",
    "participants": [{"name": "Trần Thị Hoa", "body": "Trạm y tế", "role": "Y sĩ"}],
    "child_views": "Cháu muốn ở với bà ngoại",
    "family_views": "Bà ngoại đồng ý nhận chăm sóc",
    "needs_agreed": "Chăm sóc y tế, hỗ trợ tâm lý",
}


def _forms(api, case: dict, as_: str = OFFICER) -> dict:
    resp = api.get(f"/api/v1/cases/{case['id']}/forms", as_)
    assert resp.status_code == 200, resp.get_json()
    return {item["code"]: item for item in resp.get_json()["items"]}


def _put(
    api, case: dict, code: str, data: dict, revision: int, as_: str = OFFICER, expect: int = 200
) -> dict:
    resp = api.put(f"/api/v1/cases/{case['id']}/forms/{code}", as_, json={"data": data, "revision": revision})
    assert resp.status_code == expect, resp.get_json()
    return resp.get_json()


def test_the_forms_are_listed_with_their_fields_as_the_contract_shows_them(api, world):
    resp = api.get("/api/v1/forms", OFFICER)
    assert resp.status_code == 200
    items = {f["code"]: f for f in resp.get_json()["items"]}
    assert {"mau_01", "mau_02", "mau_03", "needs_meeting", "mau_04", "mau_05", "mau_06", "mau_07"} <= set(
        items
    )
    assert items["mau_01"]["title"]["vi"].startswith("Phiếu ghi chép")
    field = next(f for f in items["mau_01"]["fields"] if f["name"] == "child")
    assert field["identity"] is True and field["type"] == "person" and field["label"]["en"] == "The child"
    assert set(field) >= {"name", "type", "required", "label", "identity"}


def test_intake_records_mau_01_from_the_report_and_only_identity_roles_see_the_child(api, open_case):
    case = open_case()
    mau_01 = _forms(api, case)["mau_01"]
    assert mau_01["revision"] == 1 and mau_01["recorded_by"] == OFFICER
    assert mau_01["data"]["report_number"] == case["reference"]
    assert mau_01["data"]["channel"] == "hotline_111"
    assert mau_01["data"]["child"]["name"] == "Bé Thử Nghiệm"
    assert mau_01["data"]["informant"]["name"] == "Người Báo"
    hidden = _forms(api, case, "supervisor_p@test.vn")["mau_01"]["data"]
    assert "child" not in hidden and "informant" not in hidden
    assert hidden["what_happened"] == case["summary"]
    assert "Bé Thử Nghiệm" not in str(hidden)


def test_an_informant_without_consent_is_not_copied_into_mau_01(api, open_case):
    case = open_case(informant={"name": "Không Muốn Lộ", "phone": "0911111111", "consent": False})
    data = _forms(api, case)["mau_01"]["data"]
    assert "informant" not in data and data["informant_consent"] is False


def test_agency_staff_may_not_read_the_dossier(api, open_case, fire):
    case = fire(open_case(), "verify", OFFICER, {**VERIFY, "serious_harm": True})
    resp = api.get(f"/api/v1/cases/{case['id']}/forms", "police_a@test.vn")
    assert resp.status_code == 403


def test_an_edit_adds_a_revision_and_keeps_the_older_one(api, open_case):
    case = open_case()
    first = _put(api, case, "needs_meeting", MEETING, 0)
    assert first["revision"] == 1 and first["data"]["participants"][0]["name"] == "Trần Thị Hoa"
    resp = api.put(
        f"/api/v1/cases/{case['id']}/forms/needs_meeting",
        OFFICER,
        json={
            "data": {**MEETING, "conclusions": "Lập kế hoạch"},
            "revision": 1,
            "reason": "Bổ sung kết luận",
        },
    )
    second = resp.get_json()
    assert second["revision"] == 2 and second["reason"] == "Bổ sung kết luận"
    assert _forms(api, case)["needs_meeting"]["data"]["conclusions"] == "Lập kế hoạch"
    kept = db.session.scalar(
        select(func.count()).select_from(FormRecord).where(FormRecord.code == "needs_meeting")
    )
    assert kept == 2
    resp = api.get(f"/api/v1/cases/{case['id']}/forms/needs_meeting/revisions", OFFICER)
    assert [(r["revision"], r["data"].get("conclusions")) for r in resp.get_json()["items"]] == [
        (1, None),
        (2, "Lập kế hoạch"),
    ]


def test_a_stale_revision_is_a_409_and_stores_nothing(api, open_case):
    case = open_case()
    _put(api, case, "needs_meeting", MEETING, 0)
    body = _put(api, case, "needs_meeting", {**MEETING, "child_views": "khác"}, 0, expect=409)
    assert body["error"]["code"] == "conflict"
    assert _forms(api, case)["needs_meeting"]["revision"] == 1


def test_an_unknown_form_is_a_404(api, open_case):
    case = open_case()
    _put(api, case, "mau_99", {}, 0, expect=404)


def test_bad_fields_are_a_422_naming_each_one(api, open_case):
    case = open_case()
    body = _put(
        api,
        case,
        "needs_meeting",
        {
            **MEETING,
            "held_at": "yesterday",
            "participants": [{"body": "Công an"}],
            "caregiver_notification_suppressed": "yes",
            "shoe_size": 40,
        },
        0,
        expect=422,
    )
    fields = body["error"]["fields"]
    assert set(fields) == {
        "data.held_at",
        "data.participants[0].name",
        "data.caregiver_notification_suppressed",
        "data.shoe_size",
    }
    body = _put(
        api, case, "mau_01", {"received_at": "2026-11-30T08:00:00+07:00", "channel": "fax"}, 1, expect=422
    )
    assert set(body["error"]["fields"]) == {"data.channel", "data.what_happened"}
    bad = {"summary": "x", "reviewed_on": "2026-11-30", "services": ["medical_care", "massage"]}
    body = _put(api, case, "mau_06", bad, 0, expect=422)
    assert set(body["error"]["fields"]) == {"data.services"}
    body = _put(api, case, "mau_01", {"child": {"age": "nine", "shoe": 1}}, 1, expect=422)
    assert {"data.child.age", "data.child.shoe"} <= set(body["error"]["fields"])
    assert (
        db.session.scalar(select(func.count()).select_from(FormRecord).where(FormRecord.code != "mau_01"))
        == 0
    )


def test_suppressing_the_caregivers_notification_names_who_decided(api, open_case):
    case = open_case()
    body = _put(
        api, case, "needs_meeting", {**MEETING, "caregiver_notification_suppressed": True}, 0, expect=422
    )
    assert set(body["error"]["fields"]) == {"data.suppressed_by", "data.suppression_reason"}
    saved = _put(
        api,
        case,
        "needs_meeting",
        {
            **MEETING,
            "caregiver_notification_suppressed": True,
            "suppressed_by": "Chủ tịch UBND xã",
            "suppression_reason": "Người chăm sóc là người bị nghi xâm hại",
        },
        0,
    )
    assert saved["data"]["suppressed_by"] == "Chủ tịch UBND xã"


def test_the_grid_sets_the_case_risk_level_and_the_conclusion_is_at_least_its_highest_grade(api, open_case):
    case = open_case()
    grid = {"assessed_at": "2026-11-30T08:00:00+07:00", "findings": "Xác minh tại nhà"}
    body = _put(api, case, "mau_02", {**grid, "continued_risk": "high", "risk_level": "low"}, 0, expect=422)
    assert set(body["error"]["fields"]) == {"data.risk_level"}
    saved = _put(api, case, "mau_02", {**grid, "harm_severity": "medium", "continued_risk": "high"}, 0)
    assert saved["data"]["risk_level"] == "high"
    assert api.get(f"/api/v1/cases/{case['id']}", OFFICER).get_json()["risk_level"] == "high"


def test_verify_records_mau_02_keeping_what_the_officer_wrote_before(api, open_case, fire):
    case = open_case()
    _put(
        api,
        case,
        "mau_02",
        {"assessed_at": "2026-11-30T08:00:00+07:00", "findings": "x", "harm_severity": "low"},
        0,
    )
    case = api.get(f"/api/v1/cases/{case['id']}", OFFICER).get_json()
    fire(case, "verify", OFFICER, VERIFY)
    mau_02 = _forms(api, case)["mau_02"]
    assert mau_02["revision"] == 2 and mau_02["recorded_with"] == "verify"
    assert mau_02["data"]["findings"] == "Bầm tím ở tay" and mau_02["data"]["harm_severity"] == "low"
    assert mau_02["data"]["risk_level"] == "medium"


def test_the_plan_and_its_approval_record_mau_04_and_mau_05_with_the_decision_number(api, open_case, fire):
    case = fire(open_case(), "verify", OFFICER, VERIFY)
    due = (datetime.now(UTC) + timedelta(days=10)).isoformat()
    plan = {
        "plan": "Hỗ trợ tâm lý",
        "measures": [{"agency": "A-health", "description": "Khám sức khỏe", "due_at": due}],
    }
    case = fire(case, "submit_plan", OFFICER, plan)
    case = fire(case, "approve_plan", CHAIR, {"decision_number": "12/QĐ-UBND"})
    forms = _forms(api, case)
    assert forms["mau_04"]["data"]["measures"][0]["agency"] == "A-health"
    assert forms["mau_05"]["data"]["decision_number"] == "12/QĐ-UBND"
    assert forms["mau_05"]["data"]["approved_plan"] == "Hỗ trợ tâm lý"
    assert forms["mau_05"]["data"]["decision_date"] == to_local(datetime.now(UTC)).date().isoformat()
    kinds = [e["kind"] for e in api.get(f"/api/v1/cases/{case['id']}/events", OFFICER).get_json()["items"]]
    assert kinds.count("form_recorded") == 4  # mau_01 at intake, then mau_02, mau_04 and mau_05


def test_two_edits_of_the_same_revision_give_one_200_and_one_409(app, api, open_case):
    case = open_case()
    tokens = [api.token(OFFICER), api.token(CHAIR)]
    start = threading.Barrier(2)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def worker(token: str, views: str) -> None:
        try:
            with app.app_context():
                client = app.test_client()
                start.wait(timeout=10)
                resp = client.put(
                    f"/api/v1/cases/{case['id']}/forms/needs_meeting",
                    headers={"Authorization": f"Bearer {token}"},
                    json={"data": {**MEETING, "child_views": views}, "revision": 0},
                )
                statuses.append(resp.status_code)
        except BaseException as exc:  # noqa: BLE001 - surfaced in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(t, f"ý kiến {i}")) for i, t in enumerate(tokens)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sorted(statuses) == [200, 409]
    db.session.rollback()
    rows = db.session.scalars(select(FormRecord).where(FormRecord.code == "needs_meeting")).all()
    assert [r.revision for r in rows] == [1]


def test_only_the_chair_writes_a_decision_form(api, open_case):
    case = open_case()
    decision = {"decision_number": "7/QĐ-UBND", "decision_date": "2026-11-30"}
    assert _put(api, case, "mau_05", decision, 0, expect=403)["error"]["code"] == "forbidden"
    assert _put(api, case, "mau_05", decision, 0, as_=CHAIR)["revision"] == 1
