"""Allocation of the first-stage sample to strata: proportional, equal, Neyman, power, fixed.

Sizes are measured by the stratum's total size measure ``X_h`` (population), the quantity
PPS selection spreads the sample over:

* proportional: ``n_h ∝ X_h`` (self-weighting with a fixed take per PSU);
* equal: ``n_h = n / H``;
* Neyman: ``n_h ∝ X_h S_h`` with ``S_h`` the per-stratum standard deviation of the key
  variable (from a frame column or given values);
* power (Bankier 1988): ``n_h ∝ X_h^q CV_h`` (``CV_h`` defaults to 1), so ``q = 1`` is
  proportional and ``q = 0`` equal; ``q`` around 0.5 balances national and stratum precision;
* fixed: sizes given per stratum.

Every stratum gets at least ``min(minimum, N_h)`` and at most ``N_h`` units (``N_h``: units in
the frame): the real allocation is ``clip(c * weight_h, lower_h, upper_h)`` with ``c`` chosen
so it sums to ``n``, then rounded to integers by largest remainders so the total stays ``n``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from surveys.sampling.errors import AllocationError

ALLOCATION_METHODS = ("proportional", "equal", "neyman", "power", "fixed")


@dataclass(frozen=True)
class StratumTotals:
    """What allocation needs to know about one stratum of the frame."""

    name: str
    units: int
    size: float


def allocate(
    strata: Sequence[StratumTotals],
    n: int,
    method: str = "proportional",
    *,
    minimum: int = 1,
    sd: Mapping[str, float] | None = None,
    exponent: float = 0.5,
    fixed: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Return the number of first-stage units per stratum (summing to ``n``).

    Raises :class:`AllocationError` naming the stratum for unknown or missing strata, a
    sample larger than the frame or a minimum that cannot be met.
    """
    names = [s.name for s in strata]
    units = np.array([s.units for s in strata], dtype=float)
    if method == "fixed":
        return _fixed_allocation(strata, fixed or {}, minimum)
    if method not in ALLOCATION_METHODS:
        raise AllocationError(
            f"unknown allocation '{method}'; use one of {', '.join(ALLOCATION_METHODS)}",
            key="allocation",
        )
    if n > units.sum():
        raise AllocationError(
            f"sample of {n} units is larger than the frame ({int(units.sum())} units)", key="n"
        )
    lower = np.minimum(float(minimum), units)
    if lower.sum() > n:
        raise AllocationError(
            f"sample of {n} units cannot give {minimum} to each of {len(strata)} strata "
            f"(needs {int(lower.sum())})",
            key="min_per_stratum",
        )
    weights = _weights(strata, method, sd, exponent)
    real = _bounded_proportional(n, weights, lower, units)
    return dict(zip(names, _round_preserving_total(real, n, lower, units), strict=True))


def _weights(
    strata: Sequence[StratumTotals],
    method: str,
    sd: Mapping[str, float] | None,
    exponent: float,
) -> np.ndarray:
    """The unnormalised allocation weight of each stratum for ``method``."""
    sizes = np.array([s.size for s in strata], dtype=float)
    if method == "proportional":
        return sizes
    if method == "equal":
        return np.ones_like(sizes)
    spread = _stratum_values(strata, sd, required=method == "neyman")
    if method == "neyman":
        return sizes * spread
    return sizes**exponent * spread


def _stratum_values(
    strata: Sequence[StratumTotals], values: Mapping[str, float] | None, *, required: bool
) -> np.ndarray:
    """Per-stratum SD/CV values in stratum order; 1 where absent and not ``required``."""
    values = dict(values or {})
    known = {s.name for s in strata}
    unknown = sorted(set(values) - known, key=str)
    if unknown:
        raise AllocationError(
            f"standard deviation given for unknown stratum '{unknown[0]}'", key="stratum_sd"
        )
    out = []
    for s in strata:
        if s.name not in values:
            if required:
                raise AllocationError(
                    f"Neyman allocation needs a standard deviation for stratum '{s.name}'",
                    key="stratum_sd",
                )
            out.append(1.0)
            continue
        value = float(values[s.name])
        if not np.isfinite(value) or value <= 0:
            raise AllocationError(
                f"stratum '{s.name}': standard deviation must be positive", key="stratum_sd"
            )
        out.append(value)
    return np.array(out)


def _fixed_allocation(
    strata: Sequence[StratumTotals], fixed: Mapping[str, int], minimum: int = 1
) -> dict[str, int]:
    """Check and return an allocation given per stratum (at least ``min(minimum, N_h)``
    in each, as for every method)."""
    known = {s.name: s for s in strata}
    for name in fixed:
        if name not in known:
            raise AllocationError(f"allocation to unknown stratum '{name}'", key="stratum_n")
    result = {}
    for s in strata:
        if s.name not in fixed:
            raise AllocationError(
                f"fixed allocation gives no sample size for stratum '{s.name}'", key="stratum_n"
            )
        size = int(fixed[s.name])
        if size < 0:
            raise AllocationError(
                f"stratum '{s.name}': sample size {size} is negative", key="stratum_n"
            )
        if size > s.units:
            raise AllocationError(
                f"stratum '{s.name}': sample of {size} units is larger than its frame "
                f"({s.units} units)",
                key="stratum_n",
            )
        if size < min(minimum, s.units):
            raise AllocationError(
                f"stratum '{s.name}': sample of {size} units is below min_per_stratum "
                f"({min(minimum, s.units)} of its {s.units} units); the stratum would have no "
                "estimate and no variance: raise its size or drop it from the frame",
                key="stratum_n",
            )
        result[s.name] = size
    return result


def _bounded_proportional(
    n: int, weights: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """Split ``n`` as ``clip(c * weight, lower, upper)`` per stratum, with ``c`` set so the
    parts sum to ``n`` (the sum grows with ``c``, so bisection finds it)."""
    positive = weights > 0
    if not positive.any():
        return lower.astype(float)

    def total(c: float) -> float:
        return float(np.clip(c * weights, lower, upper).sum())

    low, high = 0.0, float(np.max(upper[positive] / weights[positive]))
    for _ in range(200):
        middle = (low + high) / 2
        if total(middle) < n:
            low = middle
        else:
            high = middle
    return np.clip(high * weights, lower, upper)


def _round_preserving_total(
    real: np.ndarray, n: int, lower: np.ndarray, upper: np.ndarray
) -> list[int]:
    """Round down, then give the missing units to the largest remainders (within bounds)."""
    base = np.clip(np.floor(real + 1e-9), lower, upper)
    short = int(n - base.sum())
    remainder = real - base
    for k in np.argsort(-remainder, kind="stable"):
        if short > 0 and base[k] < upper[k]:
            base[k] += 1
            short -= 1
    for k in np.argsort(remainder, kind="stable"):
        if short < 0 and base[k] > lower[k]:
            base[k] -= 1
            short += 1
    return [int(v) for v in base]
