"""`popsurvey estimate --survey` is calibration-aware and uses the stored fpc.

The store keeps only the final weights; estimates from it record the run's raking again
(its margins from the run's history) so that the SEs are those of the raked design, equal
to the SEs of the weighting chain run in memory (whose raking variance is R's, see
tests/weighting/test_r_parity.py and tests/weighting/test_stored_calibration.py). An
equal-probability first stage stores the fpc, and the store's SEs then equal those of the
exported file declared with it; a PPS first stage stores none.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from test_weight_command import CONFIG, run, store_url, stored, survey  # noqa: F401

from surveys.config import load_config
from surveys.store import open_store
from surveys.store.frames import analysis_frames
from surveys.survey_weighting import weight_configured
from weighting.estimate import svy_mean, svy_total

RAKED = CONFIG + (
    'age = "c03_age"\n'
    "[[weighting.targets]]\n"
    'variable = "age_group"\n'
    'margins = { "15-29" = 300, "30-49" = 700 }\n'
)
ASKED = ["--mean", "c03_age", "--total", "n_elig"]


def estimates(survey_dir, url, out, *extra, says: str = ""):
    result = run("estimate", "--survey", survey_dir, "--db", url, *ASKED, *extra, "-o", out)
    assert result.exit_code == 0, result.output
    assert says in result.output  # the line saying how the SEs are computed
    return pd.read_csv(out)


def test_estimates_from_a_raked_run_have_the_raked_designs_ses(survey, tmp_path):  # noqa: F811
    url, survey_dir = survey
    (survey_dir / "survey.toml").write_text(RAKED, encoding="utf-8")
    exported = tmp_path / "weighted.csv"
    assert run("weight", "--survey", survey_dir, "--db", url, "-o", exported).exit_code == 0
    assert [s["method"] for s in stored(url).history][-1] == "rake"
    says = "SEs: Taylor linearisation over strata and PSUs; raking to age_group counted; "
    from_store = estimates(survey_dir, url, tmp_path / "store.csv", says=says)

    # the same chain in memory: its design carries the raking record of the raking itself
    config = load_config(survey_dir / "survey.toml")
    with open_store(url) as store:
        frames = analysis_frames(store, "hhsurvey")
    chain = weight_configured(frames, survey_dir / "sample", config.weighting).respondents
    expected = [*svy_mean(chain, "c03_age"), *svy_total(chain, "n_elig")]
    assert list(from_store["estimate"]) == pytest.approx([e.estimate for e in expected], 1e-12)
    assert list(from_store["se"]) == pytest.approx([e.se for e in expected], rel=1e-9)

    # the exported file declares the final weights as fixed: other (larger) SEs
    weight = [c for c in pd.read_csv(exported).columns if c.endswith("_weight")][-1]
    design = ["--weights", weight, "--ids", "psu", "--strata", "stratum"]
    result = run(
        "estimate", exported, *design, "--lonely-psu", "adjust", *ASKED, "-o", tmp_path / "f.csv"
    )
    assert result.exit_code == 0, result.output
    fixed = pd.read_csv(tmp_path / "f.csv")
    assert list(fixed["estimate"]) == pytest.approx(list(from_store["estimate"]), 1e-12)
    assert fixed.loc[0, "se"] != pytest.approx(from_store.loc[0, "se"], rel=1e-3)


def _first_stage(sample_dir, method: str, frame_units: dict[str, int]) -> None:
    (sample_dir / "sample.json").write_text(
        json.dumps({"design": {"stages": [{"unit": "psu", "method": method}]}, "counts": {}})
    )
    pd.DataFrame({"stratum": list(frame_units), "frame_units": list(frame_units.values())}).to_csv(
        sample_dir / "allocation.csv", index=False
    )


def test_an_equal_probability_first_stage_stores_the_fpc_and_estimates_use_it(survey, tmp_path):  # noqa: F811
    url, survey_dir = survey
    _first_stage(survey_dir / "sample", "srs", {"A": 5, "B": 8})
    exported = tmp_path / "weighted.csv"
    assert run("weight", "--survey", survey_dir, "--db", url, "-o", exported).exit_code == 0
    design = stored(url).design
    assert sorted(design["fpc"]) == [5, 5, 8, 8]
    from_store = estimates(survey_dir, url, tmp_path / "store.csv", says="first stage with fpc")

    data = pd.read_csv(exported)
    data["fpc"] = data["stratum"].map({"A": 5, "B": 8})
    weight = [c for c in data.columns if c.endswith("_weight")][-1]
    data.to_csv(exported, index=False)
    declared = ["--weights", weight, "--ids", "psu", "--strata", "stratum", "--fpc", "fpc"]
    out = tmp_path / "file.csv"
    result = run("estimate", exported, *declared, "--lonely-psu", "adjust", *ASKED, "-o", out)
    assert result.exit_code == 0, result.output
    from_file = pd.read_csv(out)
    for column in ("estimate", "se", "ci_low", "ci_high"):
        assert list(from_store[column]) == pytest.approx(list(from_file[column]), rel=1e-12)
    # 2 of 5 and 2 of 8 PSUs: the fpc lowers the SEs against the with-replacement ones
    without = tmp_path / "without.csv"
    result = run(
        "estimate", exported, *declared[:6], "--lonely-psu", "adjust", *ASKED, "-o", without
    )
    assert result.exit_code == 0, result.output
    assert all(from_store["se"] < pd.read_csv(without)["se"])


def test_a_pps_first_stage_stores_no_fpc(survey):  # noqa: F811
    url, survey_dir = survey
    _first_stage(survey_dir / "sample", "systematic_pps", {"A": 5, "B": 8})
    assert run("weight", "--survey", survey_dir, "--db", url).exit_code == 0
    assert stored(url).design["fpc"].isna().all()
