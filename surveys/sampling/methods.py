"""The registry of area-stage selection methods: how to compute ``pi``, draw, and get ``pi_ij``.

Add a method by writing its three functions and one :data:`METHODS` entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from surveys.sampling import sampford, systematic
from surveys.sampling.errors import DesignError
from surveys.sampling.probabilities import inclusion_probabilities


@dataclass(frozen=True)
class SelectionMethod:
    """One way of selecting ``n`` units from a list, with its probabilities."""

    name: str
    description: str
    probabilities: Callable[[ArrayLike, int], NDArray[np.float64]]
    draw_many: Callable[[ArrayLike, np.random.Generator, int], NDArray[np.bool_]]
    joint: Callable[..., NDArray[np.float64]]
    exact_joint: bool

    def draw(self, pi: ArrayLike, rng: np.random.Generator) -> NDArray[np.int_]:
        """Indices of one sample drawn with inclusion probabilities ``pi``."""
        return np.flatnonzero(self.draw_many(pi, rng, 1)[0])


def srs_probabilities(sizes: ArrayLike, n: int) -> NDArray[np.float64]:
    """``n / N`` for every unit (sizes are ignored)."""
    count = np.asarray(sizes).size
    if not 0 <= n <= count:
        raise DesignError(f"cannot select {n} units from {count}")
    return np.full(count, n / count if count else 0.0)


def srs_draw_many(pi: ArrayLike, rng: np.random.Generator, replicates: int) -> NDArray[np.bool_]:
    """Simple random samples without replacement of size ``sum(pi)``."""
    p = np.asarray(pi, dtype=float)
    n = round(p.sum())
    ranks = np.argsort(np.argsort(rng.random((replicates, p.size)), axis=1), axis=1)
    return ranks < n


def srs_joint(pi: ArrayLike, units: ArrayLike | None = None) -> NDArray[np.float64]:
    """``n (n-1) / (N (N-1))`` off the diagonal, ``n / N`` on it."""
    p = np.asarray(pi, dtype=float)
    count, n = p.size, round(p.sum())
    idx = np.arange(count) if units is None else np.asarray(units, dtype=int)
    off = n * (n - 1) / (count * (count - 1)) if count > 1 else 0.0
    joint = np.full((idx.size, idx.size), off)
    np.fill_diagonal(joint, p[idx])
    return joint


METHODS: dict[str, SelectionMethod] = {
    "systematic_pps": SelectionMethod(
        "systematic_pps",
        "systematic PPS in frame order (sort for implicit stratification), certainty units",
        inclusion_probabilities,
        systematic.draw_many,
        systematic.joint_probabilities,
        exact_joint=True,
    ),
    "sampford": SelectionMethod(
        "sampford",
        "Sampford's without-replacement PPS, exact joint probabilities, certainty units",
        inclusion_probabilities,
        sampford.draw_many,
        sampford.joint_probabilities,
        exact_joint=True,
    ),
    "srs": SelectionMethod(
        "srs",
        "simple random sampling without replacement (equal probabilities)",
        srs_probabilities,
        srs_draw_many,
        srs_joint,
        exact_joint=True,
    ),
}


def get_method(name: str) -> SelectionMethod:
    """Return the registered method called ``name``; raise :class:`DesignError` if unknown."""
    try:
        return METHODS[name]
    except KeyError:
        raise DesignError(
            f"unknown selection method '{name}'; use one of {', '.join(METHODS)}"
        ) from None
