"""SHA-256 of the files an export writes, for its provenance, computed beside the writing.

Two ways, both in a thread (hashlib lets go of the interpreter lock while it hashes, so on a
second core the hashing costs the export no time):

- :meth:`Checksums.start` hashes a finished file while the export makes the next ones;
- a writer given :meth:`Checksums.open` to open its file has its bytes read back (from the
  page cache) and hashed while it writes the next ones: the digest is ready when the file
  is closed, not after a pass of its own. It must write every byte through the handle; a
  write before the end (a header patched after the data), a failed write or a file changed
  after it was closed makes the export read the file again instead.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from threading import Condition, Thread

_STEP = 1 << 20
"""Bytes read back and hashed at a time."""


class HashedFile:
    """A binary file open for writing whose SHA-256 is computed in a thread that reads the
    bytes back as they are written, in order (from the page cache: the writer's buffers are
    neither copied nor held; see the module docstring). Unbuffered: each write goes to the
    file at once, so write in chunks, not value by value."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.path.abspath(path)
        self._file = open(self.path, "wb", buffering=0)  # noqa: SIM115 (closed by close())
        self._position = 0
        self._written = 0  # the file's end while written in order
        self._in_order = True
        self._closed = False
        self._digest: str | None = None
        self._identity: tuple[int, int, int] | None = None
        self._change = Condition()
        # a daemon thread: a handle never closed cannot keep the interpreter from exiting
        self._thread = Thread(target=self._follow, name="export-sha256", daemon=True)
        self._thread.start()

    def write(self, data) -> int:
        """Write ``data`` (bytes or any buffer, e.g. a numpy array) at the current position."""
        view = memoryview(data).cast("B")
        at = self._position
        written = 0
        while written < len(view):  # an unbuffered file may write part of it
            written += self._file.write(view[written:])
        self._position += written
        if self._in_order:
            with self._change:
                if at != self._written:
                    self._in_order = False  # bytes before the end rewritten: read the file
                else:
                    self._written += written
                    self._change.notify()
        return written

    def _follow(self) -> None:
        try:
            self._digest = self._hash_as_written()
        except OSError:
            self._digest = None  # the export reads the file instead

    def _hash_as_written(self) -> str | None:
        digest = hashlib.sha256()
        buffer = memoryview(bytearray(_STEP))
        with open(self.path, "rb", buffering=0) as reader:
            position = 0
            while True:
                with self._change:
                    while self._in_order and not self._closed and self._written - position < _STEP:
                        self._change.wait()
                    if not self._in_order:
                        return None
                    end, last = self._written, self._closed
                while position < end:
                    got = reader.readinto(buffer[: min(_STEP, end - position)])
                    if not got:
                        return None
                    digest.update(buffer[:got])
                    position += got
                if last:
                    return digest.hexdigest()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move the position (writing before the end then makes the streamed hash unused)."""
        self._position = self._file.seek(offset, whence)
        return self._position

    def tell(self) -> int:
        """The current position."""
        return self._position

    def flush(self) -> None:
        """Nothing to flush: every write goes to the file at once."""

    def close(self, *, completed: bool = True) -> None:
        """Close the file; its digest is kept when ``completed`` and written in order."""
        if self._file.closed:
            return
        self._file.close()
        with self._change:
            self._closed = True
            self._in_order = self._in_order and completed
            self._change.notify()
        self._thread.join()
        stat = os.stat(self.path)
        if self._digest is not None and stat.st_size == self._written:
            self._identity = _identity(stat)
        else:
            self._digest = None

    @property
    def digest(self) -> str | None:
        """The SHA-256 of the file as written, None if it must be read to be known (not
        closed, not written in order, or changed since it was closed)."""
        if self._digest is None or self._identity is None:
            return None
        try:
            same = _identity(os.stat(self.path)) == self._identity
        except OSError:
            return None
        return self._digest if same else None

    def __enter__(self) -> HashedFile:
        return self

    def __exit__(self, kind, *exc: object) -> None:
        self.close(completed=kind is None)


def _identity(stat: os.stat_result) -> tuple[int, int, int]:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ino)


class Checksums:
    """SHA-256 of an export's files: hashed while written (the writer opened the file with
    :meth:`open`), else computed in a thread while the export goes on with the next files."""

    def __enter__(self) -> Checksums:
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-sha256")
        self.jobs: dict[Path, Future[str]] = {}
        self.known: dict[Path, str] = {}
        self.opened: dict[Path, HashedFile] = {}
        return self

    def __exit__(self, *exc: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def open(self, path: Path) -> HashedFile:
        """``path`` opened for writing, hashed as it is written (a writer's ``open_file``)."""
        handle = HashedFile(path)
        self.opened[Path(path)] = handle
        return handle

    def start(self, path: Path) -> None:
        """Start hashing ``path`` (written, not to change again), unless its digest was
        computed while it was written."""
        handle = self.opened.pop(Path(path), None)
        digest = handle.digest if handle is not None else None
        if digest is not None:
            self.known[path] = digest
        else:
            self.jobs[path] = self.pool.submit(sha256_of, path)

    def digest(self, path: Path) -> str:
        """The SHA-256 of ``path`` (started before, or computed now)."""
        if path in self.known:
            return self.known[path]
        job = self.jobs.get(path)
        return job.result() if job is not None else sha256_of(path)


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read through a small buffer (hashlib lets go of the interpreter
    lock for each part, so the hashing runs beside writers that hold it; no more than the
    buffer is held, where a memory map of the file counts as this process's memory)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
