"""Detection of the simulator's planted problems by ``validation.quality`` at the default
thresholds: per profile, recall of planted enumerators and (overall) the share of honest
enumerators flagged; per-interview precision where the problem is per interview; and the
near-duplicate scan's recall against an exact all-pairs scan.

    .venv/bin/python bench/qc_detection.py [--form migrants|fertility] [--n 12000] [--per 60]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_qc import END, START, _save_cache, simulate_frames  # noqa: E402

from forms import read_form  # noqa: E402
from surveys.simulate import DemographyParams  # noqa: E402
from surveys.simulate.profiles import PROFILES  # noqa: E402
from validation.quality import QualityInputs, run_quality  # noqa: E402
from validation.quality.answers import answer_matrix  # noqa: E402
from validation.quality.near_duplicates import compared_rows, exact_scan, scan  # noqa: E402

PER_INTERVIEW = {
    # profile: (flag code, what counts as a true flag: planted instances of these profiles)
    "fabricator": ("Q201", ("fabricator", "curbstoner")),
    "duplicate_ids": ("Q102", ("duplicate_ids",)),
    "speeder": ("Q501", ("speeder", "partial_fab")),
    "night": ("Q502", ("night",)),
    "partial_fab": ("Q701", ("partial_fab", "gps_one_place")),
}


def _save(folder: Path, main_, repeats, audit, sample, profiles, planted) -> None:
    _save_cache(folder, main_, repeats, audit, sample)
    (folder / "profiles.json").write_text(json.dumps(profiles))
    planted.to_parquet(folder / "planted.parquet")
    (folder / "done").write_text("ok")


def _load(folder: Path):
    main_ = pd.read_parquet(folder / "main.parquet")
    repeats = {
        p.stem.removeprefix("repeat-"): pd.read_parquet(p) for p in folder.glob("repeat-*.parquet")
    }
    audit = pd.read_parquet(folder / "audit.parquet")
    sample = pd.read_parquet(folder / "sample.parquet")
    profiles = json.loads((folder / "profiles.json").read_text())
    return main_, repeats, audit, sample, profiles, pd.read_parquet(folder / "planted.parquet")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--form", default="migrants", choices=["migrants", "fertility"])
    parser.add_argument("--n", type=int, default=12_000)
    parser.add_argument("--per", type=int, default=60, help="households per enumerator")
    parser.add_argument("--share", type=float, default=0.02, help="enumerators per profile")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--omission",
        type=float,
        default=DemographyParams().daughter_omission,
        help="share of daughters an srb_skew enumerator leaves out (fertility)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/popsurvey-qc-detection"))
    args = parser.parse_args()
    path = ROOT / "forms" / "questionnaires" / f"{args.form}.xlsx"
    shares = {p: args.share for p in PROFILES if p != "honest"}
    t0 = time.perf_counter()
    demography = DemographyParams(daughter_omission=args.omission)
    cache = args.cache / f"{args.form}-{args.n}-{args.per}-{args.share}-{args.seed}"
    if args.form == "fertility":
        cache = cache.with_name(f"{cache.name}-omit{args.omission:g}")
    if (cache / "done").exists():
        main_, repeats, audit, sample, profiles, planted = _load(cache)
        print(f"read {len(main_):,} simulated {args.form} submissions from {cache}")
    else:
        main_, repeats, audit, sample, profiles, planted = simulate_frames(
            path,
            args.n,
            args.per,
            args.seed,
            args.workers,
            shares=shares,
            chunk=6000,
            demography=demography,
        )
        _save(cache, main_, repeats, audit, sample, profiles, planted)
        print(
            f"simulated {len(main_):,} {args.form} submissions by {len(profiles)} "
            f"enumerators in {time.perf_counter() - t0:.0f} s"
        )
    form = read_form(path)
    inputs = QualityInputs(
        form=form,
        main=main_,
        repeats=repeats,
        audit=audit,
        sample=sample,
        fieldwork=(START, END),
        # as the store path does (surveys.quality): the simulated fieldwork lies after
        # today's clock, which would make every interview one "in the future" (Q603)
        now=pd.to_datetime(main_["submission_date"], utc=True).max().to_pydatetime(),
    )
    t1 = time.perf_counter()
    report = run_quality(inputs)
    print(f"quality control: {time.perf_counter() - t1:.1f} s, {len(report.flags):,} flags")
    flagged = set(report.enumerators.loc[report.enumerators["flagged"], "enumerator"])
    by_profile = pd.Series(profiles)
    print(f"{'profile':<15}{'planted':>8}{'flagged':>8}{'recall':>8}   per-interview precision")
    rows = []
    for profile in [p for p in PROFILES if p != "honest"]:
        who = set(by_profile[by_profile == profile].index)
        hit = who & flagged
        precision = ""
        if profile in PER_INTERVIEW:
            code, truths = PER_INTERVIEW[profile]
            true_ids = set(planted.loc[planted["profile"].isin(truths), "instance_id"])
            if code == "Q201":  # a copy's source is half of the pair
                sources = planted.loc[planted["profile"] == "fabricator", "what"].str.split().str[2]
                true_ids |= set(sources)
            got = {f.instance_id for f in report.flags if f.code == code}
            mine = set(planted.loc[planted["profile"] == profile, "instance_id"])
            found = len(got & mine) / len(mine) if mine else float("nan")
            precision = (
                f"{code}: {len(got & true_ids)}/{len(got)} = "
                f"{len(got & true_ids) / max(len(got), 1):.3f}; planted found {found:.3f}"
            )
        recall = len(hit) / len(who) if who else float("nan")
        rows.append((profile, len(who), len(hit), recall))
        print(f"{profile:<15}{len(who):>8}{len(hit):>8}{recall:>8.2f}   {precision}")
    honest = set(by_profile[by_profile == "honest"].index)
    wrong = honest & flagged
    print(
        f"honest enumerators flagged: {len(wrong)} of {len(honest)} "
        f"({len(wrong) / max(len(honest), 1):.1%})"
    )
    for row in report.enumerators[report.enumerators["enumerator"].isin(wrong)].itertuples():
        print(f"    {row.enumerator}: {row.reasons_en}")
    missed = [(e, profiles[e]) for e in sorted(set(profiles) - honest - flagged)]
    print(f"planted enumerators not flagged: {missed}")
    _omission(report, profiles)
    _multiple(report, profiles)
    matrix, _ = answer_matrix(inputs)
    rows_compared = compared_rows(matrix, inputs.completed)
    threshold = inputs.thresholds.near_duplicate_share
    t2 = time.perf_counter()
    exact = {tuple(p) for p in rows_compared[exact_scan(matrix[rows_compared], threshold)].tolist()}
    t3 = time.perf_counter()
    found = {tuple(p) for p in scan(matrix, threshold, rows_compared).pairs.tolist()}
    t4 = time.perf_counter()
    print(
        f"near-duplicate pairs >= {threshold}: exact all-pairs {len(exact):,} "
        f"({t3 - t2:.1f} s), block scan {len(found):,} ({t4 - t3:.2f} s); "
        f"recall {len(exact & found) / max(len(exact), 1):.3f}, "
        f"identical sets: {exact == found}"
    )
    return 0


def _omission(report, profiles) -> None:
    """Q806 (omitted daughters) per srb_skew enumerator, its "needs a look" notes by
    profile, and its areas that need a look."""
    table = report.indicators[report.indicators["indicator"] == "daughters_per_woman"]
    if not len(table):
        return
    table = table.set_index("enumerator")
    skewed = sorted(e for e, p in profiles.items() if p == "srb_skew")
    print(
        "Q806 z of the srb_skew enumerators: "
        + ", ".join(f"{e} {table.loc[e, 'z']:.2f}" for e in skewed if e in table.index)
    )
    notes = [f.enumerator for f in report.flags if f.code == "Q806" and f.instance_id is None]
    by_profile = pd.Series([profiles.get(e, "?") for e in notes]).value_counts().to_dict()
    print(f"Q806 'needs a look' notes: {len(notes)} ({by_profile or 'none'}): {sorted(notes)}")
    areas = report.notes.get("omitted_daughters", {}).get("areas", [])
    looked = [a for a in areas if a["needs_a_look"]]
    print(
        f"Q806 per area: {len(areas)} areas, {len(looked)} need a look; lowest z "
        + (f"{min(a['z'] for a in areas):.2f}" if areas else "-")
    )


def _multiple(report, profiles) -> None:
    """Interviews with two or more kinds of anomaly: the indicator of each planted partial
    fabricator and of the honest enumerators with the highest signal."""
    table = report.indicators[report.indicators["indicator"] == "multiple_anomaly_share"]
    if not len(table):
        return
    table = table.assign(profile=table["enumerator"].map(profiles).fillna("?"))
    notes = report.notes.get("multiple_anomalies", {})
    print(
        f"two or more kinds of anomaly: {notes.get('interviews', 0)} of "
        f"{notes.get('completed', 0)} interviews; most frequent: "
        + ", ".join(f"{k} {v}" for k, v in list(notes.get("combinations", {}).items())[:4])
        + f"; step {report.timings['multiple_anomalies']:.3f} s wall, "
        f"{report.cpu_timings['multiple_anomalies']:.3f} s CPU"
    )

    def line(row) -> str:
        return (
            f"{row.enumerator} {int(row.successes)}/{int(row.n)} ({row.value:.1%}) "
            f"team {row.team:.2%} z {row.z:.2f}"
        )

    partial = table[table["profile"] == "partial_fab"].sort_values("enumerator")
    print("  partial_fab: " + "; ".join(line(r) for r in partial.itertuples()))
    honest = table[table["profile"] == "honest"].sort_values("signal", ascending=False)
    print("  honest, highest 3: " + "; ".join(line(r) for r in honest.head(3).itertuples()))
    flagged = table[table["flagged"]].groupby("profile").size().to_dict()
    print(f"  flagged on this indicator by profile: {flagged}")


if __name__ == "__main__":
    sys.exit(main())
