"""Fixtures of the weighting tests."""

from __future__ import annotations

import pytest
from wsupport import read_expected


@pytest.fixture(scope="session")
def expected() -> dict:
    """R's outputs written by tests/fixtures/r/weighting/make_fixtures.R."""
    return read_expected()
