"""Fixtures for the Central client and pull tests: a fake Central always, a real one when
the POPSURVEY_CENTRAL_* variables are set."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # import tests.fake_central

from tests.central.handles import CentralHandle
from tests.fake_central import FakeCentral, FakeCentralServer
from tests.fake_central.fixture import household_form
from tests.store.backends import any_store, store_url  # noqa: F401

REAL_VARS = (
    "POPSURVEY_CENTRAL_URL",
    "POPSURVEY_CENTRAL_USER",
    "POPSURVEY_CENTRAL_PASSWORD",
    "POPSURVEY_CENTRAL_PROJECT",
)


@pytest.fixture
def fake():
    """A running fake Central (state in ``.central``, URL in ``.url``)."""
    server = FakeCentralServer(FakeCentral()).start()
    yield server
    server.stop()


@pytest.fixture(params=["fake", "real"])
def central(request, fake):
    """A :class:`CentralHandle` with the fixture form published: on the fake, and on a real
    Central when configured (skipped with the reason otherwise)."""
    if request.param == "fake":
        handle = CentralHandle(fake.url, "admin@example.org", "correct horse", 1)
        fake.central.add_form(1, household_form())
        handle.model = household_form()
        handle.fake = fake.central
        yield handle
        return
    missing = [v for v in REAL_VARS if not os.environ.get(v)]
    if missing:
        pytest.skip("real ODK Central not configured: set " + ", ".join(missing))
    handle = CentralHandle(*(os.environ[v] for v in REAL_VARS[:3]), int(os.environ[REAL_VARS[3]]))
    handle.fake = None
    handle.publish(household_form(form_id=f"popsurvey_test_{int(time.time() * 1000)}"))
    yield handle


@pytest.fixture
def store(any_store):  # noqa: F811 - the backend fixture, re-exported under the pull tests' name
    """A fresh store, on SQLite and on PostgreSQL."""
    return any_store


@pytest.fixture(params=["fake", "real"])
def deploy_target(request, fake):
    """Where deploy tests deploy to: the fake, or a real Central when configured (each test
    in a new project of its own)."""
    from tests.central.deploy_support import Target

    if request.param == "fake":
        yield Target(fake.url, "admin@example.org", "correct horse", fake.central)
        return
    missing = [v for v in REAL_VARS[:3] if not os.environ.get(v)]
    if missing:
        pytest.skip("real ODK Central not configured: set " + ", ".join(missing))
    yield Target(*(os.environ[v] for v in REAL_VARS[:3]))
