"""A saved form's documents are laid out by a real RQ worker before anyone asks for them: a
burst of saves (page, API or a trigger recording its form) is one job, the download that
follows comes from the cache, and a save that did not commit schedules nothing."""

from __future__ import annotations

import pytest
from rq.job import Job

from caseflow.extensions import db
from caseflow.jobs.queue import DOCUMENTS, get_queue, prerender_key, redis_connection
from caseflow.services import document_cache

pytestmark = pytest.mark.redis

OFFICER = "officer_a@test.vn"
SUPERVISOR = "supervisor_p@test.vn"
MAU_03 = {"assessed_on": "2026-11-30", "risks": "Bố dượng uống rượu", "conclusion": "Cần hỗ trợ tâm lý"}
VERIFY = {"risk_level": "medium", "serious_harm": False, "caregiver_is_abuser": False, "findings": "Đã gặp"}


@pytest.fixture
def app_config(mail_config):
    return {**mail_config, "PRERENDER_DELAY_SECONDS": 0}


def _pending(app, case_id: int) -> set[str]:
    return {c.decode() for c in redis_connection(app).smembers(prerender_key(app, case_id))}


def _save_mau_03(api, case_id: int, revision: int, conclusion: str):
    data = {**MAU_03, "conclusion": conclusion}
    return api.put(
        f"/api/v1/cases/{case_id}/forms/mau_03", OFFICER, json={"data": data, "revision": revision}
    )


def test_a_burst_of_saves_is_one_job_and_the_download_after_it_comes_from_the_cache(
    app, api, open_case, fire, worker, renders
):
    case = open_case()  # the intake records Mẫu 01: the first save schedules the case's job
    queue = get_queue(app, DOCUMENTS)
    assert queue.count == 1 and _pending(app, case["id"]) == {"mau_01"}
    for revision in range(3):
        assert _save_mau_03(api, case["id"], revision, f"Lần {revision + 1}").status_code == 200
    fire(case, "verify", OFFICER, VERIFY)  # the trigger records Mẫu 02
    stale = _save_mau_03(api, case["id"], 0, "Cũ")  # refused: nothing committed, nothing noted
    assert stale.status_code == 409
    assert queue.count == 1 and _pending(app, case["id"]) == {"mau_01", "mau_02", "mau_03"}
    assert renders["pdf"] == 0  # the saving requests rendered nothing
    (job_id,) = queue.get_job_ids()

    worker.burst()

    job = Job.fetch(job_id, connection=redis_connection(app))
    # The dossier and the three forms saved, each with and without identity: once.
    assert job.return_value() == {"rendered": 8, "cached": 0}
    assert _pending(app, case["id"]) == set() and queue.count == 0
    for who in (OFFICER, SUPERVISOR):
        resp = api.get(f"/api/v1/cases/{case['id']}/documents/dossier.pdf", who)
        assert resp.status_code == 200 and resp.data.startswith(b"%PDF")
    resp = api.get(f"/api/v1/cases/{case['id']}/documents/mau_03.pdf", OFFICER)
    assert resp.status_code == 200
    assert renders["pdf"] == 0  # every download was served from what the worker rendered
    assert {p.name.split(".")[0] for p in document_cache.files_of(case["id"])} == {
        "dossier",
        "mau_01",
        "mau_02",
        "mau_03",
    }
    # A save after the job started is the next burst: a job of its own, for that form.
    assert _save_mau_03(api, case["id"], 3, "Lần 4").status_code == 200
    assert queue.count == 1 and _pending(app, case["id"]) == {"mau_03"}
    worker.burst()
    api.get(f"/api/v1/cases/{case['id']}/documents/mau_03.pdf", OFFICER)
    api.get(f"/api/v1/cases/{case['id']}/documents/dossier.pdf", SUPERVISOR)
    assert renders["pdf"] == 0


def test_a_rolled_back_save_schedules_nothing(app, open_case):
    case_id = open_case()["id"]
    get_queue(app, DOCUMENTS).empty()
    redis_connection(app).delete(prerender_key(app, case_id))
    document_cache.saved(case_id, "mau_03")  # as a save does, inside its transaction
    db.session.rollback()  # the save failed after it was noted
    db.session.commit()  # the next transaction of the session commits
    assert get_queue(app, DOCUMENTS).count == 0 and _pending(app, case_id) == set()
    document_cache.saved(case_id, "mau_03")
    db.session.commit()
    assert get_queue(app, DOCUMENTS).count == 1 and _pending(app, case_id) == {"mau_03"}
