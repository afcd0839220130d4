"""Benchmark: a form's relevance and constraints over many submissions, compiled over
frames (forms.xpath.vectorized) vs per-record interpretation of the parsed trees.

    .venv/bin/python bench/bench_logic.py [--n 200000] [--sample 5000] [--seed 7]
        [--form forms/questionnaires/migrants.xlsx]

Submissions come from a seeded column-wise generator (forms.frames.random_frames). The
per-record interpreter is timed on a sample (``--sample`` submissions, the first rows of
the same frames) and scaled linearly to ``--n``; its results on the sample must be
IDENTICAL to the vectorised results on the same rows (checked by evaluating the
vectorised path on the sample too). Prints the ratio.
"""

from __future__ import annotations

import argparse
import sys
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
    args = parser.parse_args()

    form = read_form(args.form)
    logic = VectorLogic(form)
    expressions = sum(
        1
        for (_, column), c in logic.logic.expressions.items()
        if column in ("relevant", "constraint")
    )
    t0 = time.perf_counter()
    frames = random_frames(form, args.n, seed=args.seed)
    t_gen = time.perf_counter() - t0
    repeat_rows = sum(len(f) for f in frames.repeats.values())
    print(
        f"form {form.form_id}: {expressions} relevance/constraint expressions; "
        f"{args.n:,} submissions + {repeat_rows:,} repeat rows generated in {t_gen:.1f} s"
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
    for attribute in ("relevant", "constraint_ok"):
        for name, values in getattr(sample, attribute).items():
            whole = getattr(full, attribute)[name]
            rows = len(values)
            if list(whole[:rows]) != list(values):
                out.append(f"{name} {attribute}: full run differs from sample run")
    return out


if __name__ == "__main__":
    sys.exit(main())
