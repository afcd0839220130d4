"""Each enumerator against the rest of the team, indicator by indicator.

- ``share`` indicators (successes of n): the exact binomial tail of the enumerator's count
  under the typical enumerator's rate (20%-trimmed mean of the rates, so that the few who
  plant problems do not move it; at least a quarter of the rest's pooled rate), turned
  into a z; z's are then rescaled by their robust spread when that exceeds 1
  (over-dispersion: clustered areas and interviews).
- ``level`` indicators (medians, means, indices): a robust z, (x - median) / (1.4826 MAD),
  over the enumerators that qualify.
- ``tested`` indicators carry the z of a test their check made (e.g. daughters reported
  against those expected from the women's ages and the sons reported) and its expected
  value as the team's.

An enumerator qualifies for a comparison only with at least ``min_interviews`` completed
interviews AND at least as many cases under the indicator (ages near a boundary, births),
so five interviews, or nine ages, never flag anyone. The ``signal`` is the z on the
suspicious side (``direction``); an indicator is flagged at ``team_z``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

MAX_SIGNAL = 10.0
TRIM = 0.2
"""Share of enumerators cut from each end for the typical rate of a share indicator."""
RARE_FLOOR = 0.25
OVERDISPERSION_MIN = 10
LEVEL_FLOOR = 0.05
"""Smallest spread of a level indicator, as a share of its typical value."""
"""Enumerators needed before binomial z's are rescaled by their robust spread."""


def compare_with_team(
    indicators: pd.DataFrame, interviews: pd.Series, min_interviews: int, team_z: float
) -> pd.DataFrame:
    """The indicator frame with ``interviews``, ``team``, ``z``, ``signal`` and ``flagged``."""
    parts = []
    for _, frame in indicators.groupby("indicator", sort=False):
        frame = frame.copy()
        frame["interviews"] = (
            interviews.reindex(frame["enumerator"]).fillna(0).astype(int).to_numpy()
        )
        eligible = (frame["interviews"] >= min_interviews) & (frame["n"] >= min_interviews)
        eligible &= frame["value"].notna()
        kind = frame["kind"].iat[0]
        if kind == "share":
            team, z = _share_z(frame, eligible.to_numpy())
        elif kind == "tested":  # the check's own test: its expected value and z
            team = frame["expected"].to_numpy(dtype=float)
            z = np.where(eligible, frame["tested_z"].to_numpy(dtype=float), np.nan)
        else:
            team, z = _level_z(frame, eligible.to_numpy())
        frame["team"] = team
        frame["z"] = z
        direction = frame["direction"].iat[0]
        signal = -z if direction == "low" else np.abs(z) if direction == "both" else z
        frame["signal"] = np.clip(np.where(eligible, np.nan_to_num(signal), 0.0), 0, MAX_SIGNAL)
        frame["eligible"] = eligible.to_numpy()
        frame["flagged"] = (frame["signal"] >= team_z) & (frame["weight"] > 0)
        parts.append(frame)
    if not parts:
        return indicators.assign(
            interviews=0, team=np.nan, z=np.nan, signal=0.0, eligible=False, flagged=False
        )
    return pd.concat(parts, ignore_index=True)


def _share_z(frame: pd.DataFrame, eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = frame["successes"].to_numpy(dtype=float)
    n = frame["n"].to_numpy(dtype=float)
    total_s, total_n = s.sum(), n.sum()
    rest_n = np.maximum(total_n - n, 1.0)
    floor = 0.5 / max(total_n, 1.0)
    rest = (total_s - s) / rest_n
    if eligible.sum() >= 3:
        # the typical enumerator's rate (trimmed mean of the rates), robust to the few who
        # plant problems; never below a quarter of the rest's pooled rate (rare events)
        typical = stats.trim_mean(s[eligible] / n[eligible], TRIM)
        p0 = np.maximum(typical, RARE_FLOOR * rest)
        team = typical
    else:
        p0 = rest
        team = total_s / total_n if total_n else np.nan
    p0 = np.clip(p0, floor, 1 - floor)
    k = np.round(s)
    high = stats.binom.sf(k - 1, n.astype(np.int64), p0)
    low = stats.binom.cdf(k, n.astype(np.int64), p0)
    z_high = stats.norm.isf(np.clip(high, 1e-300, 1.0))
    z_low = stats.norm.isf(np.clip(low, 1e-300, 1.0))
    z = np.where(z_high >= z_low, np.maximum(z_high, 0), -np.maximum(z_low, 0))
    z = np.where(eligible, z, np.nan)
    chosen = z[eligible]
    if len(chosen) >= OVERDISPERSION_MIN:
        spread = 1.4826 * float(np.median(np.abs(chosen - np.median(chosen))))
        if spread > 1.0:  # more spread than binomial: clustered areas and interviews
            z = z / spread
    return np.full(len(frame), team), z


def _level_z(frame: pd.DataFrame, eligible: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = frame["value"].to_numpy(dtype=float)
    chosen = x[eligible]
    if len(chosen) < 3:
        typical = np.nanmedian(x) if (~np.isnan(x)).any() else np.nan
        return np.full(len(x), typical), np.full(len(x), np.nan)
    centre = float(np.median(chosen))
    # a difference under LEVEL_FLOOR of the typical value is never evidence, however
    # alike the other enumerators are (GPS spread ratios of 0.995 vs 1.000)
    spread = max(_robust_sd(chosen - centre), LEVEL_FLOOR * abs(centre))
    if spread == 0:
        return np.full(len(x), centre), np.where(eligible, 0.0, np.nan)
    return np.full(len(x), centre), np.where(eligible, (x - centre) / spread, np.nan)


def _robust_sd(values: np.ndarray) -> float:
    """1.4826 x median absolute deviation from the median (mean absolute deviation x
    1.2533 when the MAD is 0); 0 for fewer than 3 values."""
    values = values[~np.isnan(values)]
    if len(values) < 3:
        return 0.0
    centre = np.median(values)
    mad = 1.4826 * float(np.median(np.abs(values - centre)))
    if mad > 0:
        return mad
    return 1.2533 * float(np.mean(np.abs(values - centre)))


def profile_scores(
    main: pd.DataFrame,
    enumerators: np.ndarray,
    variables: list[str],
    rare: float = 0.01,
) -> pd.DataFrame:
    """Multivariate outlier score of each enumerator's answer profile: per choice question,
    the Pearson chi-square of the enumerator's answers against the rest of the team's
    distribution, made a z (Wilson-Hilferty) and then a robust z across enumerators,
    averaged over questions. Categories below ``rare`` of the team's answers are pooled."""
    zs = []
    counts_per = pd.Series(enumerators).value_counts()
    for name in variables:
        values = main[name]
        frame = pd.DataFrame({"e": enumerators, "v": values.to_numpy(dtype=object)}).dropna()
        if frame["v"].nunique() < 2:
            continue
        shares = frame["v"].value_counts(normalize=True)
        small = shares.index[shares < rare]
        frame.loc[frame["v"].isin(small), "v"] = "__rare__"
        table = frame.groupby(["e", "v"]).size().unstack(fill_value=0).astype(float)
        if table.shape[1] < 2:
            continue
        total = table.sum(axis=0)
        rows = table.sum(axis=1)
        rest = total.to_numpy()[None, :] - table.to_numpy()
        rest_p = rest / np.maximum(rest.sum(axis=1, keepdims=True), 1)
        expected = rows.to_numpy()[:, None] * np.maximum(rest_p, 1e-9)
        chi2 = ((table.to_numpy() - expected) ** 2 / expected).sum(axis=1)
        df = table.shape[1] - 1
        z = ((chi2 / df) ** (1 / 3) - (1 - 2 / (9 * df))) / np.sqrt(2 / (9 * df))
        zs.append(pd.Series(z, index=table.index))
    if not zs:
        return pd.DataFrame(columns=["enumerator", "score", "variables", "interviews"])
    joined = pd.concat(zs, axis=1)
    # each question's z made robust across enumerators: a question on which every
    # enumerator differs (the area they work in: province, hukou place) weighs nothing
    centre = joined.median(axis=0)
    spread = joined.apply(lambda column: _robust_sd(column.to_numpy(dtype=float)), axis=0)
    joined = ((joined - centre) / spread.where(spread > 0)).clip(-MAX_SIGNAL, MAX_SIGNAL)
    return pd.DataFrame(
        {
            "enumerator": joined.index.astype(str),
            "score": joined.mean(axis=1).to_numpy(),
            "variables": joined.notna().sum(axis=1).to_numpy(),
            "interviews": counts_per.reindex(joined.index).fillna(0).astype(int).to_numpy(),
        }
    )


def interviewer_icc(values: np.ndarray, groups: np.ndarray) -> tuple[float, float, int, int]:
    """One-way ANOVA estimate of the interviewer intra-class correlation rho_int of a
    variable, and deff_int = 1 + rho (m - 1) with m the mean workload; (rho, deff, n,
    interviewers). NaN values are left out; NaN rho with fewer than 2 interviewers."""
    ok = ~np.isnan(values)
    y, g = values[ok], groups[ok]
    n = len(y)
    labels, index = np.unique(g, return_inverse=True)
    k = len(labels)
    if k < 2 or n <= k:
        return float("nan"), float("nan"), n, k
    sizes = np.bincount(index).astype(float)
    means = np.bincount(index, weights=y) / sizes
    grand = y.mean()
    msb = float((sizes * (means - grand) ** 2).sum() / (k - 1))
    msw = float(((y - means[index]) ** 2).sum() / (n - k))
    n0 = (n - (sizes**2).sum() / n) / (k - 1)
    denominator = msb + (n0 - 1) * msw
    rho = (msb - msw) / denominator if denominator > 0 else float("nan")
    deff = 1 + rho * (n / k - 1)
    return float(rho), float(deff), n, k
