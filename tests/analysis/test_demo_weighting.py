"""The demo's surveys weighted and estimated by command: the commands give the demo's
numbers, the demo's survey.toml reproduces its sample, its estimates are readable, and the
migrant survey goes through every stage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from surveys.cli import main
from surveys.pipeline import run_demo
from surveys.store import open_store
from surveys.store.weights import latest_run


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    run_demo(out, validate=False)
    return out


def test_weight_by_command_equals_the_demo_weights(demo):
    db = f"sqlite:///{demo / 'popsurvey.db'}"
    result = CliRunner().invoke(main, ["weight", "--survey", str(demo / "survey"), "--db", db])
    assert result.exit_code == 0, result.output
    with open_store(db) as store:
        stored = latest_run(store, "fertility")
    expected = pd.read_csv(demo / "weights.csv")
    merged = expected.merge(stored.weights, on="__id", how="outer", validate="1:1")
    assert len(merged) == len(expected) == len(stored.weights)
    np.testing.assert_allclose(merged["final"], merged["final_weight"], rtol=1e-12)


def test_estimate_by_command_gives_the_demo_estimates(demo, tmp_path):
    db = f"sqlite:///{demo / 'popsurvey.db'}"
    out = tmp_path / "indicators.csv"
    args = ["estimate", "--survey", str(demo / "survey"), "--db", db, "-o", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    mine = pd.read_csv(out).set_index("indicator")
    demo_table = pd.read_csv(demo / "estimates.csv").set_index("indicator")
    assert list(mine.index) == list(demo_table.index)
    for column in ("estimate", "se", "ci_low", "ci_high"):
        np.testing.assert_allclose(mine[column], demo_table[column], rtol=1e-5)  # 6 digits
    zh = CliRunner().invoke(main, [*args[:-2], "--language", "zh"])
    assert zh.exit_code == 0 and "总和生育率" in zh.output and "出生性别比" in zh.output


def test_the_demo_survey_toml_reproduces_its_sample(demo, tmp_path):
    again = tmp_path / "sample"
    config = demo / "survey" / "survey.toml"
    args = ["sample", "draw", "-c", str(config), "--synthetic-listing", "-o", str(again)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    drawn = pd.read_csv(demo / "survey" / "sample" / "households.csv")
    pd.testing.assert_frame_equal(pd.read_csv(again / "households.csv"), drawn)


def test_estimates_csv_is_readable_and_empty_cells_say_why(demo):
    text = (demo / "estimates.csv").read_text("utf-8")
    table = pd.read_csv(demo / "estimates.csv", keep_default_na=False)
    numbers = [t for line in text.splitlines()[1:] for t in line.split(",")]
    for token in numbers:
        try:
            float(token)
        except ValueError:
            continue
        digits = token.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
        assert len(digits) <= 6, token
    rates = table[table["indicator"].str.startswith("ASFR")]
    empty = rates[rates["estimate"].astype(float) == 0]
    assert not empty.empty  # the simulated women have no births at 45-49
    assert (empty["note"] == "no births in the window at these ages").all()
    assert (rates.loc[rates["estimate"].astype(float) > 0, "note"] == "").all()


def test_the_migrant_survey_goes_through_every_stage(demo):
    table = pd.read_csv(demo / "estimates_migrants.csv").set_index("indicator")
    for name in (
        "health record",
        "family doctor",
        "health education",
        "migrant women CPR",
        "migrant women pre-pregnancy check",
    ):
        assert 0 < table.loc[name, "estimate"] < 1, name
        assert table.loc[name, "se"] > 0, name
    db = f"sqlite:///{demo / 'popsurvey.db'}"
    with open_store(db) as store:
        run = latest_run(store, "migrants")
    assert run.weights["final"].sum() == pytest.approx(412000, rel=1e-9)  # province margin
    assert [s["method"] for s in run.history][-1] == "rake"
    assert (demo / "survey_migrants" / "sample" / "households.csv").is_file()


def test_the_survey_indicators_by_domain_from_the_store(demo):
    """Domains keep the whole design with zero weights outside: the rates equal those of
    the domain's women alone (jackknife over the domain's clusters), the proportions those
    of the by= estimators (R's svyby)."""
    from surveys.analysis import MARRIED
    from surveys.survey_weighting import stored_design, survey_indicators
    from weighting.fertility import fertility_by_domain, women_from_tables
    from weighting.indicators import contraceptive_prevalence

    db = f"sqlite:///{demo / 'popsurvey.db'}"
    with open_store(db) as store:
        design, _, frames = stored_design(store, "fertility", demo / "survey" / "sample")
    table, _ = survey_indicators(design, frames, by="urban")
    data = design.data.assign(_w=np.asarray(design.weights))
    for column in ("a_cmc_int", "c_cmc_birth", "urban"):
        data[column] = pd.to_numeric(data[column], errors="coerce")
    data = data[data["a_cmc_int"].notna() & data["c_cmc_birth"].notna()]
    births = frames.repeats["d_hist"]
    live = births[pd.to_numeric(births["d10_outcome"], errors="coerce") == 1]
    live = live[live["__id"].isin(data["__id"])].assign(d_cmc=lambda f: pd.to_numeric(f["d_cmc"]))
    women = women_from_tables(
        data, live, woman_id="__id", interview_cmc="a_cmc_int", birth_cmc="c_cmc_birth",
        weight="_w", cluster="psu", child_birth_cmc="d_cmc",
    )  # fmt: skip
    rates = fertility_by_domain(women, data["urban"].astype(int).astype(str))
    for domain in ("1", "2"):
        mine = table[table["domain"] == domain].set_index("indicator")
        theirs = rates[rates["domain"] == domain].set_index("indicator")
        for name in ("TFR", "GFR", "ASFR 25-29"):
            assert mine.loc[name, "estimate"] == pytest.approx(theirs.loc[name, "estimate"])
            assert mine.loc[name, "se"] == pytest.approx(theirs.loc[name, "se"], rel=1e-10)
    numeric = design.data.assign(
        **{
            c: pd.to_numeric(design.data[c], errors="coerce")
            for c in ("c03_age", "c09_marital", "e01_use")
        }
    )
    from dataclasses import replace

    cpr = contraceptive_prevalence(
        replace(design, data=numeric), "e01_use", no_method=(2, 98, 99), married="c09_marital",
        married_values=MARRIED, age="c03_age", by="urban",
    )  # fmt: skip
    for row in cpr.itertuples():
        mine = table[(table["domain"] == str(row.domain)) & (table["indicator"] == "CPR")]
        assert mine["estimate"].iloc[0] == pytest.approx(row.estimate, rel=1e-12)
        assert mine["se"].iloc[0] == pytest.approx(row.se, rel=1e-10)
        assert mine["n"].iloc[0] == row.n
