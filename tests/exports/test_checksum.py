"""The provenance's SHA-256: streamed while a writer writes, or read from the file, always
the SHA-256 of the bytes on disk (checked against hashlib over the whole file)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from exports.checksum import Checksums, hashed_open, sha256_of


def _expected(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _chunks() -> list[object]:
    rng = np.random.default_rng(3)
    rows = np.zeros(5000, dtype=[("a", "<f8"), ("b", "i1"), ("c", "S7")])
    rows["a"] = rng.random(5000)
    return [b"<header>", bytearray(b"\x00" * 1000), rows, memoryview(b"tail")]


def test_streamed_digest_is_the_files(tmp_path):
    path = tmp_path / "data.bin"
    with hashed_open(path) as handle:
        for chunk in _chunks() * 20:  # more chunks than may wait to be hashed
            handle.write(chunk)
    with Checksums() as checksums:
        checksums.start(path)
        assert path in checksums.known  # no second read of the file
        assert checksums.digest(path) == _expected(path) == sha256_of(path)


def test_rewritten_header_is_read_again(tmp_path):
    path = tmp_path / "data.bin"
    with hashed_open(path) as handle:
        handle.write(b"\x00" * 16)
        for chunk in _chunks():
            handle.write(chunk)
        end = handle.tell()
        handle.seek(4)
        handle.write(b"SIZE")  # a header patched after the data
        handle.seek(end)
        handle.write(b"more")
    with Checksums() as checksums:
        checksums.start(path)
        assert path not in checksums.known
        assert checksums.digest(path) == _expected(path)


def test_file_changed_after_close_is_read_again(tmp_path):
    path = tmp_path / "data.bin"
    with hashed_open(path) as handle:
        handle.write(b"first part")
    with path.open("ab") as other:
        other.write(b", added by someone else")
    with Checksums() as checksums:
        checksums.start(path)
        assert checksums.digest(path) == _expected(path)


def test_failed_write_records_nothing(tmp_path):
    path = tmp_path / "data.bin"
    with pytest.raises(RuntimeError), hashed_open(path) as handle:
        handle.write(b"half")
        raise RuntimeError("writer failed")
    path.write_bytes(b"half")  # same size, written again
    with Checksums() as checksums:
        checksums.start(path)
        assert path not in checksums.known
        assert checksums.digest(path) == _expected(path)
