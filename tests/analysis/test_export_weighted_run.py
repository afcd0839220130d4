"""A store weighted by `popsurvey weight --survey`, then exported by `popsurvey export`
(SQLite and PostgreSQL): every file carries the run's final weight and each respondent's
stratum, PSU and fpc under names no question takes, the do-file svysets them, the SPSS plan
declares them, the codebook says where they come from, a weighted mean computed by
popsurvey's `weighting` from the exported .dta (declared with its fpc) equals the store's,
and a running or failed run is never exported."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_design_from_store import SAMPLE, write_pages, write_sample

from forms import read_markdown
from surveys.cli import main
from surveys.importers import import_json_pages
from surveys.store import open_store
from surveys.store.weights import fail_run, latest_run, start_run
from weighting.design import SurveyDesign
from weighting.estimate import svy_mean

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # import tests.*
from tests.store.backends import store_url  # noqa: F401

# the weighting tests' form, with questions named as the design variables often are
FORM = read_markdown(
    """
| settings |
| | form_id | version |
| | hhsurvey | 1 |

| survey |
| | type | name | label |
| | text | hhid | Household |
| | text | stratum | Stratum written on the cover sheet |
| | text | psu | Village written on the cover sheet |
| | integer | a04_visit_no | Visit |
| | integer | n_elig | Eligible women |
| | integer | c03_age | Age |
| | integer | result | Result |
"""
)

CONFIG = """
id = "hh-test"
title = "Weighting from the store"

[weighting]
form = "hhsurvey"
classes = ["stratum"]
selection = "n_elig"
"""

FRAME_UNITS = {"A": 12, "B": 8}
"""PSUs in each stratum's frame (allocation.csv), the fpc (the PSUs were drawn with equal
probabilities: sample.json says srs)."""


@pytest.fixture
def weighted(tmp_path, store_url):  # noqa: F811
    write_pages(tmp_path / "fieldwork")
    with open_store(store_url) as store:
        import_json_pages(store, tmp_path / "fieldwork", "hhsurvey", FORM)
    survey_dir = tmp_path / "survey"
    survey_dir.mkdir()
    write_sample(survey_dir / "sample")
    allocation = pd.DataFrame(
        {"stratum": list(FRAME_UNITS), "frame_units": list(FRAME_UNITS.values()), "n": [2, 2]}
    )
    allocation.to_csv(survey_dir / "sample" / "allocation.csv", index=False)
    (survey_dir / "sample" / "sample.json").write_text(
        json.dumps({"design": {"stages": [{"unit": "psu", "method": "srs"}]}, "counts": {}})
    )
    (survey_dir / "survey.toml").write_text(CONFIG, encoding="utf-8")
    result = run("weight", "--survey", survey_dir, "--db", store_url)
    assert result.exit_code == 0, result.output
    return store_url, survey_dir


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args])


def export(url: str, out: Path, *extra: object):
    result = run("export", "--db", url, "--format", "dta", "--format", "sav", "-o", out, *extra)
    assert result.exit_code == 0, result.output
    return pd.read_stata(out / "hhsurvey.dta", convert_categoricals=False)


def test_the_export_carries_the_runs_design_and_declares_it(weighted, tmp_path):
    url, _ = weighted
    with open_store(url) as store:
        stored = latest_run(store, "hhsurvey")
    data = export(url, tmp_path / "out")
    run_rows = stored.weights.merge(stored.design, on="__id")
    assert len(run_rows) == 4 and set(run_rows["fpc"]) == {12.0, 8.0}
    got = data.set_index("submission_id").loc[run_rows["__id"]]
    np.testing.assert_allclose(got["final_weight"], run_rows["final"], rtol=1e-12)
    assert got["design_stratum"].tolist() == run_rows["stratum"].tolist()
    assert got["design_psu"].tolist() == run_rows["psu"].tolist()
    assert got["design_fpc"].tolist() == run_rows["fpc"].tolist()
    hhid = dict(zip(data["submission_id"], data["hhid"], strict=True))
    for sid, stratum, psu in zip(got.index, got["design_stratum"], got["design_psu"], strict=True):
        assert (stratum, psu) == SAMPLE[hhid[sid]][:2]  # as drawn
    # the form's own stratum/psu questions keep their names; no stratum_2, psu_2
    assert {"stratum", "psu"} <= set(data.columns)
    assert not [c for c in data.columns if c.endswith("_2")]
    # submissions the run did not weight (refusals, a visit superseded) have no weight
    assert data["final_weight"].isna().sum() == len(data) - 4
    out = tmp_path / "out"
    do = (out / "hhsurvey.do").read_text("utf-8")
    assert (
        "svyset design_psu [pweight=final_weight], strata(design_stratum) fpc(design_fpc) "
        "singleunit(certainty)" in do
    )
    plan = (out / "hhsurvey_csplan.sps").read_text("utf-8")
    assert "/PLANVARS ANALYSISWEIGHT=final_weight" in plan
    assert "/DESIGN STRATA=design_stratum CLUSTER=design_psu" in plan
    assert "/POPSIZE VARIABLE=design_fpc" in plan
    codebook = (out / "hhsurvey_codebook.md").read_text("utf-8")
    assert f"design_stratum: weighting run {stored.id}: stratum of the drawn sample" in codebook
    assert f"final_weight: weighting run {stored.id}: final weight" in codebook
    provenance = json.loads((out / "hhsurvey_provenance.json").read_text("utf-8"))
    assert provenance["weighting"]["id"] == stored.id
    assert f"filter: weights: weighting run {stored.id} (survey)" in (
        out / "hhsurvey_export.log"
    ).read_text("utf-8")


def test_a_weighted_mean_from_the_exported_file_equals_the_stores(weighted, tmp_path):
    url, survey_dir = weighted
    from_store = tmp_path / "store.csv"
    result = run(
        "estimate", "--survey", survey_dir, "--db", url, "--mean", "c03_age", "-o", from_store
    )
    assert result.exit_code == 0, result.output
    expected = pd.read_csv(from_store).iloc[0]
    data = export(url, tmp_path / "out")
    respondents = data[data["final_weight"].notna()].reset_index(drop=True)
    design = SurveyDesign.from_frame(
        respondents,
        weights="final_weight",
        ids="design_psu",
        strata="design_stratum",
        fpc="design_fpc",
        lonely_psu="adjust",
    )
    (got,) = svy_mean(design, "c03_age")
    assert got.estimate == pytest.approx(expected["estimate"], rel=1e-12)
    assert got.se == pytest.approx(expected["se"], rel=1e-12)
    # without the declared fpc the SE grows by 1 / sqrt(1 - n_h / N_h) within each stratum
    without_fpc = SurveyDesign.from_frame(
        respondents,
        weights="final_weight",
        ids="design_psu",
        strata="design_stratum",
        lonely_psu="adjust",
    )
    (wr,) = svy_mean(without_fpc, "c03_age")
    assert wr.estimate == pytest.approx(got.estimate, rel=1e-12)
    assert wr.se > got.se


def test_a_running_or_failed_run_is_never_exported(weighted, tmp_path):
    url, survey_dir = weighted
    with open_store(url) as store:
        finished = latest_run(store, "hhsurvey")
    config = survey_dir / "survey.toml"
    config.write_text(
        CONFIG + '\n[[weighting.targets]]\nvariable = "age_group"\nkind = "share"\n'
        'margins = { "15-29" = 0.4, "30-39" = 0.6 }\n',
        encoding="utf-8",
    )
    assert run("weight", "--survey", survey_dir, "--db", url).exit_code == 1  # a failed run
    with open_store(url) as store:
        running = start_run(store, "hhsurvey", "survey", {})
        stale = start_run(store, "hhsurvey", "survey", {})
        fail_run(store, stale, "killed")
    data = export(url, tmp_path / "out")
    provenance = json.loads((tmp_path / "out" / "hhsurvey_provenance.json").read_text("utf-8"))
    assert provenance["weighting"]["id"] == finished.id
    assert data["final_weight"].notna().sum() == 4
    for run_id, status in ((running, "running"), (stale, "failed")):
        result = run("export", "--db", url, "--weighting-run", run_id, "-o", tmp_path / "x")
        assert result.exit_code == 1
        assert f"weighting run {run_id} is {status}" in result.output
    named = export(url, tmp_path / "named", "--weighting-run", finished.id)
    assert named["final_weight"].notna().sum() == 4
