"""Shared helpers for the sampling tests: R reference fixtures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

R_FIXTURES = Path(__file__).parents[1] / "fixtures" / "r"


def joint_matrices(name: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{case: (pik, pi_ij matrix)}`` from a long R fixture (written by make_fixtures.R)."""
    table = pd.read_csv(R_FIXTURES / name)
    out = {}
    for case, rows in table.groupby("case"):
        size = int(rows["i"].max())
        matrix = np.zeros((size, size))
        matrix[rows["i"] - 1, rows["j"] - 1] = rows["pi_ij"]
        pik = rows[rows["j"] == 1].sort_values("i")["pik_i"].to_numpy()
        out[str(case)] = (pik, matrix)
    return out


@pytest.fixture(scope="session")
def r_joint():
    """``name -> {case: (pik, pi_ij)}`` for R's joint-probability fixtures."""
    return joint_matrices


@pytest.fixture(scope="session")
def r_inclusion() -> pd.DataFrame:
    """R ``inclusionprobabilities()`` for three size vectors."""
    return pd.read_csv(R_FIXTURES / "inclusionprobabilities.csv")
