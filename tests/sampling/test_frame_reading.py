"""Reading and checking frames: CSV, XLSX, Parquet; errors name the file and the row."""

from __future__ import annotations

import pandas as pd
import pytest

from surveys.sampling import FrameError
from surveys.sampling.frame import read_frame

GOOD = """village_id,township_id,county_id,population
v1,t1,c1,1200
v2,t1,c1,800
v3,t2,c2,3000
"""


def write(tmp_path, text, name="frame.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def read(path, **kwargs):
    return read_frame(path, unit="village_id", strata="county_id", size="population", **kwargs)


def test_reads_csv_with_sizes_as_numbers(tmp_path):
    frame = read(write(tmp_path, GOOD))
    assert frame.units == 3
    assert frame.data["population"].tolist() == [1200.0, 800.0, 3000.0]
    assert frame.data["_row"].tolist() == [2, 3, 4]


def test_reads_xlsx_and_parquet(tmp_path):
    table = pd.read_csv(write(tmp_path, GOOD), dtype=str)
    table.to_excel(tmp_path / "frame.xlsx", index=False, sheet_name="villages")
    assert read(tmp_path / "frame.xlsx", sheet="villages").units == 3
    pytest.importorskip("pyarrow", reason="pyarrow is needed for Parquet frames")
    table.to_parquet(tmp_path / "frame.parquet")
    assert read(tmp_path / "frame.parquet").data["population"].sum() == 5000


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        ("v2,t1,c1,800", "frame.csv: row 3: village_id 'v2': population is missing"),
        ("v2,t1,c1,-800", "frame.csv: row 3: village_id 'v2': population is negative (-800)"),
        ("v2,t1,c1,0", "frame.csv: row 3: village_id 'v2': population is zero"),
        ("v2,t1,c1,lots", "frame.csv: row 3: village_id 'v2': population is not a number: 'lots'"),
        ("v1,t1,c1,800", "frame.csv: row 3: duplicate village_id 'v1' (first at row 2)"),
        ("v2,t1,,800", "frame.csv: row 3: village_id 'v2': county_id is empty"),
    ],
)
def test_bad_rows_are_named(tmp_path, replace, message):
    target = "v2,t1,c1,800"
    text = GOOD.replace(target, replace if replace != target else "v2,t1,c1,")
    with pytest.raises(FrameError) as err:
        read(write(tmp_path, text))
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


def test_several_problems_are_counted(tmp_path):
    text = GOOD.replace("1200", "-1").replace("3000", "")
    with pytest.raises(FrameError, match=r"row 2: .* \(and 1 more problems\)"):
        read(write(tmp_path, text))


def test_missing_column_lists_the_columns(tmp_path):
    with pytest.raises(FrameError, match="column 'population' not found \\(columns: village_id"):
        read(write(tmp_path, GOOD.replace("population", "pop")))


def test_stage_units_must_nest(tmp_path):
    text = GOOD.replace("v3,t2,c2", "v3,t1,c2")
    with pytest.raises(FrameError, match="row 4: township_id 't1' is in county_id 'c2' here"):
        read(write(tmp_path, text), stage_units=["township_id"])


def test_unsupported_and_missing_files(tmp_path):
    with pytest.raises(FrameError, match=r"unsupported file type '\.sav'"):
        read(write(tmp_path, "x", name="frame.sav"))
    with pytest.raises(FrameError, match="file not found"):
        read(tmp_path / "nope.csv")


def test_row_numbers_count_blank_lines(tmp_path):
    text = GOOD.replace("v2,t1,c1,800\n", "\nv2,t1,c1,-800\n")
    with pytest.raises(FrameError, match=r"frame\.csv: row 4: village_id 'v2'"):
        read(write(tmp_path, text))


def test_xlsx_row_numbers(tmp_path):
    table = pd.read_csv(write(tmp_path, GOOD.replace("3000", "-3")), dtype=str)
    table.to_excel(tmp_path / "frame.xlsx", index=False)
    with pytest.raises(
        FrameError, match=r"frame\.xlsx: row 4: village_id 'v3': population is negative"
    ):
        read(tmp_path / "frame.xlsx")
