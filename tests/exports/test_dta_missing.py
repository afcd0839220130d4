"""Extended missing values patched into byte, int, long and double Stata variables, read
back by pandas (independent of ReadStat) and pyreadstat."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from exports.dta import set_extended_missing
from exports.plan import Variable
from exports.values import DONT_KNOW, NOT_MISSING, REFUSED, SKIPPED, Column
from exports.writers import polars_frame, stata_storage_values
from forms.naming import ExportColumn

polars_readstat = pytest.importorskip("polars_readstat")


def _variable(kind: str = "integer") -> Variable:
    return Variable(ExportColumn("x", "x", "answer"), label="x", kind=kind)


@pytest.mark.parametrize(
    ("values", "stored"),
    [
        ([100.0, 0, 0, 0, -127.0], "int8"),
        ([30_000.0, 0, 0, 0, -5.0], "int16"),
        ([2_000_000.0, 0, 0, 0, 5.0], "int32"),
        ([1.5, 0, 0, 0, 5.0], "double"),
        ([101.0, 0, 0, 0, 5.0], "int16"),  # 101 is a byte's "."
        ([-128.0, 0, 0, 0, 5.0], "int16"),  # below a byte's range
    ],
)
def test_letters_in_every_storage_type(tmp_path, values, stored):
    why = np.array([NOT_MISSING, DONT_KNOW, REFUSED, SKIPPED, NOT_MISSING], np.uint8)
    numbers = np.array(values)
    numbers[why > 0] = np.nan
    column = Column(_variable(), numbers, why)
    prepared = stata_storage_values(column)
    path = tmp_path / "x.dta"
    polars_readstat.write_readstat(polars_frame(["x"], [prepared]), str(path), format="dta")
    set_extended_missing(path, {0: why})
    meta = pyreadstat.read_dta(path, metadataonly=True)[1]
    assert meta.readstat_variable_types["x"] == stored
    raw = pd.read_stata(path, convert_missing=True)["x"].tolist()
    assert raw[0] == values[0] and raw[4] == values[4]
    assert [str(v) for v in raw[1:4]] == [".d", ".r", ".a"]
    data = pyreadstat.read_dta(path, user_missing=True)[0]["x"].tolist()
    assert data == [values[0], "d", "r", "a", values[4]]


def test_dot_and_letters_together_are_stored_as_float(tmp_path):
    """pyreadstat (user_missing=True) misreads a "." after ".a" in an integer variable: such
    variables are Stata floats, read back right by both readers."""
    why = np.array([NOT_MISSING, SKIPPED, NOT_MISSING, NOT_MISSING, DONT_KNOW], np.uint8)
    column = Column(_variable(), np.array([1.0, np.nan, np.nan, 30_000.0, np.nan]), why)
    prepared = stata_storage_values(column)
    assert prepared.dtype == np.float32
    codes = Column(
        _variable("code"),
        missing=why,
        codes=np.array([0, -1, -1, 1, -1], np.int8),
        table=np.array([1.0, 2.0, np.nan]),
    )
    assert stata_storage_values(codes).dtype == np.float32
    big = Column(_variable(), np.array([1.0, np.nan, np.nan, 3e6, np.nan]), why)
    assert stata_storage_values(big).dtype == np.float64  # beyond a float's whole numbers
    path = tmp_path / "x.dta"
    polars_readstat.write_readstat(polars_frame(["x"], [prepared]), str(path), format="dta")
    set_extended_missing(path, {0: why})
    assert pyreadstat.read_dta(path, metadataonly=True)[1].readstat_variable_types["x"] == "float"
    data = pyreadstat.read_dta(path, user_missing=True)[0]["x"].tolist()
    assert data[:2] == [1.0, "a"] and np.isnan(data[2]) and data[3:] == [30_000.0, "d"]
    raw = pd.read_stata(path, convert_missing=True)["x"].tolist()
    assert [str(v) for v in raw[1:3]] + [str(raw[4])] == [".a", ".", ".d"]


def test_only_system_missing_stays_integer():
    only_dots = Column(_variable(), np.array([1.0, np.nan, 3.0, 2.0]), np.zeros(4, np.uint8))
    narrowed = stata_storage_values(only_dots)
    assert narrowed.dtype == np.int8 and narrowed.mask.tolist() == [False, True, False, False]
