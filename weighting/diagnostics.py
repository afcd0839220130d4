"""Weight diagnostics: Kish's design effect of weighting, effective n, distribution, margins."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from weighting.design import SurveyDesign
from weighting.targets import Targets


def kish_deff(weights: np.ndarray) -> float:
    """Kish's design effect of unequal weighting: n sum(w^2) / (sum w)^2 = 1 + CV^2."""
    w = np.asarray(weights, dtype=float)
    w = w[w != 0]
    return float(len(w) * np.sum(w**2) / np.sum(w) ** 2)


def effective_n(weights: np.ndarray) -> float:
    """Kish's effective sample size, (sum w)^2 / sum(w^2)."""
    w = np.asarray(weights, dtype=float)
    return float(np.sum(w) ** 2 / np.sum(w**2))


def weight_summary(design: SurveyDesign) -> dict[str, float]:
    """Count, total, quantiles, CV, max/min ratio, Kish deff and effective n of the weights."""
    w = np.asarray(design.weights, dtype=float)
    positive = w[w > 0]
    q = np.quantile(positive, [0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1])
    return {
        "n": len(w),
        "n_positive": len(positive),
        "total": float(w.sum()),
        "mean": float(positive.mean()),
        "min": float(q[0]),
        "p01": float(q[1]),
        "p05": float(q[2]),
        "q1": float(q[3]),
        "median": float(q[4]),
        "q3": float(q[5]),
        "p95": float(q[6]),
        "p99": float(q[7]),
        "max": float(q[8]),
        "cv": float(positive.std() / positive.mean()),
        "max_min_ratio": float(q[8] / q[0]),
        "kish_deff": kish_deff(w),
        "effective_n": effective_n(w),
    }


def margin_check(design: SurveyDesign, targets: Targets) -> pd.DataFrame:
    """Achieved weighted counts (and totals) against the targets, with the differences."""
    rows = []
    for m in targets.margins:
        cells = m.cells(design.data)
        achieved = np.bincount(
            cells[cells >= 0], weights=design.weights[cells >= 0], minlength=len(m.levels)
        )
        for j, level in enumerate(m.levels):
            rows.append(_row(m.name, "*".join(level), m.totals[level], achieved[j]))
    for var, total in (targets.totals or {}).items():
        values = pd.to_numeric(design.data[var], errors="coerce").fillna(0).to_numpy()
        rows.append(_row(var, "(total)", total, float(values @ design.weights)))
    if targets.population is not None:
        rows.append(_row("_N", "(population)", targets.population, float(design.weights.sum())))
    return pd.DataFrame(rows)


def _row(name: str, level: str, target: float, achieved: float) -> dict:
    return {
        "margin": name,
        "level": level,
        "target": float(target),
        "achieved": float(achieved),
        "difference": float(achieved - target),
        "relative": float((achieved - target) / target) if target else float("nan"),
    }


def history_table(design: SurveyDesign) -> pd.DataFrame:
    """The weighting steps, one row each: method, iterations, convergence, targets, details."""
    return pd.DataFrame(
        [
            {
                "step": i,
                "method": s.method,
                "iterations": s.iterations,
                "converged": s.converged,
                "targets": json.dumps(s.targets, default=str),
                "details": json.dumps(s.details, default=str),
            }
            for i, s in enumerate(design.history)
        ]
    )
