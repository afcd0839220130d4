"""Benchmark: simulate N migrant-questionnaire submissions (fill through the form logic,
OData records, audit logs), time and peak memory; baseline: the per-record interpreter
(FormSession filling question by question) timed on a few submissions in the same run.

    .venv/bin/python bench/bench_simulate.py [--n 200000] [--baseline 20] [--seed 1]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forms import read_form  # noqa: E402
from forms.logic import FormLogic  # noqa: E402
from surveys.simulate.output import simulate_to_directory  # noqa: E402


class Enum:
    def __init__(self, i: int) -> None:
        self.id, self.name = f"enum{i:04d}", f"调查员{i}"


def households(n: int, enumerators: int, seed: int) -> pd.DataFrame:
    """A synthetic sample list: n households, 20 per PSU, 31 provinces as strata."""
    rng = np.random.default_rng(seed)
    psu = np.arange(n) // 20
    province = np.array(["11", "31", "32", "33", "44", "37", "41", "51"])[psu % 8]
    return pd.DataFrame(
        {
            "name": [f"hh-{i:07d}" for i in range(n)],
            "hhid": [f"{i:010d}" for i in range(n)],
            "psu": psu.astype(str),
            "stratum": province,
            "province": province,
            "urban": np.where(psu % 3 == 0, "2", "1"),
            "address": "1栋1单元101室",
            "enumerator": [f"enum{(p % enumerators):04d}" for p in psu],
            "lat": 30 + rng.uniform(0, 8, n // 20 + 1)[psu],
            "lon": 110 + rng.uniform(0, 10, n // 20 + 1)[psu],
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--baseline", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=25_000)
    args = parser.parse_args()
    form = read_form(ROOT / "forms/questionnaires/migrants.xlsx")
    table = households(args.n, max(args.n // 400, 10), args.seed)
    roster = [Enum(i) for i in range(max(args.n // 400, 10))]
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        cpu0 = os.times()
        summary = simulate_to_directory(
            form,
            table,
            roster,
            Path(folder),
            seed=args.seed,
            start=date(2027, 7, 1),
            end=date(2027, 8, 31),
            workers=args.workers,
            chunk_size=args.chunk,
        )
        elapsed = time.perf_counter() - t0
        cpu1 = os.times()
        cpu = (cpu1.user + cpu1.system + cpu1.children_user + cpu1.children_system) - (
            cpu0.user + cpu0.system + cpu0.children_user + cpu0.children_system
        )
        files = sum(1 for _ in Path(folder).rglob("*.*"))
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    peak = max(peak_self, peak_children)
    print(
        f"simulated and wrote {summary.submissions:,} migrant submissions "
        f"({summary.pages} pages, {summary.audits:,} audit logs, {files:,} files, "
        f"{summary.planted:,} planted problems) in {elapsed:.1f} s with {args.workers} "
        f"worker(s); peak RSS {peak:,.0f} MB (main {peak_self:,.0f} MB, largest worker "
        f"{peak_children:,.0f} MB); {len(summary.issues)} unsatisfied constraints"
    )
    print(f"CPU time (main + workers): {cpu:.1f} s")
    print("summed over chunks: " + ", ".join(f"{k} {v:.1f} s" for k, v in summary.timings.items()))
    per = _baseline(form, table.head(args.baseline))
    print(
        f"baseline, per-record FormSession fill: {per * 1000:.0f} ms/submission -> "
        f"{per * args.n:,.0f} s for {args.n:,}; speed-up {per * args.n / elapsed:.0f}x"
    )
    total = peak_self + args.workers * peak_children
    verdict = "met" if elapsed < 120 and total < 4096 else "NOT met"
    print(f"target: < 120 s and < 4096 MB (main + workers x largest: {total:,.0f} MB) -> {verdict}")
    return 0


def _baseline(form, table: pd.DataFrame) -> float:
    """Seconds per submission filling question by question through FormSession."""
    logic = FormLogic(form, attachments={"households.csv": table.to_dict("records")})
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for row in table.itertuples():
        session = logic.session(today=date(2027, 7, 5))
        session.set("username", row.enumerator)
        session.set("today", "2027-07-05")
        for q in form.elements:
            if not q.holds_data or q.repeat or q.is_metadata:
                continue
            if not session.is_relevant(q):
                continue
            if q.calculation:
                session.set(q, session.calculate(q))
            elif q.type == "select_one_from_file":
                session.set(q, row.name)
            elif q.is_select:
                codes = session.choices_of(q) or ("1",)
                value = codes[int(rng.integers(0, len(codes)))]
                session.constraint_ok(q, value)
                session.set(q, value)
            elif q.type == "integer":
                value = int(rng.integers(1, 13))
                session.constraint_ok(q, value)
                session.set(q, value)
    return (time.perf_counter() - t0) / len(table)


if __name__ == "__main__":
    sys.exit(main())
