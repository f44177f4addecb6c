"""A periodic report in words people read, and as the files that leave CaseFlow (XLSX and CSV).

Labels come from the Babel catalogs (indicators and breakdowns here, the models' own codes in
`services/labels.py`, shared with the pages) and from the workflow file's choice lists; the files hold only the report's figures, never a case or a child.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from caseflow.extensions import db
from caseflow.models import Agency, OrgUnit, User
from caseflow.services.labels import CHANNEL_LABELS, HARM_LABELS, LEVEL_LABELS, SEX_LABELS, label
from caseflow.services.reports import NOT_RECORDED, Period, compute, dimension_codes, leaves_commune, suppress
from caseflow.workflow.clock import LOCAL_TZ
from caseflow.workflow.definition import WorkflowDefinition

INDICATOR_LABELS = {
    "cases_received": _l("Cases received"),
    "cases_dismissed": _l("Reports found unfounded"),
    "cases_closed": _l("Cases closed"),
    "children_harmed": _l("Children harmed (cases not found unfounded)"),
    "services_given": _l("Closed cases with services recorded"),
    "emergency_on_time": _l("Emergency protection done within the deadline"),
    "plans_on_time": _l("Plans drafted within the deadline"),
    "time_to_verify_hours": _l("Average time to verify (hours)"),
    "time_to_plan_days": _l("Average time to draft the plan (days)"),
    "overdue_tasks": _l("Tasks overdue at the end of the period"),
}
DIMENSION_LABELS = {
    "channel": _l("Channel"),
    "harm_type": _l("Type of harm"),
    "closure_outcome": _l("Outcome"),
    "sex": _l("Sex"),
    "age_group": _l("Age group"),
    "setting": _l("Setting"),
    "perpetrator_relation": _l("Relationship of the perpetrator"),
    "ethnicity": _l("Ethnicity"),
    "disability": _l("Disability"),
    "special_group": _l("Special circumstances"),
    "service": _l("Service"),
    "timeliness": _l("Timeliness"),
    "agency": _l("Agency"),
}
DIMENSION_LISTS = {
    "setting": "harm_settings",
    "perpetrator_relation": "perpetrator_relations",
    "ethnicity": "ethnicities",
    "disability": "disabilities",
    "special_group": "special_circumstance_groups",
    "service": "services",
    "closure_outcome": "closure_outcomes",
}
FIXED_LABELS = {
    "sex": SEX_LABELS,
    "harm_type": HARM_LABELS,
    "channel": CHANNEL_LABELS,
    "timeliness": {
        "on_time": _l("Done within the deadline"),
        "late": _l("Done late"),
        "open_overdue": _l("Not done, overdue"),
        "open": _l("Not done, not yet due"),
    },
}


def _value_label(
    definition: WorkflowDefinition, dimension: str, code: str, locale: str, agencies: dict
) -> str:
    if code == NOT_RECORDED:
        return _("Not recorded")
    if dimension == "age_group":
        return _("%(range)s years", range=code)
    if dimension == "agency":
        return agencies.get(code, code)
    if dimension in DIMENSION_LISTS and DIMENSION_LISTS[dimension] in definition.lists.lists:
        return definition.lists[DIMENSION_LISTS[dimension]].label(code, locale)
    return label(FIXED_LABELS.get(dimension, {}), code)


def labelled(definition: WorkflowDefinition, report: dict[str, Any], locale: str) -> dict[str, Any]:
    """The report with a label on each indicator and, per breakdown, its label and its values in
    order with theirs: `{"dimension", "label", "values": [{"code", "label", "value"}]}`."""
    codes = {c for i in report["indicators"] for c in i["breakdown"].get("agency", {})}
    agencies = (
        {
            code: name
            for code, name in db.session.execute(
                select(Agency.code, Agency.name).where(Agency.code.in_(codes))
            )
        }
        if codes
        else {}
    )
    indicators = []
    for item in report["indicators"]:
        breakdowns = []
        for dimension, values in item["breakdown"].items():
            breakdowns.append(
                {
                    "dimension": dimension,
                    "label": str(DIMENSION_LABELS[dimension]),
                    "values": [
                        {
                            "code": code,
                            "label": _value_label(definition, dimension, code, locale, agencies),
                            "value": values[code],
                        }
                        for code in dimension_codes(definition, dimension, values)
                    ],
                }
            )
        indicators.append({**item, "label": str(INDICATOR_LABELS[item["code"]]), "breakdowns": breakdowns})
    return {**report, "level_label": str(LEVEL_LABELS.get(report["level"], "")), "indicators": indicators}


def prepared(
    definition: WorkflowDefinition,
    user: User,
    unit: OrgUnit,
    period: Period,
    *,
    export: bool,
    min_count: int,
    locale: str,
) -> dict[str, Any]:
    """The report as `user` may receive it: computed, suppressed once it leaves the commune
    (any file, any supervisor), and labelled in `locale`."""
    figures = compute(definition, unit, period)
    if leaves_commune(user, unit, export=export):
        figures = suppress(figures, min_count)
    return labelled(definition, figures, locale)


def _shown(value: Any) -> Any:
    return "" if value is None else value


def _local_day(iso: str) -> str:
    return datetime.fromisoformat(iso).strftime("%d/%m/%Y")


def to_csv(report: dict[str, Any]) -> str:
    """One row per indicator (its total) and per breakdown value, in the reader's language."""
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel opens UTF-8 Vietnamese correctly only with a BOM
    writer = csv.writer(buffer)
    writer.writerow([_("Unit"), report["org_unit_name"], _("From"), _local_day(report["from"]),
                     _("To"), _local_day(report["to"])])  # fmt: skip
    writer.writerow([_("Indicator"), _("Breakdown"), _("Value of the breakdown"), _("Count")])
    for item in report["indicators"]:
        writer.writerow([item["label"], _("Total"), "", _shown(item["value"])])
        for breakdown in item["breakdowns"]:
            for value in breakdown["values"]:
                writer.writerow([item["label"], breakdown["label"], value["label"], _shown(value["value"])])
    if report.get("suppressed"):
        writer.writerow(
            [_("Counts below %(n)s are shown as <%(n)s to protect the children.", n=report["min_count"])]
        )
    return buffer.getvalue()


def _sheet_title(text: str, used: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique in the workbook."""
    clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in text).strip()[:31] or "Sheet"
    title, n = clean, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def to_xlsx(report: dict[str, Any], produced_by: str, produced_at: datetime) -> bytes:
    """A cover sheet (unit, period, who produced it and when), the indicators, one sheet per
    breakdown of the children harmed and of the other indicators, and a chart of the children
    harmed by age group and sex. Written row by row from the figures computed once (openpyxl's
    write-only mode: rows stream out, no cell object stays in memory, whatever a breakdown's
    length; a province's agencies make one of them a thousand rows long)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    bold, used = Font(bold=True), set()

    def sheet_with(title: str, widths: dict[str, int]):  # noqa: ANN202 - openpyxl's sheet
        sheet = book.create_sheet(_sheet_title(title, used))
        for column, width in widths.items():  # before the first row: write-only sheets
            sheet.column_dimensions[column].width = width
        return sheet

    def styled(sheet, values: list, font: Font) -> list:  # noqa: ANN001 - openpyxl's sheet
        cells = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = font
            cells.append(cell)
        return cells

    cover = sheet_with(_("Cover"), {"A": 24, "B": 60})
    rows = [
        (_("Unit"), f"{report['org_unit_name']} ({report['level_label']})"),
        (_("From"), _local_day(report["from"])),
        (_("To"), _local_day(report["to"])),
        (_("Produced by"), produced_by),
        (_("Produced at"), produced_at.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M") + " (UTC+7)"),
    ]
    if report.get("suppressed"):
        rows.append(
            (
                _("Small counts"),
                _("Counts below %(n)s are shown as <%(n)s to protect the children.", n=report["min_count"]),
            )
        )
    cover.append(styled(cover, [_("Report on child protection cases"), ""], Font(bold=True, size=14)))
    for row in rows:
        cover.append(list(row))

    summary = sheet_with(_("Indicators"), {"A": 60})
    summary.append(styled(summary, [_("Indicator"), _("Count")], bold))
    for item in report["indicators"]:
        summary.append([item["label"], _shown(item["value"])])

    for item in report["indicators"]:
        for breakdown in item["breakdowns"]:
            title = (
                breakdown["label"]
                if item["code"] == "children_harmed"
                else f"{item['label']} - {breakdown['label']}"
            )
            sheet = sheet_with(title, {"A": 50})
            sheet.append(styled(sheet, [item["label"]], bold))
            sheet.append(styled(sheet, [breakdown["label"], _("Count")], bold))
            for value in breakdown["values"]:
                sheet.append([value["label"], _shown(value["value"])])
            if item["code"] == "children_harmed" and breakdown["dimension"] in ("age_group", "sex"):
                count = len(breakdown["values"])
                if count:  # a suppressed "<5" plots as no bar: the table beside it says why
                    chart = BarChart()
                    chart.title = f"{item['label']}: {breakdown['label']}"
                    chart.y_axis.title = _("Children")
                    chart.add_data(
                        Reference(sheet, min_col=2, min_row=2, max_row=2 + count), titles_from_data=True
                    )
                    chart.set_categories(Reference(sheet, min_col=1, min_row=3, max_row=2 + count))
                    chart.legend = None
                    sheet.add_chart(chart, "D2")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
