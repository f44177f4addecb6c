"""All models, imported in one place so Alembic and the app see the whole schema."""

from caseflow.models.actions import UsedActionToken
from caseflow.models.admin_events import AdminEvent
from caseflow.models.calendar import CalendarDay
from caseflow.models.cases import Case, Child, Informant
from caseflow.models.counts import OpenCaseCount
from caseflow.models.events import CaseEvent
from caseflow.models.forms import Attachment, FormRecord
from caseflow.models.notifications import Notification
from caseflow.models.orgs import Agency, OrgUnit
from caseflow.models.people import ApiToken, User
from caseflow.models.reports import AdhocReport, ReportObligation
from caseflow.models.tasks import Task

__all__ = [
    "AdhocReport",
    "AdminEvent",
    "Agency",
    "Attachment",
    "ApiToken",
    "CalendarDay",
    "Case",
    "CaseEvent",
    "Child",
    "FormRecord",
    "Informant",
    "Notification",
    "OpenCaseCount",
    "OrgUnit",
    "ReportObligation",
    "Task",
    "UsedActionToken",
    "User",
]
