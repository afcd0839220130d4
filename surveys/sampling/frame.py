"""Reading and checking a sampling frame (CSV, XLSX or Parquet) and household listings.

Every value is read as text and converted here, so a bad cell gives an error naming its row
rather than a silently mistyped column. Rows are numbered as a spreadsheet shows them (the
header is row 1) for CSV and XLSX, and from 1 for Parquet records.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from surveys.sampling.errors import FrameError

ROW = "_row"
"""Column added to every table read: the row number to quote in errors."""


@dataclass(frozen=True)
class Problem:
    """One bad cell or row found while checking a table."""

    row: int
    message: str


def read_table(path: str | Path, *, sheet: str | None = None) -> pd.DataFrame:
    """Read a CSV, XLSX or Parquet file as text columns, with the row number in ``_row``."""
    path = Path(path)
    if not path.is_file():
        raise FrameError(f"{path}: file not found")
    suffix = path.suffix.lower()
    try:
        if suffix in {".csv", ".txt"}:
            data = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                encoding="utf-8-sig",
                skip_blank_lines=False,  # keep blank lines so row numbers match the file
            )
            first_row = 2
        elif suffix in {".xlsx", ".xlsm"}:
            data = pd.read_excel(path, sheet_name=sheet or 0, dtype=str, keep_default_na=False)
            first_row = 2
        elif suffix == ".parquet":
            data = _read_parquet(path)
            first_row = 1
        else:
            raise FrameError(
                f"{path}: unsupported file type '{suffix}' (use .csv, .xlsx, .parquet)"
            )
    except FrameError:
        raise
    except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise FrameError(f"{path}: cannot read: {err}") from err
    data.columns = [str(c).strip() for c in data.columns]
    data = data.fillna("").astype(str).apply(lambda col: col.str.strip())
    data[ROW] = range(first_row, first_row + len(data))
    blank = (data.drop(columns=[ROW]) == "").all(axis=1)
    return data[~blank].reset_index(drop=True)


def _read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet file (needs pyarrow) as text columns."""
    try:
        import pyarrow  # noqa: F401
    except ImportError as err:
        raise FrameError(f"{path}: reading Parquet needs pyarrow (pip install pyarrow)") from err
    data = pd.read_parquet(path)
    return data.astype(object).where(data.notna(), "").astype(str)


def require_columns(data: pd.DataFrame, columns: Iterable[str], source: str) -> None:
    """Raise :class:`FrameError` naming the first of ``columns`` missing from ``data``."""
    present = [c for c in data.columns if c != ROW]
    for column in columns:
        if column not in present:
            raise FrameError(
                f"{source}: column '{column}' not found (columns: {', '.join(present)})"
            )


def raise_problems(problems: Sequence[Problem], source: str) -> None:
    """Raise one :class:`FrameError` for the first problem, counting the others."""
    if not problems:
        return
    first = problems[0]
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    raise FrameError(f"{source}: row {first.row}: {first.message}{more}")


def id_problems(data: pd.DataFrame, column: str) -> list[Problem]:
    """Empty and duplicated identifiers in ``column``."""
    problems = []
    first_seen: dict[str, int] = {}
    for value, row in zip(data[column], data[ROW], strict=True):
        if value == "":
            problems.append(Problem(row, f"{column} is empty"))
        elif value in first_seen:
            problems.append(
                Problem(row, f"duplicate {column} '{value}' (first at row {first_seen[value]})")
            )
        else:
            first_seen[value] = row
    return problems


def parse_sizes(data: pd.DataFrame, column: str, id_column: str) -> tuple[pd.Series, list[Problem]]:
    """Return ``column`` as floats and the rows whose size is missing, not a number or <= 0."""
    values = []
    problems = []
    for text, unit, row in zip(data[column], data[id_column], data[ROW], strict=True):
        where = f"{id_column} '{unit}': " if unit else ""
        number = _to_float(text)
        if text == "":
            problems.append(Problem(row, f"{where}{column} is missing"))
        elif number is None:
            problems.append(Problem(row, f"{where}{column} is not a number: '{text}'"))
        elif number < 0:
            problems.append(Problem(row, f"{where}{column} is negative ({text})"))
        elif number == 0:
            problems.append(
                Problem(row, f"{where}{column} is zero; PPS selection needs a positive size")
            )
        values.append(number if number is not None else math.nan)
    return pd.Series(values, index=data.index, dtype=float), problems


def _to_float(text: str) -> float | None:
    """``text`` as a finite float, or None."""
    try:
        value = float(text.replace(",", "")) if text else None
    except ValueError:
        return None
    return value if value is not None and math.isfinite(value) else None


def empty_problems(data: pd.DataFrame, column: str, id_column: str) -> list[Problem]:
    """Rows where ``column`` is empty."""
    return [
        Problem(row, f"{id_column} '{unit}': {column} is empty")
        for value, unit, row in zip(data[column], data[id_column], data[ROW], strict=True)
        if value == ""
    ]


def nesting_problems(data: pd.DataFrame, child: str, parent: str) -> list[Problem]:
    """Rows where a ``child`` unit appears under two different ``parent`` values."""
    problems = []
    seen: dict[str, tuple[str, int]] = {}
    for c, p, row in zip(data[child], data[parent], data[ROW], strict=True):
        if c in seen and seen[c][0] != p:
            first_parent, first_row = seen[c]
            problems.append(
                Problem(
                    row,
                    f"{child} '{c}' is in {parent} '{p}' here but in '{first_parent}' at row "
                    f"{first_row}; units must nest",
                )
            )
        seen.setdefault(c, (p, row))
    return problems


@dataclass(frozen=True)
class Frame:
    """A checked frame: one row per final-stage area unit, sizes as floats in ``size``."""

    data: pd.DataFrame
    source: str
    unit: str
    strata: str
    size: str

    @property
    def units(self) -> int:
        """Number of units (rows) in the frame."""
        return len(self.data)


def read_frame(
    path: str | Path,
    *,
    unit: str,
    strata: str,
    size: str,
    stage_units: Sequence[str] = (),
    sheet: str | None = None,
    extra_columns: Sequence[str] = (),
) -> Frame:
    """Read and check a frame; raise :class:`FrameError` naming the first bad row.

    ``unit`` identifies rows (the last area stage); ``stage_units`` are the columns of the
    higher stages, outermost first, which must nest within strata and within each other.
    """
    source = Path(path).name
    data = read_table(path, sheet=sheet)
    require_columns(data, [unit, strata, size, *stage_units, *extra_columns], source)
    if data.empty:
        raise FrameError(f"{source}: the frame has no rows")
    sizes, size_problems = parse_sizes(data, size, unit)
    problems = id_problems(data, unit) + empty_problems(data, strata, unit) + size_problems
    outer = strata
    for column in stage_units:
        problems += empty_problems(data, column, unit) + nesting_problems(data, column, outer)
        outer = column
    problems.sort(key=lambda p: p.row)
    raise_problems(problems, source)
    data = data.copy()
    data[size] = sizes
    return Frame(data=data, source=source, unit=unit, strata=strata, size=size)
