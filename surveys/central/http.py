"""HTTP for the Central client: pyodk's Session with timeouts and retries on every scheme.

pyodk mounts its retrying, timing-out adapter for ``https://`` only, so over plain http a
request can hang forever and is never retried. :func:`make_session` mounts one adapter on
both schemes: connect/read timeouts, and retries with exponential backoff on connection
errors, read timeouts, 429 (honouring ``Retry-After``) and 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyodk._utils.session import Adapter, Session
from urllib3.util.retry import Retry

RETRY_STATUSES = (429, 500, 502, 503, 504)


@dataclass(frozen=True)
class HttpPolicy:
    """Timeouts (seconds) and retry behaviour for every request to Central."""

    connect_timeout: float = 10.0
    read_timeout: float = 120.0
    retries: int = 5
    backoff: float = 1.0
    """Sleep ``backoff * 2**(n-1)`` seconds before the n-th retry (capped at backoff_max)."""
    backoff_max: float = 60.0


def retry_policy(policy: HttpPolicy) -> Retry:
    """The urllib3 Retry for ``policy``: every method, connection/read errors, 429 and 5xx."""
    return Retry(
        total=policy.retries,
        connect=policy.retries,
        read=policy.retries,
        status=policy.retries,
        other=0,
        allowed_methods=None,  # GET, and POST/PATCH/DELETE which Central makes idempotent
        status_forcelist=RETRY_STATUSES,
        backoff_factor=policy.backoff,
        backoff_max=policy.backoff_max,
        respect_retry_after_header=True,
        raise_on_status=False,  # hand back the last response; the caller words the error
    )


def make_session(
    base_url: str, username: str, password: str, policy: HttpPolicy | None = None
) -> Session:
    """A pyodk Session (bearer-token auth via ``POST /v1/sessions``) whose adapter times out
    and retries on both http and https. The token lives only in memory."""
    policy = policy or HttpPolicy()
    session = Session(
        base_url=base_url, api_version="v1", username=username, password=password, cache_path=None
    )
    adapter = Adapter(
        timeout=(policy.connect_timeout, policy.read_timeout),
        max_retries=retry_policy(policy),
        blocksize=session.blocksize,
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
