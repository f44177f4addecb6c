"""Which role may do which kind of thing: the one table the pages, their menus and the API read.

Jurisdiction (which cases and tasks) is decided per row by caseflow/services/access.py; this
table decides only whether a role may use a feature at all. The pages' decorators
(`permission_required`), the menus in templates/pages/base.html (`may(...)`) and the API's
`require_auth` take their role lists from here, so they cannot disagree.
"""

from __future__ import annotations

from caseflow.models.people import ROLES

PERMISSIONS: dict[str, tuple[str, ...]] = {
    # users, units, agencies, the calendar, failed mails
    "administer": ("admin",),
    # the overdue overview (page and API alike): a commune's or a subtree's work, and for
    # agency staff their own agency's work on the cases it serves (the page used to refuse
    # them while the API answered)
    "see_overview": ("supervisor", "officer", "chair", "agency_staff"),
    # the case list (each sees the cases in reach) and the case pages
    "see_cases": ("supervisor", "officer", "chair", "agency_staff"),
    # the case list as CSV: bodies that supervise or own cases, not partner agencies
    "export_cases": ("supervisor", "officer", "chair"),
    # the periodic report (page and files) and the reports communes owe: bodies that report,
    # not partner agencies
    "see_reports": ("supervisor", "officer", "chair"),
    # the work queue and completing tasks
    "work_tasks": ("supervisor", "officer", "chair", "agency_staff"),
}

assert all(role in ROLES for roles in PERMISSIONS.values() for role in roles)  # noqa: S101 - a typo fails at import


def roles_for(action: str) -> tuple[str, ...]:
    """The roles that may `action` (a KeyError for an action not in the table)."""
    return PERMISSIONS[action]


def allows(role: str | None, action: str) -> bool:
    return role in PERMISSIONS[action]


__all__ = ["PERMISSIONS", "allows", "roles_for"]
