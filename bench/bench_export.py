"""Benchmark: a labelled export of 200,000 rows x 300 variables to .dta and .sav, against raw
writers of the same prepared frame measured in the same run.

    .venv/bin/python bench/bench_export.py            # --rows 200000 --seed 5 --rounds 2

The form (generated, seeded): 150 select_one questions over 10 choice lists of 8 labelled
choices plus don't-know/refused codes, 60 integers, 8 select_multiple with 8 choices (the raw
string plus 8 dummies each), 12 texts, 6 dates; half of the questions are relevant only when
``consent = 1``. 300 exported variables besides the keys, 200,000 rows
(``forms.frames.random_frames``), handed to the export as the store hands them to
``popsurvey export`` (``analysis_frames(coded=True)``: select_one and select_multiple columns as
categoricals made by the store's own :func:`forms.frames.coded_column`). First, on ``--build-rows``
submissions, the store's frame building (``records_frames``: what ``analysis_frames`` runs
on the stored JSON) with select columns as text and as codes: what the codes cost before
the export.

Timed, each format on its own:

- **full export**: :func:`exports.export_frames` with everything -- relevance evaluated by the
  form logic engine, values prepared, variable and value labels, SPSS user-missing / Stata
  extended missing values, the do-file, SPSS syntax, codebook (XLSX, Markdown), provenance;
- **pyreadstat raw**: ``pyreadstat.write_dta``/``write_sav`` of the same prepared values (what
  the export hands to pyreadstat when it is the writer) with no labels and no metadata;
- **polars-readstat raw** (a test extra; ``--writer polars-readstat``): its
  ``write_readstat`` of the same values as polars, exactly what the export hands to it
  (for .dta whole numbers as Int8/Int16/Int32 with nulls, stored as byte/int/long, others
  Float64 with nulls; for .sav every number Float64; text as String), no labels; for .sav
  also bytecode-compressed (``polars-readstat raw bytecode``), as the export writes a .sav;
- **popsurvey raw**: popsurvey's own writer of the same prepared dataset with no labels,
  formats, missing-value declarations or hashing (.sav bytecode-compressed, the export's
  default): what the export adds to its own bare write. Printed beside the ReadStat
  writers; the target is read against the fastest ReadStat writer (the issue's baselines).

Each ``--rounds`` times, full export and raw writes alternating so that neither is always
first in a cold process; every round is printed and the fastest of each compared
(pyreadstat, several times slower, once). Then both formats in one export (what
``popsurvey export`` does by default: one preparation, two files) against the sum of each
raw writer's best times.

Memory: the largest peak resident memory during a full export above the resident memory
before it (Linux ``VmHWM`` reset through ``/proc/self/clear_refs``), against the size of
the input frame (pandas ``memory_usage(deep=True)``). Targets: the full export within 1.3x
of the fastest raw writer; peak memory under 2x the frame.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exports import ExportOptions, export_frames
from exports.options import MissingCodes
from exports.plan import plan_dataset
from exports.relevance import relevance_masks
from exports.spss_file import write_system_file
from exports.stata_columns import stata_variables
from exports.stata_file import write_stata_file
from exports.values import prepare_dataset
from exports.writers import (
    Labels,
    sav_variables,
    spss_frame,
    spss_values,
    stata_frame,
    stata_storage_values,
    writers_text,
    writers_used,
)
from forms.frames import CODED, coded_column, frames_to_submissions, random_frames
from forms.reader import read_markdown
from surveys.store.frames import records_frames

LISTS = 10
SELECTS, INTEGERS, MULTIPLES, TEXTS, DATES = 150, 60, 8, 12, 6


def benchmark_form():
    """The generated questionnaire (see the module docstring)."""
    rows = ["| survey |", "| | type | name | label | relevant |"]
    rows.append("| | select_one yn | consent | Do you agree to the interview? | |")
    relevant = "${consent} = 1"

    def add(kind: str, name: str, label: str, i: int) -> None:
        rows.append(f"| | {kind} | {name} | {label} | {relevant if i % 2 else ''} |")

    for i in range(SELECTS - 1):
        add(f"select_one list{i % LISTS}", f"s{i:03d}", f"Question {i} about the household", i)
    for i in range(INTEGERS):
        add("integer", f"n{i:03d}", f"How many {i}?", i)
    for i in range(MULTIPLES):
        add(f"select_multiple list{i}", f"m{i}", f"Which of these {i}?", i)
    for i in range(TEXTS):
        add("text", f"t{i:02d}", f"Describe {i}", i)
    for i in range(DATES):
        add("date", f"d{i}", f"Date {i}", i)
    rows += ["", "| choices |", "| | list_name | name | label |"]
    rows += ["| | yn | 1 | Yes |", "| | yn | 2 | No |"]
    for k in range(LISTS):
        for c in range(1, 9):
            rows.append(f"| | list{k} | {c} | Choice {c} of list {k}, in words |")
        rows += [f"| | list{k} | 98 | Don't know |", f"| | list{k} | 99 | Refused |"]
    rows += ["", "| settings |", "| | form_id | version |", "| | bench_export | 1 |"]
    return read_markdown("\n".join(rows), name="bench_export.md")


def peak_extra(run):
    """Run ``run()``; its :class:`Timing` and the peak resident memory above the start."""
    before = _status("VmRSS")
    try:
        Path("/proc/self/clear_refs").write_text("5")
        resettable = True
    except OSError:
        resettable = False
    start, cpu = time.perf_counter(), time.process_time()
    run()
    elapsed = Timing(time.perf_counter() - start, time.process_time() - cpu)
    peak = _status("VmHWM") if resettable else None
    return elapsed, (peak - before if peak is not None else None)


@dataclass(frozen=True)
class Timing:
    """Wall-clock and CPU seconds (the machine is shared: CPU time is the steadier one)."""

    wall: float
    cpu: float

    def __str__(self) -> str:
        return f"{self.wall:.2f} s ({self.cpu:.2f} s CPU)"


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def prepared(form, frame):
    """The frame the export hands to the writers (prepared once, untimed)."""
    questions = [q.name for q in form.elements if q.relevant]
    masks, _ = relevance_masks(form, frame, {}, questions)
    plan = plan_dataset(form, None, None, MissingCodes())
    return prepare_dataset(plan, frame, masks)


def polars_frame(dataset, values):
    """The prepared values as a polars frame (numbers Float64, text String), or None without
    polars-readstat."""
    try:
        import polars_readstat  # noqa: F401

        from exports.writers import polars_frame as frame_of
    except ImportError:
        return None
    return frame_of(
        [c.variable.name for c in dataset.columns], [values(c) for c in dataset.columns]
    )


def native_raw(dataset, fmt: str, path: Path) -> None:
    """popsurvey's own writer of ``fmt`` given the same prepared dataset with no labels, no
    value labels, no formats, no missing-value declarations, not hashed: the bare data
    write (the stored values computed from the prepared columns chunk by chunk, as the
    export does)."""
    if fmt == "dta":
        variables = stata_variables(dataset, {}, {}, {})
        with path.open("wb") as handle:
            write_stata_file(handle, variables, dataset.rows)
    else:
        variables, sources, _ = sav_variables(dataset, Labels(), {}, {}, {}, -97.0)
        # the compression the export writes by default (bytecode, as SPSS does)
        compression = ExportOptions().sav_compression
        write_system_file(path, variables, sources, dataset.rows, compression=compression)


def as_stored(form, frame):
    """``frame`` as the store's analysis frames give it to ``popsurvey export``
    (``analysis_frames(coded=True)``): select columns through the store's own
    :func:`forms.frames.coded_column`."""
    for question in form.elements:
        if question.type in CODED and question.name in frame:
            choices = form.choices_for(question)
            one = choices is not None and question.type == "select_one"
            codes = choices.codes if one else ()
            frame[question.name] = coded_column(frame[question.name].tolist(), codes)
    return frame


def frame_build(form, rows: int, seed: int, rounds: int) -> str:
    """The store's frame building (``records_frames``: the code ``analysis_frames`` runs on
    the stored JSON) with select columns as text and as codes, on the same records,
    alternating ``rounds`` times (the fastest of each)."""
    records = frames_to_submissions(random_frames(form, rows, seed=seed))
    times: dict[bool, list[Timing]] = {False: [], True: []}
    for _ in range(rounds):
        for coded in (False, True):
            start, cpu = time.perf_counter(), time.process_time()
            records_frames(form, records, coded=coded)
            times[coded].append(Timing(time.perf_counter() - start, time.process_time() - cpu))
    text, codes = (min(times[k], key=lambda t: t.cpu) for k in (False, True))
    return (
        f"store frame building, {rows:,} submissions (fastest of {rounds}): selects as text "
        f"{text}, as codes {codes}"
    )


def _clear(out: Path) -> None:
    """Remove what a measurement wrote (the next one starts with the same free disk)."""
    for path in sorted(out.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()


def _all(times: list[Timing]) -> str:
    return ", ".join(str(t) for t in times)


def both_formats(form, frame, out: Path, results: dict, rounds: int) -> tuple:
    """What `popsurvey export` does by default: both formats from one preparation, against
    the sum of each raw writer's best times."""
    both = ExportOptions(formats=("dta", "sav"))
    runs, memory = [], None
    for _ in range(rounds):
        full, extra = peak_extra(lambda: export_frames(form, frame, {}, out / "both", both))
        runs.append(full)
        memory = max(memory or 0, extra or 0) if extra is not None else memory
        _clear(out)
    print(f".dta + .sav rounds: full {_all(runs)}")
    full = min(runs, key=lambda t: t.wall)
    sums = {
        name: Timing(
            results[".dta"][2][name].wall + results[".sav"][2][name].wall,
            results[".dta"][2][name].cpu + results[".sav"][2][name].cpu,
        )
        for name in results[".dta"][2]
    }
    return full, memory, sums, _fastest_baseline(sums)


BASELINES = ("pyreadstat raw", "polars-readstat raw", "polars-readstat raw bytecode")
"""The issue's baselines: the ReadStat writers of the same prepared values, no metadata.
``popsurvey raw`` (popsurvey's own writer with no metadata) is printed beside them: how
much the labels, preparation, syntax, codebook and checksums add to popsurvey's own write."""


def _fastest_baseline(timings: dict) -> str:
    return min((n for n in timings if n in BASELINES), key=lambda n: timings[n].wall)


def main() -> None:
    """Run the benchmark and print times, ratios and memory."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--formats", default="dta,sav", help="dta, sav or dta,sav")
    parser.add_argument(
        "--rounds", type=int, default=2, help="full export and raw writes, alternating"
    )
    parser.add_argument(
        "--build-rows",
        type=int,
        default=20_000,
        help="submissions for the frame-building comparison (0: skip it)",
    )
    args = parser.parse_args()
    formats = tuple(args.formats.split(","))
    import pyreadstat

    form = benchmark_form()
    start = time.perf_counter()
    if args.build_rows:
        print(frame_build(form, args.build_rows, args.seed, args.rounds))
    frames = random_frames(form, args.rows, seed=args.seed)
    frame = as_stored(form, frames.main)
    frame_bytes = int(frame.memory_usage(deep=True).sum())
    print(
        f"frame: {len(frame):,} rows x {frame.shape[1] - 1} question columns, "
        f"{frame_bytes / 2**20:,.0f} MiB, generated in {time.perf_counter() - start:.1f} s"
    )
    dataset = prepared(form, frame)
    spss = spss_frame(dataset, -97.0)
    stata = stata_frame(dataset)
    print(f"exported variables: {len(dataset.columns)} (keys and text included)")
    print(f"popsurvey's writers: {writers_text(writers_used('auto', formats))}")
    raw_polars = {
        "dta": polars_frame(dataset, stata_storage_values),
        "sav": polars_frame(dataset, lambda c: spss_values(c, -97.0)),
    }
    if raw_polars["dta"] is None:
        print("polars-readstat: not installed (pip install polars-readstat); skipped")
    else:
        kinds = Counter(str(dtype) for dtype in raw_polars["dta"].dtypes)
        print(f".dta writer's input columns by type: {dict(sorted(kinds.items()))}")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        for fmt in formats:
            runs: dict[str, list[Timing]] = {"full": [], "pyreadstat raw": []}
            memory, raw_memory = None, 0
            for round_ in range(args.rounds):  # alternating, so neither is always first
                options = ExportOptions(formats=(fmt,))
                full, extra = peak_extra(
                    lambda options=options, fmt=fmt: export_frames(
                        form, frame, {}, out / f"full_{fmt}", options
                    )
                )
                runs["full"].append(full)
                memory = max(memory or 0, extra or 0) if extra is not None else memory
                _clear(out)
                if round_ == 0:  # several times slower than polars-readstat: once
                    raw_write = {
                        "dta": lambda: pyreadstat.write_dta(stata, str(out / "raw.dta")),
                        "sav": lambda: pyreadstat.write_sav(spss, str(out / "raw.sav")),
                    }[fmt]
                    runs["pyreadstat raw"].append(peak_extra(raw_write)[0])
                    _clear(out)
                timing = peak_extra(
                    lambda fmt=fmt: native_raw(dataset, fmt, out / f"native.{fmt}")
                )[0]
                runs.setdefault("popsurvey raw", []).append(timing)
                _clear(out)
                if raw_polars[fmt] is not None:
                    from polars_readstat import write_readstat

                    timing, extra = peak_extra(
                        lambda fmt=fmt: write_readstat(raw_polars[fmt], str(out / f"polars.{fmt}"))
                    )
                    runs.setdefault("polars-readstat raw", []).append(timing)
                    raw_memory = max(raw_memory, extra or 0)
                    _clear(out)
                    if fmt == "sav":  # also compressed, as the export writes a .sav
                        timing = peak_extra(
                            lambda: write_readstat(
                                raw_polars["sav"], str(out / "polars.sav"), compressed=True
                            )
                        )[0]
                        runs.setdefault("polars-readstat raw bytecode", []).append(timing)
                        _clear(out)
            print(f".{fmt} rounds: " + "; ".join(f"{k} {_all(v)}" for k, v in runs.items()))
            if raw_polars[fmt] is not None:
                print(
                    f".{fmt} polars-readstat raw: its own peak +{raw_memory / 2**20:,.0f} MiB "
                    f"beside its input frame of {raw_polars[fmt].estimated_size() / 2**20:,.0f} "
                    f"MiB ({(raw_memory + raw_polars[fmt].estimated_size()) / frame_bytes:.2f}x "
                    "the frame together)"
                )
            best = {name: min(times, key=lambda t: t.wall) for name, times in runs.items()}
            full = best.pop("full")
            results[f".{fmt}"] = (full, memory, best, _fastest_baseline(best))
        if len(formats) == 2:
            results[".dta + .sav in one export (raw: the sum of both)"] = both_formats(
                form, frame, out, results, args.rounds
            )
    for fmt, (full, memory, timings, fastest) in results.items():
        peers = ", ".join(f"{name} {t}" for name, t in timings.items())
        ratios = ", ".join(
            f"{full.wall / t.wall:.2f}x wall / {full.cpu / t.cpu:.2f}x CPU vs {name}"
            for name, t in timings.items()
        )
        memory_text = f"{memory / frame_bytes:.2f}x the frame" if memory is not None else "n/a"
        print(
            f"{fmt}: full export {full}; {peers}; {ratios} "
            f"(target <= 1.3x of the fastest ReadStat writer, {fastest}: "
            f"{full.wall / timings[fastest].wall:.2f}x); "
            f"peak memory +{(memory or 0) / 2**20:,.0f} MiB = {memory_text} (target < 2x)"
        )


if __name__ == "__main__":
    main()
