"""Benchmark: a form's relevance and constraints over many submissions, compiled over
frames (forms.xpath.vectorized) vs per-record interpretation of the parsed trees.

    .venv/bin/python bench/bench_logic.py [--n 200000] [--sample 5000] [--seed 7]
        [--form forms/questionnaires/migrants.xlsx]

Submissions come from a seeded column-wise generator (forms.frames.random_frames). The
per-record interpreter is timed on a sample (``--sample`` submissions, the first rows of
the same frames) and scaled linearly to ``--n``; its results on the sample must be
IDENTICAL to the vectorised results on the same rows (checked by evaluating the
vectorised path on the sample too). Prints the ratio.

Both paths get the households attachment as a deployment would (``households.csv``, the
sample list of ``a02_hh``): 40 enumerators e001..e040 with ``--households`` households
each; 90 % of the random answers to ``a01_enum_code``/``a02_hh`` are valid codes, so the
``count(instance('households')/root/item[enumerator = current()]) > 0`` constraint both
passes and fails. ``--no-attachment`` runs without it (the lookups are "not evaluated").
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forms import read_form  # noqa: E402
from forms.frames import SubmissionFrames, frames_to_submissions, random_frames  # noqa: E402
from forms.xpath.vectorized import VectorLogic, differences, per_record_results  # noqa: E402

TODAY = date(2025, 7, 1)
COLUMNS = ("relevant", "constraint")
ENUMERATORS = [f"e{k:03d}" for k in range(1, 41)]


def households_rows(per_enumerator: int) -> list[dict[str, str]]:
    """A plausible households.csv: each enumerator's assigned households with the
    columns the questionnaires look up (hhid, psu, stratum, province, urban, address)."""
    rows = []
    for k, enumerator in enumerate(ENUMERATORS, start=1):
        province = ("31", "34", "44", "51")[k % 4]
        stratum = f"{province}{k % 3 + 1:02d}"
        for j in range(1, per_enumerator + 1):
            psu = f"{stratum}{k:03d}{(j - 1) // 10 + 1:02d}"
            hhid = f"{psu}{j:04d}"
            rows.append(
                {
                    "name": f"hh-{k:03d}-{j:03d}",
                    "label": f"{hhid} building {j}",
                    "hhid": hhid,
                    "psu": psu,
                    "stratum": stratum,
                    "province": province,
                    "urban": str(1 + k % 2),
                    "enumerator": enumerator,
                    "address": f"district {k}, street {j}",
                }
            )
    return rows


def write_households(path: Path, rows: list[dict[str, str]]) -> None:
    """Write the attachment as the CSV a deployment uploads to Central."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def read_households(path: Path) -> list[dict[str, str]]:
    """Read the attachment back as FormLogic/VectorLogic take it (file name -> rows)."""
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def head(frames: SubmissionFrames, n: int) -> SubmissionFrames:
    """The first ``n`` submissions of ``frames`` (with their repeat rows)."""
    main = frames.main.iloc[:n].reset_index(drop=True)
    keep_ids = set(main["__id"])
    repeats = {}
    for name, frame in frames.repeats.items():
        repeats[name] = frame[frame["__id"].isin(keep_ids)].reset_index(drop=True)
    return SubmissionFrames(form=frames.form, main=main, repeats=repeats)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--form", default=str(ROOT / "forms/questionnaires/migrants.xlsx"))
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--sample", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--households", type=int, default=25, help="households per enumerator")
    parser.add_argument("--no-attachment", action="store_true")
    args = parser.parse_args()

    form = read_form(args.form)
    rows = households_rows(args.households)
    attachments = {}
    if not args.no_attachment:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "households.csv"
            write_households(path, rows)
            attachments = {"households.csv": read_households(path)}
    logic = VectorLogic(form, attachments=attachments)
    pools = {"a01_enum_code": ENUMERATORS, "a02_hh": [r["name"] for r in rows]}
    expressions = sum(
        1
        for (_, column), c in logic.logic.expressions.items()
        if column in ("relevant", "constraint")
    )
    t0 = time.perf_counter()
    frames = random_frames(form, args.n, seed=args.seed, text_pools=pools)
    t_gen = time.perf_counter() - t0
    repeat_rows = sum(len(f) for f in frames.repeats.values())
    print(
        f"form {form.form_id}: {expressions} relevance/constraint expressions; "
        f"{args.n:,} submissions + {repeat_rows:,} repeat rows generated in {t_gen:.1f} s; "
        + (
            "no attachment"
            if args.no_attachment
            else f"households.csv attached ({len(rows):,} households)"
        )
    )

    t0 = time.perf_counter()
    vector = logic.evaluate(frames, today=TODAY, columns=COLUMNS)
    t_vec = time.perf_counter() - t0
    print(
        f"vectorised: {t_vec:.2f} s for {args.n:,} submissions "
        f"({len(vector.vectorised)} expressions compiled, {len(vector.fallbacks)} fell back "
        f"to the interpreter for {vector.fallback_records:,} records: {vector.fallbacks})"
    )

    sample = head(frames, args.sample)
    submissions = frames_to_submissions(sample)
    t0 = time.perf_counter()
    reference = per_record_results(logic.logic, submissions, today=TODAY, columns=COLUMNS)
    t_rec = time.perf_counter() - t0
    per_record_total = t_rec * args.n / args.sample
    print(
        f"per-record interpreter: {t_rec:.2f} s for {args.sample:,} submissions "
        f"-> {per_record_total:.1f} s scaled to {args.n:,}"
    )

    sample_vector = logic.evaluate(sample, today=TODAY, columns=COLUMNS)
    problems = differences(sample_vector, reference)
    full_vs_sample = _prefix_differences(vector, sample_vector, frames, sample)
    identical = not problems and not full_vs_sample
    print(f"identical results on the {args.sample:,}-submission sample: {identical}")
    if "a01_enum_code" in vector.constraint_ok:
        verdicts = list(vector.constraint_ok["a01_enum_code"])
        print(
            f"a01_enum_code constraint: {verdicts.count(True):,} pass, "
            f"{verdicts.count(False):,} fail, "
            f"{sum(v is not None for v in vector.not_evaluated['a01_enum_code']):,} not evaluated"
        )
    for line in (problems + full_vs_sample)[:20]:
        print("  DIFF", line)
    print(
        f"speed-up: {per_record_total / t_vec:.1f}x "
        f"(target >= 20x; vectorised {t_vec:.1f} s, target < 30 s)"
    )
    return 0 if identical else 1


def _prefix_differences(full, sample, frames, sample_frames) -> list[str]:
    """The full run's first rows must equal the sample run's (same data, same code)."""
    out = []
    for attribute in ("relevant", "constraint_ok", "not_evaluated"):
        for name, values in getattr(sample, attribute).items():
            whole = getattr(full, attribute)[name]
            rows = len(values)
            if list(whole[:rows]) != list(values):
                out.append(f"{name} {attribute}: full run differs from sample run")
    return out


if __name__ == "__main__":
    sys.exit(main())
