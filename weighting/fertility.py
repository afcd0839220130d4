"""Fertility rates from birth histories by the DHS method, with DHS's jackknife errors.

Dates are century-month codes (CMC: months since December 1899, so January 1900 is 1;
``cmc(year, month) = (year - 1900) * 12 + month``). The rates cover the months 1 to 36
before the interview month (``v008 - 36 .. v008 - 1``): a birth counts in the age group of
the mother at the child's birth; each woman's months in the window are split across the
five-year age groups she passed through (age in completed years at each month). With
weights ``w``: ``ASFR_a = sum w births_a / sum w (months_a / 12)``, ``TFR = 5 sum ASFR``
(ages 15-49), ``GFR = births to women 15-44 / woman-years 15-44``.

The standard errors are DHS's delete-one-cluster jackknife: with ``k`` clusters and ``r_(i)``
the rate computed without cluster ``i``, ``SE = sqrt((k - 1) / k * sum (r_(i) - r)^2)`` (the
same as DHS's pseudo-value form ``r_i = k r - (k - 1) r_(i)``, ``SE^2 = sum (r_i - r)^2 /
(k (k - 1))``).

Women come either as a women's table plus a births table (long) or as a DHS IR-layout file
(``v005, v008, v011, v021, v022, b3_01..b3_20``), see :func:`women_from_ir`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from weighting.errors import DataFileError

AGE_GROUPS = tuple(range(15, 50, 5))
"""Lower bounds of the five-year age groups 15-19 .. 45-49."""


def cmc(year: int | np.ndarray, month: int | np.ndarray) -> int | np.ndarray:
    """Century-month code of a year and month (January 1900 is 1)."""
    return (np.asarray(year) - 1900) * 12 + np.asarray(month)


@dataclass(frozen=True)
class Women:
    """What the DHS method needs: one row per woman, births as CMCs (n x max births, NaN pad)."""

    interview: np.ndarray
    birth: np.ndarray
    weight: np.ndarray
    cluster: np.ndarray
    births: np.ndarray

    @property
    def n(self) -> int:
        """Number of women."""
        return len(self.interview)


def women_from_ir(frame: pd.DataFrame) -> Women:
    """Women from a DHS IR-layout file: v005 (weight x 1e6), v008, v011, v021, b3_01..b3_20."""
    needed = ["v005", "v008", "v011", "v021"]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataFileError(f"IR file: no column {missing[0]!r}")
    birth_cols = [c for c in frame.columns if c.lower().startswith("b3_")]
    births = frame[birth_cols].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    return _women(
        frame["v008"], frame["v011"], frame["v005"].astype(float) / 1e6, frame["v021"], births
    )


def women_from_tables(
    women: pd.DataFrame,
    births: pd.DataFrame,
    *,
    woman_id: str,
    interview_cmc: str,
    birth_cmc: str,
    weight: str,
    cluster: str,
    child_birth_cmc: str,
) -> Women:
    """Women from a women's table and a births table (one row per live birth) linked by id."""
    for frame, cols, name in (
        (women, [woman_id, interview_cmc, birth_cmc, weight, cluster], "women"),
        (births, [woman_id, child_birth_cmc], "births"),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataFileError(f"{name} table: no column {missing[0]!r}")
    unknown = ~births[woman_id].isin(women[woman_id])
    if unknown.any():
        row = int(np.argmax(unknown.to_numpy()))
        raise DataFileError(
            f"births table row {row + 1}: woman {births[woman_id].iloc[row]!r} "
            "is not in the women table"
        )
    position = pd.Series(np.arange(len(women)), index=women[woman_id].to_numpy())
    rows = position.loc[births[woman_id].to_numpy()].to_numpy()
    counts = np.bincount(rows, minlength=len(women))
    width = max(int(counts.max()) if len(counts) else 0, 1)
    matrix = np.full((len(women), width), np.nan)
    order = np.argsort(rows, kind="stable")
    slot = np.arange(len(rows)) - np.repeat(np.cumsum(counts) - counts, counts)
    matrix[rows[order], slot] = pd.to_numeric(births[child_birth_cmc], errors="coerce").to_numpy()[
        order
    ]
    return _women(women[interview_cmc], women[birth_cmc], women[weight], women[cluster], matrix)


def _women(interview, birth, weight, cluster, births) -> Women:
    interview = pd.to_numeric(pd.Series(interview), errors="coerce").to_numpy(dtype=float)
    birth = pd.to_numeric(pd.Series(birth), errors="coerce").to_numpy(dtype=float)
    weight = pd.to_numeric(pd.Series(weight), errors="coerce").to_numpy(dtype=float)
    for name, values in (
        ("interview CMC", interview),
        ("woman's birth CMC", birth),
        ("weight", weight),
    ):
        bad = np.isnan(values)
        if bad.any():
            raise DataFileError(f"woman {int(np.argmax(bad)) + 1}: {name} is missing")
    cluster_codes = pd.factorize(pd.Series(cluster).astype(str))[0]
    return Women(interview, birth, weight, cluster_codes, np.asarray(births, dtype=float))


@dataclass(frozen=True)
class Rate:
    """A rate with its jackknife standard error over clusters."""

    indicator: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    births: float
    exposure: float
    clusters: int


def exposure_and_births(
    women: Women, *, period: int = 36, groups=AGE_GROUPS
) -> tuple[np.ndarray, np.ndarray]:
    """Per woman and age group: woman-years in the window and births in it (n x groups)."""
    first = women.interview - period
    last = women.interview - 1
    exposure = np.zeros((women.n, len(groups)))
    births = np.zeros((women.n, len(groups)))
    b = women.births
    in_window = (b >= first[:, None]) & (b <= last[:, None])
    age_at_birth = np.floor((b - women.birth[:, None]) / 12)
    for j, low in enumerate(groups):
        lo = women.birth + 12 * low
        hi = women.birth + 12 * (low + 5) - 1
        months = np.minimum(last, hi) - np.maximum(first, lo) + 1
        exposure[:, j] = np.clip(months, 0, None) / 12
        births[:, j] = np.sum(in_window & (age_at_birth >= low) & (age_at_birth < low + 5), axis=1)
    return exposure, births


INTERVALS = ("log", "wald")


def fertility_rates(women: Women, *, period: int = 36, interval: str = "log") -> pd.DataFrame:
    """ASFR (per woman-year) by age group, TFR and GFR, each with its jackknife SE and a 95%
    interval: ``"log"`` (default) is symmetric on the log scale, so it never goes below zero
    for a rare age group; ``"wald"`` is DHS's rate +/- 1.96 SE."""
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}, not {interval!r}")
    exposure, births = exposure_and_births(women, period=period)
    k = int(women.cluster.max()) + 1
    wb = _cluster_sums(births * women.weight[:, None], women.cluster, k)
    we = _cluster_sums(exposure * women.weight[:, None], women.cluster, k)
    total_b, total_e = wb.sum(axis=0), we.sum(axis=0)
    deleted_b, deleted_e = total_b - wb, total_e - we  # k x groups, each without one cluster

    def asfr(b: np.ndarray, e: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(e > 0, b / np.where(e > 0, e, 1), 0.0)

    full = asfr(total_b, total_e)
    parts = asfr(deleted_b, deleted_e)
    rows = []
    for j, low in enumerate(AGE_GROUPS):
        name = f"ASFR {low}-{low + 4}"
        rows.append(_rate(name, full[j], parts[:, j], k, total_b[j], total_e[j], interval))
    tfr = (5 * full.sum(), 5 * parts.sum(axis=1))
    rows.append(_rate("TFR", *tfr, k, total_b.sum(), total_e.sum(), interval))
    young = slice(0, 6)  # 15-44
    gfr_full = total_b[young].sum() / total_e[young].sum()
    gfr_parts = deleted_b[:, young].sum(axis=1) / deleted_e[:, young].sum(axis=1)
    gfr_b, gfr_e = total_b[young].sum(), total_e[young].sum()
    rows.append(_rate("GFR", gfr_full, gfr_parts, k, gfr_b, gfr_e, interval))
    table = pd.DataFrame([r.__dict__ for r in rows])
    # DHS tables give ASFR and GFR per 1,000 women and the relative standard error
    table["per_1000"] = np.where(table["indicator"] == "TFR", np.nan, 1000 * table["estimate"])
    with np.errstate(divide="ignore", invalid="ignore"):
        table["rse"] = table["se"] / table["estimate"]
    return table


def _cluster_sums(values: np.ndarray, cluster: np.ndarray, k: int) -> np.ndarray:
    return np.column_stack(
        [np.bincount(cluster, weights=values[:, j], minlength=k) for j in range(values.shape[1])]
    )


def jackknife_se(full: float, deleted: np.ndarray) -> float:
    """DHS's delete-one-cluster jackknife SE: sqrt((k - 1) / k * sum (r_(i) - r)^2)."""
    k = len(deleted)
    return float(np.sqrt((k - 1) / k * np.sum((deleted - full) ** 2)))


def rate_interval(rate: float, se: float, interval: str = "log") -> tuple[float, float]:
    """The 95% interval of a rate: on the log scale (exp(log r -/+ 1.96 se / r), never below
    zero; a zero rate with zero SE gives (0, 0)) or DHS's symmetric r -/+ 1.96 se."""
    if interval == "wald" or rate <= 0:
        return rate - 1.96 * se, rate + 1.96 * se
    spread = np.exp(1.96 * se / rate)
    return rate / spread, rate * spread


def _rate(
    name: str,
    full: float,
    deleted: np.ndarray,
    k: int,
    births: float,
    exposure: float,
    interval: str,
) -> Rate:
    se = jackknife_se(full, deleted)
    low, high = rate_interval(float(full), se, interval)
    return Rate(name, float(full), se, float(low), float(high), float(births), float(exposure), k)
