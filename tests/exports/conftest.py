"""Store fixtures for the export tests: every store test runs on SQLite and PostgreSQL."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # import tests.*

from tests.store.backends import any_store, store_url  # noqa: F401
