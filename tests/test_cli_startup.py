"""The command line starts fast: help and a small `form check` load no statistics stack.

A small form is checked as markdown, CSV and .xlsx (pyxform loads openpyxl, which would
load numpy but for ``forms.openpyxl_numbers``).

Each check runs in a fresh interpreter (the test process itself has pandas loaded) and
lists the heavy modules found in ``sys.modules`` afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("pandas", "numpy", "scipy")

PROBE = r"""
import json, sys
from surveys.cli import main

HEAVY = json.loads(sys.argv[1])

def heavy():
    return sorted(m for m in HEAVY if m in sys.modules)

def run(args):
    try:
        main.main(args, standalone_mode=False)
    except SystemExit:
        pass

report = {}
mode = sys.argv[2]
if mode == "help":
    run(["--help"])
    report["popsurvey --help"] = heavy()
    import click
    ctx = click.Context(main)
    for name in main.list_commands(ctx):
        run([name, "--help"])
        report[f"popsurvey {name} --help"] = heavy()
        command = main.get_command(ctx, name)
        if isinstance(command, click.Group):
            for sub in command.commands:
                run([name, sub, "--help"])
                report[f"popsurvey {name} {sub} --help"] = heavy()
else:
    import contextlib, io
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run(["form", "check", "--no-validate", "--format", "json", sys.argv[3]])
    report["form check"] = heavy()
    checked = json.loads(out.getvalue())
    report["checked"] = [f["pyxform"] == "converted" for f in checked["files"]] == [True]
print(json.dumps(report))
"""


def _probe(*args: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_of_every_command_imports_no_heavy_module():
    report = _probe("help")
    assert "popsurvey --help" in report and len(report) > 10
    loaded = {command: mods for command, mods in report.items() if mods}
    assert not loaded, f"heavy modules imported by help: {loaded}"


SMALL_FORM = [
    ["type", "name", "label"],
    ["text", "q1", "Name"],
    ["integer", "age", "Age"],
    ["select_one yn", "ok", "OK?"],
]
SMALL_CHOICES = [["list_name", "name", "label"], ["yn", "1", "Yes"], ["yn", "2", "No"]]


def _write_small_form(path):
    if path.suffix == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        survey = book.active
        survey.title = "survey"
        for row in SMALL_FORM:
            survey.append(row)
        choices = book.create_sheet("choices")
        for row in SMALL_CHOICES:
            choices.append(row)
        book.save(path)
    elif path.suffix == ".csv":
        rows = [["survey"]] + [["", *r] for r in SMALL_FORM]
        rows += [["choices"]] + [["", *r] for r in SMALL_CHOICES]
        path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    else:
        lines = ["| survey | | | |"] + ["| | " + " | ".join(r) + " |" for r in SMALL_FORM]
        lines += ["| choices | | | |"] + ["| | " + " | ".join(r) + " |" for r in SMALL_CHOICES]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("suffix", [".md", ".csv", ".xlsx"])
def test_form_check_of_a_small_form_imports_no_statistics_stack(tmp_path, suffix):
    form = tmp_path / f"small{suffix}"
    _write_small_form(form)
    report = _probe("check", str(form))
    assert report["form check"] == [], report
    assert report["checked"], report  # the check really ran: pyxform converted the form
