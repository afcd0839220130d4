"""ODK Central client built on pyodk, with timeouts and retries on http and https.

- :class:`CentralClient`: one logged-in project, with ``forms``, ``submissions``,
  ``attachments``, ``projects``, ``datasets`` (entity lists) and ``app_users`` services.
- :class:`HttpPolicy`: timeouts, retries, backoff.
- :class:`CentralError` and subclasses: one-line errors without credentials or keys.

Everything else that talks to Central: :mod:`surveys.central.deploy` (put a survey on
Central), :mod:`surveys.central.collect_qr` (Collect QR codes), :mod:`surveys.central.review`
(review write-back), :mod:`surveys.central.credentials` (the account),
:mod:`surveys.central.pool` (sessions side by side), :mod:`surveys.central.pull` (incremental
pull into the store), :mod:`surveys.central.audit_export` (audit logs in bulk from Central's
export) and :mod:`surveys.central.form_sources` (each form version's FormModel from Central's
XLSForm).
"""

from surveys.central.client import CentralClient, ODataPage
from surveys.central.errors import (
    CentralAuthError,
    CentralError,
    CentralResponseError,
    DeployError,
)
from surveys.central.http import HttpPolicy

__all__ = [
    "CentralAuthError",
    "CentralClient",
    "CentralError",
    "CentralResponseError",
    "DeployError",
    "HttpPolicy",
    "ODataPage",
]
