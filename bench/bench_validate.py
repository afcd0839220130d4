"""Benchmark: validate N simulated migrant-questionnaire submissions stored in SQLite
(schema + form logic + record-level checks, column-wise), against the per-record reference
(jsonschema + FormLogic.check) timed on a sample in the same run; then an incremental run
after 100 new submissions.

    .venv/bin/python bench/bench_validate.py [--n 200000] [--sample 500] [--seed 1] [--pages DIR]

``--pages DIR`` keeps the simulated OData pages there (simulated once, reused by later runs).
The reference is timed on ``--sample`` submissions spread evenly over the stored ones (wall
and CPU) and scaled per record; its issues must equal the stored ones for those submissions
as full records (code, instance ID, instance path, value, and the reason of each X199).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_simulate import Enum, households  # noqa: E402

from forms import read_form  # noqa: E402
from forms.logic import FormLogic  # noqa: E402
from surveys.simulate.output import simulate_to_directory  # noqa: E402
from surveys.store import open_store, writer  # noqa: E402
from surveys.validate import stored_issues, validate_form  # noqa: E402
from validation.reference import ReferenceValidator, issue_key  # noqa: E402
from validation.validate import record_identity  # noqa: E402

TODAY = date(2027, 9, 1)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (the worker processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _pages(folder: Path, form_id: str) -> list[list[tuple[dict, str]]]:
    out = []
    for page in sorted((folder / "pages" / form_id).glob("page-*.json")):
        values = json.loads(page.read_text(encoding="utf-8"))["value"]
        out.append([(v, json.dumps(v, ensure_ascii=False, separators=(",", ":"))) for v in values])
    return out


def _store(store, form, items) -> None:
    with store.transaction() as conn:
        pk = writer.ensure_form(conn, form.form_id, form.title)
        writer.save_form_version(conn, pk, form.version, form, source="file")
        writer.store_submissions(
            conn, pk, [r for r, _ in items], "bench", raw=[t for _, t in items]
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--pages", type=Path, default=None, help="Keep/reuse simulated pages.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    form = read_form(ROOT / "forms/questionnaires/migrants.xlsx")
    total = args.n + 100
    table = households(total, max(total // 400, 10), args.seed)
    roster = [Enum(i) for i in range(max(total // 400, 10))]
    attachment = {"households.csv": table.astype(str).to_dict("records")}
    with tempfile.TemporaryDirectory() as folder:
        t0 = time.perf_counter()
        pages = args.pages or Path(folder)
        if not (pages / "pages" / form.form_id).is_dir():
            simulate_to_directory(
                form,
                table,
                roster,
                pages,
                seed=args.seed,
                start=date(2027, 7, 1),
                end=date(2027, 8, 31),
                workers=args.workers,
                chunk_size=25_000,
            )
        items = [item for page in _pages(pages, form.form_id) for item in page]
        later, items = items[-100:], items[:-100]
        store = open_store(f"sqlite:///{folder}/bench.db")
        for start in range(0, len(items), 10_000):
            _store(store, form, items[start : start + 10_000])
        print(
            f"setup: simulated and stored {len(items):,} migrant submissions in "
            f"{time.perf_counter() - t0:.1f} s (not timed below)"
        )
        load = os.getloadavg()
        t0, c0, m0 = time.perf_counter(), cpu_seconds(), time.process_time()
        summary = validate_form(
            store,
            form.form_id,
            everything=True,
            today=TODAY,
            attachments=attachment,
            workers=args.workers,
        )
        bulk, bulk_cpu = time.perf_counter() - t0, cpu_seconds() - c0
        main_cpu = time.process_time() - m0
        print(f"bulk: {summary.line()}")
        print(
            f"bulk ({args.workers} worker processes; CPU of all processes): "
            f"{bulk:.1f} s wall, {bulk_cpu:.1f} s CPU (this process {main_cpu:.1f} s, the "
            f"workers {bulk_cpu - main_cpu:.1f} s) for {len(items):,} submissions "
            f"(load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end)"
        )

        step = max(1, len(items) // args.sample)  # spread over the fieldwork period
        sample = [record for record, _ in items[::step][: args.sample]]
        reference = ReferenceValidator(form, FormLogic(form, attachments=attachment))
        t0, c0 = time.perf_counter(), time.process_time()
        expected = set()
        for record in sample:
            instance_id, enumerator = record_identity(record)
            for issue in reference.schema_issues(record, instance_id, enumerator):
                expected.add(issue_key(issue))
            for issue in reference.logic_issues(record, TODAY):
                expected.add(issue_key(issue))
        per_record = (time.perf_counter() - t0) / len(sample)
        per_record_cpu = (time.process_time() - c0) / len(sample)
        scaled = per_record * len(items)
        scaled_cpu = per_record_cpu * len(items)
        ids = {record_identity(r)[0] for r in sample}
        got = {
            (
                row["code"],
                row["instance_id"],
                row["variable"],
                row["value"],
                row["message"] if row["code"] == "X199" else None,
            )
            for row in stored_issues(store, form.form_id)
            if row["instance_id"] in ids
        }
        same = got == expected
        print(
            f"reference (jsonschema + FormLogic.check per record): "
            f"{per_record * 1000:.1f} ms wall, "
            f"{per_record_cpu * 1000:.1f} ms CPU per submission on {len(sample):,} -> "
            f"{scaled:,.0f} s wall ({scaled_cpu:,.0f} s CPU) scaled to {len(items):,}"
        )
        print(
            f"identical issue sets on the sample: {same} ({len(expected):,} issues: "
            f"{dict(sorted(Counter(k[0] for k in expected).items()))}; only bulk "
            f"{len(got - expected)}, only reference {len(expected - got)})"
        )
        _store(store, form, later)
        load = os.getloadavg()
        t0, c0 = time.perf_counter(), time.process_time()
        again = validate_form(store, form.form_id, today=TODAY, attachments=attachment)
        incremental = time.perf_counter() - t0
        print(
            f"incremental: {again.line()} in {incremental:.2f} s wall, "
            f"{time.process_time() - c0:.2f} s CPU (load average {load[0]:.1f} at the start, "
            f"{os.getloadavg()[0]:.1f} at the end)"
        )
        speedup = scaled / bulk
        print(
            f"speed-up: {speedup:.1f}x in wall time, {scaled_cpu / bulk_cpu:.1f}x in CPU time "
            f"(reference scaled {scaled_cpu:,.0f} s CPU, bulk {bulk_cpu:.1f} s CPU)"
        )
        ok = same and speedup >= 10 and bulk < 60 and incremental < 5
        print(
            f"targets: speed-up {speedup:.1f}x (>= 10x); bulk {bulk:.1f} s wall, {bulk_cpu:.1f} s "
            f"CPU (< 60 s on 2 cores); incremental {incremental:.2f} s (< 5 s) -> "
            f"{'met' if ok else 'NOT met'}"
        )
        store.close()
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
