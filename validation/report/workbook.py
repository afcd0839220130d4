"""The Excel workbook, as ipacheck users expect it: the enumerator summary first, then one
sheet per check with every flag, then progress and the list of checks. Each sheet has a
frozen header row, an autofilter and column widths fitted to the text (Chinese characters
count double). Written with xlsxwriter.
"""

from __future__ import annotations

import io
import re
import unicodedata

import numpy as np
import pandas as pd
import xlsxwriter

from validation.report.compute import Report, reasons_text
from validation.report.i18n import check_label, check_language, indicator_label, text

MAX_WIDTH = 60
FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
FONTS = {"zh": "Microsoft YaHei", "en": "Calibri"}
WIDE = (
    r"[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"
)
"""East Asian wide and full-width characters (they take two columns)."""


def workbook_bytes(report: Report, language: str = "zh") -> bytes:
    """The workbook as .xlsx bytes."""
    check_language(language)
    t = lambda key: text(key, language)  # noqa: E731
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_urls": False})
    font = FONTS[language]
    formats = {
        "head": book.add_format(
            {"bold": True, "bg_color": "#DDE3E8", "font_name": font, "text_wrap": True}
        ),
        "cell": book.add_format({"font_name": font}),
        "number": book.add_format({"font_name": font, "num_format": "0.##"}),
        "date": book.add_format({"font_name": font, "num_format": "yyyy-mm-dd hh:mm"}),
    }
    _write_sheet(book, t("summary_sheet"), _summary(report, t, language), formats)
    used = {t("summary_sheet"), t("progress_sheet"), t("checks_sheet")}
    rows = _flag_rows(report, t)
    checks_of = report.inputs.flags["check"].to_numpy()
    for check in report.checks["check"]:
        name = sheet_name(check, used)
        used.add(name)
        _write_sheet(book, name, rows[checks_of == check], formats)
    progress = report.progress_psu.rename(columns={c: t(k) for c, k in _PROGRESS_HEADS.items()})
    _write_sheet(book, t("progress_sheet"), progress, formats)
    checks = report.checks.assign(
        label=[check_label(c, language, report.inputs.check_labels) for c in report.checks["check"]]
    )
    _write_sheet(book, t("checks_sheet"), checks, formats)
    book.close()
    return buffer.getvalue()


_PROGRESS_HEADS = {
    "county": "county",
    "psu": "psu",
    "complete": "complete",
    "incomplete": "incomplete",
    "pending": "pending",
    "total": "total",
    "pct": "pct_complete",
}


def sheet_name(check: str, used: set[str]) -> str:
    """A valid, unique Excel sheet name (31 characters, no ``[]:*?/\\``) for a check code."""
    base = FORBIDDEN.sub("_", check).strip("'") or "check"
    name, n = base[:31], 2
    while name.lower() in {u.lower() for u in used}:
        suffix = f"~{n}"
        name, n = base[: 31 - len(suffix)] + suffix, n + 1
    return name


def _summary(report: Report, t, language: str) -> pd.DataFrame:
    table = report.enumerators.copy()
    table["reasons"] = [reasons_text(report, e, language, items=6) for e in table["enumerator"]]
    heads = {
        c: t(c)
        for c in (
            "rank",
            "enumerator",
            "name",
            "team",
            "risk",
            "interviews",
            "flagged",
            "errors",
            "warnings",
            "approved",
            "hasIssues",
            "rejected",
            "reasons",
        )
    }
    table = table[list(heads)].rename(columns=heads)
    indicators = report.indicators.drop(columns=["interviews"], errors="ignore")
    indicators = indicators.loc[:, indicators.notna().any()]
    indicators.columns = [indicator_label(c, language) for c in indicators.columns]
    return table.join(indicators, on=t("enumerator"))


def _flag_rows(report: Report, t) -> pd.DataFrame:
    """Every flag as a row of its check's sheet (aligned with ``report.inputs.flags``): the
    interview, the enumerator and their name, start, duration, severity, value, message and
    the review state in Central."""
    flags = report.inputs.flags
    columns = ["instance_id", "start", "duration_min", "review_state"]
    info = report.inputs.interviews[columns].drop_duplicates("instance_id")
    info = flags[["instance_id"]].merge(info, on="instance_id", how="left")
    names = report.enumerators.set_index("enumerator")["name"]
    severity = {s: t(s) for s in ("error", "warning", "info")}
    return pd.DataFrame(
        {
            t("instance"): flags["instance_id"].to_numpy(),
            t("enumerator"): flags["enumerator"].to_numpy(),
            t("name"): flags["enumerator"].map(names).to_numpy(),
            t("start"): info["start"].to_numpy(),
            t("duration"): info["duration_min"].round(1).to_numpy(),
            t("severity"): flags["severity"].map(severity).to_numpy(),
            t("value"): flags["value"].to_numpy(),
            t("message"): flags["message"].to_numpy(),
            t("review_state"): info["review_state"].to_numpy(),
        }
    )


def _write_sheet(book, name: str, frame: pd.DataFrame, formats: dict) -> None:
    sheet = book.add_worksheet(name)
    columns = list(frame.columns)
    for j, column in enumerate(columns):
        sheet.write_string(0, j, str(column), formats["head"])
        values = frame[column]
        kind = _kind(values)
        width = display_width(str(column)) + 2
        if kind == "date":
            for i, value in enumerate(values, start=1):
                if not pd.isna(value):
                    sheet.write_datetime(i, j, value.to_pydatetime(), formats["date"])
            width = max(width, 17)
        elif kind == "number":
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            for i in np.flatnonzero(np.isfinite(numbers)):
                sheet.write_number(i + 1, j, numbers[i], formats["number"])
            if np.isfinite(numbers).any():
                top = np.nanmax(np.abs(numbers[np.isfinite(numbers)]))
                width = max(width, len(f"{top:.4g}") + 3)
        else:
            texts = values.astype("object").where(values.notna())
            cell = formats["cell"]
            for i, value in enumerate(texts.tolist(), start=1):
                if value is not None and value == value:
                    sheet.write_string(i, j, str(value), cell)
            width = max(width, _widest(texts.dropna().astype(str)) + 2)
        sheet.set_column(j, j, min(width, MAX_WIDTH))
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(frame), 1), max(len(columns) - 1, 0))


def _widest(texts: pd.Series) -> int:
    """The display width of the widest text (wide characters count two), in one pass."""
    if texts.empty:
        return 0
    widths = texts.str.len() + texts.str.count(WIDE)
    return int(widths.max())


def _kind(values: pd.Series) -> str:
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date"
    if pd.api.types.is_numeric_dtype(values):
        return "number"
    return "text"


def display_width(words: str) -> int:
    """Columns a string takes in a spreadsheet: wide (CJK) characters count two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in words)
