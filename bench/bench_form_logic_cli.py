"""Benchmark: ``popsurvey form logic FORM SUBMISSIONS.json`` on a page of submissions with the
households attachment, the vectorised engine (``--engine vector``, what ``auto`` picks for
20 submissions or more) against the per-record engine (``--engine per-record``, the path
every file took before issue #12), both through the command line in the same run.

    .venv/bin/python bench/bench_form_logic_cli.py [--n 280] [--sample 20] [--seed 7]

The submissions are seeded random ones of forms/questionnaires/migrants.xlsx
(forms.frames.random_frames, as bench_logic.py), written as one OData page. The per-record
engine is timed on the first ``--sample`` submissions and scaled linearly to ``--n``.
Prints both times and the ratio.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_logic import ENUMERATORS, households_rows, write_households  # noqa: E402
from click.testing import CliRunner  # noqa: E402

from forms import read_form  # noqa: E402
from forms.frames import frames_to_submissions, random_frames  # noqa: E402
from surveys.cli import main as cli  # noqa: E402

TODAY = "2025-07-01"


def timed(args: list[str]) -> tuple[float, str]:
    """Seconds one ``popsurvey`` command takes (in this process) and its first line."""
    start = time.perf_counter()
    result = CliRunner().invoke(cli, args)
    seconds = time.perf_counter() - start
    if result.exit_code not in (0, 1):
        raise SystemExit(f"{args}: exit {result.exit_code}: {result.output}")
    return seconds, (result.output.splitlines() or [""])[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--form", default=str(ROOT / "forms/questionnaires/migrants.xlsx"))
    parser.add_argument("--n", type=int, default=280)
    parser.add_argument("--sample", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    form = read_form(args.form)
    rows = households_rows(25)
    pools = {"a01_enum_code": ENUMERATORS, "a02_hh": [r["name"] for r in rows]}
    submissions = frames_to_submissions(
        random_frames(form, args.n, seed=args.seed, text_pools=pools)
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        households = folder / "households.csv"
        write_households(households, rows)
        page = folder / "page.json"
        page.write_text(json.dumps({"value": submissions}, default=str), encoding="utf-8")
        sample = folder / "sample.json"
        sample.write_text(
            json.dumps({"value": submissions[: args.sample]}, default=str), encoding="utf-8"
        )
        common = ["--today", TODAY, "--attachment", str(households), "-q"]
        t_vec, line = timed(["form", "logic", args.form, str(page), "--engine", "vector", *common])
        print(f"vector: {t_vec:.2f} s for {args.n} submissions: {line}")
        t_rec, _ = timed(
            ["form", "logic", args.form, str(sample), "--engine", "per-record", *common]
        )
        scaled = t_rec * args.n / args.sample
        print(
            f"per-record: {t_rec:.2f} s for {args.sample} submissions -> {scaled:.1f} s "
            f"scaled to {args.n}"
        )
        print(f"speed-up: {scaled / t_vec:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
