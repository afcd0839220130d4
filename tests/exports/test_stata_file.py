"""popsurvey's own Stata 118 writer (exports.stata_file, exports.stata_columns), read back by
pyreadstat (ReadStat) and by pandas.read_stata (an independent implementation): values,
extended missing values in every storage type, value labels, formats, variable and dataset
labels, dates, str# and strL text (Chinese, longer than 2,045 bytes), no rows, a variable
with nothing known, and the same file whatever the chunk size."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from exports.dta import read_map
from exports.errors import ExportWriteError
from exports.plan import LabelSet, Variable
from exports.stata_columns import stata_storage, stata_variables
from exports.stata_file import (
    LARGEST_DOUBLE,
    MAX_STR,
    NUMPY_TYPES,
    STORAGE_TYPES,
    STRL,
    StataVariable,
    Texts,
    missing_values,
    write_stata_file,
)
from exports.values import DONT_KNOW, NOT_MISSING, REFUSED, SKIPPED, Column, PreparedDataset
from exports.writers import choose_writer, write_dta, writers_text, writers_used
from forms.naming import ExportColumn

STAMP = datetime(2026, 12, 6, 17, 5)
TEXTS = {SKIPPED: "不适用 (跳过)", DONT_KNOW: "don't know", REFUSED: "refused"}
RANGES = {
    "byte": (-127, 100),
    "int": (-32_767, 32_740),
    "long": (-2_147_483_647, 2_147_483_620),
    "float": (-16_777_216.0, 1.5e38),
    "double": (-1.5e308, 8.9e307),
}


def _numbers(storage: str, values: list[float], letters: list[str]) -> StataVariable:
    """A numeric variable: ``values`` then one missing value per letter ("" for ``.``)."""
    stored = np.concatenate(
        [np.array(values, dtype=NUMPY_TYPES[storage]), missing_values(storage, letters)]
    )
    return StataVariable(f"x_{storage}", storage, stored=lambda a, b: stored[a:b])


def _texts(name: str, texts: list[str | None]) -> StataVariable:
    codes, uniques = pd.factorize(np.array(texts, dtype=object), use_na_sentinel=True)
    return StataVariable(
        name, "text", texts=Texts(codes, [u.encode("utf-8") for u in uniques.tolist()])
    )


def _write(path: Path, variables: list[StataVariable], rows: int, **options) -> bytes:
    with path.open("wb") as handle:
        write_stata_file(handle, variables, rows, timestamp=STAMP, **options)
    return path.read_bytes()


def _types(path: Path) -> list[int]:
    layout = read_map(path)
    with path.open("rb") as handle:
        handle.seek(layout.offsets[2] + len(b"<variable_types>"))
        return np.frombuffer(handle.read(2 * layout.variables), "<u2").tolist()


@pytest.mark.parametrize("storage", list(STORAGE_TYPES))
def test_every_storage_type_with_its_extremes_and_letters(tmp_path, storage):
    low, high = RANGES[storage]
    path = tmp_path / "x.dta"
    _write(path, [_numbers(storage, [low, 0, high], ["", "a", "d", "r", "z"])], 8)
    assert _types(path) == [STORAGE_TYPES[storage]]
    raw = pd.read_stata(path, convert_missing=True)[f"x_{storage}"].tolist()
    assert raw[:3] == pytest.approx([low, 0, high], rel=1e-7)
    assert [str(v) for v in raw[3:]] == [".", ".a", ".d", ".r", ".z"]
    # pyreadstat, letters only ("." after ".a" in an integer variable is its known misread)
    path_letters = tmp_path / "letters.dta"
    _write(path_letters, [_numbers(storage, [low, high], ["a", "d", "r"])], 5)
    data = pyreadstat.read_dta(path_letters, user_missing=True)[0][f"x_{storage}"].tolist()
    assert data[:2] == pytest.approx([low, high], rel=1e-7)
    assert data[2:] == ["a", "d", "r"]
    meta = pyreadstat.read_dta(path_letters, metadataonly=True)[1]
    expected = {"byte": "int8", "int": "int16", "long": "int32"}.get(storage, storage)
    assert meta.readstat_variable_types[f"x_{storage}"] == expected


def test_labels_formats_dates_and_dataset_label(tmp_path):
    days = np.array([23_390.0, 0.0, -1.0])  # 2024-01-15, 1960-01-01, 1959-12-31 (since 1960)
    moments = np.array([2_020_933_230_123.0, 0.0, 86_399_999.0])  # ms since 1960
    codes = np.array([1, 2, 98], dtype="<i1")
    variables = [
        StataVariable(
            "consent", "byte", lambda a, b: codes[a:b], label="您同意吗？", value_labels="yn"
        ),
        StataVariable("day", "double", lambda a, b: days[a:b], label="Visit date", format="%td"),
        StataVariable("moment", "double", lambda a, b: moments[a:b], format="%tc"),
        StataVariable("edu", "byte", lambda a, b: codes[a:b], value_labels="yn"),
    ]
    sets = {"yn": {1: "是", 2: "否", 98: "不知道", 2_147_483_621 + 1: "不适用"}}
    path = tmp_path / "x.dta"
    _write(path, variables, 3, value_labels=sets, label="住户调查 household")
    data, meta = pyreadstat.read_dta(path)
    assert meta.file_label == "住户调查 household"
    assert meta.column_names_to_labels["consent"] == "您同意吗？"
    assert meta.original_variable_types["day"] == "%td"
    assert meta.original_variable_types["consent"] == "%8.0g"
    assert meta.variable_to_label == {"consent": "yn", "edu": "yn"}
    assert meta.value_labels["yn"][1] == "是" and meta.value_labels["yn"]["a"] == "不适用"
    assert str(data["day"][0]) == "2024-01-15" and str(data["day"][2]) == "1959-12-31"
    with pd.io.stata.StataReader(path) as reader:
        frame = reader.read()
        assert reader.data_label == "住户调查 household"
        assert reader.variable_labels()["consent"] == "您同意吗？"
        assert reader.value_labels()["yn"][98] == "不知道"
    assert frame["consent"].tolist() == ["是", "否", "不知道"]
    assert frame["day"][0] == pd.Timestamp("2024-01-15")
    assert frame["moment"][0] == pd.Timestamp("2024-01-15 10:20:30.123")
    assert frame["moment"][2] == pd.Timestamp("1960-01-01 23:59:59.999")


def test_str_and_strl_texts_with_chinese(tmp_path):
    longest_str = "字" * 681 + "xy"  # 2,045 bytes: the widest str#
    long_text = "长" * 1500 + "x" * 1500  # 7,500 bytes: a strL
    other_long = "y" * 2046
    texts = ["是的", None, longest_str, "", "ascii"]
    strls = [long_text, None, long_text, "短", other_long]
    variables = [
        _texts("short", ["a", "b", None, "", "c"]),
        _texts("wide", texts),
        _texts("notes", strls),
        _texts("notes2", [other_long, "短", None, long_text, long_text]),
    ]
    path = tmp_path / "x.dta"
    _write(path, variables, 5)
    assert _types(path) == [1, MAX_STR, STRL, STRL]
    expected = {
        "short": ["a", "b", "", "", "c"],
        "wide": ["是的", "", longest_str, "", "ascii"],
        "notes": [long_text, "", long_text, "短", other_long],
        "notes2": [other_long, "短", "", long_text, long_text],
    }
    frame = pd.read_stata(path)
    data = pyreadstat.read_dta(path)[0]
    for name, values in expected.items():
        assert frame[name].tolist() == values, name
        assert data[name].tolist() == values, name


def test_no_rows(tmp_path):
    variables = [
        _numbers("byte", [], []),
        _texts("name", []),
        StataVariable("when", "double", lambda a, b: np.zeros(0), format="%td"),
    ]
    path = tmp_path / "x.dta"
    _write(path, variables, 0, value_labels={"yn": {1: "yes"}}, label="empty")
    frame = pd.read_stata(path)
    assert list(frame.columns) == ["x_byte", "name", "when"] and len(frame) == 0
    data, meta = pyreadstat.read_dta(path)
    assert list(data.columns) == ["x_byte", "name", "when"] and len(data) == 0
    assert meta.value_labels == {"yn": {1: "yes"}}


def test_the_file_is_the_same_whatever_the_chunk_and_hashed_as_written(tmp_path):
    rng = np.random.default_rng(7)
    numbers = rng.integers(-100, 100, 1_001).astype("<i2")
    doubles = rng.normal(size=1_001)
    words = [None, "一", "two", "x" * 3000][:4]
    variables = [
        StataVariable("n", "int", lambda a, b: numbers[a:b]),
        StataVariable("d", "double", lambda a, b: doubles[a:b]),
        _texts("t", [words[i % 4] for i in range(1_001)]),
    ]
    whole = _write(tmp_path / "whole.dta", variables, 1_001)
    for chunk in (1, 100, 7_777):
        written = _write(tmp_path / f"{chunk}.dta", variables, 1_001, chunk_bytes=chunk)
        assert written == whole, chunk
    frame = pd.read_stata(tmp_path / "whole.dta")
    assert frame["n"].tolist() == numbers.tolist()
    assert frame["t"].tolist()[:4] == ["", "一", "two", "x" * 3000]


def test_the_map_points_at_every_block(tmp_path):
    path = tmp_path / "x.dta"
    variables = [_numbers("float", [1.5], ["a"]), _texts("t", ["x" * 2100, "y"])]
    data = _write(path, variables, 2, value_labels={"s": {1: "one"}})
    tags = [
        b"<stata_dta>",
        b"<map>",
        b"<variable_types>",
        b"<varnames>",
        b"<sortlist>",
        b"<formats>",
        b"<value_label_names>",
        b"<variable_labels>",
        b"<characteristics>",
        b"<data>",
        b"<strls>",
        b"<value_labels>",
        b"</stata_dta>",
    ]
    offsets = read_map(path).offsets
    for tag, offset in zip(tags, offsets, strict=False):
        assert data[offset : offset + len(tag)] == tag
    assert offsets[-1] == len(data)


def _variable(name: str, kind: str, label_set: LabelSet | None = None) -> Variable:
    variable = Variable(ExportColumn(name, name, "answer"), label=f"{name} 标签", kind=kind)
    variable.label_set = label_set
    variable.can_skip = True
    return variable


def _yes_no() -> LabelSet:
    return LabelSet(
        "yn",
        {1.0: "Yes", 2.0: "No", 98.0: "DK", 99.0: "RF"},
        {"1": 1.0, "2": 2.0, "98": 98.0, "99": 99.0},
        numbered=False,
        dont_know={98.0},
        refused={99.0},
    )


def _prepared() -> PreparedDataset:
    """Prepared columns of every kind the export makes, 6 rows."""
    why = np.array([NOT_MISSING, DONT_KNOW, REFUSED, SKIPPED, NOT_MISSING, NOT_MISSING], "i1")
    only_skip = np.array([0, 0, 0, SKIPPED, 0, 0], "i1")
    table = np.array([1.0, 2.0, 98.0, 99.0, np.nan])
    columns = [
        # a choice held as codes: .d .r from its codes, .a where skipped (byte)
        Column(
            _variable("consent", "code", _yes_no()),
            missing=why,
            codes=np.array([0, 2, 3, -1, 1, 0], "i1"),
            table=table,
        ),
        # the same with an item missing too: float
        Column(
            _variable("consent2", "code", _yes_no()),
            missing=why,
            codes=np.array([0, 2, 3, -1, -1, 1], "i1"),
            table=table,
        ),
        # numbers: skipped .a, item missing . (float); large whole numbers (long); fractions
        Column(
            _variable("age", "number"),
            np.array([30.0, 31.0, 32.0, np.nan, np.nan, 40.0]),
            only_skip,
        ),
        Column(_variable("income", "number"), np.array([1e6, 2e6, 3e9, 0, 5, 6.0])),
        Column(_variable("big", "number"), np.array([1e6, 2e6, 3e7, 0, 5, 6.0])),
        Column(_variable("share", "number"), np.array([0.5, np.nan, 1.25, np.nan, 0, -2.5])),
        Column(
            _variable("when", "date"),
            np.array([19_737.0, np.nan, 0.0, np.nan, -3653.0, 1.0]),
            only_skip,
        ),
        Column(
            _variable("stamp", "datetime"),
            np.array([1_705_314_030_123.0, np.nan, 0, 1, 2, 3]),
        ),
        Column(
            _variable("clock", "time"),
            np.array([37_230_123.0, np.nan, 0, np.nan, 2, 3]),
            only_skip,
        ),
        Column(_variable("nothing", "number"), np.full(6, np.nan)),
        Column(_variable("blank", "string"), np.full(6, None, dtype=object)),
        Column(_variable("note", "string"), np.array(["一", None, "x" * 2500, "", "a", "一"])),
        # text held as codes into a table of texts (its last entry: no text)
        Column(
            _variable("coded_text", "string"),
            codes=np.array([1, 0, -1, 1, 2, 0], "i1"),
            table=np.array(["甲", "乙", "丙" * 700, None], dtype=object),
        ),
    ]
    return PreparedDataset(None, columns, 6)  # type: ignore[arg-type]


def _cells(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Each column's cells as text, numbers as floats (1 and 1.0 alike)."""

    def shown(value: object) -> str:
        if isinstance(value, int | float | np.number) and not isinstance(value, bool):
            return repr(float(value))
        return str(value)

    return {name: [shown(v) for v in frame[name].tolist()] for name in frame.columns}


def test_prepared_columns_read_back_as_polars_readstat_and_pyreadstat_files(tmp_path):
    """The native file holds what the export wrote through polars-readstat and pyreadstat
    (each patched by exports.dta): the same values, missing codes, labels and storage types
    as polars-readstat's."""
    pytest.importorskip("polars_readstat")
    dataset = _prepared()
    storages = [stata_storage(c) for c in dataset.columns]
    assert storages == [
        "byte",
        "float",
        "float",
        "double",  # 3e9: beyond a long
        "long",
        "double",
        "double",
        "double",
        "double",
        "byte",
        "text",
        "text",
        "text",
    ]
    reads = {}
    for writer in ("popsurvey", "polars-readstat", "pyreadstat"):
        path = tmp_path / f"{writer}.dta"
        write_dta(dataset, path, file_label="test", texts=TEXTS, writer=writer)
        raw = pd.read_stata(
            path, convert_missing=True, convert_categoricals=False, convert_dates=False
        )
        data, meta = pyreadstat.read_dta(path, user_missing=True)
        reads[writer] = (_cells(raw), _cells(data), meta)
    native, polars, plain = reads["popsurvey"], reads["polars-readstat"], reads["pyreadstat"]
    for other in (polars, plain):
        assert native[0] == other[0] and native[1] == other[1]
        assert native[2].value_labels == other[2].value_labels
        assert native[2].variable_to_label == other[2].variable_to_label
        assert native[2].column_names_to_labels == other[2].column_names_to_labels
    native_types = native[2].readstat_variable_types
    assert {k: v for k, v in native_types.items() if v != "string"} == {
        k: v for k, v in polars[2].readstat_variable_types.items() if v != "string"
    }
    raw = pd.read_stata(
        tmp_path / "popsurvey.dta",
        convert_missing=True,
        convert_dates=False,
        convert_categoricals=False,
    )
    assert [str(v) for v in raw["consent"]] == ["1", ".d", ".r", ".a", "2", "1"]
    assert [str(v) for v in raw["consent2"]][3:5] == [".a", "."]
    assert [str(v) for v in raw["age"]][3:5] == [".a", "."]
    assert [str(v) for v in raw["clock"]][1:4] == [".", "0.0", ".a"]
    assert raw["note"].tolist()[:3] == ["一", "", "x" * 2500]
    assert raw["coded_text"].tolist() == ["乙", "甲", "", "乙", "丙" * 700, "甲"]
    dates = pd.read_stata(tmp_path / "popsurvey.dta")
    assert dates["when"][0] == pd.Timestamp("2024-01-15") and pd.isna(dates["when"][3])
    assert dates["when"][4] == pd.Timestamp("1960-01-01")
    assert dates["stamp"][0] == pd.Timestamp("2024-01-15 10:20:30.123")
    data = pyreadstat.read_dta(tmp_path / "popsurvey.dta", user_missing=True)[0]
    assert data["consent"].tolist() == [1, "d", "r", "a", 2, 1]
    assert data["age"].tolist()[3] == "a" and np.isnan(data["age"][4])
    assert data["nothing"].isna().all() and data["blank"].tolist() == [""] * 6
    assert _types(tmp_path / "popsurvey.dta")[-3:] == [1, STRL, STRL]  # none; 2,500 and 2,100 bytes


def test_values_stata_cannot_hold_are_refused(tmp_path):
    huge = PreparedDataset(
        None,  # type: ignore[arg-type]
        [Column(_variable("huge", "number"), np.array([1.5, LARGEST_DOUBLE * 1.5]))],
        2,
    )
    with pytest.raises(ExportWriteError, match=r"^x.dta: huge: .* beyond Stata's largest double"):
        write_dta(huge, tmp_path / "x.dta", file_label="", texts=TEXTS)
    endless = PreparedDataset(
        None,  # type: ignore[arg-type]
        [Column(_variable("endless", "number"), np.array([1.5, -np.inf]))],
        2,
    )
    with pytest.raises(ExportWriteError, match="endless"):
        write_dta(endless, tmp_path / "x.dta", file_label="", texts=TEXTS)
    # Stata's smallest double is -8.99e307 (ReadStat refuses anything below too)
    below = PreparedDataset(
        None,  # type: ignore[arg-type]
        [Column(_variable("below", "number"), np.array([1.5, -LARGEST_DOUBLE * 1.5]))],
        2,
    )
    with pytest.raises(ExportWriteError, match=r"below: .* beyond Stata's largest double"):
        write_dta(below, tmp_path / "x.dta", file_label="", texts=TEXTS)
    edge = PreparedDataset(
        None,  # type: ignore[arg-type]
        [Column(_variable("edge", "number"), np.array([1.5, -LARGEST_DOUBLE]))],
        2,
    )
    write_dta(edge, tmp_path / "edge.dta", file_label="", texts=TEXTS)
    assert pd.read_stata(tmp_path / "edge.dta")["edge"].tolist() == [1.5, -LARGEST_DOUBLE]
    with pytest.raises(ExportWriteError, match="at most 32767"):
        write_stata_file((tmp_path / "y.dta").open("wb"), [_numbers("byte", [], [])] * 32_768, 0)
    with pytest.raises(ExportWriteError, match="not a Stata long"):
        write_stata_file(
            (tmp_path / "z.dta").open("wb"),
            [_numbers("byte", [1], [])],
            1,
            value_labels={"big": {2**40: "too big"}},
        )


def test_popsurvey_writes_sav_and_dta_by_default():
    assert choose_writer("auto", "dta") == "popsurvey"
    assert choose_writer("popsurvey", "dta") == "popsurvey"
    assert choose_writer("pyreadstat", "dta") == "pyreadstat"
    assert choose_writer("auto", "sav") == "popsurvey"
    assert choose_writer("auto", "zsav") == "popsurvey"  # ZSAV too (exports.sav_compress)
    assert choose_writer("polars-readstat", "zsav") == "pyreadstat"  # it writes no ZSAV
    assert writers_used("auto", ("dta", "csv")) == {"dta": "popsurvey"}
    assert writers_text(writers_used("pyreadstat", ("dta", "sav"))) == "pyreadstat"
    assert writers_text(writers_used("auto", ("sav", "dta"))) == "popsurvey"
    assert writers_text(writers_used("auto", ("dta", "zsav"))) == "popsurvey"
    mixed = writers_used("polars-readstat", ("dta", "zsav"))
    assert writers_text(mixed) == ".dta polars-readstat, .zsav pyreadstat"


def test_stata_variables_carry_labels_and_sets():
    dataset = _prepared()
    variables = stata_variables(dataset, {"age": "Age"}, {"when": "%td"}, {0: "yn"})
    assert variables[0].value_labels == "yn" and variables[1].value_labels == ""
    assert variables[2].label == "Age" and variables[6].format == "%td"
    assert variables[10].texts is not None and variables[0].stored is not None


def test_byte_for_byte_the_file_pandas_writes():
    """pandas' own Stata 118 writer (an implementation independent of this one) writes the
    same bytes for the same data: every numeric type, '.', UTF-8 str# and strL text, labels,
    a value label set, the dataset label and time stamp."""
    frame = pd.DataFrame(
        {
            "b": np.array([1, -5, 100], np.int8),
            "i": np.array([300, -2, 7], np.int16),
            "l": np.array([70_000, 1, 2], np.int32),
            "f": np.array([1.5, np.nan, 2], np.float32),
            "d": np.array([0.25, 1e300, np.nan]),
            "s": ["ab", "中文", ""],
            "t": ["x" * 3000, "", "长" * 10],
            "c": pd.Categorical(["yes", "no", "yes"], categories=["yes", "no"]),
        }
    )
    theirs = io.BytesIO()
    frame.to_stata(
        theirs,
        write_index=False,
        version=118,
        time_stamp=STAMP,
        data_label="住户 household",
        variable_labels={"b": "B 标签"},
        convert_strl=["t"],
    )

    def numbers(name: str, storage: str) -> StataVariable:
        values = frame[name].to_numpy().copy()
        if values.dtype.kind == "f":
            values[np.isnan(values)] = missing_values(storage, [""])[0]
        label = "B 标签" if name == "b" else ""
        return StataVariable(name, storage, lambda a, b: values[a:b], label=label)

    codes = frame["c"].cat.codes.to_numpy()
    variables = [
        numbers("b", "byte"),
        numbers("i", "int"),
        numbers("l", "long"),
        numbers("f", "float"),
        numbers("d", "double"),
        _texts("s", frame["s"].tolist()),
        _texts("t", frame["t"].tolist()),
        StataVariable("c", "byte", lambda a, b: codes[a:b], value_labels="c"),
    ]
    ours = io.BytesIO()
    write_stata_file(
        ours,
        variables,
        3,
        value_labels={"c": {0: "yes", 1: "no"}},
        label="住户 household",
        timestamp=STAMP,
    )
    assert ours.getvalue() == theirs.getvalue()


@pytest.mark.parametrize("writer", ["popsurvey", "pyreadstat"])
def test_a_value_label_over_32000_bytes_is_cut_with_a_warning(writer, tmp_path):
    long = LabelSet(
        "essay",
        {1.0: "长" * 20_000, 2.0: "No"},  # 60,000 bytes in UTF-8
        {"1": 1.0, "2": 2.0},
        numbered=False,
    )
    dataset = PreparedDataset(
        None,  # type: ignore[arg-type]
        [Column(_variable("q", "code", long), np.array([1.0, 2.0]))],
        2,
    )
    issues = write_dta(dataset, tmp_path / "x.dta", file_label="", texts=TEXTS, writer=writer)
    assert [i.code for i in issues] == ["E101"]
    assert "essay: Stata value label longer than 32,000 bytes cut" in issues[0].message
    assert len(issues[0].message) < 200
    labels = pyreadstat.read_dta(tmp_path / "x.dta")[1].value_labels["essay"]
    assert labels[2] == "No" and labels[1] == "长" * (32_000 // 3)
    with pd.io.stata.StataReader(tmp_path / "x.dta") as reader:
        assert reader.value_labels()["essay"][1] == "长" * (32_000 // 3)


def test_rows_written_told_after_each_chunk(tmp_path):
    numbers = np.arange(1_001, dtype="<i2")
    told: list[int] = []
    _write(
        tmp_path / "p.dta",
        [StataVariable("n", "int", lambda a, b: numbers[a:b])],
        1_001,
        chunk_bytes=500,
        rows_written=told.append,
    )
    assert told == [*range(250, 1_001, 250), 1_001]
