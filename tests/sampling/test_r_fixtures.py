"""The R reference fixtures are reproducible: rerun tests/fixtures/r/make_fixtures.R and compare.

Needs R with the `sampling` package (Debian: r-base-core r-cran-sampling); skipped without it,
except under CI=true where it must run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

R_FIXTURES = Path(__file__).parents[1] / "fixtures" / "r"
INSTALL = "apt-get install r-base-core r-cran-sampling"


def require_r_sampling() -> str:
    """Path of Rscript with the sampling package, or skip (fail under CI=true)."""
    rscript = shutil.which("Rscript")
    usable = rscript is not None and (
        subprocess.run(
            [rscript, "-e", "library(sampling)"], capture_output=True, timeout=120
        ).returncode
        == 0
    )
    if usable:
        return rscript  # type: ignore[return-value]
    reason = f"R with the 'sampling' package is not installed ({INSTALL})"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def test_fixtures_are_what_the_r_script_writes(tmp_path):
    rscript = require_r_sampling()
    script = tmp_path / "make_fixtures.R"
    shutil.copyfile(R_FIXTURES / "make_fixtures.R", script)
    subprocess.run([rscript, str(script)], check=True, capture_output=True, timeout=300)
    for committed in sorted(R_FIXTURES.glob("*.csv")):
        fresh = pd.read_csv(tmp_path / committed.name)
        pd.testing.assert_frame_equal(fresh, pd.read_csv(committed), rtol=1e-12)
