"""``form logic FORM SUBMISSIONS`` with many submissions (issue #12, item 14): the vectorised
engine, a summary first, each finding on request; the same findings as the per-record path."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from click.testing import CliRunner

from surveys.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "logic"))
from forms_fixtures import HOUSEHOLD_MD, household_submission


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def many(tmp_path: Path, n: int = 60) -> tuple[Path, Path]:
    form = tmp_path / "household.md"
    form.write_text(HOUSEHOLD_MD, encoding="utf-8")
    records = []
    for i in range(n):
        overrides = {"__id": f"uuid:{i:04d}", "meta": {"instanceID": f"uuid:{i:04d}"}}
        if i % 10 == 3:
            overrides["hhsize"] = 25  # violates the constraint
        records.append(household_submission(**overrides))
    path = tmp_path / "subs.json"
    path.write_text(json.dumps({"value": records}), encoding="utf-8")
    return form, path


def test_many_submissions_give_a_summary_from_the_vectorised_engine(tmp_path):
    form, subs = many(tmp_path)
    result = run("form", "logic", form, subs, "--today", "2024-07-01")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("60 submission(s) of form household checked (vectorised")
    assert "6 with findings" in lines[0]
    assert any("error X101 constraint violated: 6 (hhsize (6))" in line for line in lines)
    assert "submission uuid:" not in result.output  # no line per submission
    assert len(lines) < 10


def test_details_on_request_and_the_same_findings_as_per_record(tmp_path):
    form, subs = many(tmp_path)
    detailed = run("form", "logic", form, subs, "--today", "2024-07-01", "--details")
    assert detailed.output.count("X101") == 7  # the summary line and six findings
    vector = json.loads(
        run("form", "logic", form, subs, "--today", "2024-07-01", "--format", "json").output
    )
    per_record = json.loads(
        run(
            "form",
            "logic",
            form,
            subs,
            "--today",
            "2024-07-01",
            "--format",
            "json",
            "--engine",
            "per-record",
        ).output
    )

    def x10x(entries):
        return sorted(
            (e["instance_id"], v["code"], v["variable"])
            for e in entries["submissions"]
            for v in e["violations"]
            if v["code"] in ("X101", "X102", "X103")
        )

    assert x10x(vector) == x10x(per_record) and len(x10x(vector)) == 6
