"""Sampford's (1967) without-replacement PPS design, drawn exactly, with exact ``pi_ij``.

Sampford's rejective procedure (first unit with probability ``pi_i / n``, the other ``n-1``
with replacement proportional to ``lambda_i = pi_i / (1 - pi_i)``, accepted when all distinct)
gives the design

    p(s) = C * prod_{i in s} lambda_i * sum_{i in s} (1 - pi_i),     |s| = n,

whose first-order inclusion probabilities are exactly ``pi_i``. Instead of rejecting, this
module samples from ``p(s)`` directly: it walks the frame once and includes each unit with its
conditional probability given the decisions so far, from sums over subsets of the remaining
units. Those sums come from two polynomial recurrences (``E_k``: elementary symmetric sums of
``lambda``; ``G_k``: the same weighted by ``sum (1 - pi)``), so a draw always terminates and
costs ``O(N n)``. The same recurrences, run without units ``i`` and ``j``, give ``pi_ij``
exactly by summing ``p(s)`` over the samples that contain both (Sampford's design has every
``pi_ij > 0``, so the Sen-Yates-Grundy variance estimator is unbiased).

Certainty units (``pi_i = 1``) are taken outright and the design is applied to the others.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from surveys.sampling.probabilities import certainty_mask, sample_size_of


def _recurrence_step(
    e: NDArray[np.float64], g: NDArray[np.float64], lam: float, w: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Add one unit (``lambda``, ``w = 1 - pi``) to the subset sums along the last axis."""
    e_new = e.copy()
    g_new = g.copy()
    e_new[..., 1:] += lam * e[..., :-1]
    g_new[..., 1:] += lam * (g[..., :-1] + w * e[..., :-1])
    return e_new, g_new


def _suffix_sums(
    lam: NDArray[np.float64], w: NDArray[np.float64], n: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``E[k, r]``, ``G[k, r]`` over units ``k..N-1`` and subset sizes ``r = 0..n``.

    Each row is rescaled by its own constant: the sampler only compares entries of one row.
    """
    size = lam.size
    e = np.zeros((size + 1, n + 1))
    g = np.zeros((size + 1, n + 1))
    e[size, 0] = 1.0
    for k in range(size - 1, -1, -1):
        e[k], g[k] = _recurrence_step(e[k + 1], g[k + 1], lam[k], w[k])
        scale = max(np.abs(e[k]).max(), np.abs(g[k]).max())
        e[k] /= scale
        g[k] /= scale
    return e, g


def _lambdas(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """``pi / (1 - pi)`` scaled to mean 1 (the scale cancels out of ``p(s)``)."""
    lam = p / (1.0 - p)
    return lam / lam.mean()


def draw_many(pi: ArrayLike, rng: np.random.Generator, replicates: int) -> NDArray[np.bool_]:
    """Draw ``replicates`` independent Sampford samples; one boolean row per replicate."""
    p = np.asarray(pi, dtype=float)
    sample_size_of(p)
    certain = certainty_mask(p)
    chosen = np.zeros((replicates, p.size), dtype=bool)
    chosen[:, certain] = True
    rest = np.flatnonzero(~certain & (p > 0))
    n = round(p[rest].sum()) if rest.size else 0
    if n == 0:
        return chosen
    pr = p[rest]
    lam, w = _lambdas(pr), 1.0 - pr
    e, g = _suffix_sums(lam, w, n)
    taken_weight = np.zeros(replicates)  # sum of (1 - pi) over units already included
    still_needed = np.full(replicates, n)
    uniforms = rng.random((replicates, rest.size))
    for k in range(rest.size):
        need = still_needed
        can_take = need > 0
        prev = np.maximum(need - 1, 0)
        include = np.where(
            can_take,
            lam[k] * ((taken_weight + w[k]) * e[k + 1, prev] + g[k + 1, prev]),
            0.0,
        )
        exclude = taken_weight * e[k + 1, need] + g[k + 1, need]
        take = uniforms[:, k] * (include + exclude) < include
        chosen[take, rest[k]] = True
        taken_weight = taken_weight + np.where(take, w[k], 0.0)
        still_needed = need - take
    return chosen


def joint_probabilities(pi: ArrayLike, units: ArrayLike | None = None) -> NDArray[np.float64]:
    """Return exact ``pi_ij`` of Sampford's design for ``units`` (default: all) x the same.

    The diagonal holds ``pi_i``. Cost is ``O(N n + m^3 n)`` for ``m`` requested units, so
    ask for the sampled units only when the stratum is large (2,000 units, n = 60: ~1 s).
    """
    p = np.asarray(pi, dtype=float)
    sample_size_of(p)
    idx = np.arange(p.size) if units is None else np.asarray(units, dtype=int)
    certain = certainty_mask(p)
    rest = np.flatnonzero(~certain & (p > 0))
    n = round(p[rest].sum()) if rest.size else 0
    joint = np.outer(p[idx], p[idx])  # right for any pair involving a certainty unit
    inner = np.flatnonzero(~certain[idx] & (p[idx] > 0))
    zero = p[idx] == 0
    joint[zero, :] = 0.0
    joint[:, zero] = 0.0
    if n >= 2 and inner.size:
        position = {unit: k for k, unit in enumerate(rest)}
        local = np.array([position[u] for u in idx[inner]])
        joint[np.ix_(inner, inner)] = _joint_without_certainty(p[rest], n, local)
    elif n < 2 and inner.size:
        joint[np.ix_(inner, inner)] = 0.0
    np.fill_diagonal(joint, p[idx])
    return joint


def _joint_without_certainty(
    p: NDArray[np.float64], n: int, local: NDArray[np.int_]
) -> NDArray[np.float64]:
    """``pi_ij`` for units ``local`` of a design with all ``0 < pi < 1`` and ``n >= 2``.

    ``pi_ij = C lambda_i lambda_j [ (w_i + w_j) E^{-ij}_{n-2} + G^{-ij}_{n-2} ]`` where the
    sums run over subsets of the other units and ``1 / C = G_n`` over all units. The sums over
    units outside ``local`` are shared by every pair and computed once; only the ``m`` units
    of ``local`` are then added pair by pair, so the cost is ``O(N n + m^3 n)``.
    """
    lam, w = _lambdas(p), 1.0 - p
    m = local.size
    _, g_all, log_all = _subset_sums(lam, w, n)
    outside = np.setdiff1d(np.arange(p.size), local)
    e_out, g_out, log_pair = _subset_sums(lam[outside], w[outside], n - 2)
    e_pair = np.broadcast_to(e_out, (m, m, n - 1)).copy()
    g_pair = np.broadcast_to(g_out, (m, m, n - 1)).copy()
    positions = np.arange(m)
    for t, k in enumerate(local):
        e_new, g_new = _recurrence_step(e_pair, g_pair, lam[k], w[k])
        keep = ((positions != t)[:, None] & (positions != t)[None, :])[..., None]
        e_pair = np.where(keep, e_new, e_pair)
        g_pair = np.where(keep, g_new, g_pair)
        scale = max(np.abs(e_pair).max(), np.abs(g_pair).max())
        e_pair, g_pair, log_pair = e_pair / scale, g_pair / scale, log_pair + np.log(scale)
    li, wi = lam[local], w[local]
    numerator = np.outer(li, li) * (
        (wi[:, None] + wi[None, :]) * e_pair[..., n - 2] + g_pair[..., n - 2]
    )
    return numerator / g_all[n] * np.exp(log_pair - log_all)


def _subset_sums(
    lam: NDArray[np.float64], w: NDArray[np.float64], degree: int
) -> tuple[NDArray[np.float64], NDArray[np.float64], float]:
    """``E_k``, ``G_k`` (``k = 0..degree``) over all the given units, scaled by ``exp(-log)``."""
    e = np.zeros(degree + 1)
    g = np.zeros(degree + 1)
    e[0] = 1.0
    log_scale = 0.0
    for k in range(lam.size):
        e, g = _recurrence_step(e, g, lam[k], w[k])
        scale = max(np.abs(e).max(), np.abs(g).max())
        e, g, log_scale = e / scale, g / scale, log_scale + float(np.log(scale))
    return e, g, log_scale
