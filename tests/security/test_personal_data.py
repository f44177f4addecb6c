"""Law 91/2025 on personal data: export, access log, corrections, consent to disclose, retention."""

from __future__ import annotations

import io
import json
import shutil
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from caseflow import crypto
from caseflow.extensions import db
from caseflow.models import Case, CaseEvent, Child, Informant, Task
from caseflow.models.types import utcnow
from caseflow.services import audit_chain, document_cache
from caseflow.services import forms as form_service
from caseflow.services.backup import attachments_dir
from caseflow.workflow import current_engine
from caseflow.workflow.clock import LOCAL_TZ
from tests.conftest import blank_pdf
from tests.security.conftest import (
    CHILD_ADDRESS,
    CHILD_NAME,
    INFORMANT_NAME,
    INFORMANT_PHONE,
    NOTE_TEXT,
    SECRETS,
)

OFFICER = "officer_a@test.vn"


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


FATHER = "Hoàng Văn Bố Thật"
MOTHER = "Đinh Thị Mẹ Thật"
PARTICIPANT = "Lò Văn Người Họp"
CORRECTED_NAME = "Hoàng Thị Mai Khuê Đúng"
CORRECTION_REASON = "Giấy khai sinh ghi khác"
FORM_SECRETS = (FATHER, MOTHER, PARTICIPANT, CORRECTED_NAME)


def _readable(value: object, table: str, column: str) -> str:
    """A cell as the database holds it, decrypted when CaseFlow encrypted it (a JSON column on
    SQLite returns the ciphertext as JSON text, on PostgreSQL as a string)."""
    if isinstance(value, str) and value.startswith('"cf1$'):
        value = json.loads(value)
    if crypto.is_encrypted(value):
        return crypto.keyring().decrypt(value, f"{table}.{column}")
    return json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value


def _everything_in_the_database(sql) -> dict[tuple[str, str], str]:
    """Every cell of every table, read with SQL and decrypted: (table, column) -> all its text."""
    found: dict[tuple[str, str], str] = {}
    for table in db.metadata.sorted_tables:
        result = sql(f"SELECT * FROM {table.name}")
        columns = list(result.keys())
        for row in result:
            for column, value in zip(columns, row, strict=True):
                if value is not None:
                    found[(table.name, column)] = (
                        found.get((table.name, column), "") + "\n" + _readable(value, table.name, column)
                    )
    return found


def _figures(api, unit: str = "A") -> dict:
    today = utcnow().astimezone(LOCAL_TZ).date()
    query = {"org_unit": unit, "from": (today - timedelta(days=30)).isoformat(), "to": today.isoformat()}
    resp = api.get("/api/v1/reports/periodic", "supervisor_p@test.vn", query_string=query)
    assert resp.status_code == 200, resp.get_json()
    return {i["code"]: i for i in resp.get_json()["indicators"]}


@pytest.fixture
def full_dossier(api, world, identity_case, app, tmp_path):
    """The identity case with its people written into forms (Mẫu 01 edited with the parents,
    the needs meeting with a participant), a file attached and the dossier printed once."""
    app.config["CASEFLOW_DOCUMENT_CACHE_DIR"] = str(tmp_path / "document-cache")
    case_id = identity_case["id"]
    case = db.session.get(Case, case_id)
    officer = world.users["officer_a"]
    mau_01 = form_service.latest_records(case)["mau_01"]
    data = {
        **form_service.values_of(mau_01, True),
        "father": {"name": FATHER, "age": 40, "job": "Làm ruộng"},
        "mother": {"name": MOTHER, "age": 38},
        "incident_address": CHILD_ADDRESS,
        "harm_setting": "family",
    }
    form_service.save(current_engine(), officer, case, "mau_01", {"data": data, "revision": mau_01.revision})
    meeting = {
        "held_at": "2026-11-30T09:00:00+07:00",
        "chaired_by": "Nguyễn Văn Chủ",
        "participants": [{"name": PARTICIPANT, "body": "Gia đình", "role": "Bác ruột"}],
        "child_views": f"{CHILD_NAME} muốn ở với bà ngoại",
        "needs_agreed": "Khám sức khỏe, tư vấn tâm lý",
    }
    form_service.save(current_engine(), officer, case, "needs_meeting", {"data": meeting, "revision": 0})
    db.session.commit()
    resp = api.post(
        f"/api/v1/cases/{case_id}/child/corrections",
        OFFICER,
        json={"version": case.version, "reason": CORRECTION_REASON, "changes": {"full_name": CORRECTED_NAME}},
    )
    assert resp.status_code == 200, resp.get_json()
    upload = {
        "file": (io.BytesIO(blank_pdf()), "scan.pdf"),
        "kind": "evidence",
        "description": f"Ảnh {CHILD_NAME}",
    }
    resp = api.post(
        f"/api/v1/cases/{case_id}/attachments", OFFICER, data=upload, content_type="multipart/form-data"
    )
    assert resp.status_code == 201, resp.get_json()
    assert api.get(f"/api/v1/cases/{case_id}/documents/dossier.pdf", OFFICER).status_code == 200
    return identity_case


class TestRetentionErasesEveryCopy:
    @pytest.fixture
    def app_config(self):
        return {"REPORT_MIN_COUNT": 1}  # nothing suppressed: the figures are compared exactly

    def test_no_name_is_left_in_any_table_forms_files_or_cache_and_the_figures_still_count(
        self, app, api, runner, full_dossier, sql, backend, tmp_path
    ):
        case_id = full_dossier["id"]
        before = _everything_in_the_database(sql)
        text = "\n".join(before.values())
        assert all(
            secret in text for secret in (CHILD_NAME, INFORMANT_NAME, *FORM_SECRETS)
        )  # the probe sees them
        revisions = sql("SELECT count(*) FROM form_records WHERE case_id = :id", id=case_id).scalar()
        files = list((attachments_dir() / str(case_id)).iterdir())
        cache = document_cache.folder() / str(case_id)
        assert len(files) == 1 and len(list(cache.iterdir())) == 1
        sql(
            "UPDATE cases SET closed_at = :at, state = 'closed', closure_outcome = 'safe_at_home'"
            " WHERE id = :id",
            at=_ELEVEN_YEARS_AGO(),
            id=case_id,
        )
        db.session.commit()
        figures = _figures(api)

        dry = runner.invoke(args=["caseflow", "retention", "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert f"would erase: form revisions {revisions}, attachments 1, cached documents 1," in dry.output
        assert files[0].exists() and CHILD_NAME in "\n".join(_everything_in_the_database(sql).values())

        kept = tmp_path / "cache-before-retention"
        shutil.copytree(cache, kept)  # as a prerender job still writing when the cache is cleared
        done = runner.invoke(args=["caseflow", "retention"])
        assert done.exit_code == 0 and f"erased: form revisions {revisions}, attachments 1" in done.output
        db.session.expire_all()
        after = _everything_in_the_database(sql)
        for secret in (*SECRETS, *FORM_SECRETS, "Mẹ: Hoàng Thị Family", "Trường Tiểu học Khuê"):
            leaks = [where for where, values in after.items() if secret in values]
            assert leaks == [], (secret, leaks)
        assert not files[0].exists() and not (attachments_dir() / str(case_id)).exists()
        assert not cache.exists() and sql("SELECT count(*) FROM attachments").scalar() == 0
        # Every revision is still there, with what the figures and the procedure count.
        assert sql("SELECT count(*) FROM form_records WHERE case_id = :id", id=case_id).scalar() == revisions
        case = db.session.get(Case, case_id)
        latest = form_service.latest_records(case)
        mau_01 = form_service.values_of(latest["mau_01"], True)
        assert mau_01["child"] == {"sex": "female", "age": 11} and mau_01["father"] == {"age": 40}
        assert mau_01["channel"] == "hotline_111" and mau_01["harm_setting"] == "family"
        assert (
            "informant" not in mau_01 and "incident_address" not in mau_01 and "what_happened" not in mau_01
        )
        meeting = form_service.values_of(latest["needs_meeting"], True)
        assert "participants" not in meeting and meeting["held_at"].startswith("2026-11-30")
        assert form_service.values_of(latest["mau_02"], True)["risk_level"] == "high"
        after_figures = _figures(api)
        for code in ("cases_received", "cases_closed", "children_harmed"):
            assert after_figures[code] == figures[code], code
        assert after_figures["cases_closed"]["breakdown"]["closure_outcome"] == {"safe_at_home": 1}
        harmed = after_figures["children_harmed"]
        assert harmed["value"] == 1 and harmed["breakdown"]["sex"]["female"] == 1
        assert harmed["breakdown"]["age_group"]["11-15"] == 1 and harmed["breakdown"]["harm_type"] == {
            "violence": 1
        }
        # The dossier of the anonymised case prints without anyone's name, even with the files
        # rendered before the retention put back.
        shutil.copytree(kept, cache)
        resp = api.get(f"/api/v1/cases/{case_id}/documents/dossier.pdf", OFFICER)
        printed = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(resp.data)).pages)
        assert resp.status_code == 200 and CHILD_NAME not in printed and FATHER not in printed
        verify = runner.invoke(args=["caseflow", "verify-audit"])
        assert verify.exit_code == 0, verify.output
        # The correction's digest, all the trail keeps of it, cannot confirm a guess of its content.
        guessed = {
            "reason": CORRECTION_REASON,
            "before": {"full_name": CHILD_NAME},
            "after": {"full_name": CORRECTED_NAME},
        }
        kept = [
            e.data[audit_chain.REDACTED]
            for e in db.session.scalars(select(CaseEvent).where(CaseEvent.kind == "correction"))
        ]
        assert len(kept) == 1 and audit_chain.data_digest(guessed) not in kept


def _ELEVEN_YEARS_AGO():  # noqa: N802 - read as a constant
    return (utcnow() - timedelta(days=365 * 11)).replace(tzinfo=None)


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
