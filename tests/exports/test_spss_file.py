"""popsurvey's own .sav writer (exports.spss_file) read back by two independent readers:
pyreadstat (ReadStat) and PSPP; the file's layout checked against the format's description
(PSPP developers' guide, "System File Format") byte by byte where it is fixed."""

from __future__ import annotations

import datetime as dt
import re
import struct

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from exports.errors import ExportWriteError
from exports.spss_file import (
    SYSMIS,
    SavLabelSet,
    SavTexts,
    SavVariable,
    write_system_file,
)
from tests.exports.pspp import needs_pspp, run_pspp

CREATED = dt.datetime(2026, 12, 6, 9, 5, 7)
SECONDS_1970 = 12_219_379_200.0  # 1582-10-14 -> 1970-01-01
ZH_NAME = "这是一个很长的中文变量名"
LONG_ZH = "中" * 200 + "文字" * 50  # 900 bytes: characters cut across 255-byte segments
LONG_MIXED = "é" * 170 + "x" * 333  # 673 bytes


def _sample(rows: int = 7):
    """Variables of every kind the exports write, and their values (seeded)."""
    rng = np.random.default_rng(15)
    codes = rng.choice([1.0, 2.0, 98.0, 99.0, -97.0, np.nan], rows)
    codes[:6] = [1, 2, 98, 99, -97, np.nan][: min(rows, 6)]
    days = rng.integers(15_000, 20_000, rows).astype(np.float64)
    notes = np.array([LONG_ZH, LONG_MIXED, None, "", "short", *["t"] * (rows - 5)], dtype=object)
    variables = [
        SavVariable("submission_id", 10, "提交编号", measure="nominal"),
        SavVariable("consent", 0, "您同意吗？", "F8.0", "nominal", (98.0, 99.0, -97.0)),
        SavVariable("edu", 0, "Education", "F8.0", "nominal", (-97.0,)),
        SavVariable("age", 0, "Age in years", "F8.2", "scale"),
        SavVariable("visit_date", 0, "Visit date", "DATE11", "scale", display_width=11),
        SavVariable("start", 0, "Start", "DATETIME23.2", "scale", display_width=23),
        SavVariable("duration", 0, "Time", "TIME11.2", "scale", display_width=11),
        SavVariable(ZH_NAME, 6, "中文标签", measure="nominal"),
        SavVariable("notes", 900, "Notes", measure="nominal"),
        SavVariable("nothing", 0, "All missing", "F8.0", "nominal"),
    ]
    sources = [
        np.array([f"uuid:{i:05d}" for i in range(rows)], dtype=object),
        codes,
        codes[::-1].copy(),
        rng.uniform(0, 90, rows).round(2),
        days * 86_400 + SECONDS_1970,
        (days * 86_400 + 3_723.25) + SECONDS_1970,
        np.full(rows, 3_723.5),
        np.array(["王芳", None, "abc", "李伟", "", *["x"] * (rows - 5)], dtype=object),
        notes,
        np.full(rows, np.nan),
    ]
    label_sets = [
        SavLabelSet({1: "是", 2: "否", 98: "不知道", 99: "拒绝", -97: "不适用 (跳过)"}, [1, 2]),
        SavLabelSet({1.0: "none"}, [9]),
    ]
    return variables, sources, label_sets, days


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory):
    variables, sources, label_sets, days = _sample()
    path = tmp_path_factory.mktemp("sav") / "sample.sav"
    write_system_file(
        path,
        variables,
        sources,
        len(days),
        label_sets=label_sets,
        file_label="住户调查 household survey",
        created=CREATED,
    )
    return path, variables, sources, days


def test_pyreadstat_reads_back_values_and_labels(sample_file):
    path, variables, sources, days = sample_file
    data, meta = pyreadstat.read_sav(path, user_missing=True)
    assert meta.column_names == [v.name for v in variables]
    assert meta.file_label == "住户调查 household survey"
    assert meta.file_encoding == "UTF-8"
    assert meta.number_rows == len(days)
    assert data["submission_id"].tolist() == list(sources[0])
    np.testing.assert_array_equal(data["consent"].to_numpy(), sources[1])
    np.testing.assert_array_equal(data["edu"].to_numpy(), sources[2])
    np.testing.assert_array_equal(data["age"].to_numpy(), sources[3])
    assert data["nothing"].isna().all()
    assert [d.isoformat() for d in data["visit_date"]] == [
        str(np.datetime64(int(d), "D")) for d in days
    ]
    assert pd.Timestamp(data["start"][0]) == pd.Timestamp(
        np.datetime64(int(days[0]), "D")
    ) + pd.Timedelta(seconds=3_723.25)
    assert data[ZH_NAME].tolist()[:5] == ["王芳", "", "abc", "李伟", ""]
    assert data["notes"].tolist()[:5] == [LONG_ZH, LONG_MIXED, "", "", "short"]
    assert meta.column_names_to_labels["consent"] == "您同意吗？"
    assert meta.column_names_to_labels[ZH_NAME] == "中文标签"
    assert meta.original_variable_types == {
        "submission_id": "A10",
        "consent": "F8.0",
        "edu": "F8.0",
        "age": "F8.2",
        "visit_date": "DATE11",
        "start": "DATETIME23.2",
        "duration": "TIME11.2",
        ZH_NAME: "A6",
        "notes": "A900",
        "nothing": "F8.0",
    }
    assert meta.variable_measure["consent"] == "nominal"
    assert meta.variable_measure["age"] == "scale"
    assert meta.variable_display_width["start"] == 23
    assert meta.variable_alignment["notes"] == "left"


def test_user_missing_values_and_shared_label_sets(sample_file):
    path, *_ = sample_file
    _data, meta = pyreadstat.read_sav(path, user_missing=True)
    assert meta.missing_ranges["consent"] == [
        {"lo": 98.0, "hi": 98.0},
        {"lo": 99.0, "hi": 99.0},
        {"lo": -97.0, "hi": -97.0},
    ]
    assert meta.missing_ranges["edu"] == [{"lo": -97.0, "hi": -97.0}]
    # one label set, two variables: a single type 3 + type 4 record pair
    assert meta.variable_to_label["consent"] == meta.variable_to_label["edu"]
    assert len(meta.value_labels) == 2
    assert meta.variable_value_labels["edu"][-97] == "不适用 (跳过)"
    assert meta.variable_value_labels["nothing"] == {1: "none"}
    plain, _ = pyreadstat.read_sav(path)  # user-missing read as missing
    assert plain["consent"].tolist()[:2] == [1, 2] and plain["consent"][2:5].isna().all()


def test_the_layout_is_the_format_s(sample_file):
    """Header fields, the dictionary's end and the first case, read with struct."""
    path, _variables, _sources, days = sample_file
    raw = path.read_bytes()
    assert raw[:4] == b"$FL2" and raw[4:64].rstrip() == b"@(#) SPSS DATA FILE popsurvey"
    layout, case_slots, compression, weight, ncases = struct.unpack_from("<5i", raw, 64)
    bias = struct.unpack_from("<d", raw, 84)[0]
    assert (layout, compression, weight, ncases, bias) == (2, 0, 0, len(days), 100.0)
    assert raw[92:109] == b"06 Dec 2609:05:07"
    # slots: id 2, six numbers, the Chinese text 1, notes 4 segments (3 x 256 + 144), 1
    assert case_slots == 2 + 6 + 1 + (3 * 32 + 18) + 1
    data_at = len(raw) - ncases * case_slots * 8
    assert struct.unpack_from("<ii", raw, data_at - 8) == (999, 0)
    first = raw[data_at : data_at + case_slots * 8]
    assert first[:16] == b"uuid:00000      "
    assert struct.unpack_from("<d", first, 16)[0] == 1.0
    nan_case = raw[data_at + 5 * case_slots * 8 :]
    assert struct.unpack_from("<d", nan_case, 16)[0] == SYSMIS  # NaN: system missing
    assert struct.unpack_from("<d", first, (9 + 3 * 32 + 18) * 8)[0] == SYSMIS  # "nothing"


def test_chunks_of_any_size_write_the_same_file(tmp_path):
    variables, sources, label_sets, _days = _sample(rows=41)
    written = []
    for chunk_bytes in (1, 3000, 1 << 20):
        path = tmp_path / f"c{chunk_bytes}.sav"
        write_system_file(
            path,
            variables,
            sources,
            41,
            label_sets=label_sets,
            created=CREATED,
            chunk_bytes=chunk_bytes,
        )
        written.append(path.read_bytes())
    assert written[0] == written[1] == written[2]


@pytest.mark.parametrize("compression", ["none", "bytecode", "zsav"])
def test_rows_written_told_after_each_chunk(tmp_path, compression):
    variables, sources, label_sets, _days = _sample(rows=41)
    told: list[int] = []
    write_system_file(
        tmp_path / "p.sav",
        variables,
        sources,
        41,
        label_sets=label_sets,
        chunk_bytes=3000,
        compression=compression,
        rows_written=told.append,
    )
    assert len(told) > 1 and told == sorted(told) and told[-1] == 41


def test_numbers_computed_per_row_range(tmp_path):
    """A numeric source may be a function of the row range, called once per chunk."""
    calls = []
    values = np.arange(10.0)

    def numbers(start: int, stop: int) -> np.ndarray:
        calls.append((start, stop))
        return values[start:stop] * 2

    path = tmp_path / "f.sav"
    case = 8 + 8
    write_system_file(
        path,
        [SavVariable("x"), SavVariable("t", 3)],
        [numbers, SavTexts(np.array([0, -1] * 5), ["abc"])],
        10,
        chunk_bytes=4 * case,
    )
    data, _ = pyreadstat.read_sav(path)
    assert data["x"].tolist() == list(values * 2)
    assert data["t"].tolist() == ["abc", ""] * 5
    assert calls == [(0, 4), (4, 8), (8, 10)]


def test_no_rows_and_colliding_short_names(tmp_path):
    names = [
        "household_size_a",
        "household_size_b",
        "HOUSEHOL",
        "Age",
        "age_2",
        "中文中文中文",
        "中文中文中文x",
    ]
    path = tmp_path / "empty.sav"
    variables = [SavVariable(n) for n in names] + [SavVariable("long_text", 300)]
    sources = [np.empty(0)] * len(names) + [np.empty(0, dtype=object)]
    write_system_file(path, variables, sources, 0)
    data, meta = pyreadstat.read_sav(path)
    assert meta.column_names == [*names, "long_text"] and len(data) == 0
    assert meta.original_variable_types["long_text"] == "A300"
    shorts = _short_names(path.read_bytes())
    assert len(shorts) == len(set(shorts)) == len(names) + 2  # + the text's second segment
    assert all(len(s) <= 8 for s in shorts)


def _short_names(raw: bytes) -> list[bytes]:
    """The 8-byte names of the variable records that are not continuations."""
    names, at = [], 176
    while struct.unpack_from("<i", raw, at)[0] == 2:
        width, has_label, missing = struct.unpack_from("<iii", raw, at + 4)
        if width != -1:
            names.append(raw[at + 24 : at + 32].rstrip())
        at += 32
        if has_label:
            length = struct.unpack_from("<i", raw, at)[0]
            at += 4 + (length + 3) // 4 * 4
        at += 8 * abs(missing)
    return names


@pytest.mark.parametrize(
    ("variable", "source", "message"),
    [
        (SavVariable("x", missing=(1.0, 2.0, 3.0, 4.0)), np.zeros(2), "at most 3"),
        (SavVariable("x" * 65), np.zeros(2), "1-64 bytes"),
        (SavVariable("x", 2), np.array(["abc", None], dtype=object), "a text of 3 bytes"),
        (SavVariable("x"), np.array(["a", "b"], dtype=object), "without numbers"),
        (SavVariable("x"), np.zeros(3), "3 values for 2 rows"),
        (SavVariable("x", format="Q8"), np.zeros(2), "unknown SPSS format"),
        (SavVariable("x", measure="loud"), np.zeros(2), "unknown measure"),
    ],
)
def test_what_the_format_cannot_hold_is_refused(tmp_path, variable, source, message):
    with pytest.raises(ExportWriteError, match=message):
        write_system_file(tmp_path / "bad.sav", [variable], [source], 2)


def test_value_labels_of_strings_are_refused(tmp_path):
    with pytest.raises(ExportWriteError, match="value labels of strings"):
        write_system_file(
            tmp_path / "bad.sav",
            [SavVariable("s", 2)],
            [np.array(["a"], dtype=object)],
            1,
            label_sets=[SavLabelSet({1: "x"}, [0])],
        )


def test_texts_over_spss_s_width_are_cut_with_a_warning(tmp_path):
    from exports.plan import Variable
    from exports.values import Column
    from exports.writers import Labels, write_native_sav
    from forms.naming import ExportColumn

    variable = Variable(ExportColumn("essay", "essay", "answer", None), "Essay", "string")
    column = Column(variable, np.array(["文" * 12_000, None], dtype=object))
    dataset = type("Dataset", (), {"columns": [column], "rows": 2})()
    path = tmp_path / "cut.sav"
    issues = write_native_sav(dataset, path, Labels(), {}, {}, {}, "", -97.0)
    assert [i.code for i in issues] == ["E101"] and "32,767" in issues[0].message
    data, meta = pyreadstat.read_sav(path)
    assert data["essay"][0] == "文" * 10_922 and meta.original_variable_types["essay"] == "A32766"


# -- PSPP ------------------------------------------------------------------------------


@needs_pspp
def test_pspp_reads_the_file_without_a_warning(sample_file):
    path, variables, _, days = sample_file
    output = run_pspp(
        path.parent,
        "SET TVARS=NAMES.\n"
        f"SYSFILE INFO FILE='{path.name}'.\n"
        f"GET FILE='{path.name}'.\n"
        "DISPLAY DICTIONARY.\n"
        "LIST VARIABLES=submission_id consent edu age visit_date.\n"
        f"LIST VARIABLES={ZH_NAME}.\n"
        "COMPUTE note_length = LENGTH(RTRIM(notes)).\n"
        "STRING note_head (A12).\n"
        "COMPUTE note_head = SUBSTR(notes, 595, 12).\n"
        "FORMATS note_length (F8.0).\n"
        "LIST VARIABLES=note_length note_head.\n"
        "DESCRIPTIVES VARIABLES=consent age /STATISTICS=MEAN.\n",
    )
    assert "住户调查 household survey" in output
    assert "UTF-8" in output and "Compression" in output
    assert f"{len(days)}" in output
    for variable in variables:
        assert variable.name in output, variable.name
    assert "DATETIME23.2" in output and "TIME11.2" in output and "A900" in output
    assert "不适用 (跳过)" in output and "-97" in output
    assert "uuid:00000" in output and "王芳" in output
    assert "中中文字" in output  # bytes 595-606 of the 900-byte text, past two segment ends
    assert "900" in output and "673" in output  # the long texts' bytes, whole
    # consent: 1, 2 counted; 98, 99, -97 user-missing; . system missing
    counted = re.search(r"^\|consent\s*\|(\d+)\|\s*[\d.]+\|$", output, re.MULTILINE)
    assert counted is not None and int(counted[1]) == np.isin(_sample()[1][1], [1, 2]).sum()


@needs_pspp
def test_pspp_reads_an_empty_file(tmp_path):
    path = tmp_path / "empty.sav"
    write_system_file(
        path,
        [SavVariable("a"), SavVariable("b", 400)],
        [np.empty(0), np.empty(0, dtype=object)],
        0,
        file_label="empty",
    )
    output = run_pspp(tmp_path, "GET FILE='empty.sav'.\nDISPLAY DICTIONARY.\nLIST.\n")
    assert "A400" in output


@needs_pspp
def test_pspp_reads_the_household_export_without_a_warning(tmp_path):
    """The real-world form's files as `popsurvey export` writes them by default: colliding
    and Chinese names, a 6,000-byte answer, repeats, shared label sets."""
    from exports import ExportOptions, export_frames
    from tests.exports.household import LONG_TEXT, household_frames

    form, frames = household_frames()
    result = export_frames(
        form, frames.main, frames.repeats, tmp_path, ExportOptions(formats=("sav",), salt="s")
    )
    assert result.provenance["writers"] == {"sav": "popsurvey"}
    for _, stem, rows, variables in result.datasets:
        output = run_pspp(
            tmp_path,
            f"SYSFILE INFO FILE='{stem}.sav'.\nGET FILE='{stem}.sav'.\nLIST.\n",
        )
        info = dict(re.findall(r"^\|(Variables|Cases)\s*\|\s*(\d+)\|$", output, re.MULTILINE))
        assert info == {"Variables": str(variables), "Cases": str(rows)}, stem
    output = run_pspp(
        tmp_path,
        "GET FILE='household_export.sav'.\n"
        "COMPUTE notes_bytes = LENGTH(RTRIM(notes)).\n"
        "FORMATS notes_bytes (F8.0).\n"
        "LIST VARIABLES=notes_bytes.\n",
    )
    assert str(len(LONG_TEXT.encode("utf-8"))) in output


def test_distinct_texts_laid_out_per_chunk_give_the_same_file(tmp_path, monkeypatch):
    """Past a size, a string column's distinct texts are encoded per chunk instead of laid
    out once: the same bytes."""
    import exports.spss_file

    variables, sources, label_sets, _ = _sample(rows=41)
    written = []
    for table_bytes in (32 << 20, 0):
        monkeypatch.setattr(exports.spss_file, "_TABLE_BYTES", table_bytes)
        path = tmp_path / f"t{table_bytes}.sav"
        write_system_file(
            path, variables, sources, 41, label_sets=label_sets, created=CREATED, chunk_bytes=5000
        )
        written.append(path.read_bytes())
    assert written[0] == written[1]


def test_a_coded_text_column_is_written_from_its_table(tmp_path):
    from exports.plan import Variable
    from exports.values import Column
    from exports.writers import Labels, write_native_sav
    from forms.naming import ExportColumn

    variable = Variable(ExportColumn("where", "where", "answer", None), "Where", "string")
    table = np.array(["河边", "well", None], dtype=object)
    column = Column(variable, codes=np.array([0, 1, -1, 0], dtype=np.int8), table=table)
    dataset = type("Dataset", (), {"columns": [column], "rows": 4})()
    assert write_native_sav(dataset, tmp_path / "c.sav", Labels(), {}, {}, {}, "", -97.0) == []
    data, meta = pyreadstat.read_sav(tmp_path / "c.sav")
    assert data["where"].tolist() == ["河边", "well", "", "河边"]
    assert meta.original_variable_types["where"] == "A6"


def test_many_names_with_one_prefix_get_unique_short_names(tmp_path):
    names = [f"symptoms_choice_{i}" for i in range(1_200)]
    path = tmp_path / "many.sav"
    write_system_file(path, [SavVariable(n) for n in names], [np.zeros(1)] * len(names), 1)
    shorts = _short_names(path.read_bytes())
    assert len(set(shorts)) == len(names) and shorts[1] == b"SYMPTO_2"
    assert pyreadstat.read_sav(path, metadataonly=True)[1].column_names == names


@needs_pspp
def test_segment_names_of_long_chinese_names_start_with_a_letter(tmp_path):
    """A very long string's 104th segment of the tenth variable of one Chinese prefix is
    named with "103_10": no room for a 3-byte character, so V103_10, not 103_10 (PSPP
    renamed that, with a warning)."""
    names = [f"住户成员年龄很长的名字{i}" for i in range(12)]
    path = tmp_path / "segments.sav"
    text = np.array(["户" * 8_000], dtype=object)
    write_system_file(path, [SavVariable(n, 26_000) for n in names], [text] * 12, 1)
    shorts = _short_names(path.read_bytes())
    assert len(set(shorts)) == len(shorts) == 12 * 104
    assert not [s for s in shorts if s[:1].isdigit()]
    assert b"V103_10" in shorts
    run_pspp(tmp_path, "GET FILE='segments.sav'.\nDISPLAY DICTIONARY.\n")
    data = pyreadstat.read_sav(path)[0]
    assert list(data.columns) == names and data[names[-1]][0] == text[0]
