"""The codebook as an Excel workbook: sheets ``variables``, ``value_labels`` and ``form``.

The bytes are deterministic: openpyxl's creation time and the zip entries' dates are fixed.
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from forms.codebook.build import Codebook, Entry

VARIABLE_COLUMNS = (
    "order",
    "variable",
    "export_columns",
    "type",
    "list_name",
    "question",
    "hint",
    "guidance",
    "value_labels",
    "choices",
    "relevance",
    "inherited_relevance",
    "constraint",
    "constraint_message",
    "required",
    "required_message",
    "calculation",
    "default",
    "read_only",
    "choice_filter",
    "appearance",
    "parameters",
    "trigger",
    "save_to",
    "group",
    "repeat",
    "repeat_rows",
    "pii",
    "metadata",
    "notes",
    "xpath",
    "store_columns",
)
"""Header of the ``variables`` sheet."""

_WIDE_COLUMNS = {"question": 60, "notes": 60, "value_labels": 45, "repeat_rows": 45}


def _variable_row(order: int, entry: Entry) -> list[str | int]:
    values: dict[str, str | int | None] = {
        "order": order,
        "variable": entry.name,
        "export_columns": ", ".join(entry.export_columns),
        "store_columns": ", ".join(entry.store_columns),
        "type": entry.question.type,
        "list_name": entry.list_name,
        "question": entry.text,
        "hint": entry.hint,
        "guidance": entry.guidance,
        "value_labels": "; ".join(f"{v.code}={v.label}" for v in entry.value_labels),
        "choices": entry.choices_text,
        "relevance": entry.relevance,
        "inherited_relevance": "; ".join(f"{n}: {e}" for n, e in entry.inherited_relevance),
        "constraint": entry.constraint,
        "constraint_message": entry.constraint_message,
        "required": entry.required,
        "required_message": entry.required_message,
        "calculation": entry.calculation,
        "default": entry.default,
        "read_only": entry.read_only,
        "choice_filter": entry.choice_filter,
        "appearance": entry.appearance,
        "parameters": entry.parameters,
        "trigger": entry.trigger,
        "save_to": entry.save_to,
        "group": entry.group_path,
        "repeat": entry.repeat,
        "repeat_rows": entry.repeat_text,
        "pii": "yes" if entry.pii else "",
        "metadata": "yes" if entry.metadata else "",
        "notes": " ".join(entry.notes),
        "xpath": entry.question.xpath,
    }
    return [values[c] if values[c] is not None else "" for c in VARIABLE_COLUMNS]


def render_xlsx(book: Codebook) -> bytes:
    """The codebook as .xlsx bytes (sheets variables, value_labels, form; header rows frozen)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    variables = workbook.active
    variables.title = "variables"
    _append(variables, list(VARIABLE_COLUMNS))
    for order, entry in enumerate(book.entries(), start=1):
        _append(variables, _variable_row(order, entry))

    labels = workbook.create_sheet("value_labels")
    filter_columns = sorted({k for c, _, _ in book.lists for k in c.filter_columns})
    _append(labels, ["list_name", "code", "label", *filter_columns, "used_by"])
    for choices, values, users in book.lists:
        for value in values:
            filters = dict(value.filters)
            _append(
                labels,
                [
                    choices.name,
                    value.code,
                    value.label,
                    *(filters.get(k, "") for k in filter_columns),
                    ", ".join(users),
                ],
            )

    form_sheet = workbook.create_sheet("form")
    _append(form_sheet, ["field", "value"])
    for key, value, _ in book.header:
        _append(form_sheet, [key, value])
    for name, text in book.datasets:
        _append(form_sheet, [f"Dataset {name}", text])

    for sheet in (variables, labels, form_sheet):
        sheet.freeze_panes = "A2"
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        _fit_columns(sheet)
    for row in variables.iter_rows(min_row=2):
        for cell in row:
            if VARIABLE_COLUMNS[cell.column - 1] in _WIDE_COLUMNS:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    return _deterministic_xlsx(workbook)


def _append(sheet, values: list) -> None:  # type: ignore[no-untyped-def,type-arg]
    """Append a row of literal values: no formulas (a text starting with ``=`` stays text)
    and no control characters (which openpyxl refuses)."""
    sheet.append([_clean(v) for v in values])
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str) and cell.value.startswith("="):
            cell.data_type = "s"


def _clean(value: object) -> object:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub(" ", value) if isinstance(value, str) else value


def _fit_columns(sheet) -> None:  # type: ignore[no-untyped-def]
    from openpyxl.utils import get_column_letter

    for index, column in enumerate(sheet.iter_cols(values_only=True), start=1):
        header = str(column[0] or "")
        longest = max((len(str(v)) for v in column if v not in (None, "")), default=0)
        width = min(max(len(header) + 2, longest + 2, 8), _WIDE_COLUMNS.get(header, 40))
        sheet.column_dimensions[get_column_letter(index)].width = width


_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_FIXED_PROPERTY_TIME = datetime(2000, 1, 1)


def _deterministic_xlsx(workbook) -> bytes:  # type: ignore[no-untyped-def]
    """Save without the timestamps openpyxl and zipfile put in (creation time, entry dates)."""
    from openpyxl.writer.excel import ExcelWriter

    workbook.properties.created = _FIXED_PROPERTY_TIME
    workbook.properties.modified = _FIXED_PROPERTY_TIME
    workbook.properties.creator = "popsurvey"
    raw = BytesIO()
    with ZipFile(raw, "w", ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).save()
    fixed = BytesIO()
    with ZipFile(BytesIO(raw.getvalue())) as source, ZipFile(fixed, "w", ZIP_DEFLATED) as out:
        for info in source.infolist():
            entry = ZipInfo(info.filename, date_time=_FIXED_ZIP_TIME)
            entry.compress_type = ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            out.writestr(entry, source.read(info.filename))
    return fixed.getvalue()
