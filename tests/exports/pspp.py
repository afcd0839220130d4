"""PSPP (Debian's ``pspp``, an independent SPSS implementation) run from the exports tests:
skipped with a visible reason where it is not installed, mandatory under CI (``CI=true``:
.ci/run installs it, and a missing PSPP fails the tests instead)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

PSPP_MISSING = shutil.which("pspp") is None and os.environ.get("CI") != "true"
needs_pspp = pytest.mark.skipif(PSPP_MISSING, reason="PSPP not installed (Debian package pspp)")


def run_pspp_file(directory: Path, script: str, *, warnings_allowed: bool = False) -> str:
    """Run the syntax file ``script`` with PSPP in ``directory``; its text output. Fails the
    test on a non-zero exit, an error, or (unless ``warnings_allowed``) a warning."""
    result = subprocess.run(
        ["pspp", "-O", "format=txt", "-o", "-", script],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "error" not in output.lower(), output
    if not warnings_allowed:
        assert "warning" not in output.lower(), output
    return output


def run_pspp(directory: Path, syntax: str) -> str:
    """Run ``syntax`` (written to ``run.sps``) with PSPP in ``directory``: no error, no
    warning; its text output."""
    (directory / "run.sps").write_text(syntax, encoding="utf-8")
    return run_pspp_file(directory, "run.sps")
