"""Flask-WTF forms: every POST carries a CSRF token; action forms are built from the workflow definition."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from flask_babel import get_translations, lazy_ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm as _FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms import Form as _Form
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from caseflow.models.cases import CHANNELS, HARM_TYPES, SEXES
from caseflow.models.orgs import AGENCY_KINDS, LEVELS
from caseflow.models.people import MIN_PASSWORD_LENGTH, ROLES
from caseflow.services import figures, limits
from caseflow.web import errors, helpers
from caseflow.workflow import current_forms
from caseflow.workflow.clock import END_OF_DAY, LOCAL_TZ
from caseflow.workflow.definition import FieldSpec, TransitionDef
from caseflow.workflow.forms import FormField as DeclaredField
from caseflow.workflow.lists import CHILD_COLUMNS

MEASURE_ROWS = 1  # the page adds rows ("Add a measure"), with or without scripts
# A field that only means something when another is ticked: the page shows it with that one.
SHOWN_WITH = {"police_case_number": "criminal_referral"}

# WTForms ships no Vietnamese: its own messages are listed here so the extractor puts them
# in our catalog, and the forms below translate them through Flask-Babel.
WTFORMS_MESSAGES = (
    _l("This field is required."),
    _l("Not a valid choice."),
    _l("Not a valid date value."),
    _l("Not a valid datetime value."),
    _l("Not a valid integer value."),
    _l("Number must be between %(min)s and %(max)s."),
    _l("Field must be between %(min)d and %(max)d characters long."),
    lazy_ngettext(
        "Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 2
    ),
    lazy_ngettext(
        "Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 2
    ),
    lazy_ngettext(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
        2,
    ),
)


class _Messages:
    """WTForms' messages in the request's language (Flask-Babel's catalog, not WTForms' own)."""

    def gettext(self, string: str) -> str:
        return get_translations().ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return get_translations().ungettext(singular, plural, n)


_MESSAGES = _Messages()


class FlaskForm(_FlaskForm):
    class Meta:
        def get_translations(self, form: object) -> _Messages:
            return _MESSAGES


class Form(_Form):
    """A sub-form (FormField): WTForms does not pass the parent's Meta down."""

    class Meta:
        def get_translations(self, form: object) -> _Messages:
            return _MESSAGES


def _choices(labels: dict, values: tuple[str, ...], blank: bool = False) -> list[tuple[str, object]]:
    rows = [(v, labels.get(v, v)) for v in values]
    return [("", _l("Choose..."))] + rows if blank else rows


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes instead of a multi-select: usable on a phone and by keyboard."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=limits.EMAIL_CHARS)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=limits.NAME_CHARS)])
    # Room for a recovery code (xxxx-xxxx-xxxx-xxxx) as well as the app's six digits.
    code = StringField(
        _l("Authenticator code or recovery code (if you set one up)"), validators=[Optional(), Length(max=40)]
    )


class TwoFactorForm(FlaskForm):
    secret = HiddenField()
    code = StringField(_l("The 6-digit code your app shows"), validators=[DataRequired(), Length(max=10)])


class RecoveryCodesForm(FlaskForm):
    code = StringField(_l("The 6-digit code your app shows"), validators=[DataRequired(), Length(max=10)])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password (at least %(n)s characters)", n=MIN_PASSWORD_LENGTH),
        validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH, max=200)],
    )


class PostForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class LanguageForm(FlaskForm):
    locale = HiddenField(validators=[DataRequired()])
    next = HiddenField()


class ChildForm(Form):
    full_name = StringField(_l("Full name"), validators=[Optional(), Length(max=limits.NAME_CHARS)])
    date_of_birth = DateField(_l("Date of birth"), validators=[Optional()])
    estimated_age = IntegerField(
        _l("Estimated age (if the date is unknown)"), validators=[Optional(), NumberRange(0, 15)]
    )
    sex = RadioField(_l("Sex"), choices=_choices(helpers.SEX_LABELS, SEXES), default="unknown")
    address = StringField(_l("Address"), validators=[Optional(), Length(max=limits.ADDRESS_CHARS)])
    school = StringField(_l("School"), validators=[Optional(), Length(max=limits.NAME_CHARS)])
    family = TextAreaField(
        _l("Family: parents or caregivers, siblings, situation"),
        validators=[Optional(), Length(max=limits.SHORT_TEXT_CHARS)],
    )


class InformantForm(Form):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=limits.NAME_CHARS)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=limits.PHONE_CHARS)])
    relation = StringField(
        _l("Relation to the child"), validators=[Optional(), Length(max=limits.RELATION_CHARS)]
    )
    consent = BooleanField(_l("The informant agrees that their identity is recorded"))


class IntakeForm(FlaskForm):
    """The reception report, form Mẫu 01 of Decree 56/2017."""

    channel = SelectField(
        _l("How the report came in"), choices=_choices(helpers.CHANNEL_LABELS, CHANNELS, True)
    )
    received_at = DateTimeLocalField(
        _l("Received at (Vietnam time)"), format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )
    incident_commune = SelectField(_l("Commune where it happened"))
    residence_commune = SelectField(_l("Commune where the child lives (if different)"))
    harm_types = MultiCheckboxField(_l("Kinds of harm"), choices=_choices(helpers.HARM_LABELS, HARM_TYPES))
    summary = TextAreaField(
        _l("What was reported"), validators=[Optional(), Length(max=limits.LONG_TEXT_CHARS)]
    )
    serious_harm = BooleanField(
        _l("The report says the child's life, health or dignity faces serious harm now")
    )
    child = FormField(ChildForm, label=_l("The child"))
    informant = FormField(InformantForm, label=_l("The informant"))
    statistics: tuple[StatisticInput, ...] = ()  # intake_form() adds the declared ones

    def statistic_fields(self) -> list[object]:
        """The declared statistics' inputs, in the order the workflow file maps them."""
        return [(self if s.root == "case" else self.child.form)[s.column] for s in self.statistics]

    def payload(self) -> dict:
        """The intake service's JSON shape; it does the real validation and names each bad field."""
        child = self.child.form
        info = self.informant.form
        payload: dict = {
            "channel": self.channel.data or None,
            "incident_commune": self.incident_commune.data or None,
            "residence_commune": self.residence_commune.data or None,
            "harm_types": self.harm_types.data or None,
            "summary": self.summary.data or None,
            "serious_harm": bool(self.serious_harm.data),
            "child": {
                "full_name": child.full_name.data or None,
                "date_of_birth": child.date_of_birth.data.isoformat() if child.date_of_birth.data else None,
                "estimated_age": child.estimated_age.data,
                "sex": child.sex.data or "unknown",
                "address": child.address.data or None,
                "school": child.school.data or None,
                "family": child.family.data or None,
            },
        }
        for stat in self.statistics:
            holder = self if stat.root == "case" else child
            (payload if stat.root == "case" else payload["child"])[stat.column] = (
                holder[stat.column].data or None
            )
        if self.received_at.data:
            payload["received_at"] = self.received_at.data.replace(tzinfo=LOCAL_TZ).isoformat()
        if info.consent.data or info.name.data or info.phone.data:
            payload["informant"] = {
                "consent": bool(info.consent.data),
                "name": info.name.data or None,
                "phone": info.phone.data or None,
                "relation": info.relation.data or None,
            }
        return payload


@dataclass(frozen=True)
class StatisticInput:
    """An input of the intake page for a figure of the reports: a choice field of the intake's
    form (Mẫu 01) that the workflow file maps to a statistics column of the case or the child."""

    root: str  # "case" or "child": where the intake service reads it
    column: str  # the key it reads (the column)
    spec: DeclaredField


def statistic_inputs() -> list[StatisticInput]:
    """From `forms: intake: fields:`: each choice field whose source is a column the intake
    service counts (figures.INTAKE_CASE_COLUMNS, the child's CHILD_COLUMNS), in the map's order."""
    catalog = current_forms()
    if catalog.intake is None:
        return []
    form = catalog.forms[catalog.intake.form]
    accepted = {"case": figures.INTAKE_CASE_COLUMNS, "child": tuple(CHILD_COLUMNS)}
    found = []
    for target, source in catalog.intake.fields:
        root, _, column = source.partition(".")
        spec = form.field(target)
        if spec is not None and spec.type == "choice" and column in accepted.get(root, ()):
            found.append(StatisticInput(root, column, spec))
    return found


def _statistic_field(spec: DeclaredField) -> SelectField:
    lang = helpers.locale()
    label = spec.label.get(lang) or spec.label["vi"]
    choices = [("", _l("Not known yet"))] + [(o.value, o.label.get(lang) or o.value) for o in spec.options]
    # The intake service checks the code against the list and names the field if it is wrong.
    return SelectField(label, choices=choices, validate_choice=False)


def intake_form() -> IntakeForm:
    """The reception form with one input per statistic the workflow file declares (above): a
    variant that maps another choice field to a statistics column gets it here with no code."""
    inputs = statistic_inputs()
    child = {i.column: _statistic_field(i.spec) for i in inputs if i.root == "child"}
    attrs: dict[str, object] = {i.column: _statistic_field(i.spec) for i in inputs if i.root == "case"}
    attrs["child"] = FormField(type("IntakeChildForm", (ChildForm,), child), label=_l("The child"))
    attrs["statistics"] = tuple(inputs)
    return type("DeclaredIntakeForm", (IntakeForm,), attrs)()


class CompleteTaskForm(FlaskForm):
    outcome = TextAreaField(
        _l("What was done"), validators=[DataRequired(), Length(max=limits.SHORT_TEXT_CHARS)]
    )
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=limits.LONG_TEXT_CHARS)])
    next = HiddenField()


class NoteForm(FlaskForm):
    text = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=limits.LONG_TEXT_CHARS)])


class MeasureForm(Form):
    agency = SelectField(_l("Agency"), validators=[Optional()], validate_choice=False)
    description = StringField(
        _l("What the agency will do"), validators=[Optional(), Length(max=limits.SHORT_TEXT_CHARS)]
    )
    due_date = DateField(_l("Due by"), validators=[Optional()])


YES_NO = [("yes", _l("Yes")), ("no", _l("No"))]


def action_form(
    transition: TransitionDef,
    agencies: list[tuple[str, str]],
    communes: list[tuple[str, str]],
    tasks: list[tuple[int, str]] | None = None,
    formdata: object = None,
) -> FlaskForm:
    """A form with the fields the trigger declares, so a new field in the YAML shows up here."""

    class ActionForm(FlaskForm):
        version = HiddenField(validators=[InputRequired()])

    for spec in transition.fields:
        setattr(ActionForm, spec.name, _field_for(spec))
    form = ActionForm(formdata=formdata, prefix=transition.trigger)
    for spec in transition.fields:
        field = form[spec.name]
        if spec.type == "measures":
            for row in field:
                row.form.agency.choices = [("", _l("Choose..."))] + agencies
        elif spec.type == "commune":
            field.choices = [("", _l("Choose..."))] + communes
        elif spec.type == "task_ids":
            field.choices = list(tasks or [])
    return form


def _measure_field(form: FlaskForm, transition: TransitionDef) -> tuple[str, object] | None:
    for spec in transition.fields:
        if spec.type == "measures":
            return spec.name, form[spec.name]
    return None


def blank_measure(transition: TransitionDef, agencies: list[tuple[str, str]]) -> Form | None:
    """An empty measure row named with the placeholder `__i__`, which the page's script numbers
    when it adds a row."""
    for spec in transition.fields:
        if spec.type == "measures":
            row = MeasureForm(prefix=f"{transition.trigger}-{spec.name}-__i__-")
            row.agency.choices = [("", _l("Choose..."))] + agencies
            return row
    return None


def edit_measure_rows(
    form: FlaskForm, transition: TransitionDef, formdata: object, agencies: list[tuple[str, str]]
) -> bool:
    """Without scripts, "Add a measure" and "Remove" are submit buttons: add or drop a row and
    tell the caller to show the form again unsaved. False when neither was pressed."""
    found = _measure_field(form, transition)
    if found is None:
        return False
    _, rows = found
    if formdata.get("add_measure"):
        if len(rows.entries) < (rows.max_entries or 20):
            rows.append_entry()
            rows.entries[-1].form.agency.choices = [("", _l("Choose..."))] + agencies
        return True
    remove = formdata.get("remove_measure")
    if remove is not None:
        rows.entries = [e for e in rows.entries if e.name.rsplit("-", 1)[-1] != remove] or rows.entries[:1]
        return True
    return False


def _field_for(spec: FieldSpec) -> object:
    label = helpers.field_label(spec)
    if spec.type == "bool" and spec.must_be is True:
        return BooleanField(label)
    # Choices are left to the transition service (validate_choice=False): it names each bad field.
    if spec.type == "bool" and spec.required:
        return RadioField(label, choices=YES_NO, validators=[Optional()], validate_choice=False)
    if spec.type == "bool":
        return BooleanField(label)
    if spec.type == "choice":
        labels = helpers.choice_labels(spec)
        return SelectField(label, choices=_choices(labels, spec.choices, True), validate_choice=False)
    if spec.type == "date":
        return DateField(label, validators=[Optional()])
    if spec.type == "task_ids":
        return MultiCheckboxField(label, coerce=int, validate_choice=False)
    if spec.type == "text":
        return TextAreaField(label, validators=[Length(max=limits.LONG_TEXT_CHARS)])
    if spec.type == "measures":
        return FieldList(FormField(MeasureForm), label=label, min_entries=MEASURE_ROWS, max_entries=20)
    if spec.type == "commune":
        return SelectField(label, validate_choice=False)
    return StringField(label, validators=[Length(max=limits.NAME_CHARS)])


def action_data(form: FlaskForm, transition: TransitionDef) -> dict:
    """The trigger's `data` as the transition service takes it; empty rows of a plan are skipped."""
    data: dict = {}
    for spec in transition.fields:
        field = form[spec.name]
        if spec.type == "bool" and spec.required and spec.must_be is None:
            data[spec.name] = {"yes": True, "no": False}.get(field.data)
        elif spec.type == "bool":
            data[spec.name] = bool(field.data)
        elif spec.type == "measures":
            rows = []
            for row in field:
                agency, desc, due = row.form.agency.data, row.form.description.data, row.form.due_date.data
                if not (agency or desc or due):
                    continue
                rows.append(
                    {
                        "agency": agency or None,
                        "description": desc or None,
                        "due_at": datetime.combine(due, END_OF_DAY, tzinfo=LOCAL_TZ).isoformat()
                        if due
                        else None,
                    }
                )
            data[spec.name] = rows
        elif spec.type == "date":
            data[spec.name] = field.data.isoformat() if field.data else None
        elif spec.type == "task_ids":
            data[spec.name] = [int(i) for i in field.data or []] or None
        else:
            data[spec.name] = field.data or None
    return data


class FilterForm(FlaskForm):
    """The case-list filters travel in the query string: bookmarkable, and a GET needs no token."""

    class Meta:
        csrf = False

    reference = StringField(_l("Reference"), validators=[Optional(), Length(max=32)])
    state = SelectField(_l("State"), validators=[Optional()])
    risk_level = SelectField(
        _l("Risk"),
        choices=_choices(helpers.RISK_LABELS, ("low", "medium", "high"), True),
        validators=[Optional()],
    )
    harm_type = SelectField(
        _l("Harm"), choices=_choices(helpers.HARM_LABELS, HARM_TYPES, True), validators=[Optional()]
    )
    overdue = BooleanField(_l("Only cases with overdue work"))


class OrgUnitForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=limits.NAME_CHARS)])
    level = SelectField(_l("Level"), choices=_choices(helpers.LEVEL_LABELS, LEVELS))
    parent = SelectField(_l("Parent unit"))
    abbrev = StringField(_l("Reference prefix (provinces)"), validators=[Optional(), Length(max=8)])
    valid_from = DateField(_l("Valid from"), validators=[Optional()])
    valid_to = DateField(_l("Valid until"), validators=[Optional()])


class AgencyForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=limits.AGENCY_CODE_CHARS)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=limits.NAME_CHARS)])
    kind = SelectField(_l("Kind"), choices=_choices(helpers.AGENCY_KIND_LABELS, AGENCY_KINDS))
    org_unit = SelectField(_l("Unit"))
    email = EmailField(_l("E-mail for tasks"), validators=[DataRequired(), Length(max=limits.EMAIL_CHARS)])


class InviteForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=limits.EMAIL_CHARS)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=limits.NAME_CHARS)])
    role = SelectField(_l("Role"), choices=_choices(helpers.ROLE_LABELS, ROLES))
    org_unit = SelectField(_l("Unit"))
    # The agency's code typed, not picked: a province has too many agencies for one select.
    agency = StringField(
        _l("Agency code (agency staff)"), validators=[Optional(), Length(max=limits.AGENCY_CODE_CHARS)]
    )
    locale = SelectField(_l("Language"), choices=[("vi", "Tiếng Việt"), ("en", "English")])


class AdminSearchForm(FlaskForm):
    """The admin lists' search and unit filter travel in the query string, like the case list's."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=limits.NAME_CHARS)])
    unit = SelectField(_l("Unit"), validators=[Optional()])


class CalendarDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired()])
    kind = SelectField(
        _l("Kind"), choices=[("holiday", _l("Holiday (day off)")), ("workday", _l("Make-up working day"))]
    )
    name = StringField(_l("Name"), validators=[Optional(), Length(max=limits.NAME_CHARS)])


_INDEX = re.compile(r"^(\w+)\[(\d+)\]$")


def attach_errors(form: Form, fields: dict[str, str], strip: str = "") -> list[str]:
    """Put each service error ("child.full_name", "data.measures[0].agency") next to its form field;
    return the ones no field matches, to show at the top of the form."""
    unplaced = []
    for name, why in fields.items():
        path = name[len(strip) :] if strip and name.startswith(strip) else name
        target: object = form
        for part in path.split("."):
            target = _step(target, part)
            if target is None:
                break
        if target is None or not hasattr(target, "errors"):
            unplaced.append(errors.field_text(why))
            continue
        if isinstance(target.errors, dict) or not isinstance(target.errors, list):
            target.errors = []
        target.errors.append(errors.field_text(why))
    return unplaced


def _step(target: object, part: str) -> object:
    match = _INDEX.match(part)
    container = target.form if isinstance(target, FormField) else target
    try:
        if match:
            field_list = container[match.group(1)]
            return field_list.entries[int(match.group(2))]
        return container[part]
    except (KeyError, IndexError, TypeError):
        return None
