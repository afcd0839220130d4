"""Validation test fixtures: store backends (SQLite and PostgreSQL) and the logic fixtures."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # import tests.*
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "logic"))  # forms_fixtures

from tests.store.backends import any_store, store_url  # noqa: F401
