"""`popsurvey demo` runs every stage on a clean directory and reports what it wrote."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forms.model import FormModel
from surveys.cli import main


def test_demo_runs_every_stage(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", str(out), "--no-validate"])
    assert result.exit_code == 0, result.output
    assert "demo finished" in result.output
    assert (out / "survey" / "sample" / "entities" / "households.csv").is_file()
    for name in ("fertility", "migrants"):
        model = FormModel.from_json((out / "forms" / f"{name}.formmodel.json").read_text("utf-8"))
        assert model.form_id == name
        assert (out / "forms" / f"{name}.xml").read_text("utf-8").startswith("<?xml")
        assert "变量" in (out / "forms" / f"{name}.codebook.md").read_text("utf-8")
        assert (out / "forms" / f"{name}.codebook.en.html").stat().st_size > 1000
    estimates = pd.read_csv(out / "estimates.csv").set_index("indicator")
    for name in ("TFR", "SRB", "CPR"):
        assert np.isfinite(estimates.loc[name, "estimate"]), name
        assert np.isfinite(estimates.loc[name, "se"]) and estimates.loc[name, "se"] > 0, name
    assert "TFR" in result.output and "SRB" in result.output and "CPR" in result.output
    assert "[validation] fertility: 1280 submission(s) validated" in result.output
    weights = pd.read_csv(out / "weights.csv")
    assert (weights["final_weight"] > 0).all()
    ranking = pd.read_csv(out / "qc" / "fertility.qc.enumerators.csv")
    truth = pd.read_csv(out / "fieldwork" / "ground_truth" / "fertility.csv")
    # daughters left out (srb_skew) are detectable only when nearly all are (bench/README.md)
    detectable = ~truth["profile"].isin(["honest", "srb_skew"])
    planted = set(truth.loc[detectable, "enumerator"])
    honest = set(truth.loc[truth["profile"] == "honest", "enumerator"])
    flagged = set(ranking.loc[ranking["flagged"], "enumerator"])
    assert planted <= flagged
    assert len(flagged & honest) <= 0.05 * len(honest) + 1
    assert (out / "qc" / "fertility.qc.flags.json").stat().st_size > 0
    assert "[quality]" in result.output
    for language in ("zh", "en"):
        for suffix in ("html", "xlsx", "txt"):
            assert (out / "reports" / f"report.{language}.{suffix}").stat().st_size > 100
    for suffix in (".sav", ".dta", ".do", ".sps", "_d_hist.sav", "_d_hist.dta"):
        assert (out / "export" / f"fertility{suffix}").is_file(), suffix
    # the export declares the store's weighting run: its weights and design in every file
    do = (out / "export" / "fertility.do").read_text("utf-8")
    # a PPS first stage: no fpc, the first stage taken with replacement (docs/EXPORTS.md)
    assert (
        "svyset design_psu [pweight=final_weight], strata(design_stratum) singleunit(certainty)"
        in do
    )
    exported = pd.read_stata(out / "export" / "fertility.dta", convert_categoricals=False)
    weighted = exported[exported["final_weight"].notna()]
    assert len(weighted) == len(weights)
    assert weighted["final_weight"].sum() == pytest.approx(weights["final_weight"].sum())
    assert weighted[["design_stratum", "design_psu"]].notna().all().all()
    assert "design_fpc" not in exported.columns
    assert {"stratum", "psu"} <= set(exported.columns)  # the form's own questions
