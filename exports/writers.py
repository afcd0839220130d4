"""Prepared datasets to files: SPSS .sav/.zsav and Stata .dta (pyreadstat), CSV, Parquet.

Missing values, per format:

- SPSS: don't-know and refused keep their codes (98, 99 by default), declared user-missing;
  a skipped question gets :data:`exports.options.SKIPPED_CODE` (-97), user-missing too and
  labelled "Not applicable (skipped)"; item missing is system missing.
- Stata: don't know ``.d``, refused ``.r``, skipped ``.a`` (extended missing values, each
  labelled); item missing ``.``.
- CSV and Parquet: don't-know and refused keep their codes, skipped and item missing are
  empty (the codebook tells which is which).

Text is never missing in SPSS or Stata: an empty string is an empty answer *or* a skipped
question (ODK stores both as empty); the question's relevance, in the do-file's notes and
the codebook, tells them apart.

Dates are written as numbers with a date format (never through pyreadstat's datetime
conversion, which turns ``datetime64[s]`` and other units into 1970-01-01): Stata ``%td``
days and ``%tc`` milliseconds since 1960, SPSS seconds since 1582-10-14.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from exports.errors import ExportOptionsError, ExportWriteError
from exports.values import DONT_KNOW, REFUSED, SKIPPED, Column, PreparedDataset
from forms.issues import Issue, Severity

STATA_VARIABLE_LABEL_CHARS = 80
SPSS_VARIABLE_LABEL_BYTES = 256
SPSS_VALUE_LABEL_BYTES = 120
STATA_VALUE_LABEL_BYTES = 32_000
SPSS_MAX_MISSING = 3
_STATA_DAY_OFFSET = 3653.0  # 1960-01-01 -> 1970-01-01
_STATA_MS_OFFSET = _STATA_DAY_OFFSET * 86_400_000
_SPSS_SECONDS_OFFSET = 12_219_379_200.0  # 1582-10-14 -> 1970-01-01
_STATA_LETTERS = {DONT_KNOW: "d", REFUSED: "r", SKIPPED: "a"}
STATA_FORMATS = {"date": "%td", "datetime": "%tc", "time": "%tcHH:MM:SS"}
SPSS_FORMATS = {"date": "DATE11", "datetime": "DATETIME23.2", "time": "TIME11.2"}


@dataclass
class Labels:
    """Labels as one format can hold them, with a warning per text cut to fit."""

    variable: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[float | str, str]] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)


def cut_bytes(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-8 bytes, never inside a character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def spss_labels(dataset: PreparedDataset, skipped_text: str, skip_code: float) -> Labels:
    """Variable and value labels cut to SPSS's limits (256 and 120 bytes)."""
    out = Labels()
    cut_sets: set[str] = set()
    for column in dataset.columns:
        variable = column.variable
        out.variable[variable.name] = _cut(
            variable.label, "SPSS variable label", variable.name, out.issues, bytes_=256
        )
        labels: dict[float | str, str] = {}
        if variable.label_set is not None:
            for number, text in variable.label_set.labels.items():
                labels[number] = cut_bytes(text, SPSS_VALUE_LABEL_BYTES)
                if labels[number] != text and variable.label_set.name not in cut_sets:
                    cut_sets.add(variable.label_set.name)
                    out.issues.append(_cut_issue("SPSS value label", variable, text, 120))
        if variable.can_skip and column.numeric:
            labels[skip_code] = skipped_text
        if labels:
            out.values[variable.name] = labels
    return out


def stata_labels(dataset: PreparedDataset, texts: dict[int, str]) -> Labels:
    """Variable labels cut to Stata's 80 characters; value labels with ``.d .r .a``."""
    out = Labels()
    for column in dataset.columns:
        variable = column.variable
        text = variable.label
        if len(text) > STATA_VARIABLE_LABEL_CHARS:
            out.issues.append(_cut_issue("Stata variable label", variable, text, 80, "characters"))
            text = text[:STATA_VARIABLE_LABEL_CHARS]
        out.variable[variable.name] = text
        labels: dict[float | str, str] = {}
        if variable.label_set is not None:
            labels.update(variable.label_set.labels)
            for reason, letter in _STATA_LETTERS.items():
                if reason == SKIPPED:
                    continue
                numbers = (
                    variable.label_set.dont_know
                    if reason == DONT_KNOW
                    else variable.label_set.refused
                )
                if numbers:
                    labels[letter] = " / ".join(variable.label_set.labels[n] for n in numbers)
        if variable.can_skip and column.numeric:
            labels["a"] = texts[SKIPPED]
        if labels:
            out.values[variable.name] = labels
    return out


def _cut(text: str, what: str, name: str, issues: list[Issue], bytes_: int) -> str:
    cut = cut_bytes(text, bytes_)
    if cut != text:
        issues.append(
            Issue(
                "E101",
                Severity.WARNING,
                f"{name}: {what} cut to {bytes_} bytes: '{cut}'",
                variable=name,
            )
        )
    return cut


def _cut_issue(what: str, variable, text: str, limit: int, unit: str = "bytes") -> Issue:
    return Issue(
        "E101",
        Severity.WARNING,
        f"{variable.name}: {what} longer than {limit} {unit} cut: '{text}'",
        variable=variable.name,
    )


def spss_missing(dataset: PreparedDataset, skip_code: float) -> tuple[dict, list[Issue]]:
    """User-missing values per variable (at most three discrete values in SPSS)."""
    out: dict[str, list[float]] = {}
    issues: list[Issue] = []
    for column in dataset.columns:
        variable = column.variable
        codes: list[float] = []
        if variable.label_set is not None:
            codes += sorted(variable.label_set.dont_know) + sorted(variable.label_set.refused)
        if variable.can_skip and column.numeric:
            codes.append(skip_code)
        if len(codes) > SPSS_MAX_MISSING:
            issues.append(
                Issue(
                    "E104",
                    Severity.WARNING,
                    f"{variable.name}: SPSS allows 3 missing values; {codes[3:]} are not "
                    "declared missing",
                    variable=variable.name,
                )
            )
            codes = codes[:SPSS_MAX_MISSING]
        if codes:
            out[variable.name] = codes
    return out, issues


def spss_frame(dataset: PreparedDataset, skip_code: float) -> pd.DataFrame:
    """The dataset as SPSS values (codes kept, skipped = ``skip_code``, dates in seconds)."""
    data: dict[str, object] = {}
    for column in dataset.columns:
        values = column.values
        kind = column.variable.kind
        if kind == "date":
            values = values * 86_400.0 + _SPSS_SECONDS_OFFSET
        elif kind == "datetime":
            values = values / 1000.0 + _SPSS_SECONDS_OFFSET
        elif kind == "time":
            values = values / 1000.0
        elif column.missing is not None:
            values = values.copy()
            values[column.missing == SKIPPED] = skip_code
        data[column.variable.name] = _strings(values)
    return pd.DataFrame(data, copy=False)


def stata_frame(
    dataset: PreparedDataset,
) -> tuple[pd.DataFrame, dict[str, dict[str, np.ndarray]]]:
    """The dataset as Stata values (dates since 1960) with, per variable, the rows of each
    extended missing letter (written as ``.`` by pyreadstat, then set by
    :func:`set_extended_missing`)."""
    data: dict[str, object] = {}
    extended: dict[str, dict[str, np.ndarray]] = {}
    for column in dataset.columns:
        values = column.values
        kind = column.variable.kind
        if kind == "date":
            values = values + _STATA_DAY_OFFSET
        elif kind == "datetime":
            values = values + _STATA_MS_OFFSET
        elif column.missing is not None and column.missing.any():
            values = values.copy()
            rows_of = {}
            for reason, letter in _STATA_LETTERS.items():
                rows = column.missing == reason
                if rows.any():
                    rows_of[letter] = rows
                    values[rows] = np.nan
            extended[column.variable.name] = rows_of
        else:
            values = _strings(values)
        data[column.variable.name] = values
    return pd.DataFrame(data, copy=False), extended


_STATA_DOUBLE_MISSING = 0x7FE0000000000000
_STATA_LETTER_STEP = 0x0000010000000000
_STATA_LABEL_MISSING = 2_147_483_621  # int32 "." in value label tables; .a is one more
_STATA_WIDTHS = {65526: 8, 65527: 4, 65528: 4, 65529: 2, 65530: 1, 32768: 8}


def stata_missing_label_value(letter: str) -> float:
    """The number a value label table holds for ``.a`` ... ``.z``."""
    return float(_STATA_LABEL_MISSING + 1 + ord(letter) - ord("a"))


def _stata_map(handle) -> tuple[list[int], str, int, int]:
    head = handle.read(4096)
    start = head.find(b"<map>")
    if not re.search(rb"<release>11[89]</release>", head) or start < 0:
        raise ExportWriteError(f"{handle.name}: not a Stata 118/119 file")
    order = "little" if b"<byteorder>LSF</byteorder>" in head else "big"
    k_at = head.find(b"<K>") + 3
    k_size = 2 if b"<release>118</release>" in head else 4
    variables = int.from_bytes(head[k_at : k_at + k_size], order)
    n_at = head.find(b"<N>") + 3
    rows = int.from_bytes(head[n_at : n_at + 8], order)
    at = start + len(b"<map>")
    offsets = [int.from_bytes(head[at + 8 * i : at + 8 * i + 8], order) for i in range(14)]
    return offsets, order, variables, rows


def set_extended_missing(path: Path, names: list[str], extended: dict) -> None:
    """Set Stata's extended missing values (``.a``, ``.d``, ``.r``) in the data block of a
    file pyreadstat wrote with ``.`` in their place (Stata's dta documentation: doubles
    ``.a`` = 0x7FE0010000000000, one step per letter)."""
    if not extended:
        return
    with path.open("r+b") as handle:
        offsets, order, variables, rows = _stata_map(handle)
        handle.seek(offsets[2] + len(b"<variable_types>"))
        types = np.frombuffer(
            handle.read(2 * variables), dtype="<u2" if order == "little" else ">u2"
        )
        widths = [_STATA_WIDTHS.get(int(t), int(t)) for t in types]
        starts = np.concatenate([[0], np.cumsum(widths)[:-1]])
        row_width = int(sum(widths))
    block = np.memmap(
        path,
        dtype=np.uint8,
        mode="r+",
        offset=offsets[9] + len(b"<data>"),
        shape=(rows, row_width),
    )
    byte_order = "<" if order == "little" else ">"
    for name, letters in extended.items():
        column = names.index(name)
        if int(types[column]) != 65526:
            raise ExportWriteError(f"{path.name}: {name} is not stored as a double")
        cells = block[:, starts[column] : starts[column] + 8]
        for letter, mask in letters.items():
            bits = _STATA_DOUBLE_MISSING + (ord(letter) - ord("a") + 1) * _STATA_LETTER_STEP
            pattern = np.frombuffer(np.array([bits], dtype=f"{byte_order}u8").tobytes(), np.uint8)
            cells[mask] = pattern
    block.flush()
    del block


def _strings(values: np.ndarray) -> np.ndarray | pd.Series:
    """Text as an object column with "" for missing (pandas would infer its str dtype,
    whose missing values are NaN, which pyreadstat cannot write)."""
    if values.dtype != object:
        return values
    return pd.Series(np.where(pd.isna(values), "", values), dtype=object)


def formats(dataset: PreparedDataset, table: dict[str, str]) -> dict[str, str]:
    """Display formats of the date, datetime and time variables."""
    return {
        c.variable.name: table[c.variable.kind]
        for c in dataset.columns
        if c.variable.kind in table and c.numeric
    }


def write_sav(
    dataset: PreparedDataset,
    path: Path,
    *,
    compress: bool,
    file_label: str,
    skipped_text: str,
    skip_code: float,
) -> list[Issue]:
    """Write one dataset as .sav (or .zsav when ``compress``); returns label warnings."""
    import pyreadstat

    labels = spss_labels(dataset, skipped_text, skip_code)
    missing, issues = spss_missing(dataset, skip_code)
    frame = spss_frame(dataset, skip_code)
    spss_formats = formats(dataset, SPSS_FORMATS)
    for column in dataset.columns:
        if column.variable.kind in ("code", "dummy") and column.numeric:
            spss_formats.setdefault(column.variable.name, "F8.0")
    measure = {
        c.variable.name: "nominal" if c.variable.kind in ("code", "dummy") else "scale"
        for c in dataset.columns
        if c.numeric and c.variable.kind not in ("date", "datetime", "time")
    }
    _guard(
        path,
        lambda: pyreadstat.write_sav(
            frame,
            str(path),
            file_label=cut_bytes(file_label, 64),
            column_labels=labels.variable,
            compress=compress,
            variable_value_labels=labels.values,
            missing_ranges=missing,
            variable_format=spss_formats,
            variable_measure=measure,
        ),
    )
    return labels.issues + issues


def write_dta(
    dataset: PreparedDataset, path: Path, *, file_label: str, texts: dict[int, str]
) -> list[Issue]:
    """Write one dataset as Stata 14+ .dta (format 118, UTF-8, strL for long text)."""
    import pyreadstat

    labels = stata_labels(dataset, texts)
    frame, extended = stata_frame(dataset)
    values = {
        name: {
            (stata_missing_label_value(k) if isinstance(k, str) else k): v
            for k, v in labels.values[name].items()
            if not isinstance(k, str) or k in extended.get(name, {})
        }
        for name in labels.values
    }
    # pyreadstat names a variable's label set <variable><n>, which overflows Stata's 32
    # bytes for long names: write under short names, then put the real names in the header
    names = list(frame.columns)
    short = {name: f"v{i}" for i, name in enumerate(names)}
    frame.columns = [short[n] for n in names]
    _guard(
        path,
        lambda: pyreadstat.write_dta(
            frame,
            str(path),
            file_label=file_label[:80],
            column_labels={short[k]: v for k, v in labels.variable.items()},
            version=14,
            variable_value_labels={short[k]: v for k, v in values.items()},
            variable_format={short[k]: v for k, v in formats(dataset, STATA_FORMATS).items()},
        ),
    )
    rename_dta_variables(path, names)
    set_extended_missing(path, names, extended)
    return labels.issues


def rename_dta_variables(path: Path, names: list[str]) -> None:
    """Write ``names`` into the ``<varnames>`` block of a Stata 118/119 file (129-byte
    fields, located through the file's map; Stata's dta documentation)."""
    with path.open("r+b") as handle:
        offsets, _, _, _ = _stata_map(handle)
        handle.seek(offsets[3])
        if handle.read(10) != b"<varnames>":
            raise ExportWriteError(f"{path.name}: <varnames> not where the map says")
        for name in names:
            encoded = name.encode("utf-8")
            handle.write(encoded + b"\0" * (129 - len(encoded)))


def write_csv(dataset: PreparedDataset, path: Path) -> None:
    """CSV (UTF-8): codes as numbers, skipped and item missing empty, dates in ISO 8601."""
    plain_frame(dataset).to_csv(path, index=False, encoding="utf-8")


def write_parquet(dataset: PreparedDataset, path: Path) -> None:
    """Parquet: as CSV, with real date and timestamp types."""
    try:
        import pyarrow  # noqa: F401
    except ImportError as err:
        raise ExportOptionsError("Parquet export needs pyarrow: pip install pyarrow") from err
    plain_frame(dataset).to_parquet(path, index=False)


def plain_frame(dataset: PreparedDataset) -> pd.DataFrame:
    """Values for CSV and Parquet: skipped as missing, dates as pandas datetimes."""
    data: dict[str, object] = {}
    for column in dataset.columns:
        values = column.values
        kind = column.variable.kind
        if kind == "date":
            values = _stamps(values, "D")
        elif kind == "datetime":
            values = _stamps(values, "ms")
        elif kind == "time":
            values = pd.Series(_stamps(values, "ms")).dt.strftime("%H:%M:%S.%f").str[:12]
        elif column.numeric:
            if column.missing is not None:
                values = values.copy()
                values[column.missing == SKIPPED] = np.nan
            values = _whole_numbers(values)
        data[column.variable.name] = values
    return pd.DataFrame(data)


def _whole_numbers(values: np.ndarray) -> np.ndarray | pd.arrays.IntegerArray:
    """Whole numbers as nullable integers (``3``, not ``3.0``, in CSV)."""
    known = values[~np.isnan(values)]
    if len(known) and np.all(known == np.round(known)) and np.all(np.abs(known) < 2**53):
        ints = np.where(np.isnan(values), 0, values).astype(np.int64)
        return pd.arrays.IntegerArray(ints, np.isnan(values))
    return values


def _stamps(values: np.ndarray, unit: str) -> np.ndarray:
    stamps = np.full(len(values), np.datetime64("NaT"), dtype=f"datetime64[{unit}]")
    known = ~np.isnan(values)
    stamps[known] = values[known].astype(np.int64).astype(f"datetime64[{unit}]")
    return stamps.astype("datetime64[ms]")


def _guard(path: Path, write: Callable[[], None]) -> None:
    try:
        write()
    except OSError:
        raise
    except Exception as err:  # pyreadstat's own errors: name the file and the reason
        raise ExportWriteError(f"{path.name}: {type(err).__name__}: {err}") from err


__all__ = ["Column", "write_csv", "write_dta", "write_parquet", "write_sav"]
