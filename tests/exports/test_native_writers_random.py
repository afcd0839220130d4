"""Seeded random prepared datasets through popsurvey's own .sav and .dta writers: what
pyreadstat (and for .dta pandas) reads from each file equals what it reads from the file
pyreadstat itself writes for the same export (``writer="pyreadstat"``); PSPP reads a sample
of the .sav files without a warning.

Every kind of prepared column is drawn: coded selects (held as codes into a table or as
numbers) with don't-know, refused and skipped rows, dummies, integers (small, negative,
beyond int32, up to 2**53, the edges of Stata's storage types), fractions, dates and
date-times (before 1960, 1582-10-14/15), times, texts (empty, None, Chinese, 4-byte UTF-8,
exactly 8/255/256/2045/2046 bytes, long), texts held as codes; 0, 1 and odd numbers of rows
written in small chunks; one dataset of 5,000 variables; names as the naming scheme makes
them from colliding, reserved, Chinese and too long candidates. NUL bytes in texts are
checked on their own (pyreadstat's writer ends a text there).
"""

from __future__ import annotations

import functools
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import exports.writers
from exports.errors import ExportWriteError
from exports.plan import LabelSet, Variable
from exports.spss_file import write_system_file
from exports.stata_file import write_stata_file
from exports.values import DONT_KNOW, REFUSED, SKIPPED, Column, PreparedDataset
from exports.writers import write_dta, write_sav
from forms.naming import ExportColumn, NameRegistry
from tests.exports.pspp import needs_pspp, run_pspp

SKIP_CODE = -97.0
TEXTS = {SKIPPED: "不适用 (跳过)", DONT_KNOW: "don't know", REFUSED: "refused"}
KINDS = ("code", "code_held", "dummy", "integer", "decimal", "date", "datetime", "time")
KINDS += ("text", "text_held")
# texts at the formats' edges: a .sav segment is 255 bytes (256 stored), a .dta str# at
# most 2045 bytes; 4-byte UTF-8 and Chinese cut nowhere inside a character
EDGE_TEXTS = [
    "",
    "a",
    "12345678",
    "x" * 255,
    "y" * 256,
    "z" * 2045,
    "w" * 2046,
    "中" * 85,  # 255 bytes
    "中" * 682 + "ab",  # 2048 bytes
    "😀" * 64,  # 256 bytes
    "户" * 3000,
    "end space ",
    " lead",
    "tab\tnew\nline",
    "quote ' \" ",
]
NUL_TEXTS = ["a\0b", "\0lead", "trail\0"]
EDGE_NUMBERS = [100.0, -127.0, 101.0, -128.0, 32_740.0, -32_767.0, 32_741.0, -32_768.0]
EDGE_NUMBERS += [2_147_483_620.0, -2_147_483_647.0, 2_147_483_621.0, -2_147_483_648.0, 2.0**24]
EDGE_NUMBERS += [2.0**24 + 1, 2.0**53, -(2.0**53), 0.5, -0.0, 1e-310, 8.98e307, -8.98e307]
DAYS = [-141_428.0, -141_427.0, -3653.0, -3652.0, -1.0, 0.0, 19_737.0, 2_932_896.0]
NAMES = ["to", "with", "and", "all", "v1", "_under", "age", "age_2", "x" * 40, "住户成员年龄很长"]


def _label_set(rng: np.random.Generator, name: str) -> LabelSet:
    count = int(rng.integers(1, 6))
    labels = {float(k): f"选项 {k} {'长' * int(rng.integers(0, 60))}" for k in range(1, count + 1)}
    labels[98.0], labels[99.0] = "Don't know", "Refused"
    codes = {str(int(k)): k for k in labels}
    return LabelSet(name, labels, codes, numbered=False, dont_know={98.0}, refused={99.0})


def _variable(name: str, kind: str, label_set: LabelSet | None, can_skip: bool) -> Variable:
    label = f"{name} 的标签" if name.startswith("v") else ""
    variable = Variable(ExportColumn(name, name, "answer"), label=label, kind=kind)
    variable.label_set = label_set
    variable.can_skip = can_skip
    return variable


def _reasons(values: np.ndarray, skippable: np.ndarray, rng) -> np.ndarray:
    """Don't know and refused where the codes are; skipped on some missing rows."""
    why = np.zeros(len(values), dtype=np.int8)
    why[values == 98.0] = DONT_KNOW
    why[values == 99.0] = REFUSED
    why[np.isnan(values) & skippable & (rng.random(len(values)) < 0.5)] = SKIPPED
    return why


def _column(rng, name: str, kind: str, rows: int, sets: list[LabelSet], texts: bool) -> Column:
    missing_share = rng.choice([0.0, 0.3, 1.0], p=[0.4, 0.5, 0.1])
    absent = rng.random(rows) < missing_share
    can_skip = bool(rng.random() < 0.6)
    skippable = np.full(rows, can_skip)
    if kind in ("code", "code_held", "dummy"):
        label_set = sets[int(rng.integers(len(sets)))] if kind != "dummy" else sets[0]
        table = np.array([*sorted(label_set.labels), np.nan])
        if kind == "dummy":
            table = np.array([0.0, 1.0, np.nan])
        codes = rng.integers(0, len(table) - 1, rows).astype(np.int8)
        codes[absent] = -1
        values = table.take(codes)
        why = _reasons(values, skippable, rng) if kind != "dummy" else None
        if kind == "dummy" and can_skip:
            why = _reasons(values, skippable, rng)
        variable = _variable(name, "code" if kind != "dummy" else "dummy", label_set, can_skip)
        if kind == "code_held":
            return Column(variable, missing=why, codes=codes, table=table)
        return Column(variable, values, why)
    if kind in ("integer", "decimal"):
        scale = rng.choice([100.0, 40_000.0, 3e9, 2.0**53])
        values = np.round(rng.uniform(-scale, scale, rows))
        if kind == "decimal":
            values = values / rng.choice([3.0, 7.0, 1e6])
        if rng.random() < 0.3:  # Stata's storage types' edges (its missing values beyond)
            values = rng.choice(EDGE_NUMBERS[: int(rng.integers(1, len(EDGE_NUMBERS) + 1))], rows)
        values[absent] = np.nan
        why = _reasons(values, skippable, rng) if can_skip else None
        return Column(_variable(name, "number", None, can_skip), values, why)
    if kind == "date":
        values = rng.choice(DAYS, rows)
        values[absent] = np.nan
        why = _reasons(values, skippable, rng) if can_skip else None
        return Column(_variable(name, "date", None, can_skip), values, why)
    if kind == "datetime":
        values = rng.choice(DAYS, rows) * 86_400_000 + rng.integers(0, 86_400_000, rows)
        values[absent] = np.nan
        return Column(_variable(name, "datetime", None, False), values)
    if kind == "time":
        values = rng.integers(0, 86_400_000, rows).astype(np.float64)
        values[absent] = np.nan
        why = _reasons(values, skippable, rng) if can_skip else None
        return Column(_variable(name, "time", None, can_skip), values, why)
    pool = rng.choice(np.array(texts, dtype=object), int(rng.integers(1, 6)))
    values = rng.choice(pool, rows).astype(object) if rows else np.empty(0, dtype=object)
    values[absent] = None
    variable = _variable(name, "string", None, can_skip)
    if kind == "text_held":
        table = np.array([*pool, None], dtype=object)
        codes = rng.integers(0, len(pool), rows).astype(np.int8)
        codes[absent] = -1
        return Column(variable, codes=codes, table=table)
    return Column(variable, values)


def _names(rng, count: int) -> list[str]:
    """Names as the export's naming scheme gives them (forms.naming) from candidates: some
    sharing long prefixes (colliding short names), reserved words, Chinese, too long."""
    registry = NameRegistry()
    names: list[str] = []
    for k in range(count):
        draw = rng.random()
        if draw < 0.3:
            candidate = f"household_member_{k}"
        elif draw < 0.45:
            candidate = NAMES[k % len(NAMES)]
        else:
            candidate = f"v{k}"
        names.append(registry.claim(candidate))
    return names


def _dataset(seed: int, rows: int, count: int, texts: list[str] = EDGE_TEXTS) -> PreparedDataset:
    rng = np.random.default_rng(seed)
    sets = [_label_set(rng, f"list_{k}") for k in range(3)]
    names = _names(rng, count)
    kinds = rng.choice(KINDS, count)
    columns = [
        _column(rng, name, str(kind), rows, sets, texts)
        for name, kind in zip(names, kinds, strict=True)
    ]
    return PreparedDataset(None, columns, rows)  # type: ignore[arg-type]


def _small_chunks(monkeypatch, chunk_bytes: int) -> None:
    """The export's writers with chunks of ``chunk_bytes`` (rows not a multiple of them)."""
    monkeypatch.setattr(
        exports.writers,
        "write_system_file",
        functools.partial(write_system_file, chunk_bytes=chunk_bytes),
    )
    monkeypatch.setattr(
        exports.writers,
        "write_stata_file",
        functools.partial(write_stata_file, chunk_bytes=chunk_bytes),
    )


def _same(ours: pd.DataFrame, theirs: pd.DataFrame, what: str) -> None:
    assert list(ours.columns) == list(theirs.columns), what
    for name in ours.columns:
        a, b = ours[name].tolist(), theirs[name].tolist()
        same = [x == y or (pd.isna(x) and pd.isna(y)) for x, y in zip(a, b, strict=True)]
        assert all(same), (
            what,
            name,
            [(x, y) for x, y, s in zip(a, b, same, strict=True) if not s][:3],
        )


def _sav_read(path):
    data, meta = pyreadstat.read_sav(path, user_missing=True, dates_as_pandas_datetime=True)
    # a string's width and measure are the writers' own (popsurvey: the longest distinct
    # text, nominal; pyreadstat: the longest written, unknown); a date's and a time's
    # measure: popsurvey's scale, pyreadstat's unknown
    numeric = [n for n, t in meta.readstat_variable_types.items() if t == "double"]
    formats = meta.original_variable_types
    described = {
        "names": meta.column_names,
        "labels": meta.column_names_to_labels,
        "value_labels": meta.variable_value_labels,
        "missing": meta.missing_ranges,
        "formats": {n: formats[n] for n in numeric},
        "measure": {n: meta.variable_measure[n] for n in numeric if formats[n][0] == "F"},
        "rows": meta.number_rows,
        "file_label": meta.file_label,
    }
    return data, described


def _cell(value: object) -> object:
    """A number as a float (a byte's 1 is a double's 1.0), anything else (text, Stata's
    missing values) as text."""
    if isinstance(value, int | float | np.number) and not isinstance(value, bool):
        return float(value)
    return str(value)


def _dta_read(path, pandas: bool = True):
    data, meta = pyreadstat.read_dta(path, user_missing=True)
    described = {
        "names": meta.column_names,
        "labels": meta.column_names_to_labels,
        "sets": meta.value_labels,
        "uses": meta.variable_to_label,
        "rows": meta.number_rows,
        "file_label": meta.file_label,
    }
    if not pandas:
        return data, described, pd.DataFrame()
    raw = pd.read_stata(path, convert_missing=True, convert_categoricals=False, convert_dates=False)
    raw = raw.map(_cell)
    return data, described, raw


def _check_both(dataset: PreparedDataset, directory, tag: str, pandas: bool = True) -> None:
    """The .sav and .dta of popsurvey's writer read as pyreadstat's of the same export."""
    for writer in ("popsurvey", "pyreadstat"):
        options = {"file_label": "随机 random", "writer": writer}
        write_sav(
            dataset,
            directory / f"{tag}_{writer}.sav",
            compress=False,
            skipped_text=TEXTS[SKIPPED],
            skip_code=SKIP_CODE,
            **options,
        )
        write_dta(dataset, directory / f"{tag}_{writer}.dta", texts=TEXTS, **options)
    ours, theirs = (_sav_read(directory / f"{tag}_{w}.sav") for w in ("popsurvey", "pyreadstat"))
    _same(ours[0], theirs[0], f"{tag}.sav")
    assert ours[1] == theirs[1], tag
    ours, theirs = (
        _dta_read(directory / f"{tag}_{w}.dta", pandas) for w in ("popsurvey", "pyreadstat")
    )
    _same(ours[0], theirs[0], f"{tag}.dta pyreadstat")
    assert ours[1] == theirs[1], tag
    _same(ours[2], theirs[2], f"{tag}.dta pandas")


@pytest.mark.parametrize("seed", range(40))
def test_random_datasets_read_as_pyreadstat_s_files(seed, tmp_path, monkeypatch):
    rng = np.random.default_rng(1000 + seed)
    rows = int(rng.choice([0, 1, 2, 7, 97, 333]))
    count = int(rng.integers(1, 40))
    _small_chunks(monkeypatch, int(rng.choice([64, 1000, 4096, 1 << 20])))
    _check_both(_dataset(seed, rows, count), tmp_path, f"r{seed}")


def test_five_thousand_variables(tmp_path, monkeypatch):
    _small_chunks(monkeypatch, 50_000)
    _check_both(_dataset(7, 5, 5000), tmp_path, "wide", pandas=False)  # pandas: 6 s


@pytest.mark.parametrize("name", ["fertility", "migrants", "household"])
def test_exported_questionnaires_read_as_pyreadstat_s_files(name, tmp_path):
    """Whole exports (export_frames: the bundled questionnaires with random answers, the
    real-world household form) by popsurvey's writers and by pyreadstat read the same."""
    from exports import ExportOptions, export_frames
    from forms.frames import random_frames
    from forms.questionnaires import bundled_questionnaire
    from forms.reader import read_form
    from tests.exports.household import household_frames

    if name == "household":
        form, frames = household_frames()
    else:
        form = read_form(bundled_questionnaire(name))
        frames = random_frames(form, 300, seed=11)
    results = {}
    for writer in ("popsurvey", "pyreadstat"):
        options = ExportOptions(formats=("sav", "dta"), salt="s", writer=writer)
        (tmp_path / writer).mkdir()
        results[writer] = export_frames(
            form, frames.main, frames.repeats, tmp_path / writer, options
        )
    assert len(results["popsurvey"].datasets) > 1
    for _, stem, _, _ in results["popsurvey"].datasets:
        ours, theirs = (_sav_read(tmp_path / w / f"{stem}.sav") for w in results)
        _same(ours[0], theirs[0], f"{stem}.sav")
        assert ours[1] == theirs[1], stem
        ours, theirs = (_dta_read(tmp_path / w / f"{stem}.dta") for w in results)
        _same(ours[0], theirs[0], f"{stem}.dta pyreadstat")
        assert ours[1] == theirs[1], stem
        _same(ours[2], theirs[2], f"{stem}.dta pandas")


def test_text_utf_8_cannot_hold_is_a_one_line_error(tmp_path):
    """A lone surrogate (what a JSON escape can leave in a str) has no UTF-8: both writers
    stop with an ExportWriteError naming the file, no traceback of an encoder."""
    texts = np.array(["ok", "bad \ud800"], dtype=object)
    variable = _variable("note", "string", None, False)
    dataset = PreparedDataset(None, [Column(variable, texts)], 2)  # type: ignore[arg-type]
    with pytest.raises(ExportWriteError, match=r"^s\.sav: UnicodeEncodeError"):
        write_sav(
            dataset,
            tmp_path / "s.sav",
            compress=False,
            file_label="",
            skipped_text="",
            skip_code=-97,
        )
    with pytest.raises(ExportWriteError, match=r"^s\.dta: UnicodeEncodeError"):
        write_dta(dataset, tmp_path / "s.dta", file_label="", texts=TEXTS)


@pytest.mark.parametrize("writer", ["popsurvey", "pyreadstat"])
def test_skipped_dates_and_times_declare_no_skip_code(writer, tmp_path):
    """A skipped date, date-time or time is system missing in SPSS (-97 seconds would be
    1582-10-13 23:58:23): no -97 is declared missing or labelled for it; Stata has ``.a``
    for each, as for any other skipped number; the codebook says so."""
    from exports.codebook import codebook_rows

    why = np.array([0, SKIPPED], dtype=np.int8)
    columns = [
        Column(_variable(kind, kind, None, True), np.array([1000.0, np.nan]), why)
        for kind in ("date", "datetime", "time", "number")
    ]
    plan = SimpleNamespace(name=None)  # the codebook asks the plan for the dataset's name
    dataset = PreparedDataset(plan, columns, 2)  # type: ignore[arg-type]
    write_sav(
        dataset,
        tmp_path / "d.sav",
        compress=False,
        file_label="",
        skipped_text="n/a",
        skip_code=SKIP_CODE,
        writer=writer,
    )
    data, meta = pyreadstat.read_sav(tmp_path / "d.sav", user_missing=True)
    assert list(meta.missing_ranges) == list(meta.variable_value_labels) == ["number"]
    assert data["number"].tolist() == [1000.0, SKIP_CODE]
    assert data[["date", "datetime", "time"]].iloc[1].isna().all()
    write_dta(dataset, tmp_path / "d.dta", file_label="", texts=TEXTS, writer=writer)
    raw = pd.read_stata(
        tmp_path / "d.dta", convert_missing=True, convert_dates=False, convert_categoricals=False
    )
    assert [str(raw[k][1]) for k in ("date", "datetime", "time", "number")] == [
        ".a",
        ".a",
        ".a",
        ".a",
    ]
    dates, _ = pyreadstat.read_dta(tmp_path / "d.dta", user_missing=True)
    assert dates[["date", "datetime", "time"]].iloc[1].tolist() == ["a", "a", "a"]
    dates = pd.read_stata(tmp_path / "d.dta")  # dates converted, missing as NaT
    assert dates[["date", "datetime", "time"]].iloc[1].isna().all()
    variables, _ = codebook_rows([(dataset, "d")], SKIP_CODE)
    assert [(row[2], row[6], row[7]) for row in variables] == [
        ("date", "", ".a"),
        ("datetime", "", ".a"),
        ("time", "", ".a"),
        ("number", "-97", ".a"),
    ]


# -- PSPP ------------------------------------------------------------------------------


@needs_pspp
@pytest.mark.parametrize("seed", [3, 11, 26])
def test_pspp_reads_random_files_without_a_warning_and_saves_them_again(seed, tmp_path):
    dataset = _dataset(seed, 23, 60)
    write_sav(
        dataset,
        tmp_path / "r.sav",
        compress=False,
        file_label="随机",
        skipped_text=TEXTS[SKIPPED],
        skip_code=SKIP_CODE,
    )
    output = run_pspp(
        tmp_path,
        # every case read by SAVE (LIST of the long texts would print some 90 MB)
        "SYSFILE INFO FILE='r.sav'.\nGET FILE='r.sav'.\nDISPLAY DICTIONARY.\n"
        "SAVE OUTFILE='pspp.sav'.\n",
    )
    info = dict(re.findall(r"^\|(Variables|Cases)\s*\|\s*(\d+)\|$", output, re.MULTILINE))
    assert info == {"Variables": str(len(dataset.columns)), "Cases": "23"}
    # the file PSPP saves again holds what it read: the same values, labels and missing
    ours, pspp = (_sav_read(tmp_path / name) for name in ("r.sav", "pspp.sav"))
    _same(ours[0], pspp[0], "PSPP's copy")
    for key in ("names", "labels", "value_labels", "missing", "rows"):
        assert ours[1][key] == pspp[1][key], key


def test_texts_with_nul_bytes_lose_them_in_both_formats(tmp_path):
    """ReadStat skips a NUL in a .sav text, PSPP ends the text there, pyreadstat's writer
    too: popsurvey's writers drop NULs from .sav texts as from .dta texts."""
    texts = np.array([*NUL_TEXTS, None, "\0"], dtype=object)
    variable = _variable("note", "string", None, False)
    dataset = PreparedDataset(None, [Column(variable, texts)], len(texts))  # type: ignore[arg-type]
    options = {"file_label": "", "writer": "popsurvey"}
    path = tmp_path / "n.sav"
    write_sav(dataset, path, compress=False, skipped_text="", skip_code=-97, **options)
    write_dta(dataset, tmp_path / "n.dta", texts=TEXTS, **options)
    expected = ["ab", "lead", "trail", "", ""]
    assert pyreadstat.read_sav(tmp_path / "n.sav")[0]["note"].tolist() == expected
    assert pyreadstat.read_dta(tmp_path / "n.dta")[0]["note"].tolist() == expected
    assert pd.read_stata(tmp_path / "n.dta")["note"].tolist() == expected
    assert b"\0" not in (tmp_path / "n.sav").read_bytes().split(b"trail")[-1]
