"""Requests to Central from a few threads at once, each with a client (session) of its own.

A pull spends most of its time on per-submission requests (an attachment listing, then the
audit.csv) whose latency is Central's, not ours; a handful of sessions side by side cut that
time by about as many. One thread per client, so no session is shared across threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from surveys.central.client import CentralClient

T = TypeVar("T")
R = TypeVar("R")


class ClientPool:
    """Map a request function over items on ``workers`` clients (clones of ``client``).

    With one worker everything runs in the calling thread on ``client`` itself. Use as a
    context manager, or call :meth:`close`, to end the threads and sessions.
    """

    def __init__(self, client: CentralClient, workers: int = 4) -> None:
        self.client = client
        self.workers = max(1, workers)
        self._local = threading.local()
        self._clones: list[CentralClient] = []
        self._lock = threading.Lock()
        self._executor = (
            ThreadPoolExecutor(self.workers, thread_name_prefix="central")
            if self.workers > 1
            else None
        )

    def map(self, request: Callable[[CentralClient, T], R], items: Iterable[T]) -> list[R]:
        """``[request(client, item) for item in items]``, in order, spread over the workers;
        the first error is raised once the requests already started have ended."""
        items = list(items)
        if self._executor is None or len(items) < 2:
            return [request(self.client, item) for item in items]
        return list(self._executor.map(lambda item: request(self._thread_client(), item), items))

    def _thread_client(self) -> CentralClient:
        client = getattr(self._local, "client", None)
        if client is None:
            client = self.client.clone()
            with self._lock:
                self._clones.append(client)
            self._local.client = client
        return client

    def close(self) -> None:
        """Stop the threads and close the clones' sessions."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        for client in self._clones:
            client.close()
        self._clones.clear()

    def __enter__(self) -> ClientPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
