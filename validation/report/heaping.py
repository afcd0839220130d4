"""Age heaping and sex ratio at birth: the demographic evidence the report shows.

- Whipple's index (United Nations, *Methods of Appraisal of Quality of Basic Data for
  Population Estimates*, 1955): ``500 * n(ages ending 0 or 5) / n(all ages)`` over a span
  that starts on a digit 3 and is a multiple of 10 years long plus 5, classically 23-62. The
  surveys here interview women 15-60, so the span is 23-57 (35 years, seven ages ending in 0
  or 5); 100 means no heaping, 500 every age on a 0 or 5.
- Myers' blended index (Myers 1940; Shryock and Siegel, *The Methods and Materials of
  Demography*): the share of each terminal digit in two overlapping blended sums starting
  at ``low`` and ``low + 10`` over ``decades`` decades, weighted ``d + 1`` and ``9 - d``;
  half the sum of absolute deviations from 10%. 0 means no preference; 90 every age on one
  digit. Default 20-49 and 30-59.
- Sex ratio at birth: males per 100 females with a 95% interval from the binomial share of
  boys (Wilson score interval, mapped through ``100 p / (1 - p)``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

WHIPPLE_SPAN = (23, 57)
Z95 = 1.959963984540054


def whipple(ages: pd.Series, span: tuple[int, int] = WHIPPLE_SPAN) -> float:
    """Whipple's index of the whole-year ages in ``span`` (NaN when none are in it)."""
    values = pd.to_numeric(ages, errors="coerce").dropna().astype(int)
    inside = values[(values >= span[0]) & (values <= span[1])]
    if inside.empty:
        return math.nan
    return float(500.0 * (inside % 5 == 0).sum() / len(inside))


def myers(ages: pd.Series, low: int = 20, decades: int = 3) -> float:
    """Myers' blended index (0-90) of whole-year ages (NaN when there are none in range)."""
    values = pd.to_numeric(ages, errors="coerce").dropna().astype(int)
    blended = np.zeros(10)
    for digit in range(10):
        first = ((values >= low) & (values < low + 10 * decades) & (values % 10 == digit)).sum()
        second_low = low + 10
        second = (
            (values >= second_low) & (values < second_low + 10 * decades) & (values % 10 == digit)
        ).sum()
        blended[digit] = first * (digit + 1) + second * (9 - digit)
    total = blended.sum()
    if total == 0:
        return math.nan
    return float(0.5 * np.abs(100.0 * blended / total - 10.0).sum())


def last_digit_shares(ages: pd.Series) -> list[float]:
    """The share (0-1) of each last digit 0-9 among whole-year ages."""
    values = pd.to_numeric(ages, errors="coerce").dropna().astype(int)
    if values.empty:
        return [math.nan] * 10
    counts = np.bincount(values % 10, minlength=10)
    return [float(c) for c in counts / counts.sum()]


def sex_ratio(males: int, females: int) -> tuple[float, float, float]:
    """Sex ratio at birth (males per 100 females) and its 95% interval (Wilson score)."""
    n = males + females
    if n == 0:
        return math.nan, math.nan, math.nan
    p = males / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return _ratio(p), _ratio(centre - half), _ratio(centre + half)


def srb_limits(births: np.ndarray, srb: float) -> tuple[np.ndarray, np.ndarray]:
    """The funnel plot's 95% limits of an enumerator's SRB with ``births`` births when the
    true ratio is ``srb`` (normal approximation to the share of boys)."""
    p = srb / (100 + srb)
    half = Z95 * np.sqrt(p * (1 - p) / np.maximum(births, 1))
    low = np.clip(p - half, 1e-6, 1 - 1e-6)
    high = np.clip(p + half, 1e-6, 1 - 1e-6)
    return 100 * low / (1 - low), 100 * high / (1 - high)


def _ratio(p: float) -> float:
    if p >= 1:
        return math.inf
    return 100.0 * p / (1.0 - p)
