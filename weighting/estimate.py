"""Estimates with standard errors, confidence intervals and design effects.

Means, totals, ratios, proportions (logit interval, as R's ``svyciprop``) and quantiles
(R's ``svyquantile`` default: ``qrule="math"`` with a Woodruff interval), overall or by
domain (R's ``svyby``). Domains keep the whole design: rows outside the domain get zero
weight, so PSUs and strata without domain members still count in the variance.
Missing values are left out as if outside the domain (R's ``na.rm=TRUE``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd
from scipy import stats

from weighting.design import SurveyDesign
from weighting.errors import DesignError
from weighting.variance import replicate_variance, taylor_variance


@dataclass(frozen=True)
class Estimate:
    """One estimate: the statistic, its variable and domain, SE, CI, design effect."""

    statistic: str
    variable: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    deff: float | None = None
    domain: str | None = None
    n: int | None = None
    df: int | None = None

    @property
    def cv(self) -> float:
        """Coefficient of variation, SE / estimate."""
        return self.se / self.estimate if self.estimate else float("nan")

    def to_dict(self) -> dict:
        """A plain dict (one row of a results table)."""
        return asdict(self)


def estimates_table(estimates: Sequence[Estimate]) -> pd.DataFrame:
    """The estimates as a table, one row each."""
    columns = list(Estimate.__dataclass_fields__)
    return pd.DataFrame([e.to_dict() for e in estimates], columns=columns)


# ---------------------------------------------------------------------- columns and domains
def _variable_matrix(
    design: SurveyDesign, variable: str
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The columns a variable stands for (one, or one dummy per level) and a not-missing mask."""
    series = design.data[variable] if variable in design.data.columns else None
    if series is None:
        raise DesignError(f"no variable {variable!r} in the design's data")
    missing = series.isna().to_numpy()
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.to_numpy(dtype=float)
        return np.nan_to_num(values)[:, None], [variable], ~missing
    if pd.api.types.is_bool_dtype(series):
        return series.fillna(False).to_numpy(dtype=float)[:, None], [variable], ~missing
    levels = sorted(series.dropna().unique(), key=str)
    matrix = np.column_stack([(series == lv).to_numpy(dtype=float) for lv in levels])
    return matrix, [f"{variable}={lv}" for lv in levels], ~missing


def domain_index(
    design: SurveyDesign, by: str | Sequence[str] | None
) -> tuple[list[str | None], np.ndarray]:
    """Domain labels (sorted) and each row's domain number (-1: no domain, zero weight)."""
    if by is None:
        return [None], np.zeros(design.n, dtype=np.int64)
    names = [by] if isinstance(by, str) else list(by)
    for name in names:
        if name not in design.data.columns:
            raise DesignError(f"no domain variable {name!r} in the design's data")
    frame = design.data[names]
    present = (design.weights != 0) & frame.notna().all(axis=1).to_numpy()
    labels = (
        frame.astype(str).agg(".".join, axis=1).to_numpy()
        if len(names) > 1
        else frame.iloc[:, 0].to_numpy()
    )
    codes, uniques = pd.factorize(labels)
    seen = np.unique(codes[present & (codes >= 0)])
    order = sorted(seen, key=lambda c: _sort_key(uniques[c]))
    renumber = np.full(len(uniques) + 1, -1, dtype=np.int64)
    renumber[np.asarray(order, dtype=np.int64)] = np.arange(len(order))
    return [str(uniques[c]) for c in order], np.where(present, renumber[codes], -1)


def domains(
    design: SurveyDesign, by: str | Sequence[str] | None
) -> list[tuple[str | None, np.ndarray]]:
    """The domains of ``by`` (one variable or several crossed) as (label, row mask), sorted."""
    if by is None:
        return [(None, np.ones(design.n, dtype=bool))]
    labels, codes = domain_index(design, by)
    return [(label, codes == k) for k, label in enumerate(labels)]


def _sort_key(value: object) -> tuple:
    return (0, value, "") if isinstance(value, (int, float, np.number)) else (1, 0, str(value))


def _subset_mask(design: SurveyDesign, subset: np.ndarray | pd.Series | None) -> np.ndarray:
    if subset is None:
        return np.ones(design.n, dtype=bool)
    mask = np.asarray(subset, dtype=bool)
    if mask.shape != (design.n,):
        raise DesignError("subset must have one value per row of the design")
    return mask


# ---------------------------------------------------------------------- variance plumbing
def _present(design: SurveyDesign, mask: np.ndarray) -> np.ndarray | None:
    # R drops the rows of an uncalibrated design (so strata outside the domain are not
    # counted by the lonely-PSU "average" rule) but keeps them, with zero weight, once the
    # design has been calibrated.
    return None if design.adjustments else mask


def _linear_stat(
    design: SurveyDesign, x: np.ndarray, mask: np.ndarray, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """Estimates and covariance of means or totals of the columns of ``x`` over ``mask``."""
    w = design.weights * mask
    if kind == "mean":
        psum = w.sum()
        est = (x * w[:, None]).sum(axis=0) / psum
        influence = (x - est) * (w / psum)[:, None]
    else:
        est = (x * w[:, None]).sum(axis=0)
        influence = x * w[:, None]
    if design.replicates is not None:
        reps = design.replicates.weights * mask[:, None]
        thetas = reps.T @ x
        if kind == "mean":
            thetas = thetas / reps.sum(axis=0)[:, None]
        return est, replicate_variance(thetas, est, design.replicates)
    return est, taylor_variance(influence, design, _present(design, mask))


def _srs_variance(design: SurveyDesign, x: np.ndarray, mask: np.ndarray, kind: str) -> np.ndarray:
    """Variance under simple random sampling without replacement of the same size (R's deff)."""
    w = design.weights * mask
    nobs = int(np.count_nonzero(w))
    psum = w.sum()
    mean = (x * w[:, None]).sum(axis=0) / psum
    var = ((x - mean) ** 2 * w[:, None]).sum(axis=0) / psum * nobs / (nobs - 1)
    if psum < nobs:
        return np.full(x.shape[1], np.nan)
    vsrs = var * (psum - nobs) / (psum * nobs)
    return vsrs * psum**2 if kind == "total" else vsrs


def _critical(level: float, df: float | None) -> float:
    if df is None or np.isinf(df):
        return NormalDist().inv_cdf(0.5 + level / 2)
    if df <= 0:
        return float("nan")
    return float(stats.t.ppf(0.5 + level / 2, df))


# ---------------------------------------------------------------------- public estimators
def svy_mean(
    design: SurveyDesign,
    variables: str | Sequence[str],
    *,
    by: str | Sequence[str] | None = None,
    subset: np.ndarray | pd.Series | None = None,
    level: float = 0.95,
) -> list[Estimate]:
    """Weighted means (categorical variables: the share of each level), as R's ``svymean``."""
    return _linear(design, variables, by, subset, level, "mean")


def svy_total(
    design: SurveyDesign,
    variables: str | Sequence[str],
    *,
    by: str | Sequence[str] | None = None,
    subset: np.ndarray | pd.Series | None = None,
    level: float = 0.95,
) -> list[Estimate]:
    """Weighted totals (categorical variables: the count of each level), as R's ``svytotal``."""
    return _linear(design, variables, by, subset, level, "total")


def _linear(design, variables, by, subset, level, kind) -> list[Estimate]:
    names = [variables] if isinstance(variables, str) else list(variables)
    base = _subset_mask(design, subset)
    z = _critical(level, None)
    labels_by_domain, domain_codes = domain_index(design, by)
    out = []
    for name in names:
        x, labels, ok = _variable_matrix(design, name)
        codes = np.where(base & ok & (design.weights != 0), domain_codes, -1)
        live = np.unique(codes[codes >= 0])
        renumber = np.full(len(labels_by_domain) + 1, -1, dtype=np.int64)
        renumber[live] = np.arange(len(live))
        codes = np.where(codes >= 0, renumber[codes], -1)
        counts = np.bincount(codes[codes >= 0], minlength=len(live))
        for j, label in enumerate(labels):
            est, var, vsrs = _domain_column(design, x[:, j], codes, len(live), kind)
            for k, d in enumerate(live):
                se = float(np.sqrt(var[k]))
                e = float(est[k])
                out.append(
                    Estimate(
                        kind,
                        label,
                        e,
                        se,
                        e - z * se,
                        e + z * se,
                        float(var[k] / vsrs[k]),
                        labels_by_domain[d],
                        int(counts[k]),
                    )
                )
    return out


def _domain_column(
    design: SurveyDesign, x: np.ndarray, codes: np.ndarray, ndom: int, kind: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate, variance and SRS variance of one column in each of ``ndom`` domains."""
    if (
        ndom > 1
        and design.replicates is None
        and not design.adjustments
        and len(design.clusters) == 1
        and design.lonely_psu != "average"
    ):
        est, var = _partition_stats(design, x, codes, ndom, kind)
        return est, var, _srs_partition(design, x, codes, ndom, kind)
    masks = codes[:, None] == np.arange(ndom)[None, :]
    est, var = _domain_stats(design, x, masks, kind)
    vsrs = np.array([_srs_variance(design, x[:, None], masks[:, d], kind)[0] for d in range(ndom)])
    return est, var, vsrs


def _domain_stats(
    design: SurveyDesign, x: np.ndarray, masks: np.ndarray, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """Estimates and variances of one column's mean or total in every domain (column of masks).

    All domains share one pass over the design: the influence values of the domains are the
    columns of one matrix. Only the lonely-PSU rule "average" on an uncalibrated design needs
    each domain on its own (R counts only the strata present in the domain).
    """
    if design.replicates is None and design.lonely_psu == "average" and not design.adjustments:
        pairs = [_linear_stat(design, x[:, None], masks[:, d], kind) for d in range(masks.shape[1])]
        return np.array([p[0][0] for p in pairs]), np.array([p[1][0, 0] for p in pairs])
    w = design.weights[:, None] * masks
    xw = x[:, None] * w
    if kind == "mean":
        psum = w.sum(axis=0)
        est = xw.sum(axis=0) / psum
    else:
        est = xw.sum(axis=0)
    if design.replicates is not None:
        reps = design.replicates.weights
        thetas = reps.T @ (x[:, None] * masks)
        if kind == "mean":
            thetas = thetas / (reps.T @ masks.astype(float))
        cov = replicate_variance(thetas, est, design.replicates)
        return est, np.diag(cov)
    influence = (x[:, None] - est) * w / psum if kind == "mean" else xw
    return est, taylor_variance(influence, design, diagonal=True)


def _partition_stats(
    design: SurveyDesign, x: np.ndarray, codes: np.ndarray, ndom: int, kind: str
) -> tuple[np.ndarray, np.ndarray]:
    """Domains that do not overlap, without calibration: PSU x domain totals in one pass.

    The same numbers as the general path (each domain's influence values summed to PSU
    totals), without forming an n x domains matrix.
    """
    inside = codes >= 0
    dom = np.where(inside, codes, 0)
    w = design.weights * inside
    psum = np.bincount(dom, weights=w, minlength=ndom)
    xsum = np.bincount(dom, weights=x * w, minlength=ndom)
    est = xsum / psum if kind == "mean" else xsum
    z = (x - est[dom]) * w / psum[dom] if kind == "mean" else x * w
    clusters, strata = design.clusters[0], design.strata[0]
    key = strata.astype(np.int64) * (int(clusters.max()) + 1) + clusters
    psu, first_key = pd.factorize(key)
    first = np.full(len(first_key), -1)
    first[psu] = np.arange(len(psu))
    totals = np.bincount(psu * ndom + dom, weights=z, minlength=len(first) * ndom)
    totals = totals.reshape(len(first), ndom)
    return est, taylor_variance(totals, _psu_level(design, first), diagonal=True)


def _srs_partition(
    design: SurveyDesign, x: np.ndarray, codes: np.ndarray, ndom: int, kind: str
) -> np.ndarray:
    """:func:`_srs_variance` in every domain of a partition, by bincounts."""
    inside = codes >= 0
    dom = np.where(inside, codes, 0)
    w = design.weights * inside
    nobs = np.bincount(dom, weights=(w != 0).astype(float), minlength=ndom)
    psum = np.bincount(dom, weights=w, minlength=ndom)
    mean = np.bincount(dom, weights=x * w, minlength=ndom) / psum
    ss = np.bincount(dom, weights=(x - mean[dom]) ** 2 * w, minlength=ndom)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = ss / psum * nobs / (nobs - 1)
        vsrs = np.where(psum < nobs, np.nan, var * (psum - nobs) / (psum * nobs))
    return vsrs * psum**2 if kind == "total" else vsrs


def _psu_level(design: SurveyDesign, first: np.ndarray) -> SurveyDesign:
    """The design reduced to one row per PSU (enough for single-stage Taylor variance)."""
    from dataclasses import replace

    return replace(
        design,
        data=design.data.iloc[:0],
        weights=design.weights[first],
        clusters=(design.clusters[0][first],),
        strata=(design.strata[0][first],),
        sampsize=(design.sampsize[0][first],),
        popsize=None if design.popsize is None else (design.popsize[0][first],),
        adjustments=(),
    )


def svy_ratio(
    design: SurveyDesign,
    numerator: str,
    denominator: str,
    *,
    by: str | Sequence[str] | None = None,
    subset: np.ndarray | pd.Series | None = None,
    level: float = 0.95,
) -> list[Estimate]:
    """Ratio of two totals, as R's ``svyratio`` (linearised or by replicates)."""
    base = _subset_mask(design, subset)
    num = design.data[numerator].to_numpy(dtype=float)
    den = design.data[denominator].to_numpy(dtype=float)
    ok = ~(np.isnan(num) | np.isnan(den))
    num, den = np.nan_to_num(num), np.nan_to_num(den)
    z = _critical(level, None)
    out = []
    for domain, dmask in domains(design, by):
        mask = base & dmask & ok
        w = design.weights * mask
        ratio = (num * w).sum() / (den * w).sum()
        if design.replicates is not None:
            reps = design.replicates.weights * mask[:, None]
            thetas = (reps.T @ num) / (reps.T @ den)
            var = replicate_variance(thetas, np.array([ratio]), design.replicates)[0, 0]
        else:
            influence = (num - ratio * den) / (den * w).sum() * w
            var = taylor_variance(influence, design, _present(design, mask))[0, 0]
        se = float(np.sqrt(var))
        out.append(
            Estimate(
                "ratio",
                f"{numerator}/{denominator}",
                float(ratio),
                se,
                ratio - z * se,
                ratio + z * se,
                None,
                domain,
                int(mask.sum()),
            )
        )
    return out


def svy_proportion(
    design: SurveyDesign,
    variable: str,
    value: object = 1,
    *,
    by: str | Sequence[str] | None = None,
    subset: np.ndarray | pd.Series | None = None,
    level: float = 0.95,
) -> list[Estimate]:
    """Proportion with ``variable == value`` and its logit interval, as R's ``svyciprop``.

    The interval is ``expit(logit(p) +- t * SE(p) / (p (1 - p)))`` with the design's degrees of
    freedom (replicate designs: the SE of the replicates' logits).
    """
    base = _subset_mask(design, subset)
    series = design.data[variable]
    ok = series.notna().to_numpy()
    y = (series == value).to_numpy(dtype=float)[:, None]
    out = []
    for domain, dmask in domains(design, by):
        mask = base & dmask & ok
        if not np.any(design.weights * mask):
            continue
        p_arr, cov = _linear_stat(design, y, mask, "mean")
        p = float(p_arr[0])
        se = float(np.sqrt(cov[0, 0]))
        df = design.degrees_of_freedom(mask if not design.adjustments else None)
        low, high = logit_interval(design, y[:, 0], mask, p, se, level, df)
        with np.errstate(divide="ignore", invalid="ignore"):  # p = 0 or 1: no variance, NaN
            deff = float(cov[0, 0] / _srs_variance(design, y, mask, "mean")[0])
        out.append(
            Estimate(
                "proportion",
                f"{variable}={value}",
                p,
                se,
                low,
                high,
                deff,
                domain,
                int(np.count_nonzero(design.weights * mask)),  # rows in the domain with weight
                df,
            )
        )
    return out


def logit_interval(
    design: SurveyDesign,
    y: np.ndarray,
    mask: np.ndarray,
    p: float,
    se: float,
    level: float,
    df: int,
) -> tuple[float, float]:
    """The logit-scale Wald interval of a proportion, back-transformed (svyciprop "logit")."""
    if p <= 0 or p >= 1:
        return (p, p)
    if design.replicates is not None:
        reps = design.replicates.weights * mask[:, None]
        rp = (reps.T @ y) / reps.sum(axis=0)
        with np.errstate(divide="ignore"):
            logits = np.log(rp / (1 - rp))
        var = replicate_variance(logits, np.array([np.log(p / (1 - p))]), design.replicates)[0, 0]
        se_logit = float(np.sqrt(var))
    else:
        se_logit = se / (p * (1 - p))
    t = _critical(level, df)
    centre = np.log(p / (1 - p))
    return _expit(centre - t * se_logit), _expit(centre + t * se_logit)


def _expit(x: float) -> float:
    return float(1 - 1 / (1 + np.exp(x)))


def weighted_quantile(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """R's ``qrule_math``: the smallest x whose weighted CDF reaches p (interpolation-free)."""
    keep = w != 0
    x, w = x[keep], w[keep]
    order = np.argsort(x, kind="stable")
    xs = x[order]
    # R sums in extended precision and rounds each partial sum to double; whether a cumulative
    # weight equals p * total exactly decides between two values, so do the same
    long_cumw = np.cumsum(w[order].astype(np.longdouble))
    cumw = long_cumw.astype(float)
    total = float(long_cumw[-1])
    below = np.flatnonzero(cumw <= p * total)
    pos = below[-1] if len(below) else 0  # as R's survey:::last, which falls back to 1
    posnext = pos if pos == len(xs) - 1 else pos + 1
    wlow = p - cumw[pos] / total
    return float(xs[pos] if wlow == 0 else xs[posnext])


def svy_quantile(
    design: SurveyDesign,
    variable: str,
    quantiles: Sequence[float] = (0.5,),
    *,
    by: str | Sequence[str] | None = None,
    subset: np.ndarray | pd.Series | None = None,
    level: float = 0.95,
) -> list[Estimate]:
    """Quantiles with Woodruff intervals, as R's ``svyquantile`` defaults (qrule "math")."""
    base = _subset_mask(design, subset)
    series = design.data[variable]
    ok = series.notna().to_numpy()
    x = np.nan_to_num(series.to_numpy(dtype=float))
    out = []
    for domain, dmask in domains(design, by):
        mask = base & dmask & ok
        w = design.weights * mask
        if not np.any(w):
            continue
        df = design.degrees_of_freedom(mask if not design.adjustments else None)
        t = _critical(1 - (1 - level), df)
        for q in quantiles:
            qhat = weighted_quantile(x, w, q)
            below = (x <= qhat).astype(float)[:, None]
            pm, cov = _linear_stat(design, below, mask, "mean")
            half = t * np.sqrt(cov[0, 0])
            plow, phigh = pm[0] - half, pm[0] + half
            low = float("nan") if np.isnan(plow) or plow < 0 else weighted_quantile(x, w, plow)
            high = float("nan") if np.isnan(phigh) or phigh > 1 else weighted_quantile(x, w, phigh)
            se = (high - low) / (2 * t)
            out.append(
                Estimate(
                    f"quantile {q:g}",
                    variable,
                    qhat,
                    se,
                    low,
                    high,
                    None,
                    domain,
                    int(mask.sum()),
                    df,
                )
            )
    return out
