"""The periodic backup job, enqueued by the worker's cron when CASEFLOW_BACKUP_DIR is set."""

from __future__ import annotations

from caseflow.jobs.queue import job


@job
def backup() -> str:
    from caseflow.services.backup import scheduled_backup

    return str(scheduled_backup())
