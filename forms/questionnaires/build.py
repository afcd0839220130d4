"""Write the bundled questionnaires (and their codebooks) from their Python sources.

    python -m forms.questionnaires.build              # write fertility.xlsx and migrants.xlsx
    python -m forms.questionnaires.build --check      # exit 1 when a committed file is stale
    python -m forms.questionnaires.build --codebooks  # also write docs/codebooks/*.md

The .xlsx files are deterministic: the same source always gives the same bytes (fixed
document dates and zip timestamps), so a stale workbook shows up as a diff.
"""

from __future__ import annotations

import argparse
import datetime
import io
import re
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from forms.questionnaires import fertility, migrants
from forms.questionnaires.authoring import CHOICES_COLUMNS, SURVEY_COLUMNS, FormSpec

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CODEBOOK_DIR = REPO / "docs" / "codebooks"
SOURCES: dict[str, Callable[[], FormSpec]] = {
    "fertility": fertility.spec,
    "migrants": migrants.spec,
}
CODEBOOK_LANGUAGES = {"zh": "中文 (zh)", "en": "English (en)"}
_FIXED_TIME = (2026, 1, 1, 0, 0, 0)
_FIXED_STAMP = b"2026-01-01T00:00:00Z"
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def workbook_bytes(spec: FormSpec) -> bytes:
    """The XLSForm of ``spec`` as deterministic .xlsx bytes."""
    book = Workbook()
    survey = book.active
    survey.title = "survey"
    _write_sheet(survey, SURVEY_COLUMNS, spec.survey)
    _write_sheet(book.create_sheet("choices"), CHOICES_COLUMNS, spec.choices)
    settings = spec.settings
    _write_sheet(book.create_sheet("settings"), tuple(settings), [settings])
    fixed = datetime.datetime(*_FIXED_TIME)
    book.properties.created = book.properties.modified = fixed
    book.properties.creator = "popsurvey forms.questionnaires.build"
    raw = io.BytesIO()
    book.save(raw)
    return _normalise_zip(raw.getvalue())


def _write_sheet(sheet: Worksheet, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    """Write the header (only the columns some row uses) and the rows, readable widths."""
    used = [c for c in columns if any(c in row for row in rows)] or list(columns)
    sheet.append(used)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row.get(column) for column in used])
    sheet.freeze_panes = "C2" if sheet.title == "survey" else "A2"
    for index, column in enumerate(used, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        wide = column.startswith(("label", "hint", "constraint_message", "required_message"))
        sheet.column_dimensions[letter].width = 48 if wide else 18


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite the zip with fixed timestamps and a fixed member order."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_FIXED_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                content = _MODIFIED.sub(rb"\g<1>" + _FIXED_STAMP + rb"\g<2>", content)
            target.writestr(fixed, content)
    return out.getvalue()


def xlsx_path(name: str) -> Path:
    """Where the bundled questionnaire ``name`` is written."""
    return HERE / f"{name}.xlsx"


def codebook_path(name: str, language: str) -> Path:
    """Where the codebook of ``name`` in ``language`` (``zh``/``en``) is written."""
    return CODEBOOK_DIR / f"{name}.{language}.md"


def codebook_bytes(name: str, language: str) -> bytes:
    """The rendered codebook of the committed questionnaire ``name``."""
    from forms import read_form
    from forms.codebook import render_codebook

    form = read_form(xlsx_path(name))
    return render_codebook(form, language=CODEBOOK_LANGUAGES[language], fmt="md")


def stale_files(*, codebooks: bool) -> list[Path]:
    """Committed files that differ from what their sources generate."""
    stale = []
    for name, source in SOURCES.items():
        path = xlsx_path(name)
        if not path.is_file() or path.read_bytes() != workbook_bytes(source()):
            stale.append(path)
        if codebooks:
            for language in CODEBOOK_LANGUAGES:
                book = codebook_path(name, language)
                if not book.is_file() or book.read_bytes() != codebook_bytes(name, language):
                    stale.append(book)
    return stale


def write_all(*, codebooks: bool) -> list[Path]:
    """Write every questionnaire (and codebook); returns the files written."""
    written = []
    for name, source in SOURCES.items():
        path = xlsx_path(name)
        path.write_bytes(workbook_bytes(source()))
        written.append(path)
    if codebooks:
        CODEBOOK_DIR.mkdir(parents=True, exist_ok=True)
        for name in SOURCES:
            for language in CODEBOOK_LANGUAGES:
                path = codebook_path(name, language)
                path.write_bytes(codebook_bytes(name, language))
                written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m forms.questionnaires.build")
    parser.add_argument("--check", action="store_true", help="exit 1 if a written file is stale")
    parser.add_argument("--codebooks", action="store_true", help="also the docs/codebooks files")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(codebooks=args.codebooks)
        for path in stale:
            print(f"stale: {path.relative_to(REPO)}", file=sys.stderr)
        return 1 if stale else 0
    for path in write_all(codebooks=args.codebooks):
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
