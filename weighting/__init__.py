"""popsurvey.weighting: survey designs, weights, variance and indicators.

In the spirit of R's ``survey`` package::

    from weighting import SurveyDesign, rake, margin, svy_mean

    design = SurveyDesign.from_file("sample.csv", weights="w", ids="psu", strata="stratum")
    raked = rake(design, [margin("sex", {"F": 510, "M": 490})], epsilon=1e-9, maxit=100)
    svy_mean(raked, "income", by="province")

Every step returns a new immutable design and appends a record to ``design.history``.
"""

from weighting.design import SurveyDesign, WeightingStep
from weighting.diagnostics import effective_n, kish_deff, margin_check, weight_summary
from weighting.estimate import (
    Estimate,
    estimates_table,
    svy_mean,
    svy_proportion,
    svy_quantile,
    svy_ratio,
    svy_total,
)
from weighting.fertility import cmc, fertility_rates, women_from_ir, women_from_tables
from weighting.indicators import contraceptive_prevalence, service_coverage, sex_ratio_at_birth
from weighting.steps import adjust_nonresponse, calibrate, post_stratify, rake, trim_weights
from weighting.targets import Margin, Targets, margin, read_targets, targets_from_dict

__all__ = [
    "Estimate",
    "Margin",
    "SurveyDesign",
    "Targets",
    "WeightingStep",
    "adjust_nonresponse",
    "calibrate",
    "cmc",
    "contraceptive_prevalence",
    "effective_n",
    "estimates_table",
    "fertility_rates",
    "kish_deff",
    "margin",
    "margin_check",
    "post_stratify",
    "rake",
    "read_targets",
    "service_coverage",
    "sex_ratio_at_birth",
    "svy_mean",
    "svy_proportion",
    "svy_quantile",
    "svy_ratio",
    "svy_total",
    "targets_from_dict",
    "trim_weights",
    "weight_summary",
    "women_from_ir",
    "women_from_tables",
]
