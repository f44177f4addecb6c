"""The periodic anchor of the trail, enqueued by the worker's cron when CASEFLOW_ANCHOR_DIR is set."""

from __future__ import annotations

import logging

from caseflow.jobs.queue import job

log = logging.getLogger("caseflow.jobs.anchor")


@job
def audit_anchor() -> str:
    from caseflow.extensions import db
    from caseflow.services.audit_anchor import write_anchor

    written = write_anchor(db.session)
    # The digest in the log too: a log shipped off the host is a second witness of the file.
    summary = f"anchor {written.number}: {written.cases} trails, digest {written.digest}, mac {written.mac}"
    log.info("audit %s", summary)
    return summary
