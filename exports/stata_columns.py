"""Prepared variables as Stata stores them: values, storage types, and the stored values of
a row range for :mod:`exports.stata_file`.

Values (:func:`stata_values`): dates as days since 1960 (``%td``), date-times as
milliseconds since 1960 (``%tc``), times as milliseconds since midnight; ``.`` (NaN) where
an answer is missing, ``.d``/``.r``/``.a`` where it is don't know, refused or skipped (from
the column's reasons; dates and date-times keep ``.``).

Storage types (:func:`stata_storage`; docs/EXPORTS.md, "Stata storage types"): whole numbers
that fit Stata's ``byte`` (-127...100), ``int`` (-32,767...32,740) or ``long`` are stored so,
in 1, 2 or 4 bytes instead of 8; a variable holding both ``.`` and a lettered missing value
is stored as ``float`` (whole numbers exact up to 2**24; larger ones ``double``) because
pyreadstat (1.3.8, ``user_missing=True``) reads a ``.`` that follows a ``.a`` in an integer
column as an arbitrary number, in a float or double column correctly; anything else (dates,
fractions) ``double``, text ``text``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from exports.errors import ExportWriteError
from exports.plan import DATE_KINDS
from exports.stata_file import (
    LARGEST_DOUBLE,
    NUMPY_TYPES,
    StataVariable,
    Stored,
    Texts,
    missing_values,
)
from exports.values import DONT_KNOW, REFUSED, SKIPPED, Column, PreparedDataset, take_sparse

STATA_DAY_OFFSET = 3653.0
"""Days from 1960-01-01 (Stata's day 0) to 1970-01-01."""
STATA_MS_OFFSET = STATA_DAY_OFFSET * 86_400_000
_LETTER_OF = {DONT_KNOW: "d", REFUSED: "r", SKIPPED: "a"}
_INTEGERS = (
    ("byte", -127, 100),
    ("int", -32_767, 32_740),
    ("long", -2_147_483_647, 2_147_483_620),
)


def stata_values(column: Column) -> np.ndarray:
    """One variable as Stata values: dates since 1960, ``.`` (NaN) where an answer is
    missing for a reason (its letter is set where the file is written), text as it is."""
    kind = column.variable.kind
    if kind == "date":
        return column.values + STATA_DAY_OFFSET
    if kind == "datetime":
        return column.values + STATA_MS_OFFSET
    if _has_coded_reasons(column):
        if column.codes is not None and column.table is not None:  # decided once per code
            return _stata_table(column).take(column.codes)
        assert column.missing is not None
        return np.where(column.missing > 0, np.nan, column.values)  # the codes' rows: "."
    return column.values  # a skipped answer is NaN already


def stata_storage(column: Column) -> str:
    """The variable's Stata storage type: ``byte``, ``int``, ``long``, ``float``,
    ``double`` or ``text`` (module docstring)."""
    if not column.numeric:
        return "text"
    if column.variable.kind in DATE_KINDS:
        return "double"
    if column.codes is not None and column.table is not None:  # decided on the small table
        table = _stata_table(column)
        storage = _integer_storage(table)
        unknown = take_sparse(np.isnan(table), column.codes) if storage else None
    else:
        values = stata_values(column)
        storage = _integer_storage(values)
        unknown = np.isnan(values) if storage else None
    if storage is None:
        return "double"
    if unknown is not None and _both_missing_kinds(column, unknown):
        return "double" if storage == "long" else "float"
    return storage


def stata_storage_values(column: Column) -> np.ndarray:
    """One variable as :func:`stata_values`, in its :func:`stata_storage` type for writers
    taking whole arrays (polars-readstat): integer types as masked integer arrays (masked:
    missing), ``float`` as masked float32, anything else as :func:`stata_values` gives it."""
    storage = stata_storage(column)
    if storage in ("text", "double"):
        return stata_values(column)
    values = stata_values(column)
    unknown = np.isnan(values)
    if storage == "float":
        return np.ma.MaskedArray(values.astype(np.float32), unknown)
    dtype = NUMPY_TYPES[storage]
    return np.ma.MaskedArray(np.where(unknown, 0, values).astype(dtype), unknown)


def stata_variables(
    dataset: PreparedDataset,
    labels: dict[str, str],
    formats: dict[str, str],
    value_labels: dict[int, str],
) -> list[StataVariable]:
    """The dataset's variables for :func:`exports.stata_file.write_stata_file`: name, storage,
    stored values by row range (computed when the writer asks), variable label, display
    format and value label set (by variable position)."""
    out = []
    for index, column in enumerate(dataset.columns):
        name = column.variable.name
        storage = stata_storage(column)
        out.append(
            StataVariable(
                name,
                storage,
                stored=None if storage == "text" else stored_values(column, storage),
                texts=stata_texts(column) if storage == "text" else None,
                label=labels.get(name, ""),
                format=formats.get(name, ""),
                value_labels=value_labels.get(index, ""),
            )
        )
    return out


def stored_values(column: Column, storage: str) -> Stored:
    """A function giving the variable's stored values for rows ``start:stop``: in the
    storage type's numpy type, ``.`` and ``.a``/``.d``/``.r`` as Stata's bit patterns.

    A coded variable is converted once per code (its table, don't know and refused already
    as their letters: a row's reason is its code's) and taken per row, then ``.a`` set
    where the row's question was skipped (its value is missing then); other variables are
    converted per row range and get the letter of each row's reason."""
    name = column.variable.name
    missing = column.missing
    letters = _letters(storage)
    if column.codes is not None and column.table is not None:
        table = _stored(_stata_table(column), storage, name)
        if _has_coded_reasons(column):
            _letter_codes(table, column, letters)
        if missing is not None and not np.any(missing == SKIPPED):
            missing = None  # don't know and refused are in the table: nothing per row
        return _coded_values(table, column.codes, missing, letters[SKIPPED])
    offset = {"date": STATA_DAY_OFFSET, "datetime": STATA_MS_OFFSET}.get(column.variable.kind)
    return _plain_values(column.values, offset, missing, storage, name)


def _plain_values(
    values: np.ndarray, offset: float | None, missing: np.ndarray | None, storage: str, name: str
) -> Stored:
    dtype = NUMPY_TYPES[storage]
    # the missing values' bit patterns as float64 numbers (exact: Stata's are finite)
    dot = float(missing_values(storage, [""]).astype(np.float64)[0])
    letters = _letters(storage).astype(np.float64)
    check = storage == "double"

    def plain(start: int, stop: int) -> np.ndarray:
        part = values[start:stop]
        if offset is not None:
            part = part + offset
        if check:
            _check_range(part, name)
        out = np.where(np.isnan(part), dot, part)
        if missing is not None:
            reasons = missing[start:stop]
            out = np.where(reasons > 0, letters.take(reasons), out)
        return out.astype(dtype)

    return plain


def _check_range(values: np.ndarray, name: str) -> None:
    # Stata's doubles end at +-8.99e307 both ways (its data types); a larger positive
    # number would read as a missing value, a larger negative one is no Stata number
    beyond = np.abs(values) > LARGEST_DOUBLE
    if beyond.any():
        raise ExportWriteError(
            f"{name}: {values[beyond][0]} is beyond Stata's largest double (8.99e307, either sign)"
        )


def _coded_values(
    table: np.ndarray, codes: np.ndarray, missing: np.ndarray | None, skipped: np.generic
) -> Stored:
    if missing is None:

        def taken(start: int, stop: int) -> np.ndarray:
            return table.take(codes[start:stop])

        return taken

    def taken_and_skipped(start: int, stop: int) -> np.ndarray:
        out = table.take(codes[start:stop])
        np.copyto(out, skipped, where=missing[start:stop] == SKIPPED)
        return out

    return taken_and_skipped


def _letter_codes(table: np.ndarray, column: Column, letters: np.ndarray) -> None:
    """Set ``.d``/``.r`` in a stored table where its number is a don't-know/refused code."""
    label_set = column.variable.label_set
    assert label_set is not None and column.table is not None
    table[np.isin(column.table, list(label_set.dont_know))] = letters[DONT_KNOW]
    table[np.isin(column.table, list(label_set.refused))] = letters[REFUSED]


def stata_texts(column: Column) -> Texts:
    """A text variable's distinct texts in UTF-8 and each row's text: only the distinct
    texts are encoded (a coded column's table, else the column factorized)."""
    if column.codes is not None and column.table is not None:
        codes, uniques = column.codes, column.table
    else:
        codes, uniques = pd.factorize(column.values, use_na_sentinel=True)
    values = uniques.tolist()
    try:
        encoded = [value.encode("utf-8") for value in values]
    except AttributeError:  # not all text (None in a coded column's table)
        encoded = [_utf8(value) for value in values]
    if b"\0" in b"".join(encoded):
        encoded = [text.replace(b"\0", b"") for text in encoded]
    return Texts(codes, encoded)


def _utf8(value: object) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return b""
    return str(value).encode("utf-8")


def _stored(values: np.ndarray, storage: str, name: str) -> np.ndarray:
    """Numbers (NaN for ``.``) in a storage type, ``.`` as its bit pattern."""
    if storage == "double":
        _check_range(values, name)
    dot = missing_values(storage, [""]).astype(np.float64)[0]
    return np.where(np.isnan(values), dot, values).astype(NUMPY_TYPES[storage])


def _letters(storage: str) -> np.ndarray:
    """Per reason (exports.values' codes), the stored value of its letter."""
    reasons = range(max(_LETTER_OF) + 1)
    return missing_values(storage, [_LETTER_OF.get(r, "") for r in reasons])


def _has_coded_reasons(column: Column) -> bool:
    """Whether the column's reasons include don't know or refused (their codes are then
    ``.``, their letters set from the reasons)."""
    label_set = column.variable.label_set
    return column.missing is not None and bool(
        label_set and (label_set.dont_know or label_set.refused)
    )


def _stata_table(column: Column) -> np.ndarray:
    """The table of a coded variable with don't-know and refused numbers as NaN."""
    assert column.table is not None
    if not _has_coded_reasons(column):
        return column.table
    label_set = column.variable.label_set
    assert label_set is not None
    table = column.table.copy()
    table[np.isin(table, [*label_set.dont_know, *label_set.refused])] = np.nan
    return table


def _both_missing_kinds(column: Column, unknown: np.ndarray) -> bool:
    """True when some missing values get a letter (``.a``...) and others stay ``.``."""
    if column.missing is None:
        return False
    lettered = column.missing > 0
    return bool(lettered.any()) and bool(np.any(unknown > lettered))  # unknown, no letter


def _integer_storage(values: np.ndarray) -> str | None:
    """The narrowest Stata integer type holding every known value, None if one is not whole."""
    if not len(values):
        return None
    low, high = np.fmin.reduce(values), np.fmax.reduce(values)  # NaN only if none is known
    if np.isnan(low):
        return "byte"
    for storage, smallest, largest in _INTEGERS:
        if smallest <= low and high <= largest:
            whole = (values == np.trunc(values)) | np.isnan(values)
            return storage if whole.all() else None
    return None
