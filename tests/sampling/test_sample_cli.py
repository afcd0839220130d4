"""`popsurvey init` and `popsurvey sample draw/report/assign`, including bad input."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from surveys.cli import main


@pytest.fixture
def survey(tmp_path):
    result = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return tmp_path


def run(survey, *args):
    return CliRunner().invoke(main, [*args, "-c", str(survey / "survey.toml")])


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def assert_one_line_error(result, message):
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: {message}"), lines[0]
    assert "Traceback" not in result.output


def test_init_refuses_to_overwrite(survey):
    result = CliRunner().invoke(main, ["init", str(survey)])
    assert_one_line_error(result, f"{survey / 'survey.toml'}: already exists")


def test_draw_report_assign(survey):
    result = run(survey, "sample", "draw", "--synthetic-listing")
    assert result.exit_code == 0, result.output
    assert "Drew 64 PSUs (3 with certainty) in 8 strata" in result.output
    sample_dir = survey / "sample"
    for name in ("allocation.csv", "households.csv", "joint_psu.csv", "sample.json"):
        assert (sample_dir / name).is_file()

    report = run(survey, "sample", "report", "--format", "csv")
    assert report.exit_code == 0, report.output
    table = pd.read_csv(pd.io.common.StringIO(report.output), dtype={"stratum": str})
    body = table[table["stratum"] != "total"]
    assert (body["sum_pi"] == body["n"]).all()
    assert (body["psus_selected"] == body["n"]).all()
    assert (body["households_main"] == body["households_expected"]).all()
    assert table.iloc[-1]["n"] == 64

    households = pd.read_csv(sample_dir / "households.csv", dtype=str)
    done = households[households["role"] == "main"].head(100)[["hhid"]]
    done.to_csv(survey / "done.csv", index=False)
    completed = run(
        survey, "sample", "report", "--format", "json", "--completed", str(survey / "done.csv")
    )
    rows = json.loads(completed.output)
    assert rows[-1]["completed"] == 100

    assigned = run(survey, "sample", "assign")
    assert assigned.exit_code == 0, assigned.output
    entities = pd.read_csv(sample_dir / "entities" / "households.csv", dtype=str)
    assert len(entities) == 64 * 25
    assert {"name", "label", "hhid", "psu", "stratum", "enumerator", "province", "urban"} <= set(
        entities.columns
    )
    roster = pd.read_csv(survey / "enumerators.csv", dtype=str).set_index("id")["area"]
    assert (entities["enumerator"].map(roster) == entities["stratum"]).all()


def test_same_seed_same_files(survey, tmp_path_factory):
    other = tmp_path_factory.mktemp("again")
    assert run(survey, "sample", "draw", "--synthetic-listing").exit_code == 0
    assert run(survey, "sample", "draw", "--synthetic-listing", "-o", str(other)).exit_code == 0
    for name in ("households.csv", "clusters.csv", "joint_psu.csv"):
        assert (survey / "sample" / name).read_bytes() == (other / name).read_bytes()


FRAME_ROW = "37,379902001002,王泉社区,1,379902001,平营街道,379902,城东区,district,6333,"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            FRAME_ROW,
            FRAME_ROW.replace(",6333,", ",,"),
            "qingshan_frame.csv: row 3: village_id '379902001002': population is missing",
        ),
        (
            FRAME_ROW,
            FRAME_ROW.replace(",6333,", ",-6333,"),
            "qingshan_frame.csv: row 3: village_id '379902001002': population is negative",
        ),
        (
            FRAME_ROW,
            FRAME_ROW.replace("379902001002", "379902001001"),
            "qingshan_frame.csv: row 3: duplicate village_id '379902001001' (first at row 2)",
        ),
    ],
)
def test_bad_frame_rows(survey, old, new, message):
    edit(survey / "frame" / "qingshan_frame.csv", old, new)
    result = run(survey, "sample", "draw")
    assert_one_line_error(result, message)
    assert not (survey / "sample").exists()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "n = 64 ",
            "n = 5000 ",
            "survey.toml: sample.n: sample of 5000 units is larger than the frame (1543 units)",
        ),
        (
            'allocation = "proportional"',
            'allocation = "fixed"\nstratum_n = { "379902" = 2, "999999" = 3 }',
            "survey.toml: sample.stratum_n: allocation to unknown stratum '999999'",
        ),
        (
            'allocation = "proportional"',
            'allocation = "neyman"\nstratum_sd = { "379902" = 1.0 }',
            "survey.toml: sample.stratum_sd: Neyman allocation needs a standard deviation for "
            "stratum '379903'",
        ),
        ('size = "population"', 'sise = "population"', "survey.toml: sample.sise: unknown key"),
        (
            'strata = "county_id"',
            'strata = "county"',
            "qingshan_frame.csv: column 'county' not found",
        ),
    ],
)
def test_bad_design(survey, old, new, message):
    edit(survey / "survey.toml", old, new)
    assert_one_line_error(run(survey, "sample", "draw"), message)


def test_neyman_from_a_frame_column(survey):
    edit(
        survey / "survey.toml",
        'allocation = "proportional"',
        'allocation = "neyman"\nstratum_sd = "sd_ceb"',
    )
    assert run(survey, "sample", "draw").exit_code == 0


def test_failed_draw_keeps_the_previous_sample(survey):
    assert run(survey, "sample", "draw").exit_code == 0
    before = (survey / "sample" / "clusters.csv").read_bytes()
    edit(survey / "survey.toml", "n = 64 ", "n = 5000 ")
    assert run(survey, "sample", "draw").exit_code == 1
    assert (survey / "sample" / "clusters.csv").read_bytes() == before


def test_assign_needs_an_enumerator_in_every_area(survey):
    assert run(survey, "sample", "draw", "--synthetic-listing").exit_code == 0
    roster = survey / "enumerators.csv"
    lines = [
        x for x in roster.read_text(encoding="utf-8").splitlines() if not x.endswith(",379925")
    ]
    roster.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_one_line_error(run(survey, "sample", "assign"), "no enumerator has area '379925'")


def test_report_and_assign_without_a_sample(survey):
    assert_one_line_error(
        run(survey, "sample", "report"), f"{survey / 'sample'}: no sample.json here"
    )
    assert run(survey, "sample", "draw").exit_code == 0
    assert_one_line_error(
        run(survey, "sample", "assign"), f"{survey / 'sample'}: the sample has no households"
    )


def test_draw_from_a_listing_file(survey):
    assert run(survey, "sample", "draw", "--synthetic-listing").exit_code == 0
    listing = survey / "listing.csv"
    (survey / "sample" / "listing_synthetic.csv").rename(listing)
    edit(survey / "survey.toml", '# listing = "listing/households.csv"', 'listing = "listing.csv"')
    result = run(survey, "sample", "draw", "-o", str(survey / "again"))
    assert result.exit_code == 0, result.output
    first = (survey / "again" / "households.csv").read_bytes()
    assert first.count(b"\n") == 64 * 25 + 1
    text = listing.read_text(encoding="utf-8").splitlines()
    duplicate = text[2].split(",")[1]
    text[5] = ",".join([text[5].split(",")[0], duplicate, "x"])
    listing.write_text("\n".join(text) + "\n", encoding="utf-8")
    assert_one_line_error(
        run(survey, "sample", "draw"), f"listing.csv: row 6: duplicate hhid '{duplicate}'"
    )
