"""Atomic writes shared by every stage: whole files or none."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from forms.files import atomic_path, write_all_or_nothing, write_atomic
from surveys.cli import main


def test_atomic_path_replaces_on_success_and_keeps_the_old_file_on_error(tmp_path):
    target = tmp_path / "sub" / "weights.csv"
    write_atomic(target, b"old\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        assert tmp.suffix == ".csv" and tmp.parent == target.parent
        tmp.write_bytes(b"half")
        raise RuntimeError("killed half-way")
    assert target.read_bytes() == b"old\n"
    with atomic_path(target) as tmp:
        tmp.write_bytes(b"new\n")
    assert target.read_bytes() == b"new\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["weights.csv"]  # no leftovers


def test_all_or_nothing_writes_every_file_or_none(tmp_path):
    written = write_all_or_nothing(tmp_path / "out", {"a.txt": b"a", "d/b.txt": b"b"})
    assert [p.read_bytes() for p in written] == [b"a", b"b"]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(NotADirectoryError):
        write_all_or_nothing(blocker / "out", {"a.txt": b"a"})


def test_cli_reports_an_unwritable_output_in_one_line(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    result = CliRunner().invoke(main, ["init", str(blocker / "survey")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output and result.output.count("\n") == 1
    assert "not-a-dir" in result.output
