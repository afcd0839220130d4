"""Weighting steps. Each takes a design and returns a new one with one more history record.

- :func:`adjust_nonresponse`: weighting-class adjustment for unknown eligibility and
  non-response, from the recorded outcomes.
- :func:`post_stratify`: R's ``postStratify``.
- :func:`rake`: iterative proportional fitting, R's ``rake`` (same sweeps, same stopping rule).
- :func:`as_raked`: weights raked elsewhere (read back from a store), the raking recorded for
  the variance.
- :func:`calibrate`: GREG calibration with linear, raking or logit distance and bounds,
  R's ``calibrate``.
- :func:`trim_weights`: R's ``trimWeights`` (equal redistribution of the trimmed weight).

Replicate weights, when the design has them, go through the same step replicate by
replicate, as R does for ``svyrep.design`` objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from weighting.calibration import DISTANCES, linear_g, solve_g
from weighting.design import GregRecord, PostStratRecord, RakingRecord, SurveyDesign, WeightingStep
from weighting.errors import ConvergenceError, TargetsError, WeightingError
from weighting.targets import Margin, Targets, level_key, margin
from weighting.variance import rowsum

OUTCOMES = ("respondent", "nonrespondent", "ineligible", "unknown")
"""Eligibility and response outcomes, as recorded for every sampled unit."""


# ---------------------------------------------------------------------- post-stratification
def _margin_cells(
    design: SurveyDesign, m: Margin, partial: bool, factorized: dict | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Cell codes of the rows and the population count of each cell, checking both agree."""
    cells = m.cells(design.data, factorized)
    if np.any(cells < 0):
        row = int(np.argmax(cells < 0))
        raise TargetsError(f"margin {m.name!r}: row {row + 1} has a missing value")
    population = np.array(list(m.totals.values()))
    sample = np.bincount(cells, weights=design.weights, minlength=len(population))
    empty = (sample == 0) & (population > 0)
    if np.any(empty) and not partial:
        level = "*".join(m.levels[int(np.argmax(empty))])
        raise TargetsError(f"margin {m.name!r}: level {level!r} has a target but no sample weight")
    occupied = (sample > 0) & (population == 0)
    if np.any(occupied):
        level = "*".join(m.levels[int(np.argmax(occupied))])
        raise TargetsError(
            f"margin {m.name!r}: level {level!r} has sample weight but a zero target"
        )
    return cells, population


def _post_stratify_weights(w: np.ndarray, cells: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Weights of every column of ``w`` (n or n x R) scaled to the population count of its cell."""
    if w.ndim == 1:
        sample = np.bincount(cells, weights=w, minlength=len(population))
        with np.errstate(divide="ignore", invalid="ignore"):
            factor = np.where(sample > 0, population / sample, 1.0)
        return w * factor[cells]
    sums = rowsum(w, cells, len(population))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(sums > 0, population[:, None] / sums, 1.0)
    return w * factor[cells]


def _replicate_matrix(design: SurveyDesign) -> np.ndarray | None:
    return None if design.replicates is None else np.array(design.replicates.weights)


def post_stratify(
    design: SurveyDesign, target: Margin | tuple[str, Mapping[Any, float]], *, partial: bool = False
) -> SurveyDesign:
    """Scale the weights of each cell to its population count (R's ``postStratify``).

    ``partial=True`` ignores target cells with no sample (R's ``partial=TRUE``).
    """
    m = target if isinstance(target, Margin) else margin(*target)
    cells, population = _margin_cells(design, m, partial)
    new = _post_stratify_weights(design.weights, cells, population)
    reps = _replicate_matrix(design)
    if reps is not None:
        reps = _post_stratify_weights(reps, cells, population)
    record = PostStratRecord(cells, np.array(design.weights), new)
    step = WeightingStep("post_stratify", {m.name: m.to_dict()}, details={"partial": partial})
    return design.evolve(weights=new, step=step, adjustment=record, replicate_weights=reps)


# ---------------------------------------------------------------------- raking
def rake(
    design: SurveyDesign,
    targets: Targets | Sequence[Margin],
    *,
    epsilon: float = 1.0,
    maxit: int = 10,
    force: bool = False,
) -> SurveyDesign:
    """Iterative proportional fitting to the margins (R's ``rake``, same defaults).

    One sweep post-stratifies to every margin in turn. Raking stops when no cell of the
    cross-classification of all margin variables changes by ``epsilon`` or more in a sweep
    (``epsilon < 1`` is taken relative to the weight total). Not converging after ``maxit``
    sweeps raises :class:`ConvergenceError` unless ``force``.

    Every margin is a function of the cross-classification, so raking multiplies the weights
    of each of its cells by one factor: the sweeps run on the cells' weight totals (and on
    each replicate's) and the rows get their cell's factor at the end, the same arithmetic
    as post-stratifying row by row.
    """
    margins = list(targets.margins if isinstance(targets, Targets) else targets)
    if not margins:
        raise TargetsError("raking needs at least one margin")
    factorized = _factorize(design, margins)
    cells = [_margin_cells(design, m, partial=False, factorized=factorized) for m in margins]
    joint = _joint_codes(factorized, design.n)
    ncell = int(joint.max()) + 1
    representative = np.zeros(ncell, dtype=np.int64)
    representative[joint] = np.arange(design.n)
    margin_of_cell = [codes[representative] for codes, _ in cells]
    w0 = np.asarray(design.weights, dtype=float)
    base = np.bincount(joint, weights=w0, minlength=ncell)
    reps0 = _replicate_matrix(design)
    rep_base = None if reps0 is None else rowsum(reps0, joint, ncell)
    eps = epsilon * w0.sum() if epsilon < 1 else epsilon
    factor = np.ones(ncell)
    rep_factor = None if rep_base is None else np.ones_like(rep_base)
    old = base.copy()
    sweeps, converged, delta = 0, False, float("inf")
    last: list[np.ndarray] = []
    while sweeps < maxit:
        last = []
        for (_, population), of_cell in zip(cells, margin_of_cell, strict=True):
            factor = factor * _margin_factor(base * factor, of_cell, population)[of_cell]
            if rep_base is not None:
                rep_factor = (
                    rep_factor * _margin_factor(rep_base * rep_factor, of_cell, population)[of_cell]
                )
            last.append(factor)
        new = base * factor
        delta = float(np.max(np.abs(old - new)))
        if delta < eps:
            converged = True
            break
        old = new
        sweeps += 1
    if not converged and not force:
        raise ConvergenceError(
            f"raking did not converge in {maxit} sweeps (largest cell change {delta:.3g}); "
            "raise maxit, loosen epsilon or force"
        )
    step = WeightingStep(
        "rake",
        {m.name: m.to_dict() for m in margins},
        iterations=sweeps + 1 if converged else sweeps,
        converged=converged,
        details={
            "epsilon": epsilon,
            "maxit": maxit,
            "last_change": delta,
            "forced": force and not converged,
        },
    )
    record = RakingRecord(
        tuple((codes, w0 * f[joint]) for (codes, _), f in zip(cells, last, strict=True))
    )
    reps = None if rep_factor is None else reps0 * rep_factor[joint]
    return design.evolve(
        weights=w0 * factor[joint], step=step, adjustment=record, replicate_weights=reps
    )


def as_raked(design: SurveyDesign, targets: Targets | Sequence[Margin]) -> SurveyDesign:
    """The design whose current weights were already raked to ``targets`` (weights read
    back from a store or a file): the raking is recorded for the variance, the weights are
    kept.

    This is what R's ``rake`` leaves behind when the weights already meet the margins: it
    converges in its first sweep without changing them and records, for each margin, the
    cells and the weights after it (here the weights themselves), so that Taylor
    linearisation (:func:`weighting.variance.taylor_variance`) uses the residuals of the
    raking, as R's ``svyrecvar`` does for a raked design, instead of treating the weights as
    fixed. The step's details give the largest gap between a margin's weighted total and its
    target, relative to the target (zero up to the raking's tolerance; larger when the weights
    were trimmed after raking, and then the variance is the usual approximation that treats
    the trimmed weights as raked).
    """
    margins = list(targets.margins if isinstance(targets, Targets) else targets)
    if not margins:
        raise TargetsError("a raking needs at least one margin")
    factorized = _factorize(design, margins)
    cells = [_margin_cells(design, m, partial=False, factorized=factorized) for m in margins]
    w = np.asarray(design.weights, dtype=float)
    gap = 0.0
    for codes, population in cells:
        sample = np.bincount(codes, weights=w, minlength=len(population))
        with np.errstate(divide="ignore", invalid="ignore"):
            relative = np.where(population > 0, np.abs(sample - population) / population, 0.0)
        gap = max(gap, float(relative.max(initial=0.0)))
    step = WeightingStep(
        "rake (recorded)",
        {m.name: m.to_dict() for m in margins},
        details={"weights": "kept", "largest_margin_gap": gap},
    )
    record = RakingRecord(tuple((codes, w) for codes, _ in cells))
    return design.evolve(weights=w, step=step, adjustment=record)


def _margin_factor(
    cell_totals: np.ndarray, of_cell: np.ndarray, population: np.ndarray
) -> np.ndarray:
    """Post-stratification factor of each margin level from cell totals (one column or many)."""
    if cell_totals.ndim == 1:
        sample = np.bincount(of_cell, weights=cell_totals, minlength=len(population))
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(sample > 0, population / sample, 1.0)
    sample = rowsum(cell_totals, of_cell, len(population))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sample > 0, population[:, None] / sample, 1.0)


def _factorize(
    design: SurveyDesign, margins: Sequence[Margin]
) -> dict[str, tuple[np.ndarray, Any]]:
    names = list(dict.fromkeys(v for m in margins for v in m.variables))
    for name in names:
        if name not in design.data.columns:
            raise TargetsError(f"margin variable {name!r} is not in the data")
    return {name: pd.factorize(design.data[name]) for name in names}


def _joint_codes(factorized: dict[str, tuple[np.ndarray, Any]], n: int) -> np.ndarray:
    """Codes of the cross-classification of all margin variables."""
    combined = np.zeros(n, dtype=np.int64)
    for codes, uniques in factorized.values():
        combined = combined * (len(uniques) + 1) + (codes + 1)
    return pd.factorize(combined)[0]


# ---------------------------------------------------------------------- calibration
def model_matrix(
    design: SurveyDesign, targets: Targets
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The calibration model matrix, population totals and column names.

    An intercept (population size) comes first when there is any margin or a population
    size; each margin adds one column per level but its first; each numeric total adds its
    variable. The calibrated weights do not depend on this choice of columns.
    """
    columns, totals, names = [], [], []
    population = targets.population
    if targets.margins:
        sums = [sum(m.totals.values()) for m in targets.margins]
        if population is None:
            population = sums[0]
        for m, s in zip(targets.margins, sums, strict=True):
            if abs(s - population) > 1e-6 * max(1.0, population):
                raise TargetsError(
                    f"margin {m.name!r} sums to {s:g}, not the population size {population:g}"
                )
    if population is not None:
        columns.append(np.ones(design.n))
        totals.append(population)
        names.append("(Intercept)")
    for m in targets.margins:
        cells, pop = _margin_cells(design, m, partial=False)
        for j, level in enumerate(m.levels):
            if j == 0 and population is not None:
                continue
            columns.append((cells == j).astype(float))
            totals.append(pop[j])
            names.append(f"{m.name}={'*'.join(level)}")
    for var, total in (targets.totals or {}).items():
        values = pd.to_numeric(design.data[var], errors="coerce") if var in design.data else None
        if values is None:
            raise TargetsError(f"calibration total {var!r}: no such variable in the data")
        if values.isna().any():
            raise TargetsError(
                f"calibration total {var!r}: row {int(values.isna().argmax()) + 1} is missing"
            )
        columns.append(values.to_numpy(dtype=float))
        totals.append(total)
        names.append(var)
    if not columns:
        raise TargetsError("calibration needs at least one target")
    return np.column_stack(columns), np.array(totals, dtype=float), names


def calibrate(
    design: SurveyDesign,
    targets: Targets,
    *,
    distance: str = "linear",
    bounds: tuple[float, float] = (-np.inf, np.inf),
    epsilon: float = 1e-7,
    maxit: int = 50,
    force: bool = False,
) -> SurveyDesign:
    """Calibrate the weights to population totals (R's ``calibrate``).

    ``distance`` is ``linear`` (GREG; closed form when unbounded), ``raking`` or ``logit``;
    ``bounds`` bound the g-weights (ratio of new to old weight). Not converging raises
    :class:`ConvergenceError` unless ``force``.
    """
    if distance not in DISTANCES:
        raise WeightingError(f"unknown calibration distance {distance!r} (linear, raking, logit)")
    lower, upper = float(bounds[0]), float(bounds[1])
    model, population, names = model_matrix(design, targets)
    ww = np.array(design.weights, dtype=float)
    closed = distance == "linear" and np.isneginf(lower) and np.isposinf(upper)
    result = _solve(model, ww, population, distance, (lower, upper), closed, epsilon, maxit)
    g, iterations, converged, achieved = result
    if not converged and not force:
        raise ConvergenceError(
            f"calibration ({distance}) did not converge in {maxit} iterations "
            f"(largest relative misfit {achieved:.3g}); loosen bounds or force"
        )
    reps = _replicate_matrix(design)
    if reps is not None:
        for r in range(reps.shape[1]):
            gr, *_ = _solve(
                model, reps[:, r], population, distance, (lower, upper), closed, epsilon, maxit
            )
            reps[:, r] = reps[:, r] * gr
    whalf = np.sqrt(ww)
    record = GregRecord(model * whalf[:, None], g * whalf)
    step = WeightingStep(
        "calibrate",
        targets.to_dict(),
        iterations=iterations,
        converged=converged,
        details={
            "distance": distance,
            "bounds": [lower, upper],
            "epsilon": epsilon,
            "maxit": maxit,
            "achieved": achieved,
            "columns": names,
            "g_range": [float(g.min()), float(g.max())],
            "forced": force and not converged,
        },
    )
    return design.evolve(weights=ww * g, step=step, adjustment=record, replicate_weights=reps)


def _solve(model, ww, population, distance, bounds, closed, epsilon, maxit):
    if closed:
        g = linear_g(model, ww, population)
        misfit = np.abs(population - model.T @ (ww * g)) / (1 + np.abs(population))
        return g, 1, True, float(misfit.max())
    res = solve_g(model, ww, population, DISTANCES[distance], bounds, epsilon=epsilon, maxit=maxit)
    return res.g, res.iterations, res.converged, res.achieved


# ---------------------------------------------------------------------- trimming
def _trim(w: np.ndarray, lower: float, upper: float, strict: bool) -> tuple[np.ndarray, int]:
    trimmed = 0
    for _ in range(1000):
        outside = (w < lower) | (w > upper)
        if not outside.any():
            return w, trimmed
        new = np.clip(w, lower, upper)
        trimmings = (w - new).sum()
        new[~outside] += trimmings / np.count_nonzero(~outside)
        trimmed += int(outside.sum())
        w = new
        if not strict:
            return w, trimmed
    raise ConvergenceError(
        f"strict trimming to [{lower:g}, {upper:g}] does not settle: widen the bounds"
    )


def trim_weights(
    design: SurveyDesign, *, lower: float = -np.inf, upper: float = np.inf, strict: bool = False
) -> SurveyDesign:
    """Trim weights to ``[lower, upper]`` and share the trimmed amount equally among the others.

    As R's ``trimWeights``: the total is kept; ``strict=True`` repeats until no weight is
    outside the bounds (the redistribution can push weights past ``upper`` again).
    Replicate weights are trimmed the same way, each replicate on its own (R 4.1's
    ``trimWeights`` for replicate designs leaves the full-sample weights untouched and
    mis-scales the replicates, so there is no R reference for that case).
    """
    w, count = _trim(np.array(design.weights, dtype=float), lower, upper, strict)
    reps = _replicate_matrix(design)
    if reps is not None:
        for r in range(reps.shape[1]):
            reps[:, r], _ = _trim(reps[:, r], lower, upper, strict)
    step = WeightingStep(
        "trim",
        {"lower": lower, "upper": upper},
        details={"strict": strict, "trimmed": count},
    )
    return design.evolve(weights=w, step=step, replicate_weights=reps)


# ---------------------------------------------------------------------- non-response
def adjust_nonresponse(
    design: SurveyDesign,
    outcome: str,
    *,
    classes: str | Sequence[str] | None = None,
    codes: Mapping[str, Any] | None = None,
    keep: str = "respondents",
) -> SurveyDesign:
    """Weighting-class adjustment for unknown eligibility and non-response.

    Within each class (the crossing of ``classes``): first the weight of units of unknown
    eligibility goes to the units of known eligibility in proportion to their weights, i.e.
    to eligible units in the share of the known eligibility rate; then the weight of eligible
    non-respondents goes to eligible respondents. Ineligible units keep their (adjusted)
    weight. ``codes`` maps the four outcomes to the values in ``outcome`` (default: the
    outcome names themselves). ``keep`` is ``respondents`` (default: only eligible
    respondents remain), ``eligible`` (respondents and ineligibles) or ``all`` (zero weights).
    """
    if keep not in ("respondents", "eligible", "all"):
        raise WeightingError("keep must be respondents, eligible or all")
    codes = dict(codes or {k: k for k in OUTCOMES})
    missing = [k for k in OUTCOMES if k not in codes]
    if missing:
        raise WeightingError(f"non-response codes lack {', '.join(missing)}")
    values = design.data[outcome].map(level_key) if outcome in design.data else None
    if values is None:
        raise TargetsError(f"no outcome variable {outcome!r} in the data")
    kind = np.full(design.n, -1)
    for i, name in enumerate(OUTCOMES):
        kind[(values == level_key(codes[name])).to_numpy()] = i
    if np.any(kind < 0):
        row = int(np.argmax(kind < 0))
        raise TargetsError(
            f"row {row + 1}: outcome {design.data[outcome].iloc[row]!r} "
            "is not one of the coded outcomes"
        )
    class_cols = [classes] if isinstance(classes, str) else list(classes or [])
    if class_cols:
        cls = design.data[class_cols].astype(str).agg("*".join, axis=1)
    else:
        cls = pd.Series(["all"] * design.n)
    labels, cls_codes = np.unique(cls.to_numpy(), return_inverse=True)
    w, table = _nonresponse_weights(np.array(design.weights, float), kind, cls_codes, labels)
    reps = _replicate_matrix(design)
    if reps is not None:
        # a replicate may drop every respondent of a small class: its weight is then lost
        # for that replicate rather than stopping the whole adjustment
        for r in range(reps.shape[1]):
            reps[:, r], _ = _nonresponse_weights(reps[:, r], kind, cls_codes, labels, strict=False)
    keep_rows = {
        "respondents": kind == 0,
        "eligible": (kind == 0) | (kind == 2),
        "all": np.ones(design.n, dtype=bool),
    }[keep]
    step = WeightingStep(
        "nonresponse",
        {"classes": class_cols, "outcome": outcome},
        details={"classes": table, "keep": keep, "codes": {k: str(v) for k, v in codes.items()}},
    )
    return design.evolve(
        weights=w, step=step, replicate_weights=reps, keep=None if keep == "all" else keep_rows
    )


def _nonresponse_weights(
    w: np.ndarray, kind: np.ndarray, cls: np.ndarray, labels: np.ndarray, strict: bool = True
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    ncls = len(labels)
    sums = np.zeros((ncls, 4))
    counts = np.zeros((ncls, 4), dtype=int)
    for k in range(4):
        sums[:, k] = np.bincount(cls[kind == k], weights=w[kind == k], minlength=ncls)
        counts[:, k] = np.bincount(cls[kind == k], minlength=ncls)
    known = sums[:, 0] + sums[:, 1] + sums[:, 2]
    eligible = sums[:, 0] + sums[:, 1]
    table = []
    for c, label in enumerate(labels if strict else []):
        if sums[c, 3] > 0 and known[c] == 0:
            raise WeightingError(
                f"non-response class {label!r}: every unit has unknown eligibility"
            )
        if sums[c, 1] > 0 and sums[c, 0] == 0:
            raise WeightingError(f"non-response class {label!r}: eligible units but no respondent")
    unknown_factor = np.where(known > 0, (known + sums[:, 3]) / np.where(known > 0, known, 1), 1.0)
    response_factor = np.where(
        sums[:, 0] > 0, eligible / np.where(sums[:, 0] > 0, sums[:, 0], 1), 1.0
    )
    new = w * unknown_factor[cls]
    new = np.where(kind == 0, new * response_factor[cls], new)
    new = np.where((kind == 1) | (kind == 3), 0.0, new)
    for c, label in enumerate(labels):
        table.append(
            {
                "class": str(label),
                **{f"n_{o}": int(counts[c, k]) for k, o in enumerate(OUTCOMES)},
                "eligibility_rate": float(eligible[c] / known[c]) if known[c] else None,
                "response_rate": float(sums[c, 0] / eligible[c]) if eligible[c] else None,
                "unknown_factor": float(unknown_factor[c]),
                "response_factor": float(response_factor[c]),
            }
        )
    return new, table
