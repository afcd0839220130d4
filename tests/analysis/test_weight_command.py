"""`popsurvey weight --survey` and `popsurvey estimate --survey` on the store, on SQLite and
PostgreSQL: runs kept and replaced, failures that keep the previous run, submissions with
validation errors left out, and the store's estimates equal to those of an exported file."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from test_design_from_store import FORM, write_pages, write_sample

from surveys.analysis import design_from_store
from surveys.cli import main
from surveys.importers import import_json_pages
from surveys.store import open_store
from surveys.store.weights import latest_run

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # import tests.*
from tests.store.backends import store_url  # noqa: F401

CONFIG = """
id = "hh-test"
title = "Weighting from the store"

[weighting]
form = "hhsurvey"
classes = ["stratum"]
selection = "n_elig"
"""


@pytest.fixture
def survey(tmp_path, store_url):  # noqa: F811
    write_pages(tmp_path / "fieldwork")
    with open_store(store_url) as store:
        import_json_pages(store, tmp_path / "fieldwork", "hhsurvey", FORM)
    survey_dir = tmp_path / "survey"
    survey_dir.mkdir()
    write_sample(survey_dir / "sample")
    (survey_dir / "survey.toml").write_text(CONFIG, encoding="utf-8")
    return store_url, survey_dir


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def stored(url: str):
    with open_store(url) as store:
        return latest_run(store, "hhsurvey")


def by_hhid(url: str, weights: pd.DataFrame) -> dict[str, float]:
    with open_store(url) as store, store.engine.connect() as conn:
        hhid = {
            row.central_id: json.loads(row.raw_json)["hhid"]
            for row in conn.execute(sa.text("select central_id, raw_json from submissions"))
        }
    return {hhid[i]: w for i, w in zip(weights["__id"], weights["final"], strict=True)}


def test_weight_command_keeps_the_run_and_prints_diagnostics(survey):
    url, survey_dir = survey
    result = run("weight", "--survey", survey_dir, "--db", url)
    assert result.exit_code == 0, result.output
    assert "design effect due to weighting" in result.output
    assert "9 sampled households" in result.output and "4 respondents" in result.output
    expected = design_from_store(url, "hhsurvey", survey_dir / "sample")
    want = dict(zip(expected.data["hhid"], np.asarray(expected.weights), strict=True))
    got_run = stored(url)
    got = by_hhid(url, got_run.weights)
    assert got.keys() == want.keys()
    for hhid, value in want.items():
        assert got[hhid] == pytest.approx(value, rel=1e-12)
    assert got_run.diagnostics["deff due to weighting (Kish)"] > 1
    assert got_run.diagnostics["converged"] is True
    assert [step["method"] for step in got_run.history] == ["design", "nonresponse", "selection"]
    assert got_run.spec["selection"] == "n_elig" and got_run.spec["classes"] == ["stratum"]


def test_a_rerun_after_a_new_pull_replaces_the_run(survey, tmp_path):
    url, survey_dir = survey
    assert run("weight", "--survey", survey_dir, "--db", url).exit_code == 0
    first = stored(url)
    # a later pull brings household b3's second visit: completed, one eligible woman
    revisit = tmp_path / "pull2"
    write_pages(revisit)
    page = revisit / "pages" / "hhsurvey" / "page-0001.json"
    records = json.loads(page.read_text())["value"]
    b3 = next(r for r in records if r["hhid"] == "b3")
    b3.update(__id="uuid:10000000-0000-4000-8000-000000000001", a04_visit_no=2, result="1")
    b3.update(n_elig="1", c03_age=35)
    b3["meta"] = {"instanceID": b3["__id"]}
    b3["__system"]["submissionDate"] = "2027-07-09T02:00:00.000Z"
    page.write_text(json.dumps({"value": [b3]}))
    with open_store(url) as store:
        import_json_pages(store, revisit, "hhsurvey", FORM)
    result = run("weight", "--survey", survey_dir, "--db", url)
    assert result.exit_code == 0, result.output
    second = stored(url)
    assert second.id != first.id and "b3" in by_hhid(url, second.weights)
    with open_store(url) as store, store.engine.connect() as conn:
        runs = conn.execute(sa.text("select id, status from weighting_runs")).all()
        count = conn.execute(sa.text("select count(*) from weights")).scalar()
    assert [(r.id, r.status) for r in runs] == [(second.id, "finished")]
    assert count == len(second.weights) == 5


def test_a_failed_run_keeps_the_previous_one(survey):
    url, survey_dir = survey
    assert run("weight", "--survey", survey_dir, "--db", url).exit_code == 0
    first = stored(url)
    config = survey_dir / "survey.toml"
    config.write_text(
        CONFIG + '\n[[weighting.targets]]\nvariable = "age_group"\nkind = "share"\n'
        'margins = { "15-29" = 0.4, "30-39" = 0.6 }\n',
        encoding="utf-8",
    )
    result = run("weight", "--survey", survey_dir, "--db", url)
    assert result.exit_code == 1
    assert "outside the target age groups" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert stored(url).id == first.id
    with open_store(url) as store, store.engine.connect() as conn:
        statuses = dict(conn.execute(sa.text("select status, message from weighting_runs")).all())
    assert set(statuses) == {"finished", "failed"}
    assert "outside the target age groups" in statuses["failed"]


def _flag_error(url: str, hhid: str) -> None:
    with open_store(url) as store, store.engine.begin() as conn:
        for pk, text in conn.execute(sa.text("select id, raw_json from submissions")).all():
            if json.loads(text)["hhid"] == hhid:
                conn.execute(
                    sa.text(
                        "insert into validation_issues (submission_id, code, severity, message)"
                        " values (:s, 'V001', 'error', 'c03_age is not a number')"
                    ),
                    {"s": pk},
                )


def test_submissions_with_validation_errors_are_left_out_unless_kept(survey):
    url, survey_dir = survey
    _flag_error(url, "b1")
    result = run("weight", "--survey", survey_dir, "--db", url)
    assert result.exit_code == 0, result.output
    assert "left out 1 with validation errors, 0 rejected in review" in result.output
    left = stored(url)
    assert "b1" not in by_hhid(url, left.weights)
    assert left.spec["excluded"] == {"validation errors": 1, "rejected in review": 0}
    assert "left out 1 with validation errors" in left.message
    result = run("weight", "--survey", survey_dir, "--db", url, "--keep-invalid")
    assert result.exit_code == 0, result.output
    kept = stored(url)
    assert "b1" in by_hhid(url, kept.weights) and "kept every submission" in kept.message


def test_estimates_from_the_store_equal_those_of_the_exported_file(survey, tmp_path):
    url, survey_dir = survey
    exported = tmp_path / "weighted.csv"
    result = run("weight", "--survey", survey_dir, "--db", url, "-o", exported)
    assert result.exit_code == 0, result.output
    asked = ["--mean", "c03_age", "--total", "n_elig", "--proportion", "result=1"]
    from_store = tmp_path / "store.csv"
    result = run("estimate", "--survey", survey_dir, "--db", url, *asked, "-o", from_store)
    assert result.exit_code == 0, result.output
    from_file = tmp_path / "file.csv"
    weight_column = [c for c in pd.read_csv(exported).columns if c.endswith("_weight")][-1]
    design = ["--weights", weight_column, "--ids", "psu", "--strata", "stratum"]
    result = run("estimate", exported, *design, "--lonely-psu", "adjust", *asked, "-o", from_file)
    assert result.exit_code == 0, result.output
    a, b = pd.read_csv(from_store), pd.read_csv(from_file)
    assert len(a) == 3
    for column in ("estimate", "se", "ci_low", "ci_high", "deff"):
        np.testing.assert_allclose(a[column], b[column], rtol=1e-12)


def test_options_a_mode_does_not_use_are_errors(survey, tmp_path):
    url, survey_dir = survey
    result = run("weight", "--survey", survey_dir, "--db", url, "--trim", "1", "2")
    assert result.exit_code == 2 and "--trim: not used with --survey" in result.output
    result = run("weight", tmp_path / "x.csv", "--keep-invalid", "-o", tmp_path / "o.csv")
    assert result.exit_code == 2 and "--keep-invalid: not used with DATA" in result.output
    result = run("weight")
    assert result.exit_code == 2 and "give DATA or --survey DIR" in result.output
    result = run("estimate", "--survey", survey_dir, "--db", url, "--fertility")
    assert result.exit_code == 2 and "--fertility: not used with --survey" in result.output
    result = run("estimate", "--survey", survey_dir, "--db", url, "--weights", "w", "--mean", "x")
    assert result.exit_code == 2 and "--weights: not used with --survey" in result.output


def test_the_store_option_is_the_shared_db_option(survey, tmp_path, monkeypatch):
    """weight and estimate take --db as every store command does ($POPSURVEY_DB, else
    popsurvey.db); it belongs to --survey mode."""
    url, survey_dir = survey
    monkeypatch.setenv("POPSURVEY_DB", url)
    assert run("weight", "--survey", survey_dir).exit_code == 0
    result = run("estimate", "--survey", survey_dir, "--mean", "c03_age")
    assert result.exit_code == 0, result.output
    data = tmp_path / "x.csv"
    data.write_text("y,w\n1,1\n", encoding="utf-8")
    for command in ("weight", "estimate"):
        result = run(command, data, "--db", url, "-o", tmp_path / "o.csv")
        assert result.exit_code == 2 and "--db: not used with DATA" in result.output
        help_text = run(command, "--help").output
        assert "SQLite file or SQLAlchemy URL (default $POPSURVEY_DB or popsurvey.db)" in " ".join(
            help_text.split()
        )


def test_estimate_before_any_weighting_says_what_to_do(survey):
    url, survey_dir = survey
    result = run("estimate", "--survey", survey_dir, "--db", url, "--mean", "c03_age")
    assert result.exit_code == 1
    assert "no finished weighting run of form hhsurvey" in result.output
    assert "popsurvey weight --survey" in result.output


def test_the_survey_indicators_need_a_survey_form(survey):
    url, survey_dir = survey
    assert run("weight", "--survey", survey_dir, "--db", url).exit_code == 0
    result = run("estimate", "--survey", survey_dir, "--db", url)
    assert result.exit_code == 1 and "neither a birth history" in result.output


def test_configured_replicates_and_trimming_are_stored_and_used(survey, tmp_path):
    url, survey_dir = survey
    (survey_dir / "survey.toml").write_text(
        CONFIG + 'trim = [1, 1000]\nreplicates = { type = "JKn" }\n', encoding="utf-8"
    )
    result = run("weight", "--survey", survey_dir, "--db", url)
    assert result.exit_code == 0, result.output
    kept = stored(url)
    replicates = [c for c in kept.weights.columns if c.startswith("repw_")]
    assert len(replicates) == 4  # JKn: one replicate per PSU (2 strata x 2 PSUs)
    assert [s["method"] for s in kept.history][-1] == "trim"
    assert kept.spec["replicates"]["kind"] == "JKn"
    out = tmp_path / "mean.csv"
    result = run("estimate", "--survey", survey_dir, "--db", url, "--mean", "c03_age", "-o", out)
    assert result.exit_code == 0, result.output
    # by hand, as R's svrVar (mse = FALSE): sum_h (n_h - 1) / n_h sum (t_r - mean t_r)^2
    table = pd.read_csv(out)
    weights = kept.weights.set_index("__id")
    with open_store(url) as store, store.engine.connect() as conn:
        ages = {
            row.central_id: json.loads(row.raw_json)["c03_age"]
            for row in conn.execute(sa.text("select central_id, raw_json from submissions"))
        }
    age = np.array([ages[i] for i in weights.index], dtype=float)
    full = np.average(age, weights=weights["final"])
    reps = np.array([np.average(age, weights=weights[c]) for c in replicates])
    se = np.sqrt(np.sum(0.5 * (reps - reps.mean()) ** 2))
    assert table.loc[0, "estimate"] == pytest.approx(full, rel=1e-12)
    assert table.loc[0, "se"] == pytest.approx(se, rel=1e-10)


def test_a_later_visit_left_out_leaves_the_weighted_one_in_the_estimates(survey, tmp_path):
    url, survey_dir = survey
    later = tmp_path / "pull2"
    write_pages(later)
    page = later / "pages" / "hhsurvey" / "page-0001.json"
    b1 = next(r for r in json.loads(page.read_text())["value"] if r["hhid"] == "b1")
    b1.update(__id="uuid:20000000-0000-4000-8000-000000000001", a04_visit_no=2, c03_age=99)
    b1["meta"] = {"instanceID": b1["__id"]}
    page.write_text(json.dumps({"value": [b1]}))
    with open_store(url) as store:
        import_json_pages(store, later, "hhsurvey", FORM)
        with store.engine.begin() as conn:
            pk = conn.execute(
                sa.text("select id from submissions where central_id = :i"), {"i": b1["__id"]}
            ).scalar()
            conn.execute(
                sa.text(
                    "insert into validation_issues (submission_id, code, severity, message)"
                    " values (:s, 'V002', 'error', 'c03_age out of range')"
                ),
                {"s": pk},
            )
    assert run("weight", "--survey", survey_dir, "--db", url).exit_code == 0
    out = tmp_path / "age.csv"
    result = run("estimate", "--survey", survey_dir, "--db", url, "--mean", "c03_age", "-o", out)
    assert result.exit_code == 0, result.output
    assert pd.read_csv(out).loc[0, "n"] == 4  # b1's first visit, not the rejected second
    assert pd.read_csv(out).loc[0, "estimate"] < 99


def test_the_table_on_screen_has_no_none_or_nan(survey):
    url, survey_dir = survey
    assert run("weight", "--survey", survey_dir, "--db", url).exit_code == 0
    for language in ("en", "zh"):
        asked = ["--mean", "c03_age", "--proportion", "result=1", "--language", language]
        result = run("estimate", "--survey", survey_dir, "--db", url, *asked)
        assert result.exit_code == 0, result.output
        assert "None" not in result.output and "NaN" not in result.output
