"""ODK Central client built on pyodk, with timeouts and retries on http and https.

- :class:`CentralClient`: one logged-in project, with ``forms``, ``submissions`` and
  ``attachments`` services.
- :class:`HttpPolicy`: timeouts, retries, backoff.
- :class:`CentralError` and subclasses: one-line errors without credentials.
"""

from surveys.central.client import CentralClient, ODataPage
from surveys.central.errors import CentralAuthError, CentralError, CentralResponseError
from surveys.central.http import HttpPolicy

__all__ = [
    "CentralAuthError",
    "CentralClient",
    "CentralError",
    "CentralResponseError",
    "HttpPolicy",
    "ODataPage",
]
