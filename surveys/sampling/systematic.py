"""Systematic PPS selection (Madow's method) in frame order, with exact joint probabilities.

Certainty units (``pi_i = 1``) are taken outright; the others are laid end to end on
``[0, n')`` by their cumulated probabilities and every unit that covers ``u, u+1, ...,
u+n'-1`` (one uniform start ``u``) is selected. Sorting the frame first (e.g. by township)
gives implicit stratification. Joint probabilities are exact for the given order but many are
zero, so design-based variance needs an approximation (e.g. successive differences or the
with-replacement formula); use Sampford for unbiased Sen-Yates-Grundy estimation.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from surveys.sampling.probabilities import certainty_mask, sample_size_of


def _cumulated(pi: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lower and upper ends of each unit's segment on ``[0, n)``, rescaled to end exactly at n."""
    upper = np.cumsum(pi)
    n = round(upper[-1]) if upper.size else 0
    if upper.size and upper[-1] > 0:
        upper *= n / upper[-1]
    lower = np.concatenate(([0.0], upper[:-1]))
    return lower, upper


def draw_many(pi: ArrayLike, rng: np.random.Generator, replicates: int) -> NDArray[np.bool_]:
    """Draw ``replicates`` independent systematic PPS samples; one boolean row per replicate."""
    p = np.asarray(pi, dtype=float)
    sample_size_of(p)
    certain = certainty_mask(p)
    chosen = np.zeros((replicates, p.size), dtype=bool)
    chosen[:, certain] = True
    rest = np.flatnonzero(~certain)
    if rest.size == 0 or p[rest].sum() < 0.5:
        return chosen
    lower, upper = _cumulated(p[rest])
    start = rng.random(replicates)[:, None]
    hits = np.ceil(upper[None, :] - start) - np.ceil(lower[None, :] - start)
    chosen[:, rest] = hits > 0
    return chosen


def joint_probabilities(pi: ArrayLike, units: ArrayLike | None = None) -> NDArray[np.float64]:
    """Return the exact ``pi_ij`` of systematic PPS in the given order for ``units`` (default all).

    Unit ``i`` is selected when the start falls in its segment folded onto ``[0, 1)`` (one or
    two intervals), so ``pi_ij`` is the length of the overlap of two folded segments.
    """
    p = np.asarray(pi, dtype=float)
    sample_size_of(p)
    idx = np.arange(p.size) if units is None else np.asarray(units, dtype=int)
    certain = certainty_mask(p)
    start = np.zeros(p.size)
    end = np.zeros(p.size)
    rest = np.flatnonzero(~certain)
    if rest.size:
        lower, upper = _cumulated(p[rest])
        start[rest] = lower - np.floor(lower)
        end[rest] = start[rest] + (upper - lower)
    s, e = start[idx], end[idx]
    # Each folded segment as two pieces: [start, min(end, 1)) and [0, max(end - 1, 0)).
    pieces = [(s, np.minimum(e, 1.0)), (np.zeros_like(s), np.maximum(e - 1.0, 0.0))]
    joint = np.zeros((idx.size, idx.size))
    for a0, a1 in pieces:
        for b0, b1 in pieces:
            lo = np.maximum(a0[:, None], b0[None, :])
            hi = np.minimum(a1[:, None], b1[None, :])
            joint += np.clip(hi - lo, 0.0, None)
    pk, ck = p[idx], certain[idx]
    joint[ck, :] = pk[None, :]
    joint[:, ck] = np.broadcast_to(pk[:, None], joint.shape)[:, ck]
    np.fill_diagonal(joint, pk)
    return joint
