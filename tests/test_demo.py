"""`popsurvey demo` runs every stage on a clean directory and reports what it wrote."""

from __future__ import annotations

import numpy as np
import pandas as pd
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
