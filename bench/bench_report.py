"""Benchmark: the daily report (HTML, workbook, text summary) for N interviews by E
enumerators, against the raw cost of dumping the same tables to CSV in the same run.

    .venv/bin/python bench/bench_report.py [--n 200000] [--enumerators 2000] [--seed 3]

The inputs are what ``surveys.reporting.gather`` hands the library: interviews with ISO
start/end strings (device offset +08:00), GPS and the sampled dwelling's coordinates,
review states; about 12% of the interviews flagged (1-3 flags each, seven checks) plus
enumerator-level flags; the sample (N x 1.1 units in 8 counties, 20 per PSU); live births
(0.8 per interview) and respondents' ages. Targets: report under 30 s, HTML under 10 MB.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from validation.report import ReportInputs, write_report  # noqa: E402

CHECKS = ("duration", "gps", "night", "dont_know", "outlier", "logic", "near_duplicate")


def inputs(n: int, enumerators: int, seed: int) -> ReportInputs:
    """Seeded synthetic inputs of the report's contract."""
    rng = np.random.default_rng(seed)
    codes = np.array([f"enum{k:04d}" for k in range(enumerators)])
    enumerator = codes[np.sort(rng.integers(0, enumerators, n))]
    units = int(n * 1.1)
    psu_of_unit = np.arange(units) // 20
    county_names = np.array(
        ["城东区", "城西区", "青山区", "河口县", "松溪县", "白石县", "北岭县", "南湖县"]
    )
    psu_lat = 36.0 + rng.random(psu_of_unit.max() + 1) * 1.5
    psu_lon = 116.5 + rng.random(psu_of_unit.max() + 1) * 1.5
    unit_index = rng.permutation(units)[:n]
    day = rng.integers(0, 60, n)
    hour = np.clip(rng.normal(13, 3, n).round(), 0, 23).astype(int)
    start = (
        pd.Timestamp("2027-07-01")
        + pd.to_timedelta(day, unit="D")
        + pd.to_timedelta(hour, unit="h")
        + pd.to_timedelta(rng.integers(0, 3600, n), unit="s")
    )
    minutes = np.exp(rng.normal(3.4, 0.35, n))
    end = start + pd.to_timedelta(minutes, unit="m")
    unit_lat = psu_lat[psu_of_unit[unit_index]]
    unit_lon = psu_lon[psu_of_unit[unit_index]]
    interviews = pd.DataFrame(
        {
            "instance_id": [f"uuid:{k:012d}" for k in range(n)],
            "enumerator": enumerator,
            "start": start.strftime("%Y-%m-%dT%H:%M:%S.000+08:00"),
            "end": end.strftime("%Y-%m-%dT%H:%M:%S.000+08:00"),
            "unit": unit_index.astype(str),
            "psu": psu_of_unit[unit_index].astype(str),
            "county": county_names[psu_of_unit[unit_index] % 8],
            "lat": unit_lat + rng.normal(0, 0.004, n),
            "lon": unit_lon + rng.normal(0, 0.004, n),
            "unit_lat": unit_lat,
            "unit_lon": unit_lon,
            "review_state": rng.choice(
                np.array([None, "approved", "hasIssues", "rejected"], dtype=object),
                n,
                p=[0.7, 0.25, 0.03, 0.02],
            ),
        }
    )
    flagged = rng.random(n) < 0.12
    repeats = rng.integers(1, 4, flagged.sum())
    rows = np.repeat(np.flatnonzero(flagged), repeats)
    flags = pd.DataFrame(
        {
            "instance_id": interviews["instance_id"].to_numpy()[rows],
            "enumerator": enumerator[rows],
            "check": rng.choice(np.array(CHECKS), len(rows)),
            "severity": rng.choice(np.array(["error", "warning"]), len(rows), p=[0.3, 0.7]),
            "value": rng.random(len(rows)) * 100,
            "message": [
                f"值 {v:.1f} 超出范围 (value outside the range)"
                for v in rng.random(len(rows)) * 100
            ],
        }
    )
    level = rng.choice(codes, enumerators // 10, replace=False)
    flags = pd.concat(
        [
            flags,
            pd.DataFrame(
                {
                    "instance_id": None,
                    "enumerator": level,
                    "check": "srb",
                    "severity": "error",
                    "value": 150.0,
                    "message": "sex ratio at birth 150",
                }
            ),
        ],
        ignore_index=True,
    )
    status = rng.choice(np.array(["complete", "incomplete", "pending"]), units, p=[0.7, 0.2, 0.1])
    progress = pd.DataFrame(
        {
            "unit": np.arange(units).astype(str),
            "county": county_names[psu_of_unit % 8],
            "psu": psu_of_unit.astype(str),
            "status": status,
        }
    )
    mothers = rng.integers(0, n, int(0.8 * n))
    births = pd.DataFrame(
        {
            "enumerator": enumerator[mothers],
            "sex": rng.choice(np.array(["male", "female"]), len(mothers), p=[0.53, 0.47]),
        }
    )
    ages = pd.DataFrame({"enumerator": enumerator, "age": rng.integers(15, 61, n)})
    roster = pd.DataFrame(
        {
            "enumerator": codes,
            "name": [f"调查员{k}" for k in range(enumerators)],
            "team": [f"team{k // 20:03d}" for k in range(enumerators)],
        }
    )
    return ReportInputs(
        interviews=interviews, flags=flags, enumerators=roster, progress=progress,
        births=births, ages=ages, title="Benchmark survey",
        generated_at=pd.Timestamp("2027-08-30 07:00").to_pydatetime(),
    )  # fmt: skip


def main() -> int:
    """Run the benchmark and print the results."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--enumerators", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    t0 = time.perf_counter()
    data = inputs(args.n, args.enumerators, args.seed)
    made = time.perf_counter() - t0
    print(
        f"inputs: {len(data.interviews):,} interviews by {args.enumerators:,} enumerators, "
        f"{len(data.flags):,} flags, {len(data.progress):,} sampled units, "
        f"{len(data.births):,} births (generated in {made:.1f} s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        t0 = time.perf_counter()
        for name in ("interviews", "flags", "progress", "births", "ages"):
            getattr(data, name).to_csv(out / f"{name}.csv", index=False)
        baseline = time.perf_counter() - t0
        timings = {}
        for language in ("zh", "en"):
            t0, c0 = time.perf_counter(), time.process_time()
            files = write_report(data, out / "report", language)
            timings[language] = time.perf_counter() - t0
            cpu = time.process_time() - c0
            html = files.html.stat().st_size
            book = files.workbook.stat().st_size
            print(
                f"report ({language}): {timings[language]:.1f} s wall, {cpu:.1f} s CPU; "
                f"HTML {html / 1e6:.2f} MB, "
                f"workbook {book / 1e6:.2f} MB, summary {files.summary.stat().st_size} bytes"
            )
        worst = max(timings.values())
        print(f"baseline (the same tables to CSV with pandas): {baseline:.1f} s")
        print(f"ratio report / baseline: {worst / baseline:.1f}x")
        ok = worst < 30 and html < 10e6
        print(
            f"targets: report {worst:.1f} s < 30 s, HTML {html / 1e6:.2f} MB < 10 MB: "
            f"{'met' if ok else 'NOT met'} (load {os.getloadavg()[0]:.1f})"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
