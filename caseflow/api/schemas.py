"""The API's request and response bodies as pydantic models: the OpenAPI document and the
request checks are both generated from these, so the two cannot drift apart.

Request models check the shape of what arrives (types, required keys, choices, lengths);
the rules that need the database or the clock (a known commune code, a date in the past)
stay in `services/`, their one home. Response models describe what the API really returns:
every key it always sends is required, keys sent only to some roles (`child`, `informant`)
are optional, and extra keys are allowed so that a branch adding one does not break clients.
The models for a trigger's `data` depend on the workflow file and are built from the loaded
definition in `caseflow/api/triggers.py`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from caseflow.models.calendar import DAY_KINDS
from caseflow.models.cases import CHANNELS, HARM_TYPES, RISK_LEVELS, SEXES
from caseflow.models.orgs import AGENCY_KINDS, LEVELS
from caseflow.models.people import MIN_PASSWORD_LENGTH, ROLES
from caseflow.models.tasks import TASK_STATUSES
from caseflow.services.intake import CHILD_AGE_LIMIT


def choice(values: tuple[str, ...]) -> Any:
    """A string that must be one of `values` (the tuples the models and services share)."""
    return Literal[values]  # type: ignore[valid-type]


def text(max_length: int | None = None, *, required: bool = False) -> Any:
    """A string as the services read it: stripped, then measured; required means not blank."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1 if required else None, max_length=max_length),
    ]


# Moments and days arrive as ISO text and are parsed (with the range and offset rules) by the
# services; the format tells clients and schemathesis what to send.
Moment = Annotated[str, Field(json_schema_extra={"format": "date-time"})]


def _iso_day(value: str) -> str:
    """A calendar day as ISO 8601 (2027-02-06): refused here with the other fields' errors, so that
    one bad field does not hide another behind the service's own check."""
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a date (YYYY-MM-DD)") from None
    return value


Day = Annotated[str, AfterValidator(_iso_day), Field(json_schema_extra={"format": "date"})]
Code = text(40, required=True)
# An uploaded file in a multipart body (`endpoint(form=...)`); its content is the view's to check.
File = Annotated[Any, WithJsonSchema({"type": "string", "format": "binary"})]


class LocalText(BaseModel):
    """A text the workflow file gives in both languages."""

    model_config = ConfigDict(extra="allow")

    vi: str
    en: str


class Request(BaseModel):
    """A request body: strict JSON types (no "5" for 5, no 1 for true); unknown keys ignored."""

    model_config = ConfigDict(strict=True, extra="ignore")


class Query(BaseModel):
    """Query parameters (and multipart form fields) arrive as text: numbers and flags are read from it."""

    model_config = ConfigDict(extra="ignore")


class Body(BaseModel):
    """A response body. Extra keys are allowed: fields may be added (the contract)."""

    model_config = ConfigDict(extra="allow")


# -- errors and lists ------------------------------------------------------------------------------


class ErrorDetail(Body):
    code: str = Field(description="machine-readable: invalid, not_found, conflict, forbidden...")
    message: str
    fields: dict[str, str] | None = Field(
        None, description="each invalid field by its path (`child.full_name`, `data.risk_level`) and why"
    )


class Error(Body):
    """The one error shape of the contract."""

    error: ErrorDetail


class Page(Body):
    total: int
    page: int
    per_page: int


class Paging(Query):
    page: int = Field(1, ge=1, le=10**6)
    per_page: int = Field(50, ge=1, le=200)


# -- tokens and people -------------------------------------------------------------------------------


class TokenRequest(Request):
    email: str
    password: str


class TokenResponse(Body):
    token: str
    expires_at: Moment


class UserOut(Body):
    id: int
    email: str
    name: str
    role: choice(ROLES)
    org_unit: str | None
    agency: str | None
    active: bool
    locale: str | None


class UserList(Page):
    items: list[UserOut]


class NewUser(Request):
    email: text(254, required=True)
    name: text(200, required=True)
    password: str = Field(min_length=MIN_PASSWORD_LENGTH)
    role: choice(ROLES)
    org_unit: str | None = None
    agency: str | None = None
    locale: choice(("vi", "en")) | None = None


# -- reference data ----------------------------------------------------------------------------------


class OrgUnitOut(Body):
    code: str
    name: str
    level: choice(LEVELS)
    parent: str | None
    valid_from: Day | None
    valid_to: Day | None
    successor: str | None = Field(description="the unit a merger closed this one into")


class OrgUnitList(Page):
    items: list[OrgUnitOut]


class NewOrgUnit(Request):
    code: text(20, required=True)
    name: text(200, required=True)
    level: choice(LEVELS)
    parent: str | None = None
    valid_from: Day | None = None
    valid_to: Day | None = None
    abbrev: text(8) | None = None


class AgencyOut(Body):
    code: str
    name: str
    kind: choice(AGENCY_KINDS)
    org_unit: str
    email: str


class AgencyList(Page):
    items: list[AgencyOut]


class NewAgency(Request):
    code: text(40, required=True)
    name: text(200, required=True)
    kind: choice(AGENCY_KINDS)
    org_unit: str
    email: text(254, required=True)


# -- the workflow definition -----------------------------------------------------------------------


class WorkflowState(Body):
    name: str
    label: str
    labels: dict[str, str]
    terminal: bool
    owner: str


class WorkflowField(Body):
    name: str
    type: str
    required: bool
    choices: list[str] | None = None
    choice_list: str | None = Field(None, description="the `choice_lists` entry that labels the choices")
    labels: LocalText | None = Field(None, description="what the field reads as on a page")


class WorkflowTransition(Body):
    trigger: str
    label: str
    source: list[str]
    dest: str | None
    roles: list[str]
    fields: list[WorkflowField]


class WorkflowTask(Body):
    id: str
    kind: str
    agency_kind: str
    deadline: str
    basis: str


class Workflow(Body):
    name: str
    version: str
    initial: str
    states: list[WorkflowState]
    transitions: list[WorkflowTransition]
    tasks: list[WorkflowTask]


# -- cases and tasks ---------------------------------------------------------------------------------


class Task(Body):
    id: int
    case_id: int
    case_reference: str | None
    kind: str
    description: str | None
    agency: str
    status: choice(TASK_STATUSES)
    due_at: Moment
    overdue: bool
    rule: str | None
    legal_basis: str | None
    created_at: Moment | None
    completed_at: Moment | None
    outcome: str | None


class TaskList(Page):
    items: list[Task]


class TaskQuery(Paging):
    status: choice(TASK_STATUSES) | None = None
    overdue: bool | None = None


class CompleteTask(Request):
    outcome: text(2000, required=True)
    note: text(10_000) | None = None


class CaseSummary(Body):
    """A case as lists show it: never the child's identity, whoever asks."""

    id: int
    reference: str
    state: str
    version: int
    risk_level: choice(RISK_LEVELS) | None
    harm_types: list[choice(HARM_TYPES)]
    channel: choice(CHANNELS)
    incident_commune: str
    residence_commune: str
    received_at: Moment
    closed_at: Moment | None
    overdue_tasks: int


class CaseList(Page):
    items: list[CaseSummary]
    total_exact: bool = Field(description="false: more than `total` cases match (the count stops there)")


class CaseQuery(Paging):
    state: str | None = Field(None, description="a state of the workflow in force")
    overdue: bool | None = None
    org_unit: str | None = Field(None, description="an org unit code: cases in its subtree")
    reference: str | None = None
    risk_level: choice(RISK_LEVELS) | None = None
    harm_type: choice(HARM_TYPES) | None = None


class ChildOut(Body):
    full_name: str
    date_of_birth: Day | None
    estimated_age: int | None
    sex: choice(SEXES)
    address: str | None
    school: str | None
    family: str | None


class InformantOut(Body):
    consent: bool
    name: str | None
    phone: str | None


class PlannedMeasure(Body):
    agency: str
    description: str
    due_at: Moment


class Plan(Body):
    """The support plan as submitted: its text and its measures."""

    text: str
    measures: list[PlannedMeasure]


class Case(CaseSummary):
    """One case. `child` and `informant` only for roles that may see identity."""

    summary: str
    serious_harm: bool | None
    caregiver_is_abuser: bool | None
    findings: str | None
    plan: Plan | None
    criminal_referral: bool | None
    police_case_number: str | None
    closure_reason: str | None
    data: dict[str, Any] = Field(description="the trigger fields the workflow file keeps `store: data`")
    state_entered_at: Moment | None
    tasks: list[Task]
    allowed_triggers: list[str] = Field(description="the triggers the caller may fire now")
    child: ChildOut | None = None
    informant: InformantOut | None = None


class NewChild(Request):
    """The child; `date_of_birth` or, when unknown, `estimated_age` (one of them is required)."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["date_of_birth"], "properties": {"date_of_birth": {"type": "string"}}},
                {"required": ["estimated_age"], "properties": {"estimated_age": {"type": "integer"}}},
            ]
        }
    )

    full_name: text(200, required=True)
    date_of_birth: Day | None = None
    estimated_age: int | None = Field(None, ge=0, le=CHILD_AGE_LIMIT - 1)
    sex: choice(SEXES) | None = None
    address: text(500) | None = None
    school: text(200) | None = None
    family: text(2000) | None = None


class NewInformant(Request):
    consent: bool
    name: text(200) | None = None
    phone: text(40) | None = None
    relation: text(100) | None = None


class NewCase(Request):
    incident_commune: text(20, required=True)
    residence_commune: text(20) | None = Field(None, description="default: the incident commune")
    received_at: Moment | None = Field(None, description="default: now; never in the future")
    channel: choice(CHANNELS)
    harm_types: list[choice(HARM_TYPES)] = Field(min_length=1)
    summary: text(required=True) = Field(description="at most MAX_SUMMARY_CHARS characters (a setting)")
    child: NewChild
    informant: NewInformant | None = None


class TransitionEnvelope(Request):
    """What every transition request carries; `data` is checked against the trigger's model."""

    trigger: str
    version: int = Field(description="the case version you last saw")
    data: dict[str, Any] | None = None


class Event(Body):
    id: int
    at: Moment
    actor: str
    kind: str
    from_state: str | None
    to_state: str | None
    data: dict[str, Any]


class EventList(Page):
    items: list[Event]


class NewNote(Request):
    text: text(10_000, required=True)


# -- calendar, dashboard, health ---------------------------------------------------------------------


class CalendarDay(Body):
    date: Day
    kind: choice(DAY_KINDS)
    name: str


class CalendarList(Page):
    items: list[CalendarDay]


class CalendarQuery(Query):
    year: int = Field(ge=1900, le=2200)


class CalendarEdit(Request):
    kind: choice(DAY_KINDS)
    name: text(200) | None = None


class DueQuery(Query):
    start: Moment = Field(description="ISO 8601 with a UTC offset")
    working_days: int | None = Field(None, ge=0, le=3660, description="give this or hours")
    hours: int | None = Field(None, ge=0, le=3660, description="give this or working_days")


class DueAt(Body):
    due_at: Moment


class UnitCounts(Body):
    code: str
    name: str
    open_cases: int
    overdue_tasks: int


class AgencyCounts(Body):
    code: str
    name: str
    kind: str
    overdue_tasks: int


class Dashboard(Body):
    by_org_unit: list[UnitCounts]
    by_agency: list[AgencyCounts]


class Health(Body):
    """GET /healthz (outside /api/v1, so not in the document; tests check it against this)."""

    status: choice(("ok", "down"))
    database: choice(("ok", "down"))
    queue: choice(("ok", "inline", "down"))
