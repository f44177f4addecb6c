"""The periodic job on the scan queue: overdue ladder, warnings, digests and the outbox sweep."""

from __future__ import annotations

from caseflow.jobs.queue import job


@job
def scan(at: str | None = None) -> dict:
    """`at` (ISO 8601 with offset): scan as of that moment, for a replay or a test; default now."""
    from datetime import datetime

    from caseflow.notifications.escalation import run_scan

    return run_scan(datetime.fromisoformat(at) if at else None)
