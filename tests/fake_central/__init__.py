"""An in-process fake of ODK Central's HTTP API, small but faithful to its documented behaviour.

See :mod:`tests.fake_central.server` for what it serves and :mod:`tests.fake_central.state`
for the data it keeps. Only the endpoints popsurvey uses are implemented.
"""

from tests.fake_central.server import FakeCentralServer
from tests.fake_central.state import FakeCentral, Fault

__all__ = ["FakeCentral", "FakeCentralServer", "Fault"]
