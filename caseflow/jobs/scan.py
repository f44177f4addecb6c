"""The periodic job on the scan queue: overdue ladder, warnings, digests and the outbox sweep."""

from __future__ import annotations

from caseflow.jobs.queue import job


@job
def scan() -> dict:
    from caseflow.notifications.escalation import run_scan

    return run_scan()
