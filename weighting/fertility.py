"""Fertility rates from birth histories by the DHS method, with DHS's jackknife errors.

Dates are century-month codes (CMC: months since December 1899, so January 1900 is 1;
``cmc(year, month) = (year - 1900) * 12 + month``). The rates cover the months 1 to 36
before the interview month (``v008 - 36 .. v008 - 1``): a birth counts in the age group of
the mother at the child's birth; each woman's months in the window are split across the
five-year age groups she passed through (age in completed years at each month). With
weights ``w``: ``ASFR_a = sum w births_a / sum w (months_a / 12)``, ``TFR = 5 sum ASFR``
(ages 15-49).

The general fertility rate follows the Guide to DHS Statistics (DHS-7, Croft et al. 2018,
"General Fertility Rate"): the numerator is every live birth in the window to a woman aged
15-49 at the birth, the denominator the woman-years lived at ages 15-44 in the window
(``GFR = births 15-49 / woman-years 15-44``), as DHS.rates computes it. Births at 45-49 are
in the numerator because the GFR stands for all births of the period; the denominator keeps
the conventional 15-44 because so few births occur later.

The standard errors are DHS's delete-one-cluster jackknife: with ``k`` clusters (those with
a woman exposed at ages 15-49 in the window or a birth in it, as DHS.rates counts them) and
``r_(i)``
the rate computed without cluster ``i``, ``SE = sqrt((k - 1) / k * sum (r_(i) - r)^2)`` (the
same as DHS's pseudo-value form ``r_i = k r - (k - 1) r_(i)``, ``SE^2 = sum (r_i - r)^2 /
(k (k - 1))``).

Women come either as a women's table plus a births table (long) or as a DHS IR-layout file
(``v005, v008, v011, v021, v022, b3_01..b3_20``), see :func:`women_from_ir`. Rates by domain
(:func:`fertility_by_domain`) compute each domain's rates and jackknife from the domain's
women and clusters alone, as DHS.rates' ``fert(..., Class=)`` means to.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

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

    def subset(self, mask: np.ndarray) -> Women:
        """The women where ``mask`` holds, their clusters numbered afresh."""
        mask = np.asarray(mask, dtype=bool)
        return Women(
            self.interview[mask],
            self.birth[mask],
            self.weight[mask],
            pd.factorize(self.cluster[mask])[0],
            self.births[mask],
        )


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


IR_BIRTH_COLUMNS = ("b3", "b4")
"""Per-birth columns of the IR layout read for births: CMC of birth (b3_NN), sex (b4_NN)."""


def births_from_ir(frame: pd.DataFrame) -> pd.DataFrame:
    """The birth histories of a DHS IR-layout file, one row per birth: ``woman`` (row of
    the IR file), ``b3`` (CMC of birth), ``b4`` (sex: 1 male, 2 female), ``birth_order``
    ("1", "2", "3+"), the mother's weight ``v005 / 1e6``, cluster ``v021`` and stratum
    ``v022`` (when present).

    The IR file lists a woman's births most recent first (b3_01 is her last birth); the
    order of a birth is ``bord_NN`` when the file has it, else the number of births listed
    minus the slot plus one.
    """
    for column in ("v005", "v021"):
        if column not in frame.columns:
            raise DataFileError(f"IR file: no column {column!r}")
    lower = {str(c).lower(): c for c in frame.columns}
    slots = sorted({c.split("_", 1)[1] for c in lower if c.startswith("b3_") and c[3:].isdigit()})
    if not slots:
        raise DataFileError("IR file: no birth history columns b3_01..b3_20")
    if not any(f"b4_{slot}" in lower for slot in slots):
        raise DataFileError("IR file: no children's sex columns b4_01..b4_20")
    b3 = np.column_stack([_ir_numeric(frame, lower, "b3", s) for s in slots])
    b4 = np.column_stack([_ir_numeric(frame, lower, "b4", s) for s in slots])
    listed = np.sum(~np.isnan(b3), axis=1)
    if all(f"bord_{s}" in lower for s in slots):
        order = np.column_stack([_ir_numeric(frame, lower, "bord", s) for s in slots])
    else:
        order = listed[:, None] - np.arange(len(slots))[None, :]
    woman, slot = np.nonzero(~np.isnan(b3))
    labels = pd.Series(np.clip(order[woman, slot], None, 3)).map({1.0: "1", 2.0: "2", 3.0: "3+"})
    births = pd.DataFrame(
        {
            "woman": woman,
            "b3": b3[woman, slot],
            "b4": b4[woman, slot],
            "birth_order": labels.astype(object).where(labels.notna(), None),
            "weight": pd.to_numeric(frame["v005"], errors="coerce").to_numpy()[woman] / 1e6,
            "v021": frame["v021"].to_numpy()[woman],
        }
    )
    if "v022" in frame.columns:
        births["v022"] = frame["v022"].to_numpy()[woman]
    return births


def _ir_numeric(frame: pd.DataFrame, lower: dict, prefix: str, slot: str) -> np.ndarray:
    column = lower.get(f"{prefix}_{slot}")
    if column is None:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


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


def fertility_rates(
    women: Women, *, period: int = 36, interval: str = "log", level: float = 0.95
) -> pd.DataFrame:
    """ASFR (per woman-year) by age group, TFR and GFR, each with its jackknife SE and an
    interval at ``level``: ``"log"`` (default) is symmetric on the log scale, so it never goes
    below zero for a rare age group; ``"wald"`` is DHS's rate +/- z SE. ``births`` counts
    the (weighted) births behind each rate; an age group without births has a rate of 0 and
    no interval worth the name, which :func:`no_birth_notes` says in words. ``deff`` is the
    design effect: the jackknife variance over the variance under simple random sampling of
    as many women (:func:`_srs_variances`); NaN for a rate without births."""
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {', '.join(INTERVALS)}, not {interval!r}")
    exposure, births = exposure_and_births(women, period=period)
    # as DHS.rates: a woman counts (and her cluster with her) when she has a weight and
    # exposure or a birth in the window; a zero weight puts her outside the sample or domain
    counted = ((exposure.sum(axis=1) > 0) | (births.sum(axis=1) > 0)) & (women.weight > 0)
    if not counted.any():
        raise DataFileError("no woman was aged 15-49 in the months before the interview")
    cluster = pd.factorize(np.where(counted, women.cluster, -1))[0]
    present = np.unique(cluster[counted])
    renumber = np.full(int(cluster.max()) + 1, -1)
    renumber[present] = np.arange(len(present))
    cluster = renumber[cluster]
    k = len(present)
    keep = cluster >= 0
    wb = _cluster_sums((births * women.weight[:, None])[keep], cluster[keep], k)
    we = _cluster_sums((exposure * women.weight[:, None])[keep], cluster[keep], k)
    total_b, total_e = wb.sum(axis=0), we.sum(axis=0)
    deleted_b, deleted_e = total_b - wb, total_e - we  # k x groups, each without one cluster

    def asfr(b: np.ndarray, e: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(e > 0, b / np.where(e > 0, e, 1), 0.0)

    full = asfr(total_b, total_e)
    parts = asfr(deleted_b, deleted_e)
    z = NormalDist().inv_cdf(0.5 + level / 2)
    rows = []
    for j, low in enumerate(AGE_GROUPS):
        name = f"ASFR {low}-{low + 4}"
        rows.append(_rate(name, full[j], parts[:, j], k, total_b[j], total_e[j], interval, z))
    tfr = (5 * full.sum(), 5 * parts.sum(axis=1))
    rows.append(_rate("TFR", *tfr, k, total_b.sum(), total_e.sum(), interval, z))
    young = slice(0, 6)  # woman-years 15-44; births to women 15-49 (module doc)
    with np.errstate(divide="ignore", invalid="ignore"):
        gfr_full = total_b.sum() / total_e[young].sum()
        gfr_parts = deleted_b.sum(axis=1) / deleted_e[:, young].sum(axis=1)
    gfr_b, gfr_e = total_b.sum(), total_e[young].sum()
    rows.append(_rate("GFR", gfr_full, gfr_parts, k, gfr_b, gfr_e, interval, z))
    table = pd.DataFrame([r.__dict__ for r in rows])
    table["deff"] = table["se"] ** 2 / _srs_variances(
        births[counted], exposure[counted], women.weight[counted], full, gfr_full
    )
    # DHS tables give ASFR and GFR per 1,000 women and the relative standard error
    table["per_1000"] = np.where(table["indicator"] == "TFR", np.nan, 1000 * table["estimate"])
    with np.errstate(divide="ignore", invalid="ignore"):
        table["rse"] = table["se"] / table["estimate"]
    return table


def _srs_variances(
    births: np.ndarray, exposure: np.ndarray, weight: np.ndarray, asfr: np.ndarray, gfr: float
) -> np.ndarray:
    """Variance of each rate (ASFRs, TFR, GFR) under simple random sampling of the same
    number of women with replacement, the denominator of the design effect: the rate's
    linearised values ``z_i`` (for a ratio ``r = sum w b / sum w e``:
    ``(b_i - r e_i) / sum w e``) have the weighted variance ``s2`` (with ``n / (n - 1)``),
    and ``V_srs = s2 (sum w)^2 / n``, as R's ``svytotal(z, deff = "replace")`` (the design
    effect R's ``svyratio`` reports)."""
    n, total = len(weight), weight.sum()
    totals_e = weight @ exposure
    with np.errstate(divide="ignore", invalid="ignore"):
        per_group = (births - asfr[None, :] * exposure) / totals_e[None, :]
        young = exposure[:, :6]
        gfr_z = (births.sum(axis=1) - gfr * young.sum(axis=1)) / (weight @ young).sum()
    per_group = np.where(np.isfinite(per_group), per_group, 0.0)
    z = np.column_stack([per_group, 5 * per_group.sum(axis=1), gfr_z])
    mean = weight @ z / total
    s2 = (weight @ (z - mean) ** 2) / total * n / (n - 1)
    return s2 * total**2 / n


def _cluster_sums(values: np.ndarray, cluster: np.ndarray, k: int) -> np.ndarray:
    return np.column_stack(
        [np.bincount(cluster, weights=values[:, j], minlength=k) for j in range(values.shape[1])]
    )


def jackknife_se(full: float, deleted: np.ndarray) -> float:
    """DHS's delete-one-cluster jackknife SE: sqrt((k - 1) / k * sum (r_(i) - r)^2)."""
    k = len(deleted)
    return float(np.sqrt((k - 1) / k * np.sum((deleted - full) ** 2)))


def rate_interval(
    rate: float, se: float, interval: str = "log", z: float = 1.959963984540054
) -> tuple[float, float]:
    """The interval of a rate (``z`` = 1.95996: 95%): on the log scale (exp(log r -/+ z se / r),
    never below zero; a zero rate with zero SE gives (0, 0)) or DHS's symmetric r -/+ z se."""
    if interval == "wald" or rate <= 0:
        return rate - z * se, rate + z * se
    spread = np.exp(z * se / rate)
    return rate / spread, rate * spread


def no_birth_notes(table: pd.DataFrame) -> pd.Series:
    """Per row of a rates table, why the interval says nothing: "no births" for a rate
    whose cell has no birth (its rate is 0 and its interval [0, 0]), "no exposure" when no
    woman lived in the age group during the window, else an empty string."""
    notes = np.where(
        table["exposure"] <= 0,
        "no exposure: no woman of this age in the window",
        np.where(table["births"] <= 0, "no births in the window at these ages", ""),
    )
    return pd.Series(notes, index=table.index)


def fertility_by_domain(
    women: Women,
    domain: np.ndarray | pd.Series | None,
    *,
    period: int = 36,
    interval: str = "log",
    level: float = 0.95,
) -> pd.DataFrame:
    """:func:`fertility_rates` in each domain (one label per woman; missing labels belong to
    no domain), with a leading ``domain`` column; the jackknife runs over the domain's own
    clusters. ``domain=None``: the whole sample, domain label missing."""
    if domain is None:
        table = fertility_rates(women, period=period, interval=interval, level=level)
        table.insert(0, "domain", None)
        return table
    labels = pd.Series(np.asarray(domain, dtype=object))
    if len(labels) != women.n:
        raise ValueError("domain must have one label per woman")
    tables = []
    for label in sorted(labels.dropna().unique(), key=lambda v: (str(type(v)), v)):
        table = fertility_rates(
            women.subset((labels == label).to_numpy()),
            period=period,
            interval=interval,
            level=level,
        )
        table.insert(0, "domain", str(label))
        tables.append(table)
    if not tables:
        raise DataFileError("no woman belongs to any domain")
    return pd.concat(tables, ignore_index=True)


def _rate(
    name: str,
    full: float,
    deleted: np.ndarray,
    k: int,
    births: float,
    exposure: float,
    interval: str,
    z: float,
) -> Rate:
    se = jackknife_se(full, deleted)
    low, high = rate_interval(float(full), se, interval, z)
    return Rate(name, float(full), se, float(low), float(high), float(births), float(exposure), k)
