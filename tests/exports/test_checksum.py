"""The provenance's SHA-256: streamed while a writer writes, or read from the file, always
the SHA-256 of the bytes on disk (checked against hashlib over the whole file)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from exports.checksum import Checksums, sha256_of


def _expected(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _chunks() -> list[object]:
    rng = np.random.default_rng(3)
    rows = np.zeros(5000, dtype=[("a", "<f8"), ("b", "i1"), ("c", "S7")])
    rows["a"] = rng.random(5000)
    return [b"<header>", bytearray(b"\x00" * 1000), rows, memoryview(b"tail")]


def test_streamed_digest_is_the_files(tmp_path):
    path = tmp_path / "data.bin"
    with Checksums() as checksums:
        with checksums.open(path) as handle:
            for chunk in _chunks() * 20:  # more chunks than may wait to be hashed
                handle.write(chunk)
        checksums.start(path)
        assert path in checksums.known  # no second read of the file
        assert checksums.digest(path) == _expected(path) == sha256_of(path)


def test_rewritten_header_is_read_again(tmp_path):
    path = tmp_path / "data.bin"
    with Checksums() as checksums:
        with checksums.open(path) as handle:
            handle.write(b"\x00" * 16)
            for chunk in _chunks():
                handle.write(chunk)
            end = handle.tell()
            handle.seek(4)
            handle.write(b"SIZE")  # a header patched after the data
            handle.seek(end)
            handle.write(b"more")
        checksums.start(path)
        assert path not in checksums.known
        assert checksums.digest(path) == _expected(path)


def test_file_changed_after_close_is_read_again(tmp_path):
    path = tmp_path / "data.bin"
    with Checksums() as checksums:
        with checksums.open(path) as handle:
            handle.write(b"first part")
        with path.open("ab") as other:
            other.write(b", added by someone else")
        checksums.start(path)
        assert path not in checksums.known
        assert checksums.digest(path) == _expected(path)


def test_failed_write_records_nothing(tmp_path):
    path = tmp_path / "data.bin"
    with Checksums() as checksums:
        with pytest.raises(RuntimeError), checksums.open(path) as handle:
            handle.write(b"half")
            raise RuntimeError("writer failed")
        path.write_bytes(b"half")  # same size, written again
        checksums.start(path)
        assert path not in checksums.known
        assert checksums.digest(path) == _expected(path)


def test_an_export_reads_none_of_popsurvey_s_files_again(tmp_path, monkeypatch):
    """popsurvey's writers open their files through the export's ``Checksums.open``: their
    SHA-256 is known when they are closed; the other files are read and hashed."""
    import exports.checksum
    from exports import ExportOptions, export_frames
    from tests.exports.household import household_frames

    read_again: list[str] = []

    def counted(path):
        read_again.append(path.name)
        return sha256_of(path)

    monkeypatch.setattr(exports.checksum, "sha256_of", counted)
    form, frames = household_frames()
    options = ExportOptions(formats=("sav", "dta", "csv"), salt="s")
    result = export_frames(form, frames.main, frames.repeats, tmp_path, options)
    written = set(result.checksums())
    assert {name for name in written if name.endswith((".sav", ".dta"))}.isdisjoint(read_again)
    assert any(name.endswith(".csv") for name in read_again)
    for name, digest in result.checksums().items():
        assert digest == _expected(tmp_path / name), name
