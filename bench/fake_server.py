"""Serve the fake Central, seeded with generated submissions, in its own process (for the
benchmark: the server's CPU must not share the client's interpreter lock).

    python bench/fake_server.py --port-file P household=200000 household_wide=20000:40

``--audit``: every submission has an audit log; ``--days-ago D``: submitted D days ago (so
that Central's export covers them), one millisecond apart.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_central import FakeCentral, FakeCentralServer
from tests.fake_central.fixture import household_form, seed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("forms", nargs="+", help="form_id=N[:extra questions]")
    parser.add_argument("--audit", action="store_true", help="an audit log per submission")
    parser.add_argument("--days-ago", type=float, default=None)
    args = parser.parse_args()
    start = None
    if args.days_ago is not None:
        start = datetime.now(UTC) - timedelta(days=args.days_ago)
    central = FakeCentral()
    for spec in args.forms:
        form_id, _, rest = spec.partition("=")
        n, _, extra = rest.partition(":")
        model = household_form(extra=int(extra or 0), form_id=form_id)
        # published before the first submission (the fake's clock never goes back)
        central.add_form(1, model, at=None if start is None else start - timedelta(minutes=1))
        seed(
            central,
            1,
            model,
            int(n),
            seed_value=hash(form_id) & 0xFFFF,
            extra=int(extra or 0),
            audit=args.audit,
            start=start,
        )
    server = FakeCentralServer(central).start()
    Path(args.port_file).write_text(server.url)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
