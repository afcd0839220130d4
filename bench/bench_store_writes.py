"""Benchmark: storing pages of submissions (with repeats and audit events) through the
writer before issue 18 (per-row executemany and per-submission audit statements) and after
(bulk writes: COPY on PostgreSQL), into SQLite and PostgreSQL, without any network.

    git show 73418cd:surveys/store/writer.py > /tmp/old_writer.py   # before issue 18
    .venv/bin/python bench/bench_store_writes.py --old /tmp/old_writer.py

The old writer is loaded from the given file; rounds alternate old and new and the fastest
of each is kept (the machine is shared).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_pull import postgres_reachable, postgres_store, sqlite_store  # noqa: E402
from surveys.store import open_store, writer  # noqa: E402
from surveys.store.audit import AuditEvent  # noqa: E402
from tests.fake_central.fixture import make_submission  # noqa: E402


def records(n: int) -> list[dict]:
    rng = random.Random(18)
    out = []
    for i in range(n):
        data = make_submission(rng, audit=True)
        out.append(
            {
                **data,
                "__id": data["meta"]["instanceID"],
                "__system": {
                    "submissionDate": f"2026-03-02T01:{i // 60 % 60:02d}:{i % 60:02d}.000Z",
                    "updatedAt": None,
                    "reviewState": None,
                    "formVersion": "2026030101",
                    "edits": 0,
                    "submitterId": str(5 + i % 40),
                    "submitterName": f"enum{i % 40}",
                    "deviceId": "collect:1",
                    "deletedAt": None,
                    "attachmentsPresent": 1,
                    "attachmentsExpected": 1,
                },
            }
        )
    return out


def store_all(module, url: str, data: list[dict], page: int, events: int) -> float:
    store = open_store(url)
    started = time.perf_counter()
    for start in range(0, len(data), page):
        chunk = data[start : start + page]
        with store.transaction() as conn:
            form_pk = module.ensure_form(conn, "household")
            counts = module.store_submissions(conn, form_pk, chunk, "central")
            module.sync_enumerators(conn, chunk)
            log = [AuditEvent(s, "question", f"/data/q{s}", s, s + 5) for s in range(events)]
            logs = [(pk, iid, log) for pk, _cid, iid in counts.changed_ids]
            if hasattr(module, "store_audits"):  # after: a statement (COPY) per table a page
                module.store_attachments(
                    conn, [(pk, "audit.csv", i, b"x" * 2000) for pk, i, _ in logs]
                )
                module.store_audits(conn, logs)
            else:  # before: what the pull did, submission by submission
                for pk, iid, events_ in logs:
                    module.store_attachment(conn, pk, "audit.csv", iid, b"x" * 2000)
                    module.store_audit(conn, pk, iid, events_)
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", required=True, help="the writer module before issue 18")
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--page-size", type=int, default=5_000)
    parser.add_argument("--events", type=int, default=50, help="audit events per submission")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("old_writer", args.old)
    old = importlib.util.module_from_spec(spec)
    sys.modules["old_writer"] = old  # dataclasses look their module up
    spec.loader.exec_module(old)  # type: ignore[union-attr]
    data = records(args.n)
    stores = [("SQLite", sqlite_store)] + (
        [("PostgreSQL", postgres_store)] if postgres_reachable() else []
    )
    print(
        f"{args.n:,} submissions ({sum(len(d['member']) for d in data):,} members), "
        f"{args.events} audit events each, pages of {args.page_size}"
    )
    for name, make in stores:
        best = {}
        for _ in range(args.rounds):
            for label, module in (("before", old), ("after", writer)):

                def run(url: str, label: str = label, module=module, best=best) -> None:
                    seconds = store_all(module, url, data, args.page_size, args.events)
                    best[label] = min(best.get(label, seconds), seconds)

                make(run)
        print(
            f"{name:10s} before {best['before']:7.2f} s   after {best['after']:7.2f} s"
            f"   speed-up {best['before'] / best['after']:.2f}x"
        )


if __name__ == "__main__":
    main()
