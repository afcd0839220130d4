"""The command line starts fast: help and a small `form check` load no statistics stack.

Each check runs in a fresh interpreter (the test process itself has pandas loaded) and
lists the heavy modules found in ``sys.modules`` afterwards.
"""

from __future__ import annotations

import json
import subprocess
import sys

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
    run(["form", "check", "--no-validate", sys.argv[3]])
    report["form check"] = heavy()
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


def test_form_check_of_a_small_form_imports_no_statistics_stack(tmp_path):
    form = tmp_path / "small.md"
    form.write_text(
        "| survey |         |      |       |\n"
        "|        | type    | name | label |\n"
        "|        | text    | q1   | Name  |\n"
        "|        | integer | age  | Age   |\n",
        encoding="utf-8",
    )
    report = _probe("check", str(form))
    # numpy may come with pyxform's own openpyxl (it registers numpy number types when it
    # can); popsurvey's code must not add pandas or scipy on top
    assert not {"pandas", "scipy"} & set(report["form check"]), report
