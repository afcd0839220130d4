"""Variance: Taylor linearisation over strata and PSUs, and replicate-weight variance.

:func:`taylor_variance` follows R's ``svyrecvar``: the weighted influence values are first
projected for every weighting adjustment (post-stratification residuals, the raking
back-fitting, calibration residuals), then summed to PSU totals, centred within strata and
scaled by ``n_h / (n_h - 1)`` and the finite population correction. Later stages contribute
when an fpc is given for every stage. A design nested in another (births in their mothers'
rows) sums the influence values to the parent's rows and takes the parent's variance.
:func:`replicate_variance` is R's ``svrVar``.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from weighting.design import (
    GregRecord,
    NestedRecord,
    PostStratRecord,
    RakingRecord,
    Replicates,
    SurveyDesign,
)
from weighting.errors import LonelyPSUError


def taylor_variance(
    influence: np.ndarray,
    design: SurveyDesign,
    present: np.ndarray | None = None,
    *,
    diagonal: bool = False,
) -> np.ndarray:
    """Covariance matrix of estimators whose weighted influence values are ``influence``.

    ``influence`` is n x k (or n). ``present`` marks the rows that count when the lonely-PSU
    rule ``average`` counts strata (rows outside a domain have zero influence anyway).
    ``diagonal=True`` returns only the k variances (cheaper for many domains).
    """
    x = np.asarray(influence, dtype=float)
    x = x.reshape(len(x), -1)
    nested = [i for i, a in enumerate(design.adjustments) if isinstance(a, NestedRecord)]
    if nested:  # rows nested in a parent design's rows: the parent's variance of the sums
        record = design.adjustments[nested[-1]]
        x = project_adjustments(x, design.adjustments[nested[-1] + 1 :])
        sums = rowsum(x, record.rows, record.parent.n)
        return taylor_variance(sums, record.parent, diagonal=diagonal)
    x = project_adjustments(x, design.adjustments)
    popsize = design.popsize
    try:
        return _multistage(
            x,
            design.clusters,
            design.strata,
            design.sampsize,
            popsize,
            design.lonely_psu,
            np.ones(len(x), dtype=bool) if present is None else present,
            stage=0,
            diagonal=diagonal,
        )
    except LonelyPSUError as err:
        raise named_lonely_psu(design, err) from None


def named_lonely_psu(design: SurveyDesign, err: LonelyPSUError) -> LonelyPSUError:
    """``err`` with the stratum named by its value in the data (not an internal code) and
    the option that decides what a lonely PSU contributes."""
    column = design.columns.get("strata")
    if err.stratum is None:
        return err
    if err.stage == 1 and column:
        import pandas as pd

        levels = pd.factorize(design.data[column], sort=True)[1]
        where = f"stratum {column} = {levels[err.stratum]!r}"
    else:
        where = f"a stage-{err.stage - 1} unit (stratum of stage {err.stage})"
    return LonelyPSUError(
        f"{where} has only one PSU, so its variance is undefined: choose what it contributes "
        "with --lonely-psu (lonely_psu) adjust, average, certainty or remove, as R's "
        "survey.lonely.psu",
        stratum=err.stratum,
        stage=err.stage,
    )


def project_adjustments(x: np.ndarray, adjustments: tuple) -> np.ndarray:
    """Replace influence values by their residuals from every weighting adjustment (svyrecvar)."""
    for record in adjustments:
        if isinstance(record, GregRecord):
            x = (
                _regression_residuals(record.scaled_model, x / record.w[:, None])
                * record.w[:, None]
            )
        elif isinstance(record, RakingRecord):
            for _ in range(10):  # R's fixed number of back-fitting passes
                for cells, psw in record.margins:
                    x = x - psw[:, None] * _group_means(x / psw[:, None], cells)
        elif isinstance(record, PostStratRecord):
            psw = record.new_weights.copy()
            oldw = record.old_weights
            psw[(psw == 0) & (oldw == 0)] = 1.0
            cells = record.cells
            ncell = int(cells.max()) + 1
            sums = rowsum(x * (oldw / psw)[:, None], cells, ncell)
            denom = np.bincount(cells, weights=oldw, minlength=ncell)
            x = x - (sums / denom[:, None])[cells] * psw[:, None]
    return x


def _regression_residuals(model: np.ndarray, y: np.ndarray) -> np.ndarray:
    q, r = np.linalg.qr(model)
    diag = np.abs(np.diag(r))
    keep = diag > 1e-7 * diag.max()
    if not np.all(keep):
        coef, *_ = np.linalg.lstsq(model, y, rcond=None)
        return y - model @ coef
    return y - q @ (q.T @ y)


def rowsum(x: np.ndarray, groups: np.ndarray, ngroups: int) -> np.ndarray:
    """Column sums of ``x`` within groups (R's ``rowsum``), as a sparse product."""
    if x.shape[1] <= 4:
        return np.column_stack(
            [np.bincount(groups, weights=x[:, j], minlength=ngroups) for j in range(x.shape[1])]
        ).reshape(ngroups, x.shape[1])
    indicator = sparse.csr_matrix(
        (np.ones(len(groups)), (groups, np.arange(len(groups)))), shape=(ngroups, len(groups))
    )
    return np.asarray(indicator @ x)


def _group_means(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    ngroups = int(groups.max()) + 1
    counts = np.bincount(groups, minlength=ngroups)
    return (rowsum(x, groups, ngroups) / np.maximum(counts, 1)[:, None])[groups]


def _multistage(
    x: np.ndarray,
    clusters: tuple[np.ndarray, ...],
    strata: tuple[np.ndarray, ...],
    sampsize: tuple[np.ndarray, ...],
    popsize: tuple[np.ndarray, ...] | None,
    lonely_psu: str,
    present: np.ndarray,
    stage: int,
    diagonal: bool = False,
) -> np.ndarray:
    fpc = None if popsize is None else popsize[0]
    v = _one_stage(
        x, strata[0], clusters[0], sampsize[0], fpc, lonely_psu, present, stage, diagonal
    )
    if popsize is not None and len(clusters) > 1:
        order = np.argsort(clusters[0], kind="stable")
        bounds = np.flatnonzero(np.diff(clusters[0][order])) + 1
        for index in np.split(order, bounds):
            sub = _multistage(
                x[index],
                tuple(c[index] for c in clusters[1:]),
                tuple(s[index] for s in strata[1:]),
                tuple(s[index] for s in sampsize[1:]),
                tuple(p[index] for p in popsize[1:]),
                lonely_psu,
                present[index],
                stage + 1,
                diagonal,
            )
            v = v + sub * sampsize[0][index[0]] / popsize[0][index[0]]
    return v


def _one_stage(
    x: np.ndarray,
    strata: np.ndarray,
    clusters: np.ndarray,
    n_psu: np.ndarray,
    popsize: np.ndarray | None,
    lonely_psu: str,
    present: np.ndarray,
    stage: int,
    diagonal: bool = False,
) -> np.ndarray:
    """One stage of R's ``onestage``/``onestrat``, vectorised over strata.

    PSU totals are centred on the stratum mean over all ``n_h`` PSUs of the design (PSUs
    with no row here count as zero totals, as R pads them), scaled by ``f n_h / (n_h - 1)``.
    """
    p = x.shape[1]
    if len(x) == 0:
        return np.zeros(p) if diagonal else np.zeros((p, p))
    key = strata.astype(np.int64) * (int(clusters.max()) + 1) + clusters
    psu_keys, psu_first, psu_of_row = np.unique(key, return_index=True, return_inverse=True)
    totals = rowsum(x, psu_of_row, len(psu_keys))
    stratum_codes, psu_stratum = np.unique(strata[psu_first], return_inverse=True)
    nstrata = len(stratum_codes)
    npsu = n_psu[psu_first]
    if popsize is None:
        f = np.ones(len(psu_keys))
    else:
        pop = popsize[psu_first]
        f = np.where(np.isinf(pop), 1.0, (pop - npsu) / pop)
    scale = np.where(npsu > 1, f * npsu / np.maximum(npsu - 1, 1), f)
    first_of_stratum = np.unique(psu_stratum, return_index=True)[1]
    stratum_npsu = npsu[first_of_stratum]
    stratum_f = f[first_of_stratum]
    certain = np.array([np.all(f[psu_stratum == h] < 1e-7) for h in range(nstrata)])
    lonely = (stratum_npsu <= 1) & ~certain
    counted = (
        np.isin(stratum_codes, np.unique(strata[present]))
        if present.any()
        else np.ones(nstrata, bool)
    )
    if lonely_psu == "fail" and np.any(lonely & counted):
        h = int(np.argmax(lonely & counted))
        raise LonelyPSUError(
            f"stratum {stratum_codes[h]} has only one PSU at stage {stage + 1}",
            stratum=int(stratum_codes[h]),
            stage=stage + 1,
        )
    stratum_sum = rowsum(totals, psu_stratum, nstrata)
    mean = stratum_sum / stratum_npsu[:, None]
    if lonely_psu == "adjust":
        mean[lonely] = 0.0  # R: a lonely stratum is centred on zero, not on itself
    dev = totals - mean[psu_stratum]
    keep_psu = ~(certain | (lonely & (lonely_psu == "average")))[psu_stratum]
    dev = dev * np.sqrt(scale * keep_psu)[:, None]
    v = _crossprod(dev, diagonal)
    present_psus = np.bincount(psu_stratum, minlength=nstrata)
    padding = np.maximum(stratum_npsu - present_psus, 0)
    pad_scale = np.where(
        stratum_npsu > 1, stratum_f * stratum_npsu / np.maximum(stratum_npsu - 1, 1), stratum_f
    )
    pad_weight = padding * pad_scale * ~(certain | lonely)
    if np.any(pad_weight > 0):
        m = mean * np.sqrt(pad_weight)[:, None]
        v = v + _crossprod(m, diagonal)
    if lonely_psu == "average":
        n_counted = int(counted.sum())
        n_ok = int((counted & ~lonely).sum())
        if n_ok:
            v = v * n_counted / n_ok
    return v


def _crossprod(a: np.ndarray, diagonal: bool) -> np.ndarray:
    return np.einsum("ij,ij->j", a, a) if diagonal else a.T @ a


def replicate_variance(
    thetas: np.ndarray, estimate: np.ndarray, replicates: Replicates
) -> np.ndarray:
    """Covariance of replicate estimates ``thetas`` (R x k), as R's ``svrVar``."""
    thetas = np.asarray(thetas, dtype=float).reshape(replicates.count, -1)
    rscales = replicates.rscales
    if replicates.mse:
        centre = np.asarray(estimate, dtype=float).reshape(-1)
    else:
        centre = thetas[rscales > 0].mean(axis=0)
    dev = (thetas - centre) * np.sqrt(rscales)[:, None]
    return replicates.scale * (dev.T @ dev)
