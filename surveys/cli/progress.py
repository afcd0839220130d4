"""Progress on long runs: a bar on stderr when it is a terminal, nothing otherwise.

Libraries never draw: they accept an optional ``progress`` callback called as
``progress(done, total)`` (``total`` may be ``None`` while unknown) and the CLI passes the one
:func:`progress_bar` gives.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

ProgressCallback = Callable[[int, "int | None"], None]
"""``progress(done, total)``: how far a long run is; ``total`` is ``None`` while unknown."""


def shows_progress(quiet: bool = False) -> bool:
    """Whether to draw progress: not when asked to be quiet or when stderr is not a terminal."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress_bar(label: str, quiet: bool = False) -> Iterator[ProgressCallback]:
    """A ``progress(done, total)`` callback drawing a bar labelled ``label`` on stderr.

    The bar appears when the first call tells the total; when stderr is not a terminal (or
    ``quiet``) the callback does nothing, so piped output and logs stay clean.
    """
    if not shows_progress(quiet):
        yield _ignore
        return
    state: dict[str, object] = {"bar": None, "done": 0}

    def update(done: int, total: int | None) -> None:
        bar = state["bar"]
        if bar is None:
            bar = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
            bar.__enter__()
            state["bar"] = bar
        elif total is not None and bar.length != total:
            bar.length = total
        bar.update(done - int(state["done"]))  # type: ignore[attr-defined]
        state["done"] = done

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)  # type: ignore[attr-defined]


def _ignore(done: int, total: int | None) -> None:
    """The callback when no progress is shown."""
