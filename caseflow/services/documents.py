"""The annex forms printed as the commune files them: PDF (WeasyPrint) and DOCX (python-docx).

Both formats are drawn from one description of the document (`layout`): the issuing
commune and the national motto, the number and the place and date, the title, the fields
as the declaration labels them, and the signature block. Documents are in Vietnamese, the
language of the file, whoever prints them; identity fields are left out for a reader who may
not see identity.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from caseflow.models import Case, FormRecord, User
from caseflow.services import forms as form_service
from caseflow.workflow import current_forms
from caseflow.workflow.clock import to_local
from caseflow.workflow.forms import FormDef, FormField

LOCALE = "vi"  # the language of the case file, whoever prints it
# The approval dossier of Decree 56 Art. 28.2, in its order.
DOSSIER = ("mau_01", "mau_02", "mau_03", "needs_meeting", "mau_04", "mau_05")
PART_LABELS = {
    "name": _l("Full name"),
    "birth_date": _l("Date of birth"),
    "age": _l("Age"),
    "sex": _l("Sex"),
    "ethnicity": _l("Ethnicity"),
    "job": _l("Occupation"),
    "address": _l("Address"),
    "phone": _l("Phone"),
    "relation": _l("Relationship to the child"),
    "school": _l("School"),
}
SEX_WORDS = {"female": _l("Female"), "male": _l("Male"), "unknown": _l("Unknown")}
DOTS = "......"  # what the annex prints where nothing is written
DOCX_FONT = "Times New Roman"  # what the annex is typed in; Word falls back where it is missing


@dataclass
class Block:
    label: str
    text: str = ""
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    protected: bool = False


@dataclass
class Layout:
    code: str
    short: str
    title: str
    issuer: str  # "ỦY BAN NHÂN DÂN"
    commune: str  # "XÃ A"
    number: str
    place_date: str
    decision: bool
    reference: str
    blocks: list[Block]
    signer: str
    sign_hint: str
    signer_name: str
    words: dict[str, str]


def _words() -> dict[str, str]:
    return {
        "country": _("SOCIALIST REPUBLIC OF VIETNAM"),
        "motto": _("Independence - Freedom - Happiness"),
        "committee": _("PEOPLE'S COMMITTEE"),
        "reference": _("Case reference"),
        "protected": _("Protected information, not shown to your role"),
        "yes": _("Yes"),
        "no": _("No"),
        "not_recorded": _("This form has not been recorded for the case yet."),
    }


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        return None


def _moment(value: str) -> datetime | None:
    try:
        return to_local(datetime.fromisoformat(value))
    except (TypeError, ValueError):
        return None


def _scalar_text(kind: str, value: Any, spec: FormField | None, words: dict[str, str]) -> str:
    if value is None or value == "":
        return ""
    if kind == "bool":
        return words["yes"] if value else words["no"]
    if kind == "date":
        day = _day(value)
        return day.strftime("%d/%m/%Y") if day else str(value)
    if kind == "datetime":
        moment = _moment(value)
        return moment.strftime("%H:%M %d/%m/%Y") if moment else str(value)
    if kind == "choice" and spec is not None:
        return spec.option_label(value, LOCALE)
    if kind == "choices" and spec is not None:
        return "; ".join(spec.option_label(v, LOCALE) for v in value)
    if kind == "number" and isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _block(spec: FormField, value: Any, hidden: bool, words: dict[str, str]) -> Block:
    label = spec.label[LOCALE]
    if hidden:
        return Block(label, words["protected"], protected=True)
    if spec.type == "person":
        parts = []
        for part in spec.parts:
            part_value = (value or {}).get(part)
            if part_value in (None, ""):
                continue
            if part == "sex":
                text = str(SEX_WORDS.get(part_value, part_value))
            else:
                text = _scalar_text("date" if part == "birth_date" else "text", part_value, None, words)
            parts.append(f"{PART_LABELS[part]}: {text}")
        return Block(label, "; ".join(parts))
    if spec.type == "rows":
        columns = [c.label[LOCALE] for c in spec.fields]
        texts = [
            [_scalar_text(c.type, row.get(c.name), c, words).strip() for c in spec.fields]
            for row in value or []
            if isinstance(row, dict)
        ]
        # As the annex prints a table: a row with nothing in it is left out, a blank cell and a
        # table with no row show the dotted line the paper form leaves to be filled in.
        rows = [[text or DOTS for text in row] for row in texts if any(row)]
        return Block(label, columns=columns, rows=rows or [[DOTS] * len(columns)])
    return Block(label, _scalar_text(spec.type, value, spec, words))


def layout(form: FormDef, record: FormRecord | None, case: Case, show_identity: bool) -> Layout:
    """What a printed form says, in Vietnamese; call inside `force_locale(LOCALE)`."""
    words = _words()
    values = form_service.values_of(record, show_identity)
    commune = case.incident_commune if form.issuer == "incident" else case.residence_commune
    hidden = set() if show_identity else set(form.identity_fields)
    skip = {form.number_field, form.signer_field}
    blocks = [
        _block(spec, values.get(spec.name), spec.name in hidden, words)
        for spec in form.fields
        if spec.name not in skip
    ]
    when = values.get(form.date_field) if form.date_field else None
    day = _day(when) or (_moment(when).date() if _moment(when) else None) if when else None
    if day is None and record is not None:
        day = to_local(record.recorded_at).date()
    if day is not None:
        place_date = _(
            "%(place)s, day %(d)s month %(m)s year %(y)s",
            place=commune.name,
            d=f"{day.day:02d}",
            m=f"{day.month:02d}",
            y=day.year,
        )
    else:
        place_date = _("%(place)s, day ... month ... year ...", place=commune.name)
    number = values.get(form.number_field) if form.number_field else None
    return Layout(
        code=form.code,
        short=form.short[LOCALE],
        title=form.title[LOCALE].upper(),
        issuer=words["committee"],
        commune=commune.name.upper(),
        number=_("No.: %(number)s", number=number or "......"),
        place_date=place_date,
        decision=form.kind == "decision",
        reference=f"{words['reference']}: {case.reference}",
        blocks=blocks if record is not None else [Block("", words["not_recorded"])],
        signer=(form.signer.get(LOCALE) or "").upper(),
        sign_hint=_("(Signature, full name and seal)")
        if form.kind == "decision"
        else _("(Signature and full name)"),
        signer_name=str(values.get(form.signer_field) or "") if form.signer_field else "",
        words=words,
    )


def layouts(case: Case, codes: tuple[str, ...], show_identity: bool) -> list[Layout]:
    catalog = current_forms()
    records = form_service.latest_records(case)
    with force_locale(LOCALE):
        return [
            layout(catalog.forms[c], records.get(c), case, show_identity) for c in codes if c in catalog.forms
        ]


def render_html(pages: list[Layout]) -> str:
    return render_template("documents/forms.html", pages=pages)


_stylesheets: dict[tuple[str, float], tuple[Any, Any]] = {}


def _stylesheet() -> tuple[Any, Any]:
    """The documents' CSS and its font configuration, parsed once per process (and again when
    the file changes): parsing them cost a tenth of a dossier's rendering."""
    from weasyprint import CSS  # imported on first use: it loads Pango and the fonts
    from weasyprint.text.fonts import FontConfiguration

    path = Path(current_app.template_folder) / "documents" / "forms.css"
    key = (str(path), path.stat().st_mtime)
    if key not in _stylesheets:
        fonts = FontConfiguration()
        _stylesheets.clear()
        _stylesheets[key] = (CSS(filename=str(path), font_config=fonts), fonts)
    return _stylesheets[key]


def render_pdf(pages: list[Layout]) -> bytes:
    from weasyprint import HTML

    css, fonts = _stylesheet()
    return HTML(string=render_html(pages)).write_pdf(stylesheets=[css], font_config=fonts)


def render_docx(pages: list[Layout]) -> bytes:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = DOCX_FONT
    style.font.size = Pt(13)
    for section in doc.sections:
        section.left_margin, section.right_margin = Cm(3), Cm(2)
        section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    for i, page in enumerate(pages):
        if i:
            doc.add_page_break()
        _docx_page(doc, page)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _para(
    cell_or_doc: Any,
    text: str,
    *,
    bold: bool = False,
    italic: bool = False,
    center: bool = True,
    size: int | None = None,
) -> None:
    paragraph = cell_or_doc.add_paragraph()
    if center:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(text)
    run.bold, run.italic = bold, italic
    if size:
        run.font.size = Pt(size)


def _docx_page(doc: Any, page: Layout) -> None:
    head = doc.add_table(rows=1, cols=2)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = head.rows[0].cells
    left.paragraphs[0].text = page.issuer
    left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _para(left, page.commune, bold=True)
    _para(left, page.number)
    right.paragraphs[0].add_run(page.words["country"]).bold = True
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _para(right, page.words["motto"], bold=True)
    _para(right, page.place_date, italic=True)
    _para(doc, page.title, bold=True, size=14)
    _para(doc, f"{page.short} · {page.reference}", italic=True, size=11)
    for block in page.blocks:
        if block.columns:
            paragraph = doc.add_paragraph()
            paragraph.add_run(f"{block.label}:").bold = True
            table = doc.add_table(rows=1, cols=len(block.columns))
            table.style = "Table Grid"
            for cell, column in zip(table.rows[0].cells, block.columns, strict=True):
                cell.text = column
            for row in block.rows:
                cells = table.add_row().cells
                for cell, value in zip(cells, row, strict=True):
                    cell.text = value
            continue
        paragraph = doc.add_paragraph()
        if block.label:
            paragraph.add_run(f"{block.label}: ").bold = True
        run = paragraph.add_run(block.text or DOTS)
        run.italic = block.protected
    sign = doc.add_table(rows=1, cols=2)
    cell = sign.rows[0].cells[1]
    cell.paragraphs[0].add_run(page.signer).bold = True
    cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    _para(cell, page.sign_hint, italic=True, size=11)
    _para(cell, "")
    _para(cell, page.signer_name, bold=True)


def file_name(case: Case, name: str, extension: str) -> str:
    """The case reference and the form: never the child's name."""
    return f"{case.reference}-{name}.{extension}"


def _sources() -> list[Path]:
    """What turns a form's values into a printed page besides the declarations: the print
    template and stylesheet, the Vietnamese catalog and this module."""
    templates = Path(current_app.template_folder) / "documents"
    catalog = Path(current_app.root_path) / "translations" / LOCALE / "LC_MESSAGES" / "messages.mo"
    return [*sorted(templates.glob("*")), catalog, Path(__file__)]


MIMETYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def download(user: User, case: Case, name: str) -> tuple[bytes, str, str]:
    """`mau_01.pdf`, `mau_04.docx` or `dossier.pdf` of a case the caller can see: the file, its
    type and its name. Each download is an event in the trail, with whether identity was in it."""
    from caseflow.extensions import db
    from caseflow.services import access, audit, document_cache
    from caseflow.services.errors import NotFound

    stem, _, extension = name.rpartition(".")
    if extension not in MIMETYPES or not (stem == "dossier" or stem in current_forms().forms):
        raise NotFound("No such document")
    form_service.require_read(user, case)
    shown = access.can_see_identity(user, case)
    codes = DOSSIER if stem == "dossier" else (stem,)

    def render() -> bytes:
        pages = layouts(case, codes, shown)
        return render_pdf(pages) if extension == "pdf" else render_docx(pages)

    content, _hit = document_cache.cached(case, stem, extension, codes, _sources(), LOCALE, shown, render)
    # Every download is in the trail, from the cache or not.
    audit.add(case.id, "document_downloaded", actor=user, data={"document": name, "identity_shown": shown})
    db.session.commit()
    return content, MIMETYPES[extension], file_name(case, stem, extension)
