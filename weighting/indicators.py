"""Survey indicators of the fertility and migrant surveys (DOMAIN.md section 2).

Fertility rates by the DHS method are in :mod:`weighting.fertility`; the indicators here are
proportions and ratios estimated on a :class:`~weighting.design.SurveyDesign` with the
design's variance (Taylor or replicates).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from weighting.design import SurveyDesign
from weighting.errors import DesignError
from weighting.estimate import Estimate, estimates_table, svy_proportion


def sex_ratio_at_birth(
    births: SurveyDesign,
    sex: str,
    *,
    male: object = 1,
    female: object = 2,
    by: str | Sequence[str] | None = None,
    level: float = 0.95,
) -> list[Estimate]:
    """Male births per 100 female births, with a logit interval.

    ``births`` is a design over live births (each birth carries its mother's weight, cluster
    and stratum). The share of boys ``p`` gets R's svyciprop logit interval, and the ratio
    ``100 p / (1 - p)`` and its interval ends follow (the transform is monotone); the SE is
    the delta-method ``100 SE(p) / (1 - p)^2``. Births of unknown sex are left out.
    """
    series = births.data[sex]
    known = series.isin([male, female]).to_numpy()
    out = []
    for e in svy_proportion(births, sex, male, by=by, subset=known, level=level):
        out.append(
            Estimate(
                "sex ratio at birth",
                f"{sex} ({male} per 100 {female})",
                _odds_per_100(e.estimate),
                100 * e.se / (1 - e.estimate) ** 2 if e.estimate != 1 else float("nan"),
                _odds_per_100(e.ci_low),
                _odds_per_100(e.ci_high),
                e.deff,
                e.domain,
                e.n,
                e.df,
            )
        )
    return out


def _odds_per_100(p: float) -> float:
    """100 p / (1 - p): infinite when every birth is a boy (a domain with no girls)."""
    if p >= 1:
        return float("inf")
    return 100 * p / (1 - p)  # NaN stays NaN


def contraceptive_prevalence(
    women: SurveyDesign,
    method: str,
    *,
    no_method: Iterable[object] = (0,),
    married: str | None = None,
    married_values: Iterable[object] = (1,),
    age: str | None = None,
    ages: tuple[int, int] = (15, 49),
    long_acting: Iterable[object] | None = None,
    by: str | Sequence[str] | None = None,
) -> pd.DataFrame:
    """Share of (currently married) women aged 15-49 using any method, with logit intervals.

    With ``long_acting`` (e.g. IUD and sterilisation codes), also the long-acting share among
    users.
    """
    data = women.data
    eligible = data[method].notna().to_numpy().copy()
    if married:
        eligible &= data[married].isin(list(married_values)).to_numpy()
    if age:
        a = pd.to_numeric(data[age], errors="coerce")
        eligible &= ((a >= ages[0]) & (a <= ages[1])).to_numpy()
    using = (~data[method].isin(list(no_method))) & data[method].notna()
    design = _with_column(women, "_using", using.astype(int))
    rows = svy_proportion(design, "_using", 1, by=by, subset=eligible)
    rows = [_rename(e, "contraceptive prevalence") for e in rows]
    if long_acting is not None:
        la = data[method].isin(list(long_acting)).astype(int)
        design = _with_column(design, "_long_acting", la)
        users = eligible & using.to_numpy()
        rows += [
            _rename(e, "long-acting among users")
            for e in svy_proportion(design, "_long_acting", 1, by=by, subset=users)
        ]
    return estimates_table(rows)


def service_coverage(
    migrants: SurveyDesign,
    services: Sequence[str],
    *,
    yes: object = 1,
    by: str | Sequence[str] | None = None,
    target: float | None = 0.95,
) -> pd.DataFrame:
    """Share of migrants with each public service (health record, education, family doctor).

    One row per service (and domain), with the logit interval; ``meets_target`` tells whether
    the interval's lower end reaches ``target`` (the 95% service management rate).
    """
    rows = []
    for name in services:
        rows += [_rename(e, "service coverage") for e in svy_proportion(migrants, name, yes, by=by)]
    table = estimates_table(rows)
    if target is not None:
        table["target"] = target
        table["meets_target"] = table["ci_low"] >= target
    return table


def _with_column(design: SurveyDesign, name: str, values: pd.Series | np.ndarray) -> SurveyDesign:
    from dataclasses import replace

    if len(values) != design.n:
        raise DesignError("indicator column has the wrong length")
    data = design.data.copy()
    data[name] = np.asarray(values)
    return replace(design, data=data)


def _rename(e: Estimate, statistic: str) -> Estimate:
    from dataclasses import replace

    return replace(e, statistic=statistic)
