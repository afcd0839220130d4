"""Long runs show progress (issue #12, item 15): simulate, import, form logic and the demo's
stages call the one progress helper (surveys.cli.progress) up to their total, and nothing
is drawn when the output is not a terminal."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import surveys.cli.progress as progress_module
from surveys.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "logic"))
from forms_fixtures import HOUSEHOLD_MD, household_submission


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def bars(monkeypatch):
    """Every progress bar the CLI opens: label -> the (done, total) calls it got."""
    calls: dict[str, list[tuple[int, int | None]]] = {}
    real = progress_module.progress_bar

    @contextlib.contextmanager
    def recording(label: str, quiet: bool = False):
        calls[label] = []
        with real(label, quiet) as draw:

            def update(done: int, total: int | None) -> None:
                calls[label].append((done, total))
                draw(done, total)

            yield update

    monkeypatch.setattr(progress_module, "progress_bar", recording)
    return calls


def finished(calls: list[tuple[int, int | None]]) -> bool:
    return bool(calls) and calls[-1][0] == calls[-1][1] and calls[-1][1] > 0


def _simulated(tmp_path: Path) -> Path:
    from surveys.example import write_example

    write_example(tmp_path, force=True)
    entities = tmp_path / "entities.csv"
    lines = [f"h{i},enum00{1 + i % 3},{i},379902" for i in range(30)]
    entities.write_text("name,enumerator,hhid,stratum\n" + "\n".join(lines) + "\n")
    form = tmp_path / "hh.md"
    form.write_text(
        "| settings |\n| | form_id | version |\n| | hh | 1 |\n"
        "| survey |\n| | type | name | label |\n| | text | hhid | HH |\n| | integer | n | N |\n",
        encoding="utf-8",
    )
    out = tmp_path / "sim"
    result = run(
        "simulate", tmp_path / "survey.toml", "--entities", entities, "--form", form, "--out", out
    )
    assert result.exit_code == 0, result.output
    return out


def test_simulate_and_import_show_progress_up_to_their_total(tmp_path, bars):
    out = _simulated(tmp_path)
    assert finished(bars["simulate hh"]) and bars["simulate hh"][-1] == (30, 30)
    result = run("import", out, "--db", tmp_path / "s.db")
    assert result.exit_code == 0, result.output
    assert bars["import"][-1] == (30, 30)


def test_form_logic_shows_progress_on_both_engines(tmp_path, bars):
    form = tmp_path / "household.md"
    form.write_text(HOUSEHOLD_MD, encoding="utf-8")
    records = [household_submission(__id=f"uuid:{i}") for i in range(25)]
    subs = tmp_path / "subs.json"
    subs.write_text(json.dumps(records), encoding="utf-8")
    run("form", "logic", form, subs, "--today", "2024-07-01")
    assert finished(bars["form logic"])
    run("form", "logic", form, subs, "--today", "2024-07-01", "--engine", "per-record")
    assert bars["form logic"][-1] == (25, 25)


def test_no_progress_is_drawn_when_output_is_not_a_terminal(tmp_path):
    out = _simulated(tmp_path)
    result = run("import", out, "--db", tmp_path / "s.db")
    assert result.exit_code == 0
    assert result.output.strip().splitlines() == [
        "hh from import:json: 30 new, 0 edited, 0 updated, 0 unchanged; 0 audit events"
    ]


def test_the_demo_shows_its_stages(tmp_path, bars):
    result = run("demo", tmp_path / "demo", "--no-validate")
    assert result.exit_code == 0, result.output
    from surveys.pipeline import DEMO_STAGES

    total = len(DEMO_STAGES)
    stages = bars["demo stages"]
    assert stages[0] == (0, total) and stages[-1] == (total, total)
