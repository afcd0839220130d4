"""File writes every stage shares: a file, or a set of files, appears whole or not at all.

A questionnaire build, the sample's entity list, simulated pages, weights and estimates are
all written the same way: into a temporary name beside the target, then renamed over it (a
rename within one directory is atomic), so a crash, a full disk or an error half-way leaves
the previous file, never a truncated one.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """A temporary path beside ``target`` (same suffix, for writers that go by it) to write
    with any library; it replaces ``target`` when the block ends without error and is
    removed otherwise. The parent directory is created."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def write_atomic(target: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``target`` through :func:`atomic_path`; returns ``target``."""
    with atomic_path(target) as temporary:
        temporary.write_bytes(data)
    return Path(target)


def write_all_or_nothing(out_dir: str | Path, outputs: Mapping[str, bytes]) -> list[Path]:
    """Write ``outputs`` (relative path -> bytes) under ``out_dir``: first all of them into
    a temporary directory beside it, then each moved into place, so that a failure while
    writing leaves none of them. Raises NotADirectoryError when the nearest existing
    ancestor of ``out_dir`` is a file, OSError when writing fails and
    :class:`OutsideFolderError` (before writing anything) when a relative path would lead
    outside ``out_dir``."""
    out_dir = Path(out_dir)
    for relative in outputs:
        inside(out_dir, relative)
    anchor = out_dir.absolute()
    while not anchor.exists():
        anchor = anchor.parent
    if not anchor.is_dir():
        raise NotADirectoryError(f"{anchor} is not a directory")
    with tempfile.TemporaryDirectory(prefix=".popsurvey-write-", dir=anchor) as staging:
        for relative, data in outputs.items():
            staged = Path(staging, relative)
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_bytes(data)
        written = []
        for relative in outputs:
            target = out_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(Path(staging, relative), target)
            written.append(target)
        return written


_UNSAFE = re.compile(r"[^\w.\-]+")


def safe_file_name(text: str, *, limit: int = 120) -> str:
    """``text`` (a form id, an instance ID, an enumerator code, an attachment name: anything
    taken from data) as ONE file name: no path separators, no leading dot, nothing but
    letters, digits, ``_ . -`` (other characters become ``_``), at most ``limit`` characters.
    ``"../../etc/x"`` -> ``"etc_x"``; ``"uuid:1f2e"`` -> ``"uuid_1f2e"``."""
    name = _UNSAFE.sub("_", str(text)).strip("._-") or "_"
    return name[:limit]


class OutsideFolderError(ValueError):
    """A path taken from data that would lead outside the folder it must stay in."""


def inside(root: str | Path, *parts: str) -> Path:
    """``root / parts...``, checked to stay inside ``root`` once ``..``, absolute parts and
    symbolic links are resolved; raises :class:`OutsideFolderError` otherwise."""
    root_path = Path(root)
    candidate = root_path.joinpath(*parts)
    resolved_root = root_path.resolve()
    resolved = candidate.resolve()
    if resolved != resolved_root and resolved_root not in resolved.parents:
        shown = "/".join(parts)
        raise OutsideFolderError(f"{shown!r} leads outside {root_path}")
    return candidate
