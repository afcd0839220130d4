"""Fixtures of the report tests: the small survey of :mod:`tests.report.fieldwork` in a
store on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from tests.report.fieldwork import write_survey
from tests.store.backends import any_store, store_url  # noqa: F401


@pytest.fixture
def survey(tmp_path, store_url):  # noqa: F811
    """(survey.toml path, store URL) of the small survey."""
    return write_survey(tmp_path / "survey", store_url), store_url


@pytest.fixture
def sqlite_survey(tmp_path):
    """The small survey in a SQLite store only (for the slower browser and workbook tests)."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    return write_survey(tmp_path / "survey", url), url
