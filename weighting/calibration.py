"""Calibration distance functions and the Newton solver for g-weights (R's ``grake``).

Each distance is given, as in R's ``survey``, by ``Fm1(u) = F(u) - 1`` (the g-weight minus one
as a function of the linear predictor ``u = x'eta``) and its derivative ``dF``. Bounds
``(L, U)`` apply to the g-weights.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from weighting.errors import TargetsError

Bounds = tuple[float, float]


@dataclass(frozen=True)
class Distance:
    """A calibration distance: g - 1 and its derivative as functions of the linear predictor."""

    name: str
    fm1: Callable[[np.ndarray, Bounds], np.ndarray]
    df: Callable[[np.ndarray, Bounds], np.ndarray]


def _linear_fm1(u: np.ndarray, b: Bounds) -> np.ndarray:
    return np.minimum(np.maximum(u + 1, b[0]), b[1]) - 1


def _linear_df(u: np.ndarray, b: Bounds) -> np.ndarray:
    return ((u < b[1] - 1) & (u > b[0] - 1)).astype(float)


def _raking_fm1(u: np.ndarray, b: Bounds) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.minimum(np.maximum(np.exp(u), b[0]), b[1]) - 1


def _raking_df(u: np.ndarray, b: Bounds) -> np.ndarray:
    with np.errstate(over="ignore"):
        return np.where((u < b[1] - 1) & (u > b[0] - 1), np.exp(u), 0.0)


def _logit_parts(u: np.ndarray, b: Bounds) -> tuple[float, float, float, np.ndarray]:
    low, up = b
    a = (up - low) / ((up - 1) * (1 - low))
    with np.errstate(over="ignore"):
        eau = np.exp(a * u)
    return low, up, a, eau


def _logit_fm1(u: np.ndarray, b: Bounds) -> np.ndarray:
    low, up, _a, eau = _logit_parts(u, b)
    with np.errstate(invalid="ignore"):
        return (low * (up - 1) + up * (1 - low) * eau) / (up - 1 + (1 - low) * eau) - 1


def _logit_df(u: np.ndarray, b: Bounds) -> np.ndarray:
    low, up, a, eau = _logit_parts(u, b)
    with np.errstate(invalid="ignore", over="ignore"):
        den = up - 1 + (1 - low) * eau
        return (
            up * (1 - low) * eau * a / den
            - (low * (up - 1) + up * (1 - low) * eau) * ((1 - low) * eau * a) / den**2
        )


DISTANCES = {
    "linear": Distance("linear", _linear_fm1, _linear_df),
    "raking": Distance("raking", _raking_fm1, _raking_df),
    "logit": Distance("logit", _logit_fm1, _logit_df),
}


@dataclass(frozen=True)
class GResult:
    """g-weights and how the solver ended."""

    g: np.ndarray
    iterations: int
    converged: bool
    achieved: float


def solve_g(
    model: np.ndarray,
    weights: np.ndarray,
    population: np.ndarray,
    distance: Distance,
    bounds: Bounds,
    *,
    epsilon: float = 1e-7,
    maxit: int = 50,
) -> GResult:
    """Newton iterations for g-weights meeting ``sum(g w x) = population`` (R's ``grake``).

    Convergence is ``|misfit| / (1 + |population|) < epsilon`` for every total. When every
    target is more than 20 times its sample total the weights are rescaled first (as R does),
    so bounds then apply to the rescaled weights.
    """
    if distance.name == "logit" and not all(np.isfinite(bounds)):
        raise TargetsError("logit calibration needs finite bounds (lower < 1 < upper)")
    ww = np.asarray(weights, dtype=float)
    sample_total = model.T @ ww
    scales = population / np.where(sample_total == 0, np.nan, sample_total)
    scale = None
    if np.nanmin(scales) > 20:
        scale = float(np.nanmean(scales))
        ww = ww * scale
        sample_total = sample_total * scale
    eta = np.zeros(model.shape[1])
    xeta = model @ eta
    g = 1 + distance.fm1(xeta, bounds)
    deriv = distance.df(xeta, bounds)
    iteration = 1
    tol = 256 * np.finfo(float).eps
    converged = False
    achieved = float("inf")
    while True:
        tmat = (model * (ww * deriv)[:, None]).T @ model
        misfit = population - sample_total - model.T @ (ww * distance.fm1(xeta, bounds))
        deta = _ginv(tmat, tol) @ misfit
        eta = eta + deta
        xeta = model @ eta
        g = 1 + distance.fm1(xeta, bounds)
        deriv = distance.df(xeta, bounds)
        while iteration < maxit and not (np.all(np.isfinite(g)) and np.all(np.isfinite(deriv))):
            iteration += 1
            deta = deta / 2
            eta = eta - deta
            xeta = model @ eta
            g = 1 + distance.fm1(xeta, bounds)
            deriv = distance.df(xeta, bounds)
        misfit = population - sample_total - model.T @ (ww * distance.fm1(xeta, bounds))
        relative = np.abs(misfit) / (1 + np.abs(population))
        achieved = float(np.max(relative)) if relative.size else 0.0
        if np.all(relative < epsilon):
            converged = True
            break
        iteration += 1
        if iteration > maxit:
            break
    if scale is not None:
        g = g * scale
    return GResult(g, iteration, converged, achieved)


def _ginv(matrix: np.ndarray, tol: float) -> np.ndarray:
    """Moore-Penrose inverse dropping singular values below ``tol`` x the largest (MASS::ginv)."""
    u, s, vt = np.linalg.svd(matrix)
    keep = s > max(tol * s[0], 0) if s.size else s.astype(bool)
    return (vt[keep].T / s[keep]) @ u[:, keep].T


def linear_g(model: np.ndarray, weights: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Closed-form g-weights of unbounded linear (GREG) calibration (R's ``regcalibrate``)."""
    tmat = (model * weights[:, None]).T @ model
    step = np.linalg.solve(tmat, population - model.T @ weights)
    return 1 + model @ step
