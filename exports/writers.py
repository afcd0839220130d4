"""Prepared datasets to files: SPSS .sav/.zsav and Stata .dta, CSV, Parquet.

The .sav, .zsav and .dta files are written by popsurvey's own writers
(:mod:`exports.spss_file` with :mod:`exports.sav_compress`, :mod:`exports.stata_file`:
numpy, a row chunk at a time, one value label set per distinct set of labels) unless
another is asked: polars-readstat or pyreadstat (a .zsav by pyreadstat when
polars-readstat is asked). Every writer gives the same values, labels and missing codes
(:func:`choose_writer`; ``ExportOptions.writer``). A .sav is bytecode-compressed unless
``ExportOptions.sav_compression`` is ``none``.

Missing values, per format:

- SPSS: don't-know and refused keep their codes (98, 99 by default), declared user-missing;
  a skipped question gets :data:`exports.options.SKIPPED_CODE` (-97), user-missing too and
  labelled "Not applicable (skipped)"; item missing is system missing.
- Stata: don't know ``.d``, refused ``.r``, skipped ``.a`` (extended missing values, each
  labelled); item missing ``.``.
- CSV and Parquet: don't-know and refused keep their codes, skipped and item missing are
  empty (the codebook tells which is which).

Stata storage types (popsurvey's writer, polars-readstat): whole numbers as byte/int/long
where they fit, as float where a variable holds both ``.`` and a lettered missing value
(pyreadstat misreads that in integer variables), else double
(:func:`exports.stata_columns.stata_storage`; docs/EXPORTS.md).

Text is never missing in SPSS or Stata: an empty string is an empty answer *or* a skipped
question (ODK stores both as empty); the question's relevance, in the do-file's notes and
the codebook, tells them apart.

Dates are written as numbers with a date format (never through pyreadstat's datetime
conversion, which turns ``datetime64[s]`` and other units into 1970-01-01): Stata ``%td``
days and ``%tc`` milliseconds since 1960, SPSS seconds since 1582-10-14.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TypeVar

import numpy as np
import pandas as pd

from exports.dta import (
    missing_label_value,
    rename_variables,
    set_extended_missing,
    write_value_labels,
)
from exports.errors import ExportOptionsError, ExportWriteError
from exports.options import NATIVE_WRITER, WRITERS
from exports.plan import DATE_KINDS, LabelSet
from exports.sav import share_value_labels
from exports.spss_file import (
    MAX_STRING_BYTES,
    SavLabelSet,
    SavTexts,
    SavVariable,
    write_system_file,
)
from exports.stata_columns import stata_storage_values, stata_values, stata_variables
from exports.stata_file import write_stata_file
from exports.values import SKIPPED, Column, PreparedDataset
from forms.issues import Issue, Severity

STATA_VARIABLE_LABEL_CHARS = 80
SPSS_VARIABLE_LABEL_BYTES = 256
SPSS_VALUE_LABEL_BYTES = 120
STATA_VALUE_LABEL_BYTES = 32_000
SPSS_MAX_MISSING = 3
_SPSS_SECONDS_OFFSET = 12_219_379_200.0  # 1582-10-14 -> 1970-01-01
_SAV_LABEL_AT = 109  # header: $FL2, product (60), 5 int32, bias (8), date (9), time (8)
_SAV_LABEL_BYTES = 64
STATA_FORMATS = {"date": "%td", "datetime": "%tc", "time": "%tcHH:MM:SS"}
SPSS_FORMATS = {"date": "DATE11", "datetime": "DATETIME23.2", "time": "TIME11.2"}
T = TypeVar("T")


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
        if skip_coded(column):
            labels[skip_code] = skipped_text
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


def skip_coded(column: Column) -> bool:
    """Whether a skipped row gets the skip code in SPSS (a number that can be skipped; a
    date, date-time or time is system missing where skipped: -97 seconds is no answer)."""
    return column.variable.can_skip and column.numeric and column.variable.kind not in DATE_KINDS


def spss_missing(dataset: PreparedDataset, skip_code: float) -> tuple[dict, list[Issue]]:
    """User-missing values per variable (at most three discrete values in SPSS)."""
    out: dict[str, list[float]] = {}
    issues: list[Issue] = []
    for column in dataset.columns:
        variable = column.variable
        codes: list[float] = []
        if variable.label_set is not None:
            codes += sorted(variable.label_set.dont_know) + sorted(variable.label_set.refused)
        if skip_coded(column):
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


def spss_values(column: Column, skip_code: float) -> np.ndarray:
    """One variable as SPSS values: codes kept, skipped = ``skip_code``, dates in seconds
    since 1582-10-14, text as it is (None for no text)."""
    if not column.numeric:
        return column.values
    return spss_rows(column, skip_code)(0, len(column))


def spss_rows(column: Column, skip_code: float) -> Callable[[int, int], np.ndarray]:
    """A numeric variable's SPSS values (:func:`spss_values`) of a row range, computed on
    each call from what the column holds (a coded column's codes and table: no full-size
    array of its numbers is ever made)."""
    kind = column.variable.kind
    missing = column.missing
    if missing is not None and not (missing == SKIPPED).any():
        missing = None  # only don't-know and refused: their codes are the values already
    if kind == "date":
        days = column.values
        return lambda start, stop: days[start:stop] * 86_400.0 + _SPSS_SECONDS_OFFSET
    if kind in ("datetime", "time"):
        ms = column.values
        shift = _SPSS_SECONDS_OFFSET if kind == "datetime" else 0.0
        return lambda start, stop: ms[start:stop] / 1000.0 + shift
    if column.codes is not None and column.table is not None:
        codes, table = column.codes, column.table

        def coded(start: int, stop: int) -> np.ndarray:
            values = table.take(codes[start:stop])
            if missing is not None:
                values[missing[start:stop] == SKIPPED] = skip_code
            return values

        return coded
    values = column.values
    if missing is not None:
        return lambda start, stop: np.where(
            missing[start:stop] == SKIPPED, skip_code, values[start:stop]
        )
    return lambda start, stop: values[start:stop]


def spss_frame(dataset: PreparedDataset, skip_code: float) -> pd.DataFrame:
    """The dataset as SPSS values in a pandas frame (pyreadstat's input)."""
    return pandas_frame(
        [c.variable.name for c in dataset.columns],
        [spss_values(c, skip_code) for c in dataset.columns],
    )


def stata_frame(dataset: PreparedDataset) -> pd.DataFrame:
    """The dataset as Stata values in a pandas frame (pyreadstat's input)."""
    return pandas_frame(
        [c.variable.name for c in dataset.columns], [stata_values(c) for c in dataset.columns]
    )


def pandas_frame(names: list[str], arrays: Iterable[np.ndarray]) -> pd.DataFrame:
    """Columns as a pandas frame for pyreadstat: numbers as they are, text as objects with
    "" for no text (pandas would infer its str dtype, whose missing values are NaN, which
    pyreadstat cannot write)."""
    data = {}
    for name, values in zip(names, arrays, strict=True):
        if values.dtype == object:
            values = pd.Series(np.where(pd.isna(values), "", values), dtype=object)
        data[name] = values
    return pd.DataFrame(data, copy=False)


def polars_frame(names: list[str], arrays: Iterable[np.ndarray]):
    """Columns as a polars frame for polars-readstat: numbers as Float64 with nulls for NaN
    (written as system missing), masked integers as integers with nulls where masked
    (handed over without a copy of the values), text as String with nulls for no text."""
    import polars as pl

    series = []
    for name, values in zip(names, arrays, strict=True):
        if isinstance(values, np.ma.MaskedArray):
            series.append(pl.Series(name, values))
        elif values.dtype == object:
            series.append(pl.Series(name, values.tolist(), dtype=pl.String))
        else:
            series.append(pl.Series(name, values, dtype=pl.Float64, nan_to_null=True))
    return pl.DataFrame(series)


def formats(dataset: PreparedDataset, table: dict[str, str]) -> dict[str, str]:
    """Display formats of the date, datetime and time variables."""
    return {
        c.variable.name: table[c.variable.kind]
        for c in dataset.columns
        if c.variable.kind in table and c.numeric
    }


def choose_writer(asked: str = "auto", fmt: str = "sav") -> str:
    """The writer of one format's files (``sav``, ``zsav`` or ``dta``): popsurvey's own
    (:data:`NATIVE_WRITER`) for ``auto`` and ``popsurvey``, else the ReadStat writer
    named (:data:`WRITERS`); a .zsav asked of polars-readstat is pyreadstat's
    (polars-readstat writes no ZSAV)."""
    if asked not in WRITERS:
        raise ExportOptionsError(f"writer must be one of {', '.join(WRITERS)}, not {asked}")
    if asked in ("auto", NATIVE_WRITER):
        return NATIVE_WRITER
    if fmt == "zsav" or asked == "pyreadstat":
        return "pyreadstat"
    try:
        import polars  # noqa: F401
        import polars_readstat  # noqa: F401
    except ImportError as err:
        raise ExportOptionsError(
            "the polars-readstat writer is not installed: pip install polars-readstat"
        ) from err
    return "polars-readstat"


def writers_used(asked: str, formats: Iterable[str]) -> dict[str, str]:
    """The writer of each labelled format of an export (``sav``, ``zsav``, ``dta``)."""
    return {f: choose_writer(asked, f) for f in formats if f in ("sav", "zsav", "dta")}


def writers_text(used: dict[str, str]) -> str:
    """The writers as the export's log and provenance name them: one name when one writer
    writes every file, else ``.dta popsurvey, .zsav pyreadstat``."""
    names = set(used.values())
    if len(names) == 1:
        return names.pop()
    return ", ".join(f".{fmt} {name}" for fmt, name in used.items())


def write_sav(
    dataset: PreparedDataset,
    path: Path,
    *,
    compress: bool,
    file_label: str,
    skipped_text: str,
    skip_code: float,
    writer: str = "auto",
    sav_compression: str = "bytecode",
    rows_written: Callable[[int], object] | None = None,
    open_file: Callable[[Path], BinaryIO] | None = None,
) -> list[Issue]:
    """Write one dataset as .sav, bytecode-compressed unless ``sav_compression`` is
    ``none`` (or as .zsav when ``compress``); returns label warnings. polars-readstat writes
    no .zsav (its compression is the bytecode one, not ZSAV's zlib): pyreadstat does.
    popsurvey's own writer tells ``rows_written(n)`` its progress after each chunk and opens
    its file with ``open_file(path)`` (default: a plain binary file; the export passes
    :meth:`exports.checksum.Checksums.open`, which hashes the file as it is written)."""
    labels = spss_labels(dataset, skipped_text, skip_code)
    missing, issues = spss_missing(dataset, skip_code)
    spss_formats = formats(dataset, SPSS_FORMATS)
    for column in dataset.columns:
        if column.variable.kind in ("code", "dummy") and column.numeric:
            spss_formats.setdefault(column.variable.name, "F8.0")
    measure = {
        c.variable.name: "nominal" if c.variable.kind in ("code", "dummy") else "scale"
        for c in dataset.columns
        if c.numeric and c.variable.kind not in ("date", "datetime", "time")
    }
    chosen = choose_writer(writer, "zsav" if compress else "sav")
    bytecode = not compress and sav_compression == "bytecode"
    if chosen == NATIVE_WRITER:
        issues += _guard(
            path,
            lambda: write_native_sav(
                dataset,
                path,
                labels,
                missing,
                spss_formats,
                measure,
                file_label,
                skip_code,
                compression="zsav" if compress else "bytecode" if bytecode else "none",
                rows_written=rows_written,
                open_file=open_file,
            ),
        )
        return labels.issues + issues
    names = [c.variable.name for c in dataset.columns]
    # one variable's values at a time: each becomes a column of the writer's frame and goes
    arrays = (spss_values(c, skip_code) for c in dataset.columns)
    if chosen == "polars-readstat":
        from polars_readstat import write_readstat

        frame = polars_frame(names, arrays)
        del arrays
        typed = {name: _spss_format_fields(spec) for name, spec in spss_formats.items()}
        _guard(
            path,
            lambda: write_readstat(
                frame,
                str(path),
                format="sav",
                value_labels=labels.values,
                variable_labels=labels.variable,
                missing_ranges=missing,
                variable_format=typed,
                variable_measure=measure,
                compressed=bytecode,
            ),
        )
        set_sav_file_label(path, file_label)
        share_value_labels(path)
        return labels.issues + issues
    import pyreadstat

    frame = pandas_frame(names, arrays)
    del arrays
    _guard(
        path,
        lambda: pyreadstat.write_sav(
            frame,
            str(path),
            file_label=cut_bytes(file_label, 64),
            column_labels=labels.variable,
            compress=compress,
            row_compress=bytecode,
            variable_value_labels=labels.values,
            missing_ranges=missing,
            variable_format=spss_formats,
            variable_measure=measure,
        ),
    )
    share_value_labels(path)
    return labels.issues + issues


def write_native_sav(
    dataset: PreparedDataset,
    path: Path,
    labels: Labels,
    missing: dict[str, list[float]],
    spss_formats: dict[str, str],
    measure: dict[str, str],
    file_label: str,
    skip_code: float,
    *,
    compression: str = "none",
    rows_written: Callable[[int], object] | None = None,
    open_file: Callable[[Path], BinaryIO] | None = None,
) -> list[Issue]:
    """Write ``dataset`` as a .sav with :mod:`exports.spss_file` (:func:`sav_variables`),
    uncompressed or ``compression`` ``bytecode`` or ``zsav`` (a .zsav), one value label
    record pair per distinct set of labels, opened with ``open_file`` (:func:`write_sav`).
    Returns warnings (value labels of a text variable, text cut
    to 32,767 bytes)."""
    variables, sources, issues = sav_variables(
        dataset, labels, missing, spss_formats, measure, skip_code
    )
    with (open_file or _open_for_writing)(path) as handle:
        write_system_file(
            handle,
            variables,
            sources,
            dataset.rows,
            label_sets=shared_label_sets(variables, labels.values),
            file_label=file_label,
            compression=compression,
            rows_written=rows_written,
        )
    return issues


def sav_variables(
    dataset: PreparedDataset,
    labels: Labels,
    missing: dict[str, list[float]],
    spss_formats: dict[str, str],
    measure: dict[str, str],
    skip_code: float,
) -> tuple[list[SavVariable], list, list[Issue]]:
    """The dataset's variables for :func:`exports.spss_file.write_system_file` and each
    one's values: numbers computed a row chunk at a time (:func:`spss_rows`), text encoded
    once per distinct text; with the warnings (value labels of a text variable, text cut)."""
    issues: list[Issue] = []
    variables: list[SavVariable] = []
    sources: list = []
    for column in dataset.columns:
        name = column.variable.name
        label = labels.variable.get(name, "")
        if column.numeric:
            spec = spss_formats.get(name, "F8.2")
            # a date's column as wide as its format (a number's: 8)
            dated = spec in SPSS_FORMATS.values()
            shown = _spss_format_fields(spec)["width"] if dated else None
            variables.append(
                SavVariable(
                    name,
                    0,
                    label,
                    spec,
                    measure.get(name, "scale"),
                    tuple(missing.get(name, ())),
                    display_width=shown,
                )
            )
            sources.append(spss_rows(column, skip_code))
            continue
        texts = _sav_texts(column, issues)
        if name in labels.values:
            issues.append(_text_labels_issue(name))
        variables.append(SavVariable(name, texts.width, label, measure="nominal"))
        sources.append(texts)
    return variables, sources, issues


def _sav_texts(column: Column, issues: list[Issue]) -> SavTexts:
    """A text variable's distinct texts (a coded column's table as it is, else the values
    factorized), those over SPSS's 32,767 bytes cut (warned)."""
    table = column.table
    if column.codes is not None and table is not None and pd.isna(table[-1]):
        texts = SavTexts(column.codes, ["" if pd.isna(t) else str(t) for t in table[:-1]])
    else:
        texts = SavTexts.of(column.values)
    if texts.width <= MAX_STRING_BYTES:
        return texts
    name = column.variable.name
    issues.append(
        Issue(
            "E101",
            Severity.WARNING,
            f"{name}: text longer than SPSS's {MAX_STRING_BYTES:,} bytes cut",
            variable=name,
        )
    )
    return SavTexts(texts.codes, [cut_bytes(t, MAX_STRING_BYTES) for t in texts.texts])


def _text_labels_issue(name: str) -> Issue:
    return Issue(
        "E101",
        Severity.WARNING,
        f"{name}: value labels of a text variable are not written to the .sav",
        variable=name,
    )


def shared_label_sets(
    variables: list[SavVariable], values: dict[str, dict[float | str, str]]
) -> list[SavLabelSet]:
    """One label set per distinct set of labels, shared by every numeric variable having
    exactly those labels (a choice list's variables, the dummies' yes/no), in the order of
    their first variable."""
    sets: dict[tuple, list[int]] = {}
    for position, variable in enumerate(variables):
        labels = values.get(variable.name)
        if variable.width == 0 and labels:
            key = tuple(sorted((float(k), v) for k, v in labels.items()))
            sets.setdefault(key, []).append(position)
    return [SavLabelSet(dict(key), users) for key, users in sets.items()]


_SPSS_FORMAT_TYPES = {"A": 1, "F": 5, "DATE": 20, "TIME": 21, "DATETIME": 22}


def _spss_format_fields(spec: str) -> dict[str, int]:
    """``DATE11``, ``F8.0``... as the format type code, width and decimals of the SPSS
    system file (polars-readstat parses only ``A``/``F`` strings)."""
    match = re.fullmatch(r"([A-Z]+)(\d+)(?:\.(\d+))?", spec)
    if match is None or match[1] not in _SPSS_FORMAT_TYPES:
        raise ExportWriteError(f"unknown SPSS format {spec}")
    return {
        "format_type": _SPSS_FORMAT_TYPES[match[1]],
        "width": int(match[2]),
        "decimals": int(match[3] or 0),
    }


def set_sav_file_label(path: Path, label: str) -> None:
    """Write the file label into a .sav header (64 bytes at offset 109, space-padded;
    polars-readstat leaves it blank)."""
    encoded = cut_bytes(label, _SAV_LABEL_BYTES).encode("utf-8")
    with path.open("r+b") as handle:
        if handle.read(4) not in (b"$FL2", b"$FL3"):
            raise ExportWriteError(f"{path.name}: not an SPSS system file")
        handle.seek(_SAV_LABEL_AT)
        handle.write(encoded + b" " * (_SAV_LABEL_BYTES - len(encoded)))


def stata_value_labels(
    dataset: PreparedDataset, texts: dict[int, str]
) -> tuple[dict[str, dict[int, str]], dict[int, str]]:
    """Stata's value label sets of a dataset and the set of each variable (by position).

    One set per choice list, shared by every variable using it (the dummies share one
    yes/no set), with ``.d``/``.r`` labelled by the list's don't-know/refused choices and
    ``.a`` "not applicable"; numeric variables without a list that can be skipped share one
    set holding only ``.a``."""
    sets: dict[str, dict[int, str]] = {}
    users: dict[int, str] = {}
    taken = {c.variable.label_set.name.lower() for c in dataset.columns if c.variable.label_set}
    skipped_set = _free_name("not_applicable", taken)
    for index, column in enumerate(dataset.columns):
        variable = column.variable
        if not column.numeric or variable.kind in ("date", "datetime", "time"):
            continue
        label_set = variable.label_set
        if label_set is None:
            if not variable.can_skip:
                continue
            name = skipped_set
            if name not in sets:
                sets[name] = {missing_label_value("a"): texts[SKIPPED]}
        else:
            name = label_set.name
            if name not in sets:
                sets[name] = stata_set(label_set, texts)
        users[index] = name
    return sets, users


def stata_set(label_set: LabelSet, texts: dict[int, str]) -> dict[int, str]:
    """One choice list's Stata labels: its numbers, ``.d``/``.r`` and ``.a``, each cut to
    Stata's 32,000 bytes (:func:`stata_value_label_issues` warns)."""
    labels = {int(k): v for k, v in label_set.labels.items() if float(k).is_integer()}
    for letter, numbers in (("d", label_set.dont_know), ("r", label_set.refused)):
        if numbers:
            text = " / ".join(label_set.labels[n] for n in sorted(numbers))
            labels[missing_label_value(letter)] = text
    labels[missing_label_value("a")] = texts[SKIPPED]
    return {value: cut_bytes(text, STATA_VALUE_LABEL_BYTES) for value, text in labels.items()}


def stata_value_label_issues(dataset: PreparedDataset) -> list[Issue]:
    """A warning per choice list with a label over Stata's 32,000 bytes (cut)."""
    issues, seen = [], set()
    for column in dataset.columns:
        label_set = column.variable.label_set
        if label_set is None or label_set.name in seen:
            continue
        seen.add(label_set.name)
        long = [t for t in label_set.labels.values() if len(t.encode()) > STATA_VALUE_LABEL_BYTES]
        if long:
            issues.append(
                Issue(
                    "E101",
                    Severity.WARNING,
                    f"{label_set.name}: Stata value label longer than "
                    f"{STATA_VALUE_LABEL_BYTES:,} bytes cut: '{long[0][:60]}...'",
                    variable=column.variable.name,
                )
            )
    return issues


def _free_name(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


def stata_variable_labels(dataset: PreparedDataset) -> tuple[dict[str, str], list[Issue]]:
    """Variable labels cut to Stata's 80 characters, with a warning naming each cut."""
    out: dict[str, str] = {}
    issues: list[Issue] = []
    for column in dataset.columns:
        variable = column.variable
        text = variable.label
        if len(text) > STATA_VARIABLE_LABEL_CHARS:
            issues.append(_cut_issue("Stata variable label", variable, text, 80, "characters"))
            text = text[:STATA_VARIABLE_LABEL_CHARS]
        out[variable.name] = text
    return out, issues


def write_dta(
    dataset: PreparedDataset,
    path: Path,
    *,
    file_label: str,
    texts: dict[int, str],
    writer: str = "auto",
    rows_written: Callable[[int], object] | None = None,
    open_file: Callable[[Path], BinaryIO] | None = None,
) -> list[Issue]:
    """Write one dataset as Stata 14+ .dta (format 118, UTF-8, strL for long text); returns
    label warnings. Numbers are stored as byte, int, long or float where they fit
    (:func:`exports.stata_columns.stata_storage`), else as double; pyreadstat stores every
    number as double.

    popsurvey's own writer (:mod:`exports.stata_file`, the default) writes the file with
    everything in it. polars-readstat and pyreadstat get the data under short stand-in
    names (``v0``, ``v1``...), variable labels and formats; :mod:`exports.dta` then puts in
    the real names, the shared value label sets and the extended missing values.
    polars-readstat writes no dataset label: the do-file sets it (``label data``).
    popsurvey's own writer tells ``rows_written(n)`` its progress after each chunk and opens
    its file with ``open_file(path)`` (:func:`write_sav`)."""
    variable_labels, issues = stata_variable_labels(dataset)
    issues += stata_value_label_issues(dataset)
    chosen = choose_writer(writer, "dta")
    if chosen == NATIVE_WRITER:
        sets, users = stata_value_labels(dataset, texts)
        display = formats(dataset, STATA_FORMATS)

        def write_native() -> None:
            # in the guard too: texts are encoded here (a lone surrogate cannot be)
            variables = stata_variables(dataset, variable_labels, display, users)
            with (open_file or _open_for_writing)(path) as handle:
                write_stata_file(
                    handle,
                    variables,
                    dataset.rows,
                    value_labels=sets,
                    label=file_label,
                    rows_written=rows_written,
                )

        _guard(path, write_native)
        return issues
    names = [c.variable.name for c in dataset.columns]
    short = {name: f"v{i}" for i, name in enumerate(names)}
    column_labels = {short[k]: v for k, v in variable_labels.items()}
    display = {short[k]: v for k, v in formats(dataset, STATA_FORMATS).items()}
    if chosen == "polars-readstat":
        from polars_readstat import write_readstat

        # one variable's values at a time (write_sav)
        arrays = (stata_storage_values(c) for c in dataset.columns)
        frame = polars_frame(list(short.values()), arrays)
        del arrays
        _guard(
            path,
            lambda: write_readstat(
                frame,
                str(path),
                format="dta",
                variable_labels=column_labels,
                variable_format=display,
            ),
        )
    else:
        import pyreadstat

        arrays = (stata_values(c) for c in dataset.columns)
        frame = pandas_frame(list(short.values()), arrays)
        del arrays
        _guard(
            path,
            lambda: pyreadstat.write_dta(
                frame,
                str(path),
                file_label=file_label[:80],
                column_labels=column_labels,
                version=14,
                variable_format=display,
            ),
        )
    rename_variables(path, names)
    sets, users = stata_value_labels(dataset, texts)
    write_value_labels(path, sets, users, len(names))
    reasons = {
        i: c.missing for i, c in enumerate(dataset.columns) if c.missing is not None and c.numeric
    }
    set_extended_missing(path, reasons)
    return issues


def _open_for_writing(path: Path) -> BinaryIO:
    return path.open("wb")


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


def _guard(path: Path, write: Callable[[], T]) -> T:
    try:
        return write()
    except OSError:
        raise
    except ExportWriteError as err:  # popsurvey's own writer: add the file's name
        raise ExportWriteError(f"{path.name}: {err}") from err
    except Exception as err:  # pyreadstat's own errors: name the file and the reason
        raise ExportWriteError(f"{path.name}: {type(err).__name__}: {err}") from err


__all__ = [
    "Column",
    "stata_storage_values",
    "stata_values",
    "write_csv",
    "write_dta",
    "write_parquet",
    "write_sav",
]
