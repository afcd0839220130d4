"""Round trips of the exported files: pyreadstat reads back values, labels and missing codes;
pandas.read_stata (not ReadStat) reads the .dta with its labels; names, repeats, PII, dates."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from exports import (
    DesignColumns,
    ExportOptions,
    ExportOptionsError,
    MissingCodes,
    export_frames,
)
from forms.codebook import build_codebook
from forms.naming import SPSS_MAX_BYTES, STATA_MAX_CHARS
from tests.exports.household import LONG_CHOICE_LABEL, LONG_TEXT, ZH_LONG, household_frames

SALT = "test-salt"


def _export(tmp_path, **options):
    form, frames = household_frames()
    design = options.pop("design", None)
    opts = ExportOptions(
        formats=options.pop("formats", ("sav", "dta", "csv", "parquet")),
        salt=SALT,
        **options,
    )
    return form, export_frames(form, frames.main, frames.repeats, tmp_path, opts, design)


def _writers() -> list[str]:
    try:
        import polars_readstat  # noqa: F401
    except ImportError:
        return ["popsurvey", "pyreadstat"]
    return ["popsurvey", "polars-readstat", "pyreadstat"]


@pytest.fixture(scope="module", params=_writers())
def exported(request, tmp_path_factory):
    """The household export written by each writer installed: every round trip below
    holds for popsurvey's own writers, polars-readstat and pyreadstat alike."""
    out = tmp_path_factory.mktemp("export")
    form, result = _export(out, writer=request.param)
    assert result.provenance["writer"] == request.param
    assert result.provenance["writers"] == {"sav": request.param, "dta": request.param}
    return form, result, out


def test_names_fit_both_formats_and_match_the_codebook(exported):
    form, _, out = exported
    sav, meta = pyreadstat.read_sav(out / "household_export.sav", metadataonly=True)
    names = list(sav.columns)
    assert len({n.lower() for n in names}) == len(names)  # unique ignoring case (SPSS)
    for name in names:
        assert len(name) <= STATA_MAX_CHARS and len(name.encode()) <= SPSS_MAX_BYTES, name
    assert "how_many_times_did_you_visit_the" in names
    assert "how_many_times_did_you_visit_t_2" in names
    assert "Age_2" in names and "age_3" in names  # Age differs from age only by case
    zh = next(n for n in names if n.startswith("这是"))
    assert ZH_LONG.startswith(zh) and len(zh.encode()) <= 64
    assert meta.column_names == names
    # the codebook's export columns are exactly the files' names, question by question
    book = build_codebook(form)
    main_columns = [c for e in book.entries() if not e.question.repeats for c in e.export_columns]
    assert [n for n in names if n in set(main_columns)] == [
        c for c in main_columns if c in set(names)
    ]
    dropped_pii = set(main_columns) - set(names)
    assert dropped_pii == set()  # hashed, not dropped, by default
    dta, _dmeta = pyreadstat.read_dta(out / "household_export.dta", metadataonly=True)
    assert list(dta.columns) == names


def test_values_labels_and_missing_codes_in_sav(exported):
    _, _, out = exported
    data, meta = pyreadstat.read_sav(out / "household_export.sav", user_missing=True)
    assert data["consent"].tolist() == [1, 2, 98, 1]
    assert sorted(meta.missing_ranges["consent"], key=lambda r: r["lo"]) == [
        {"lo": 98.0, "hi": 98.0},
        {"lo": 99.0, "hi": 99.0},
    ]
    assert meta.variable_value_labels["consent"][98] == "不知道"
    # numbered string codes, -97 where the group was skipped, '.' for the empty answer
    assert meta.variable_value_labels["edu"] == {
        1: "未上学",
        2: "小学",
        3: "中学",
        -97: "不适用 (跳过)",
    }
    assert data["edu"].tolist()[:3] == [2, -97, -97] and np.isnan(data["edu"][3])
    assert {"lo": -97.0, "hi": -97.0} in meta.missing_ranges["edu"]
    assert data["water"][0] == 4 and meta.variable_value_labels["water"][4] == "其他"
    assert data["water_other"][0] == "river"
    assert data["symptoms"][0] == "s01 s05 other"
    assert data["symptoms_s01"].tolist()[:2] == [1, -97]
    assert data["symptoms_s02"][0] == 0 and data["symptoms_s40"][3] == 1
    assert data["symptoms_other_2"][0] == 1 and data["symptoms_other"][0] == "itchy"
    assert meta.column_names_to_labels["symptoms_s05"] == "症状: 症状5"
    assert data["gps_latitude"][0] == pytest.approx(39.9)
    assert data["gps_accuracy"][0] == pytest.approx(5.0)
    assert data["notes"][0] == LONG_TEXT  # a 6,000-byte string survives
    assert str(data["visit_date"][0]) == "2024-01-15" and str(data["visit_date"][3]) == "2023-12-31"
    moment = pd.Timestamp(data["visit_time"][0])
    assert abs(moment - pd.Timestamp("2024-01-15 10:20:30.123")) < pd.Timedelta("1ms")
    assert meta.variable_measure["edu"] == "nominal"
    assert meta.file_label == "household_export"  # the form's title, in the header


def test_stata_extended_missing_and_labels(exported):
    _, _, out = exported
    data, meta = pyreadstat.read_dta(out / "household_export.dta", user_missing=True)
    assert data["consent"].tolist() == [1, 2, "d", 1]
    assert data["edu"].tolist()[:3] == [2, "a", "a"] and np.isnan(data["edu"][3])
    assert meta.variable_value_labels["consent"]["d"] == "不知道"
    assert meta.variable_value_labels["edu"]["a"] == "不适用 (跳过)"
    assert meta.original_variable_types["visit_date"] == "%td"
    assert data["notes"][0] == LONG_TEXT
    # pandas' own reader (independent of ReadStat): labels and extended missing values
    labelled = pd.read_stata(out / "household_export.dta")
    assert labelled["edu"].tolist()[0] == "小学"
    assert labelled["consent"].tolist()[1] == "否"
    raw = pd.read_stata(
        out / "household_export.dta",
        convert_missing=True,
        convert_dates=False,
        convert_categoricals=False,
    )
    assert str(raw["consent"][2]) == ".d" and str(raw["edu"][1]) == ".a"
    assert labelled["visit_date"][0] == pd.Timestamp("2024-01-15")
    assert labelled["visit_time"][0] == pd.Timestamp("2024-01-15 10:20:30.123")
    variable_labels = pd.io.stata.StataReader(out / "household_export.dta").variable_labels()
    assert variable_labels["consent"] == "您同意吗？"


def test_dta_storage_types(exported):
    """popsurvey's writer and polars-readstat store whole numbers as byte/int where they
    fit; a variable with both ``.`` and a lettered missing value is a float (pyreadstat
    misreads ``.`` after ``.a`` in an integer column); pyreadstat writes doubles. Values
    read back the same."""
    _, result, out = exported
    meta = pyreadstat.read_dta(out / "household_export.dta", metadataonly=True)[1]
    types = meta.readstat_variable_types
    if result.provenance["writers"]["dta"] in ("popsurvey", "polars-readstat"):
        assert types["consent"] == "int8"  # 1, 2, .d, 1
        assert types["symptoms_s02"] == "int8"  # dummies
        assert types["edu"] == "float"  # 2, .a, .a, .
        assert types["gps_latitude"] == "double"  # fractions
        assert types["visit_date"] == "double"
    else:
        assert types["consent"] == "double"


def test_one_value_label_set_per_choice_list_in_the_dta(exported):
    """Variables using the same choice list share its label set (the dummies share one
    yes/no set) in the .dta itself, and the do-file declares the same sets."""
    _, _, out = exported
    meta = pyreadstat.read_dta(out / "household_export.dta", metadataonly=True)[1]
    used = meta.variable_to_label
    with pd.io.stata.StataReader(out / "household_export.dta") as reader:
        sets = reader.value_labels()  # pandas reads the same sets
    assert set(sets) == set(meta.value_labels)
    assert used["symptoms_s01"] == used["symptoms_s40"] == "dummy_01"
    assert used["edu"] == "edu" and used["consent"] == "yn"
    assert sets["edu"][2] == "小学"
    dummies = [name for name in used if name.startswith("symptoms_")]
    assert len(dummies) > 3 and {used[name] for name in dummies} <= {"dummy_01", ""}
    assert len(sets) < len([n for n in used.values() if n])  # shared, not one per variable
    do = (out / "household_export.do").read_text("utf-8")
    assert "label define dummy_01 " in do
    assert "label values " in do and "symptoms_s40" in do


def test_repeats_link_to_their_parents(exported):
    _, result, out = exported
    main = pyreadstat.read_sav(out / "household_export.sav")[0]
    hh = pyreadstat.read_sav(out / "household_export_hh.sav")[0]
    kids = pyreadstat.read_dta(out / "household_export_kids.dta")[0]
    assert set(hh["parent_key"]) <= set(main["submission_id"])
    assert set(kids["parent_key"]) <= set(hh["row_key"])
    assert kids["row_key"].tolist() == ["uuid:0001/hh[1]/kids[1]", "uuid:0001/hh[1]/kids[2]"]
    assert kids["c_age"].tolist() == [10, 12]
    assert [d[0] for d in result.datasets] == ["main", "hh", "kids"]


def test_pii_hashed_by_default_dropped_or_included_on_request(exported, tmp_path):
    _, result, out = exported
    main = pyreadstat.read_sav(out / "household_export.sav")[0]
    assert main["resp_name"][0] != "Person 1" and len(main["resp_name"][0]) == 16
    hh = pyreadstat.read_sav(out / "household_export_hh.sav")[0]
    assert "王芳" not in set(hh["m_name"])
    assert any("pii: resp_name, m_name replaced by a salted" in line for line in result.log)
    _, dropped = _export(tmp_path / "drop", pii="drop", formats=("csv",))
    assert "resp_name" not in pd.read_csv(tmp_path / "drop" / "household_export.csv").columns
    assert any("dropped" in line for line in dropped.log)
    _, _ = _export(tmp_path / "keep", pii="include", formats=("csv",))
    kept = pd.read_csv(tmp_path / "keep" / "household_export_hh.csv")
    assert kept["m_name"].tolist() == ["王芳", "李伟"]


def test_csv_and_parquet_keep_codes_and_leave_skipped_empty(exported):
    _, _, out = exported
    csv = pd.read_csv(out / "household_export.csv")
    assert csv["consent"].tolist() == [1, 2, 98, 1]
    assert csv["edu"].isna().tolist() == [False, True, True, True]
    parquet = pd.read_parquet(out / "household_export.parquet")
    assert parquet["visit_date"][0] == pd.Timestamp("2024-01-15")


def test_labels_cut_to_the_limits_with_a_warning(exported):
    _, result, out = exported
    meta = pyreadstat.read_sav(out / "household_export.sav", metadataonly=True)[1]
    water = meta.variable_value_labels["water"][3]
    assert len(water.encode()) <= 120 and LONG_CHOICE_LABEL.startswith(water)
    messages = [i.message for i in result.issues if i.code == "E101"]
    assert any("symptoms_s40" in m and "Stata variable label" in m for m in messages)
    assert any("water" in m and "SPSS value label" in m for m in messages)
    dta_labels = pd.io.stata.StataReader(out / "household_export.dta").variable_labels()
    assert len(dta_labels["symptoms_s40"]) == 80


def test_codebook_log_and_provenance_match_the_files(exported):
    _, _result, out = exported
    provenance = json.loads((out / "household_export_provenance.json").read_text("utf-8"))
    names = {f["name"] for f in provenance["files"]}
    assert {"household_export.sav", "household_export_kids.dta", "household_export.do"} <= names
    assert provenance["datasets"][0]["rows"] == 4
    from openpyxl import load_workbook

    book = load_workbook(out / "household_export_codebook.xlsx")
    rows = list(book["variables"].iter_rows(min_row=2, values_only=True))
    sav = pyreadstat.read_sav(out / "household_export.sav", metadataonly=True)[1]
    assert [r[2] for r in rows if r[0] == "main"] == sav.column_names
    sets = {r[0] for r in book["value_labels"].iter_rows(min_row=2, values_only=True)}
    assert {"yn", "edu", "dummy_01"} <= sets
    log = (out / "household_export_export.log").read_text("utf-8")
    assert "pii:" in log


def test_design_variables_in_every_file(tmp_path):
    design = DesignColumns(
        data=pd.DataFrame(
            {
                "__id": ["uuid:0001", "uuid:0002", "uuid:0003", "uuid:0004"],
                "final_weight": [1.5, 2.0, 0.5, 3.0],
                "stratum": ["north", "north", "south", "south"],
                "psu": [11, 12, 21, 22],
            }
        ),
        weight="final_weight",
        strata="stratum",
        psu="psu",
    )
    _, result = _export(tmp_path, design=design, formats=("sav", "dta"))
    main = pyreadstat.read_sav(tmp_path / "household_export.sav")[0]
    kids = pyreadstat.read_dta(tmp_path / "household_export_kids.dta")[0]
    assert main["final_weight"].tolist() == [1.5, 2.0, 0.5, 3.0]
    assert kids["final_weight"].tolist() == [1.5, 1.5] and kids["psu"].tolist() == [11, 11]
    assert main["stratum"].tolist() == ["north", "north", "south", "south"]
    assert not [i for i in result.issues if i.code == "E103"]
    do = (tmp_path / "household_export.do").read_text("utf-8")
    assert "svyset psu [pweight=final_weight], strata(stratum) singleunit(certainty)" in do
    assert "char consent[xpath]" in do
    plan = (tmp_path / "household_export_csplan.sps").read_text("utf-8")
    assert "/DESIGN STRATA=stratum CLUSTER=psu" in plan


def test_design_codes_stay_as_drawn_and_replicates_join_the_svyset(tmp_path):
    design = DesignColumns(
        data=pd.DataFrame(
            {
                "__id": ["uuid:0001", "uuid:0002", "uuid:0003", "uuid:0004"],
                "final_weight": [1.5, 2.0, 0.5, 3.0],
                "design_stratum": ["01", "01", "02", "02"],  # leading zeros: kept as text
                "design_psu": ["379902001008", "379902001009", "379903001001", "379903001002"],
                "design_fpc": [95.0, 95.0, 100.0, 100.0],
                "repw_1": [3.0, 0.0, 0.5, 3.0],
                "repw_2": [0.0, 4.0, 0.5, 3.0],
            }
        ),
        weight="final_weight",
        strata="design_stratum",
        psu="design_psu",
        fpc="design_fpc",
        replicates=("repw_1", "repw_2"),
        replicate_type="jkn",
        origins={"design_fpc": "weighting run 7: first-stage units in the stratum's frame"},
    )
    _export(tmp_path, design=design, formats=("dta",))
    main = pd.read_stata(tmp_path / "household_export.dta", convert_categoricals=False)
    assert main["design_stratum"].tolist() == ["01", "01", "02", "02"]
    assert main["design_psu"].tolist()[0] == 379902001008  # numeric codes: exact numbers
    do = (tmp_path / "household_export.do").read_text("utf-8")
    assert (
        "svyset design_psu [pweight=final_weight], strata(design_stratum) fpc(design_fpc) "
        "jkrweight(repw_1-repw_2, stratum(`jk_stratum') multiplier(`jk_multiplier')) "
        "vce(jackknife) mse" in do
    )
    # both replicates drop a PSU of stratum 01 (2 PSUs of 95): (1 - 2/95) (2 - 1)/2
    assert 'local jk_stratum "`jk_stratum\' 1 1"' in do
    assert f"`jk_multiplier' {93 / 95 / 2:.17g} {93 / 95 / 2:.17g}" in do
    codebook = (tmp_path / "household_export_codebook.md").read_text("utf-8")
    assert "design_fpc: weighting run 7: first-stage units in the stratum's frame" in codebook


def test_wide_repeat(tmp_path):
    _, _result = _export(tmp_path, wide=("hh",), formats=("sav",))
    main = pyreadstat.read_sav(tmp_path / "household_export.sav")[0]
    assert main["m_age_1"].tolist()[0] == 40 and main["m_age_2"].tolist()[0] == 12
    assert np.isnan(main["m_age_1"][1])
    assert not (tmp_path / "household_export_hh.sav").exists()
    assert (tmp_path / "household_export_kids.sav").exists()
    with pytest.raises(ExportOptionsError, match="directly in the form"):
        _export(tmp_path / "x", wide=("kids",), formats=("sav",))


def test_english_labels_and_dk_codes_as_choice_names(tmp_path):
    codes = MissingCodes(dont_know=("98",), refused=("99",))
    _, _ = _export(tmp_path, language="en", codes=codes, formats=("sav",))
    meta = pyreadstat.read_sav(tmp_path / "household_export.sav", metadataonly=True)[1]
    assert meta.column_names_to_labels["consent"] == "Do you agree?"
    assert meta.variable_value_labels["consent"][98] == "Don't know"


def test_datetime64_units_are_not_turned_into_1970(tmp_path):
    """pyreadstat writes datetime64[s] (and other non-ns units) as 1970-01-01: the exporter
    never hands it datetimes."""
    form, frames = household_frames()
    main = frames.main.copy()
    main["visit_date"] = pd.to_datetime(main["visit_date"]).astype("datetime64[s]")
    export_frames(form, main, frames.repeats, tmp_path, ExportOptions(formats=("sav", "dta")))
    for reader, name in ((pyreadstat.read_sav, "sav"), (pyreadstat.read_dta, "dta")):
        data = reader(tmp_path / f"household_export.{name}")[0]
        assert str(data["visit_date"][0]) == "2024-01-15", name


def test_bad_answers_are_kept_as_text_with_a_warning(tmp_path):
    form, frames = household_frames()
    main = frames.main.copy()
    main["edu"] = ["primary", None, None, "phd"]
    main["出生年份"] = pd.Series([1990, None, None, "unknown"], dtype=object)
    result = export_frames(form, main, frames.repeats, tmp_path, ExportOptions(formats=("sav",)))
    data, meta = pyreadstat.read_sav(tmp_path / "household_export.sav")
    assert meta.variable_value_labels["edu"][4] == "phd" and data["edu"][3] == 4
    assert data["出生年份"].tolist()[3] == "unknown"
    codes = {i.code for i in result.issues}
    assert {"E102", "E103"} <= codes


def test_unknown_format_and_language_are_one_line_errors(tmp_path):
    from forms.errors import UnknownLanguageError

    with pytest.raises(ExportOptionsError, match="unknown export format"):
        _export(tmp_path, formats=("xls",))
    with pytest.raises(UnknownLanguageError, match="no language 'fr'"):
        _export(tmp_path, language="fr")
    assert not any(tmp_path.iterdir())


def test_replicate_weights_are_svyset(tmp_path):
    ids = ["uuid:0001", "uuid:0002", "uuid:0003", "uuid:0004"]
    data = pd.DataFrame({"__id": ids, "w": [1.0, 2.0, 3.0, 4.0]})
    for r in range(1, 4):
        data[f"repw_{r}"] = data["w"] * r / 2
    design = DesignColumns(
        data=data, weight="w", replicates=("repw_1", "repw_2", "repw_3"), replicate_type="jk1"
    )
    _export(tmp_path, design=design, formats=("dta",))
    do = (tmp_path / "household_export.do").read_text("utf-8")
    assert "svyset [pweight=w], jkrweight(repw_1-repw_3) vce(jackknife) mse" in do
    kids = pyreadstat.read_dta(tmp_path / "household_export_kids.dta")[0]
    assert kids["repw_3"].tolist() == [1.5, 1.5]


def test_columns_the_form_lacks_are_named_in_a_warning(tmp_path):
    form, frames = household_frames()
    main = frames.main.assign(old_question=["a", "b", "c", "d"])
    result = export_frames(form, main, frames.repeats, tmp_path, ExportOptions(formats=("csv",)))
    warning = next(i for i in result.issues if i.code == "E105")
    assert "old_question" in warning.message


OLD_VERSION_MD = """
| survey |
| | type | name | label::English (en) | label::中文 (zh) |
| | select_one smoke | smoked | Did you ever smoke? | 您吸过烟吗？ |
| | select_multiple fuel | fuels | Cooking fuels | 做饭燃料 |
| | integer | rooms | Rooms | 房间数 |

| choices |
| | list_name | name | label::English (en) | label::中文 (zh) |
| | smoke | 1 | Yes | 是 |
| | smoke | 2 | No | 否 |
| | smoke | 98 | Don't know | 不知道 |
| | fuel | gas | Gas | 燃气 |
| | fuel | wood | Wood | 木柴 |

| settings |
| | form_id | default_language | version |
| | household_export | 中文 (zh) | 2025010101 |
"""


@pytest.mark.parametrize("writer", _writers())
def test_questions_of_older_form_versions_are_exported(tmp_path, writer):
    """Columns only an older form version has are exported, labelled from that version (a
    statistician loses nothing); a column of no version is named in warning E105."""
    from forms.reader import read_markdown

    form, frames = household_frames()
    old = read_markdown(OLD_VERSION_MD, name="old.md")
    main = frames.main.assign(
        smoked=["1", None, "98", None],
        fuels=["gas wood", None, "wood", None],
        rooms=[3, None, 2, None],
        stray=["x", "y", "z", "w"],
    )
    result = export_frames(
        form,
        main,
        frames.repeats,
        tmp_path,
        ExportOptions(formats=("sav", "dta"), salt=SALT, writer=writer),
        older=[old],
    )
    data, meta = pyreadstat.read_sav(tmp_path / "household_export.sav", user_missing=True)
    assert data["smoked"].tolist()[0] == 1 and data["smoked"].tolist()[2] == 98
    assert meta.column_names_to_labels["smoked"] == "您吸过烟吗？"
    assert meta.variable_value_labels["smoked"][2] == "否"
    assert {"lo": 98.0, "hi": 98.0} in meta.missing_ranges["smoked"]
    assert data["fuels_wood"][0] == 1 and data["fuels_wood"][2] == 1 and data["fuels_gas"][2] == 0
    assert meta.column_names_to_labels["fuels_gas"] == "做饭燃料: 燃气"
    assert data["rooms"].tolist()[0] == 3
    dta = pd.read_stata(tmp_path / "household_export.dta")
    assert dta["smoked"].tolist()[0] == "是"
    warnings = [i.message for i in result.issues if i.code == "E105"]
    assert len(warnings) == 1 and "stray" in warnings[0] and "smoked" not in warnings[0]
    codebook = (tmp_path / "household_export_codebook.md").read_text("utf-8")
    assert "smoked (form version 2025010101 only)" in codebook
    do = (tmp_path / "household_export.do").read_text("utf-8")
    assert "notes smoked: only in form version 2025010101" in do


def test_jkn_multipliers_in_the_do_file_are_the_replicates_scales(tmp_path):
    """svyset has no per-stratum scale for jackknife replicate weights: the do-file gives
    each JKn replicate its stratum and multiplier, equal to the rscales popsurvey's
    weighting (checked against R's survey) uses for the same replicates."""
    import re

    from weighting.design import SurveyDesign
    from weighting.replicates import make_replicates

    ids = ["uuid:0001", "uuid:0002", "uuid:0003", "uuid:0004"]
    data = pd.DataFrame(
        {
            "__id": ids,
            "final_weight": [10.0, 12.0, 20.0, 22.0],
            "design_stratum": [1, 1, 2, 2],
            "design_psu": [11, 12, 21, 22],
            "design_fpc": [40.0, 40.0, 7.0, 7.0],
        }
    )
    design = SurveyDesign.from_frame(
        data, weights="final_weight", ids="design_psu", strata="design_stratum", fpc="design_fpc"
    )
    replicates = make_replicates(design, "JKn")
    names = [f"repw_{r + 1}" for r in range(replicates.weights.shape[1])]
    for r, name in enumerate(names):
        data[name] = replicates.weights[:, r]
    columns = DesignColumns(
        data=data,
        weight="final_weight",
        strata="design_stratum",
        psu="design_psu",
        fpc="design_fpc",
        replicates=tuple(names),
        replicate_type="jkn",
    )
    _export(tmp_path, design=columns, formats=("dta",))
    do = (tmp_path / "household_export.do").read_text("utf-8")
    multipliers = [
        float(v)
        for line in re.findall(r"local jk_multiplier \"`jk_multiplier' ([^\"]*)\"", do)
        for v in line.split()
    ]
    strata = [
        int(v)
        for line in re.findall(r"local jk_stratum \"`jk_stratum' ([^\"]*)\"", do)
        for v in line.split()
    ]
    assert strata == [1, 1, 2, 2]
    np.testing.assert_allclose(multipliers, replicates.scale * replicates.rscales, rtol=1e-15)


def _progress_calls(out) -> list[tuple[int, int | None]]:
    """Every ``progress(done, total)`` call of the household export to .sav and .dta."""
    form, frames = household_frames()
    calls: list[tuple[int, int | None]] = []
    export_frames(
        form,
        frames.main,
        frames.repeats,
        out,
        ExportOptions(formats=("sav", "dta"), salt=SALT),
        progress=lambda done, total: calls.append((done, total)),
    )
    return calls


def test_progress_moves_by_variables_and_ends_at_the_total(tmp_path):
    calls = _progress_calls(tmp_path)
    done = [d for d, _ in calls]
    totals = {t for _, t in calls}
    assert len(totals) == 1 and done == sorted(done)
    assert done[-1] == totals.pop() and len(calls) > 8  # moves while preparing, not 3 jumps


def test_progress_moves_while_a_file_is_written(tmp_path, monkeypatch):
    """popsurvey's writers tell the export their rows after each chunk: with small chunks
    the bar takes more steps than with one chunk per file, in order, to the same total."""
    import exports.writers

    whole = _progress_calls(tmp_path / "whole")

    def small_chunks(write):
        return lambda *args, **kwargs: write(*args, **{**kwargs, "chunk_bytes": 64})

    for name in ("write_stata_file", "write_system_file"):
        monkeypatch.setattr(exports.writers, name, small_chunks(getattr(exports.writers, name)))
    chunked = _progress_calls(tmp_path / "chunked")
    done = [d for d, _ in chunked]
    assert done == sorted(done) and chunked[-1] == whole[-1]
    assert len(set(done)) > len({d for d, _ in whole})


def test_coded_frames_export_the_same_files(tmp_path):
    """The store's coded frames (select_one as categoricals, what ``popsurvey export``
    reads) give the same values, labels and missing codes as text columns; a code outside
    the list left with no row (its submission filtered out) adds no label and no warning."""
    from forms.frames import submission_frames
    from forms.naming import with_specify_other
    from tests.exports.household import household_form, household_records

    form = household_form()
    records = household_records()
    records[3]["g1"]["edu"] = "phd"  # a code outside the list: a label and a warning
    out = {}
    for coded in (False, True):
        frames = submission_frames(with_specify_other(form), records, coded=coded)
        target = tmp_path / str(coded)
        result = export_frames(
            form,
            frames.main,
            frames.repeats,
            target,
            ExportOptions(formats=("sav", "dta"), salt=SALT),
        )
        out[coded] = target, result
    assert isinstance(
        submission_frames(with_specify_other(form), records, coded=True).main["edu"].dtype,
        pd.CategoricalDtype,
    )
    for name in ("household_export.sav", "household_export.dta", "household_export_hh.sav"):
        read = pyreadstat.read_sav if name.endswith(".sav") else pyreadstat.read_dta
        plain_data, plain_meta = read(out[False][0] / name, user_missing=True)
        coded_data, coded_meta = read(out[True][0] / name, user_missing=True)
        pd.testing.assert_frame_equal(plain_data, coded_data)
        assert plain_meta.variable_value_labels == coded_meta.variable_value_labels
        assert plain_meta.missing_ranges == coded_meta.missing_ranges
    assert [i.message for i in out[False][1].issues] == [i.message for i in out[True][1].issues]


def test_a_filtered_out_code_adds_no_label(tmp_path):
    from forms.frames import submission_frames
    from forms.naming import with_specify_other
    from tests.exports.household import household_form, household_records

    form = household_form()
    frames = submission_frames(with_specify_other(form), household_records(), coded=True)
    main = frames.main.copy()
    main["edu"] = main["edu"].cat.add_categories(["phd"])  # seen in a row filtered out
    result = export_frames(
        form, main, frames.repeats, tmp_path, ExportOptions(formats=("sav",), salt=SALT)
    )
    assert "E102" not in {i.code for i in result.issues}
    _, meta = pyreadstat.read_sav(tmp_path / "household_export.sav", metadataonly=True)
    assert "phd" not in meta.variable_value_labels["edu"].values()


def test_sav_variables_with_the_same_labels_share_one_set(exported):
    """One value label set per distinct set of labels (a choice list), not one per
    variable: the .sav dictionary is rewritten in place, the data untouched."""
    _, _result, out = exported
    _, meta = pyreadstat.read_sav(out / "household_export.sav", user_missing=True)
    labelled = meta.variable_to_label
    distinct = {tuple(sorted(meta.variable_value_labels[v].items())) for v in labelled}
    assert len(set(labelled.values())) == len(meta.value_labels)
    assert len(meta.value_labels) == len(distinct) < len(labelled)
    users: dict[str, list[str]] = {}
    for variable, label_set in labelled.items():
        users.setdefault(label_set, []).append(variable)
    assert any(len(v) > 2 for v in users.values())


def test_sharing_sav_labels_keeps_the_length_and_the_data(tmp_path):
    from exports.sav import share_value_labels

    form, frames = household_frames()
    export_frames(
        form, frames.main, frames.repeats, tmp_path, ExportOptions(formats=("sav",), salt=SALT)
    )
    path = tmp_path / "household_export.sav"
    size, before = path.stat().st_size, pyreadstat.read_sav(path, user_missing=True)
    assert share_value_labels(path)[0] == share_value_labels(path)[1]  # merged already
    after = pyreadstat.read_sav(path, user_missing=True)
    assert path.stat().st_size == size
    pd.testing.assert_frame_equal(before[0], after[0])
    assert before[1].variable_value_labels == after[1].variable_value_labels


def test_every_checksum_is_the_file_s(exported):
    """The provenance's SHA-256 of each file, a .dta's taken as its last pass reads it."""
    import hashlib

    _, result, out = exported
    for name, digest in result.checksums().items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest, name
    assert any(name.endswith(".dta") for name in result.checksums())
