"""Shared helpers of the weighting tests: R's reference numbers and data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "r" / "weighting"


def read_expected() -> dict:
    """R's outputs written by tests/fixtures/r/weighting/make_fixtures.R."""
    return json.loads((FIXTURES / "expected.json").read_text())


def load(name: str) -> pd.DataFrame:
    """One of the fixture data sets (api data exported from R, synthetic samples)."""
    return pd.read_csv(FIXTURES / f"{name}.csv")


def assert_close(actual, expected, rel: float = 1e-8) -> None:
    """Relative agreement (absolute below 1e-9, where R gives an exact zero)."""
    a, e = _flat(actual), _flat(expected)
    assert a.shape == e.shape, (a.shape, e.shape)
    scale = np.maximum(np.abs(e), 1e-9)  # an exact zero in R (a stratum share) is ~1e-17 here
    worst = float(np.max(np.abs(a - e) / scale)) if a.size else 0.0
    assert worst <= rel, f"relative difference {worst:.3g} > {rel:g}"


def _flat(values) -> np.ndarray:
    """A flat float array from numbers, arrays or R's nested lists ([[x]] for a 1 x 1 matrix)."""
    if isinstance(values, (list, tuple)):
        parts = [_flat(v) for v in values]
        return np.concatenate(parts) if parts else np.array([])
    return np.ravel(np.asarray(values, dtype=float))
