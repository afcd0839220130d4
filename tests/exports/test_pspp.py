"""PSPP (GNU's SPSS clone, Debian package pspp) opens the exported .sav files, runs the
generated syntax without error and reproduces a weighted mean that popsurvey computes; the
bundled questionnaires export and read back in SPSS, Stata and pandas."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from exports import DesignColumns, ExportOptions, export_frames
from forms.codebook import build_codebook
from forms.frames import random_frames
from forms.questionnaires import bundled_questionnaire
from forms.reader import read_form
from tests.exports.pspp import run_pspp_file
from weighting.design import SurveyDesign
from weighting.estimate import svy_mean

if shutil.which("pspp") is None:
    if os.environ.get("CI") == "true":
        pytest.fail("PSPP is not installed (CI=true: .ci/run installs Debian's pspp)")
    pytest.skip("PSPP not installed (Debian package pspp)", allow_module_level=True)


def pspp(directory, script: str) -> str:
    """Run a syntax file with PSPP in ``directory``; its text output (errors fail)."""
    return run_pspp_file(directory, script, warnings_allowed=True)


def _design(ids: pd.Series, seed: int) -> DesignColumns:
    rng = np.random.default_rng(seed)
    n = len(ids)
    return DesignColumns(
        data=pd.DataFrame(
            {
                "__id": ids,
                "final_weight": rng.uniform(0.5, 5.0, n).round(3),
                "stratum": rng.integers(1, 4, n),
                "psu": rng.integers(1, 30, n),
            }
        ),
        weight="final_weight",
        strata="stratum",
        psu="psu",
    )


@pytest.mark.parametrize("name", ["fertility", "migrants"])
def test_bundled_questionnaires_export_and_run_in_pspp(name, tmp_path):
    form = read_form(bundled_questionnaire(name))
    frames = random_frames(form, 200, seed=7)
    design = _design(frames.main["__id"], 7)
    result = export_frames(
        form,
        frames.main,
        frames.repeats,
        tmp_path,
        ExportOptions(formats=("sav", "dta")),
        design,
    )
    book = build_codebook(form)
    exported = {c for e in book.entries() for c in e.export_columns}
    for dataset, stem, rows, variables in result.datasets:
        data, meta = pyreadstat.read_sav(tmp_path / f"{stem}.sav")
        assert len(data) == rows and len(meta.column_names) == variables, dataset
        assert pd.read_stata(tmp_path / f"{stem}.dta").shape == (rows, variables)
        assert {n for n in meta.column_names if n in exported} <= exported
        pspp(tmp_path, f"{stem}.sps")


def test_pspp_reproduces_popsurvey_weighted_mean(tmp_path):
    form = read_form(bundled_questionnaire("fertility"))
    frames = random_frames(form, 400, seed=11)
    design = _design(frames.main["__id"], 11)
    export_frames(form, frames.main, frames.repeats, tmp_path, ExportOptions(), design)
    variable = "b01_hh_size"  # relevant only with consent: skipped rows are -97, user-missing
    data, meta = pyreadstat.read_sav(tmp_path / "fertility.sav", user_missing=True)
    assert (data[variable] == -97).any() and {"lo": -97.0, "hi": -97.0} in meta.missing_ranges[
        variable
    ]
    (tmp_path / "mean.sps").write_text(
        "GET FILE='fertility.sav'.\n"
        "SET TVARS=NAMES.\n"
        "WEIGHT BY final_weight.\n"
        f"DESCRIPTIVES VARIABLES={variable} /STATISTICS=MEAN.\n",
        encoding="utf-8",
    )
    output = pspp(tmp_path, "mean.sps")
    line = next(row for row in output.splitlines() if row.startswith(f"|{variable}"))
    pspp_mean = float(line.strip("|").split("|")[-1])
    answered = frames.main.assign(w=design.data["final_weight"].to_numpy())
    answered = answered[answered[variable].notna()]
    survey = SurveyDesign.from_frame(answered[[variable, "w"]], weights="w")
    ours = svy_mean(survey, variable)[0].estimate
    assert pspp_mean == pytest.approx(ours, abs=0.006)  # PSPP prints 2 decimals


def test_generated_syntax_runs_on_the_real_world_form(tmp_path):
    from tests.exports.household import household_frames

    form, frames = household_frames()
    design = _design(frames.main["__id"], 3)
    result = export_frames(
        form, frames.main, frames.repeats, tmp_path, ExportOptions(formats=("zsav",)), design
    )
    for _, stem, _, _ in result.datasets:
        pspp(tmp_path, f"{stem}.sps")
    # the complex samples plan is its own file: PSPP lacks CSPLAN, SPSS runs it
    plan = (tmp_path / "household_export_csplan.sps").read_text("utf-8")
    assert "CSPLAN ANALYSIS" in plan and "/PLANVARS ANALYSISWEIGHT=final_weight" in plan
    listing = tmp_path / "list.sps"
    listing.write_text(
        "GET FILE='household_export.zsav'.\nLIST VARIABLES=consent edu /CASES=FROM 1 TO 4.\n",
        encoding="utf-8",
    )
    output = pspp(tmp_path, "list.sps")
    assert "-97" in output and "98" in output
