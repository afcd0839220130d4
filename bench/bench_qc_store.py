"""`popsurvey qc` from the store: a full run over stored migrant submissions with their
audit logs (the store read included), then an incremental run after new submissions.

    .venv/bin/python bench/bench_qc_store.py [--n 50000] [--later 1000] [--workers 2] [--keep DIR]

Simulated fieldwork (pages and audit logs, as a pull would bring them) is imported into a
fresh SQLite store, all but the last ``--later`` submissions; then, timed: the store read
alone (analysis frames; audit events), the full ``surveys.quality.run_store_qc``; then the
rest is imported and the incremental run is timed (it reads only the new submissions'
audit events and scans only them for near-duplicates). CPU time counts every process.

``--keep DIR`` keeps the simulated pages and the imported store (all but the last
``--later``) in DIR, so that a later run times the same store without the hour it takes to
simulate and import 200,000 submissions with their audit logs; each run works on a copy.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_simulate import Enum, households  # noqa: E402

from forms import read_form  # noqa: E402
from surveys.importers.common import import_records  # noqa: E402
from surveys.importers.json_pages import audit_of, page_files, read_pages  # noqa: E402
from surveys.quality import _audit_events, _form_pk, run_store_qc  # noqa: E402
from surveys.simulate.output import simulate_to_directory  # noqa: E402
from surveys.store import open_store  # noqa: E402
from surveys.store.frames import analysis_frames  # noqa: E402


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(label: str, function):  # type: ignore[no-untyped-def]
    """Run ``function``, print its wall and CPU seconds, return its value."""
    t0, c0 = time.perf_counter(), cpu_seconds()
    value = function()
    print(
        f"{label}: {time.perf_counter() - t0:.1f} s wall, {cpu_seconds() - c0:.1f} s CPU "
        f"(load {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000)
    parser.add_argument("--later", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pages", type=Path, default=None, help="Keep/reuse simulated pages.")
    parser.add_argument(
        "--keep", type=Path, default=None, help="Keep/reuse the pages and the imported store."
    )
    parser.add_argument(
        "--setup-only", action="store_true", help="With --keep: prepare the store, time nothing."
    )
    args = parser.parse_args()
    form = read_form(ROOT / "forms/questionnaires/migrants.xlsx")
    enumerators = max(args.n // 100, 10)
    table = households(args.n, enumerators, args.seed)
    with tempfile.TemporaryDirectory() as folder:
        pages = args.pages or (args.keep / "pages" if args.keep else Path(folder))
        pages.mkdir(parents=True, exist_ok=True)
        kept = args.keep / f"qc-{args.n}-{args.later}-{args.seed}.db" if args.keep else None
        t0 = time.perf_counter()
        if not (pages / "pages" / form.form_id).is_dir():
            simulate_to_directory(
                form,
                table,
                [Enum(i) for i in range(enumerators)],
                pages,
                seed=args.seed,
                start=date(2027, 7, 1),
                end=date(2027, 8, 31),
                workers=args.workers,
                chunk_size=25_000,
            )
        records = list(read_pages(page_files(pages, form.form_id)))
        first, later = records[: -args.later], records[-args.later :]
        store = open_store(f"sqlite:///{folder}/qc.db")

        def load(chosen):  # type: ignore[no-untyped-def]
            return import_records(
                store,
                form.form_id,
                chosen,
                "import:json",
                model=form,
                audit_for=lambda iid: audit_of(pages, iid),
            )

        if kept is not None and kept.exists():
            store.close()
            shutil.copyfile(kept, Path(folder, "qc.db"))
            store = open_store(f"sqlite:///{folder}/qc.db")
        else:
            load(first)
            if kept is not None:
                store.close()
                shutil.copyfile(Path(folder, "qc.db"), kept)
                store = open_store(f"sqlite:///{folder}/qc.db")
        print(
            f"setup: {len(first):,} migrant submissions with audit logs stored in "
            f"{time.perf_counter() - t0:.0f} s (not timed); SQLite file "
            f"{Path(folder, 'qc.db').stat().st_size / 2**20:,.0f} MiB",
            flush=True,
        )
        if args.setup_only:
            store.close()
            return 0
        pk = _form_pk(store, form.form_id)
        frames = timed("store read: analysis frames", lambda: analysis_frames(store, form.form_id))
        events = timed("store read: audit events", lambda: _audit_events(store, pk))
        print(f"  {len(frames.main):,} submissions, {len(events):,} audit events")
        del frames, events
        full = timed(
            f"popsurvey qc, full run ({args.workers} processes)",
            lambda: run_store_qc(store, form.form_id, workers=args.workers, incremental=False),
        )
        print(f"  {len(full.flags):,} flags; {int(full.ranking['flagged'].sum())} flagged")
        again = timed(
            "popsurvey qc, nothing new (skipped)", lambda: run_store_qc(store, form.form_id)
        )
        assert not again.ran
        load(later)
        incremental = timed(
            f"popsurvey qc, incremental after {len(later):,} new submissions",
            lambda: run_store_qc(store, form.form_id, workers=args.workers),
        )
        print(
            f"  re-computed {incremental.recomputed:,} submissions' audit logs and "
            f"near-duplicates; {len(incremental.flags):,} flags"
        )
        check = timed(
            "popsurvey qc, full run over the same store (for comparison)",
            lambda: run_store_qc(
                store, form.form_id, workers=args.workers, force=True, incremental=False
            ),
        )
        same = set(check.flags["instance_id"].fillna("") + check.flags["code"]) == set(
            incremental.flags["instance_id"].fillna("") + incremental.flags["code"]
        )
        print(f"  incremental flags identical to the full run's: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
