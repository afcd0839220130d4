"""Benchmark: pulling N submissions (with and without audit logs) into SQLite and PostgreSQL
against the floors Central sets: fetching the same OData pages, and its own export.

Against the fake Central (its own process on loopback HTTP, N generated submissions of the
fixture household form, repeats and geopoints included, each with an audit log, submitted a
day ago) or, with ``--real``, the Central of ``POPSURVEY_CENTRAL_URL/_USER/_PASSWORD/_PROJECT``
and its form ``--form``. In one run, for ``--rounds`` rounds (the fastest of each kept, since
the machine is shared):

1. fetch floor: page through ``.svc/Submissions?$expand=*`` following ``@odata.nextLink``
   (HTTP and JSON decoding, nothing stored);
2. export: ``submissions.csv.zip?attachments=true`` to a temporary file (Central's own
   answer for the same data with every audit log);
3. pulls into a fresh store: SQLite and PostgreSQL (``--pg``, default the tests' server;
   skipped with a message when unreachable), ``--attachments none`` and with audit logs
   (taken from the export); with ``--each`` also the per-submission audit downloads.

Ratios: pull without attachments / fetch floor (target <= 1.3 on both stores), pull with
audit logs / export (target <= 1.3; on the fake, whose export is quicker than its OData
pages, the floor of a pull with audit logs is the larger of the two, also printed).
``--memory`` adds the earlier peak-RSS runs (child processes pulling other forms and page
sizes).

    .venv/bin/python bench/bench_pull.py                    # fake, N=20000, page 5000
    .venv/bin/python bench/bench_pull.py --n 200000 --memory
    .venv/bin/python bench/bench_pull.py --real --form FORM_ID
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from surveys.central import CentralClient, HttpPolicy  # noqa: E402
from surveys.central.pull import PullOptions, pull_form  # noqa: E402
from surveys.store import open_store  # noqa: E402

USER, PASSWORD = "admin@example.org", "correct horse"
POLICY = HttpPolicy(read_timeout=600)
PG_URL = os.environ.get("POPSURVEY_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass
class Target:
    """Where to pull from: a Central's credentials and the form."""

    url: str
    user: str
    password: str
    project: int
    form_id: str

    def client(self) -> CentralClient:
        return CentralClient(self.url, self.user, self.password, self.project, POLICY)


@dataclass
class Timings:
    """Every round's seconds per measurement."""

    rounds: dict[str, list[float]] = field(default_factory=dict)
    cpu: dict[str, list[float]] = field(default_factory=dict)
    loads: list[float] = field(default_factory=list)

    def add(self, name: str, seconds: float, cpu: float | None = None) -> None:
        self.rounds.setdefault(name, []).append(seconds)
        if cpu is not None:
            self.cpu.setdefault(name, []).append(cpu)
        self.loads.append(os.getloadavg()[0])

    def best(self, name: str) -> float:
        return min(self.rounds[name])

    def line(self, name: str, label: str, rows: int) -> str:
        seconds = self.rounds[name]
        spread = ", ".join(f"{s:.2f}" for s in seconds)
        cpu = self.cpu.get(name)
        used = f"; CPU {statistics.median(cpu):.1f} s (median)" if cpu else ""
        return (
            f"{label:44s} {min(seconds):8.2f} s  (median {statistics.median(seconds):.2f};"
            f" rounds {spread}{used})  {rows / min(seconds):,.0f}/s"
        )


def fetch_only(target: Target, page_size: int) -> tuple[float, int, int]:
    """Seconds, rows and bytes to fetch and decode every page."""
    client = target.client()
    started = time.perf_counter()
    rows = size = 0
    for page in client.submissions.odata_pages(target.form_id, page_size=page_size, count=True):
        rows += len(page.value)
        size += page.size
    elapsed = time.perf_counter() - started
    client.close()
    return elapsed, rows, size


def export_only(target: Target) -> tuple[float, int]:
    """Seconds and bytes to download Central's export with attachments."""
    client = target.client()
    with tempfile.TemporaryFile() as sink:
        started = time.perf_counter()
        client.submissions.export(target.form_id, sink)
        elapsed = time.perf_counter() - started
        size = sink.tell()
    client.close()
    return elapsed, size


def pull_once(target: Target, db: str, options: PullOptions) -> tuple[float, object, float]:
    """Seconds, result and CPU seconds (this process) of a pull into the fresh store ``db``."""
    store = open_store(db)
    client = target.client()
    cpu = time.process_time()
    started = time.perf_counter()
    result = pull_form(store, client, target.form_id, options)
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu
    store.close()
    client.close()
    return elapsed, result, cpu


def sqlite_store(run: Callable[[str], None]) -> None:
    """Run ``run`` on the URL of a fresh SQLite file, removed afterwards."""
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db")


def postgres_store(run: Callable[[str], None]) -> None:
    """Run ``run`` on the URL of a fresh PostgreSQL schema, dropped afterwards."""
    engine = sa.create_engine(PG_URL)
    schema = f"popsurvey_bench_{uuid.uuid4().hex[:10]}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    try:
        sep = "&" if "?" in PG_URL else "?"
        run(f"{PG_URL}{sep}options=-csearch_path%3D{schema}")
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'drop schema "{schema}" cascade'))
        engine.dispose()


def postgres_reachable() -> bool:
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return True
    except Exception as err:  # reported; the PostgreSQL pulls are skipped
        print(f"PostgreSQL not reachable at {PG_URL} ({type(err).__name__}): skipped")
        return False


def measure(target: Target, args: argparse.Namespace) -> None:
    page = args.page_size
    stores = [("SQLite", sqlite_store)]
    if postgres_reachable():
        stores.append(("PostgreSQL", postgres_store))
    none = PullOptions(page_size=page, attachments="none")
    bulk = PullOptions(page_size=page, attachments="audit", audit_export="always")
    each = PullOptions(page_size=page, attachments="audit", audit_export="never")
    pulls = [("none", none), ("audit", bulk)] + ([("each", each)] if args.each else [])
    timings = Timings()
    info: dict[str, object] = {}
    for n in range(args.rounds):
        print(f"round {n + 1}/{args.rounds} ...", flush=True)
        seconds, rows, size = fetch_only(target, page)
        timings.add("fetch", seconds)
        info.update(rows=rows, json=size)
        seconds, size = export_only(target)
        timings.add("export", seconds)
        info["zip"] = size
        for store_name, make in stores:
            for kind, options in pulls:

                def run(url: str, key: str = f"{store_name}/{kind}", o=options) -> None:
                    seconds, result, cpu = pull_once(target, url, o)
                    timings.add(key, seconds, cpu)
                    info[key] = result

                make(run)
    rows = int(info["rows"])
    print()
    print(
        f"submissions: {rows:,} in pages of {page} ({int(info['json']) / 2**20:.0f} MiB of JSON);"
        f" export zip {int(info['zip']) / 2**20:.0f} MiB"
    )
    print(timings.line("fetch", "fetch floor (OData pages, nothing stored)", rows))
    print(timings.line("export", "Central's export with attachments", rows))
    labels = {
        "none": "--attachments none",
        "audit": "audit logs from the export",
        "each": "audit logs one download each",
    }
    for store_name, _ in stores:
        for kind, _ in pulls:
            key = f"{store_name}/{kind}"
            result = info[key]
            print(timings.line(key, f"pull into {store_name}, {labels[kind]}", rows))
            if kind != "none":
                print(
                    f"{'':46s}{result.audit_events:,} audit events, "  # type: ignore[attr-defined]
                    f"{result.audits_from_export:,} logs from the export"  # type: ignore[attr-defined]
                )
    fetch, export = timings.best("fetch"), timings.best("export")
    loads = timings.loads
    print(f"load average (1 min) at each measurement: {min(loads):.1f}-{max(loads):.1f}")
    print()
    for store_name, _ in stores:  # each round's pull against the same round's floor
        for kind, floor in (("none", "fetch"), ("audit", "export")):
            ratios = [
                p / f
                for p, f in zip(
                    timings.rounds[f"{store_name}/{kind}"], timings.rounds[floor], strict=True
                )
            ]
            print(
                f"{store_name:10s} {kind:5s} / {floor:6s} per round: "
                + ", ".join(f"{r:.2f}" for r in ratios)
                + f" (median {statistics.median(ratios):.2f})"
            )
    print()
    for store_name, _ in stores:
        ratio = timings.best(f"{store_name}/none") / fetch
        print(
            f"{store_name:10s} pull without attachments / fetch floor: {ratio:.2f} (target <= 1.3)"
        )
        ratio = timings.best(f"{store_name}/audit") / export
        print(
            f"{store_name:10s} pull with audit logs / export:          {ratio:.2f} (target <= 1.3)"
        )
        ratio = timings.best(f"{store_name}/audit") / max(fetch, export)
        print(f"{store_name:10s} pull with audit logs / max(fetch, export): {ratio:.2f}")
        if args.each:
            ratio = timings.best(f"{store_name}/each") / timings.best(f"{store_name}/audit")
            print(f"{store_name:10s} per-submission audit downloads / from the export: {ratio:.2f}")
    if len(stores) == 2:
        ratio = timings.best("PostgreSQL/none") / timings.best("SQLite/none")
        print(f"PostgreSQL / SQLite, pull without attachments: {ratio:.2f}")


# -- the fake Central and the memory runs --------------------------------------------------


def start_server(specs: list[str], *extra: str) -> tuple[subprocess.Popen, str]:
    port_file = Path(tempfile.mkdtemp()) / "url"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "fake_server.py"),
            "--port-file",
            str(port_file),
            *extra,
            *specs,
        ]
    )
    while not port_file.exists():
        if proc.poll() is not None:
            raise SystemExit("fake server failed to start")
        time.sleep(0.2)
    time.sleep(0.1)
    return proc, port_file.read_text()


def child_pull(url: str, form_id: str, page_size: int) -> None:
    """Run in a child process: pull and print peak RSS (MiB) as JSON."""
    target = Target(url, USER, PASSWORD, 1, form_id)
    options = PullOptions(page_size=page_size, attachments="none")
    with tempfile.TemporaryDirectory() as tmp:
        elapsed, result, _ = pull_once(target, f"{tmp}/mem.db", options)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows = result.counts.new  # type: ignore[attr-defined]
    print(json.dumps({"rows": rows, "seconds": elapsed, "peak_rss_mib": peak}))


def memory_runs(url: str, n: int, page: int) -> None:
    small = max(n // 4, 1)
    print("peak RSS of a pull (child process each):")
    runs = [
        ("small", page // 2, small, "narrow"),
        ("household", page // 2, n, "narrow"),
        ("wide", page // 2, small, "narrow + 40 text questions"),
        ("household", page * 2, n, "narrow"),
    ]
    for form, size_, count, shape in runs:
        out = subprocess.run(
            [sys.executable, __file__, "--child", url, form, str(size_)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        data = json.loads(out.strip().splitlines()[-1])
        print(
            f"  {form:9s} {count:>7} submissions ({shape:27s}) page {size_:>6}: "
            f"{data['peak_rss_mib']:6.0f} MiB  ({data['seconds']:.1f} s)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="submissions (fake Central)")
    parser.add_argument("--page-size", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=2, help="rounds (fastest kept)")
    parser.add_argument("--each", action="store_true", help="also per-submission audit pulls")
    parser.add_argument("--memory", action="store_true", help="peak-RSS child runs (fake)")
    parser.add_argument(
        "--no-memory", action="store_true", help=argparse.SUPPRESS
    )  # the old default
    parser.add_argument("--real", action="store_true", help="the POPSURVEY_CENTRAL_* Central")
    parser.add_argument("--form", help="form id on the real Central")
    parser.add_argument("--child", nargs=3, metavar=("URL", "FORM", "PAGE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_pull(args.child[0], args.child[1], int(args.child[2]))
        return
    if args.real:
        names = ("URL", "USER", "PASSWORD", "PROJECT")
        values = [os.environ.get(f"POPSURVEY_CENTRAL_{v}") for v in names]
        if not all(values) or not args.form:
            raise SystemExit(
                "--real needs POPSURVEY_CENTRAL_URL/_USER/_PASSWORD/_PROJECT and --form"
            )
        url, user, password, project = values
        print(f"real Central {url}, form {args.form}")
        measure(Target(url, user, password, int(project), args.form), args)  # type: ignore[arg-type]
        return
    specs = [f"household={args.n}"]
    if args.memory:
        specs += [f"small={max(args.n // 4, 1)}", f"wide={max(args.n // 4, 1)}:40"]
    print(f"seeding fake Central: {', '.join(specs)}, an audit log each ...", flush=True)
    server, url = start_server(specs, "--audit", "--days-ago", "1")
    try:
        measure(Target(url, USER, PASSWORD, 1, "household"), args)
        if args.memory:
            memory_runs(url, args.n, args.page_size)
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
