"""First-order inclusion probabilities proportional to size, with certainty selections.

``pi_i = n x_i / X``; units whose ``pi_i`` reaches 1 are taken with certainty and the rest of
the sample is spread over the remaining units, repeated until no probability exceeds 1 (the
rule of R's ``sampling::inclusionprobabilities``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from surveys.sampling.errors import DesignError

CERTAINTY_TOLERANCE = 1e-12
"""A probability within this distance of 1 counts as a certainty selection."""


def inclusion_probabilities(sizes: ArrayLike, n: int) -> NDArray[np.float64]:
    """Return ``pi_i`` for a without-replacement PPS sample of ``n`` units from ``sizes``.

    Units whose share of the remaining sample would reach 1 are certainty units
    (``pi_i = 1``); the procedure repeats on the others until none does. The result sums to
    ``n``. Sizes must be positive and ``n`` at most the number of units.
    """
    x = np.asarray(sizes, dtype=float)
    if x.ndim != 1:
        raise DesignError("sizes must be a one-dimensional array")
    if np.any(~np.isfinite(x)) or np.any(x <= 0):
        raise DesignError("every size must be a positive finite number")
    if not 0 <= n <= x.size:
        raise DesignError(f"cannot select {n} units from {x.size}")
    pi = np.zeros_like(x)
    certain = np.zeros(x.size, dtype=bool)
    while True:
        remaining = n - int(certain.sum())
        rest = ~certain
        pi[rest] = remaining * x[rest] / x[rest].sum() if remaining else 0.0
        newly = rest & (pi >= 1 - CERTAINTY_TOLERANCE)
        if not newly.any():
            break
        certain |= newly
        pi[certain] = 1.0
    pi[certain] = 1.0
    return pi


def certainty_mask(pi: ArrayLike) -> NDArray[np.bool_]:
    """Return which units are certainty selections (``pi_i`` equal to 1 within tolerance)."""
    return np.asarray(pi, dtype=float) >= 1 - CERTAINTY_TOLERANCE


def sample_size_of(pi: ArrayLike) -> int:
    """Return the integer sample size ``sum(pi)``; raise if it is not an integer or pi is bad."""
    p = np.asarray(pi, dtype=float)
    if p.ndim != 1 or np.any(~np.isfinite(p)) or np.any(p < 0) or np.any(p > 1 + 1e-9):
        raise DesignError("inclusion probabilities must lie in [0, 1]")
    total = p.sum()
    n = round(total)
    if abs(total - n) > 1e-6 * max(1.0, total):
        raise DesignError(f"inclusion probabilities sum to {total:.6g}, not an integer")
    return int(n)
