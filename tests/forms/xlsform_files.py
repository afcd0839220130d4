"""Test helpers: the XLSForm fixtures of tests/fixtures/forms and the same form in other formats.

The markdown fixtures are parsed here with a small parser of our own (not pyxform's) and
written back as .xlsx (openpyxl) or .csv (pyxform's CSV layout), so that reading the same
form from every format can be compared. Cells that look like whole numbers are written to
spreadsheets as numbers, the way a user's Excel file holds them.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "forms"

REAL_WORLD_FORMS = (
    "household_roster",
    "wash_food_security",
    "maternal_health_3lang",
    "facility_external",
    "household_followup_entities",
    "field_instruments",
)
"""The markdown fixtures written for popsurvey that imitate forms from the field."""

Sheets = dict[str, list[list[str]]]
"""Sheet name -> rows (the header row first), cells as text ('' for empty)."""

_WHOLE_NUMBER = re.compile(r"^(0|-?[1-9][0-9]{0,14})$")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def fixture_path(stem: str, suffix: str = ".md") -> Path:
    """Path of a fixture file under tests/fixtures/forms."""
    return FIXTURES / f"{stem}{suffix}"


def fixture_text(stem: str) -> str:
    """The markdown text of a fixture form."""
    return fixture_path(stem).read_text(encoding="utf-8")


def markdown_sheets(markdown: str) -> Sheets:
    """Parse pyxform-style markdown tables into sheets (blank and ``#`` lines skipped)."""
    sheets: Sheets = {}
    current: list[list[str]] | None = None
    for line in markdown.splitlines():
        stripped = line.strip()
        if not stripped.startswith("|"):
            continue
        cells = [c.strip().replace("\\|", "|") for c in _UNESCAPED_PIPE.split(stripped)[1:-1]]
        if cells and cells[0]:
            current = sheets.setdefault(cells[0], [])
            cells = cells[1:] if any(cells[1:]) else []
        else:
            cells = cells[1:]
        if current is not None and any(cells):
            current.append(cells)
    return sheets


def _cell_value(text: str) -> str | int | None:
    if not text:
        return None
    return int(text) if _WHOLE_NUMBER.match(text) else text


def write_xlsx(sheets: Sheets, path: Path) -> Path:
    """Write ``sheets`` as an .xlsx workbook with openpyxl."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(title=name)
        for row in rows:
            sheet.append([_cell_value(c) for c in row])
    workbook.save(path)
    return path


def csv_text(sheets: Sheets) -> str:
    """The sheets in pyxform's CSV layout: a sheet-name line, then rows behind one comma."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for name, rows in sheets.items():
        writer.writerow([name])
        for row in rows:
            writer.writerow(["", *row])
    return out.getvalue()


def write_csv(sheets: Sheets, path: Path) -> Path:
    """Write ``sheets`` as a pyxform CSV XLSForm."""
    path.write_text(csv_text(sheets), encoding="utf-8")
    return path


def write_xls(sheets: Sheets, path: Path) -> Path:
    """Write ``sheets`` as a legacy .xls workbook (needs xlwt, used only to make fixtures)."""
    import xlwt  # not a project dependency: see tests/fixtures/forms/make_xls.py

    workbook = xlwt.Workbook(encoding="utf-8")
    for name, rows in sheets.items():
        sheet = workbook.add_sheet(name)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                value = _cell_value(text)
                if value is not None:
                    sheet.write(r, c, value)
    workbook.save(str(path))
    return path
