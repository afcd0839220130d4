"""Second (last) stage: households from the listing of each selected area unit.

``systematic`` uses a fractional interval ``k = M / m`` and a random start in ``[0, k)``, so
each of the ``M`` listed households has probability exactly ``m / M``; ``srs`` draws ``m``
without replacement. Reserve households are then drawn at random from the rest, ranked in the
order they should be released; a reserve household replaces a main one only when the survey
manager releases it, and inherits that household's probability ``m / M`` (substitution: report
it, it does not remove non-response bias).
"""

from __future__ import annotations

import numpy as np

from surveys.sampling.errors import DesignError

HOUSEHOLD_METHODS = ("systematic", "srs")


def select_households(
    listed: int, take: int, reserve: int, method: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Return (main, reserve) positions among ``listed`` households, reserves in release order.

    When fewer than ``take`` households are listed, all are taken and there is no reserve.
    """
    if method not in HOUSEHOLD_METHODS:
        raise DesignError(
            f"unknown household selection '{method}'; use one of {', '.join(HOUSEHOLD_METHODS)}"
        )
    if take >= listed:
        return np.arange(listed), np.array([], dtype=int)
    if method == "systematic":
        interval = listed / take
        start = rng.random() * interval
        main = np.floor(start + interval * np.arange(take)).astype(int)
    else:
        main = np.sort(rng.choice(listed, size=take, replace=False))
    rest = np.setdiff1d(np.arange(listed), main)
    spare = rng.permutation(rest)[: min(reserve, rest.size)]
    return main, spare


def within_probability(listed: int, take: int) -> float:
    """Selection probability of a listed household: ``min(m, M) / M``."""
    return min(take, listed) / listed if listed else 0.0
