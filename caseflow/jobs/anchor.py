"""The periodic anchor of the trail, enqueued by the worker's cron when CASEFLOW_ANCHOR_DIR is set."""

from __future__ import annotations

from caseflow.jobs.queue import job


@job
def audit_anchor() -> str:
    from caseflow.extensions import db
    from caseflow.services.audit_anchor import write_anchor

    written = write_anchor(db.session)
    return f"anchor {written.number}: {written.cases} trails, digest {written.digest}"
