"""CLI start-up: help, a command's --help and `form check` on a small form against a bare
interpreter start.

    .venv/bin/python bench/bench_cli_startup.py [--repeat 7]

Each command runs in a fresh interpreter `--repeat` times; the median wall time is printed
with its ratio to `python -c pass` (the baseline, timed in the same run) and to
`python -c "import pandas"` (what a heavy import costs on this machine right now), and the
heavy modules (pandas, numpy, scipy) each command loaded. The small form (three questions,
one choice list) is written to a temporary directory as markdown, CSV and .xlsx and checked
with ``--no-validate`` (ODK Validate's Java start would swamp the Python start-up).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROBE = (
    "import sys, json\n"
    "from surveys.cli import main\n"
    "try:\n"
    "    main.main(sys.argv[1:], standalone_mode=False)\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(json.dumps(sorted(m for m in ('pandas', 'numpy', 'scipy') if m in sys.modules)),"
    " file=sys.stderr)\n"
)

CASES = {
    "python -c pass (baseline)": [sys.executable, "-c", "pass"],
    "python -c 'import pandas'": [sys.executable, "-c", "import pandas"],
    "popsurvey --help": [sys.executable, "-c", PROBE, "--help"],
    "popsurvey estimate --help": [sys.executable, "-c", PROBE, "estimate", "--help"],
    "popsurvey sample draw --help": [sys.executable, "-c", PROBE, "sample", "draw", "--help"],
}

SMALL_FORM = [
    ["type", "name", "label"],
    ["text", "q1", "Name"],
    ["integer", "age", "Age"],
    ["select_one yn", "ok", "OK?"],
]
SMALL_CHOICES = [["list_name", "name", "label"], ["yn", "1", "Yes"], ["yn", "2", "No"]]


def write_small_forms(directory: Path) -> dict[str, Path]:
    """The small form as markdown, CSV and .xlsx in ``directory``."""
    from openpyxl import Workbook

    md = directory / "small.md"
    lines = ["| survey | | | |"] + ["| | " + " | ".join(r) + " |" for r in SMALL_FORM]
    lines += ["| choices | | | |"] + ["| | " + " | ".join(r) + " |" for r in SMALL_CHOICES]
    md.write_text("\n".join(lines) + "\n", encoding="utf-8")
    csv = directory / "small.csv"
    rows = [["survey"]] + [["", *r] for r in SMALL_FORM]
    rows += [["choices"]] + [["", *r] for r in SMALL_CHOICES]
    csv.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding="utf-8")
    xlsx = directory / "small.xlsx"
    book = Workbook()
    book.active.title = "survey"
    for row in SMALL_FORM:
        book.active.append(row)
    choices = book.create_sheet("choices")
    for row in SMALL_CHOICES:
        choices.append(row)
    book.save(xlsx)
    return {"md": md, "csv": csv, "xlsx": xlsx}


def timed(command: list[str], repeat: int) -> tuple[float, float, str]:
    """Median wall and CPU time (the child's user + system) of ``command`` and the heavy
    modules it reported."""
    times, cpu, heavy = [], [], ""
    for _ in range(repeat):
        before = os.times()
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        after = os.times()
        cpu.append(
            after.children_user
            - before.children_user
            + after.children_system
            - before.children_system
        )
        lines = done.stderr.strip().splitlines()
        heavy = ", ".join(json.loads(lines[-1])) if lines and lines[-1].startswith("[") else ""
    return statistics.median(times), statistics.median(cpu), heavy


def main() -> None:
    """Time every case and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        forms = write_small_forms(Path(tmp))
        cases = dict(CASES)
        for kind, path in forms.items():
            check = ["form", "check", "--no-validate", str(path)]
            cases[f"popsurvey form check small.{kind}"] = [sys.executable, "-c", PROBE, *check]
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        results = {name: timed(command, args.repeat) for name, command in cases.items()}
        print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    base = results["python -c pass (baseline)"][0]
    pandas = results["python -c 'import pandas'"][0]
    for name, (seconds, cpu, heavy) in results.items():
        print(
            f"{name:<36} {seconds:6.3f} s wall {cpu:6.3f} s CPU  {seconds / base:5.2f}x baseline  "
            f"{seconds / pandas:5.2f}x import pandas  heavy: {heavy or '-'}"
        )


if __name__ == "__main__":
    main()
