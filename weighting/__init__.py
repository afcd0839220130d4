"""popsurvey.weighting: survey designs, weights, variance and indicators.

In the spirit of R's ``survey`` package::

    from weighting import SurveyDesign, rake, margin, svy_mean

    design = SurveyDesign.from_file("sample.csv", weights="w", ids="psu", strata="stratum")
    raked = rake(design, [margin("sex", {"F": 510, "M": 490})], epsilon=1e-9, maxit=100)
    svy_mean(raked, "income", by="province")

Every step returns a new immutable design and appends a record to ``design.history``.
"""

from __future__ import annotations

import importlib
from typing import Any

# Names are loaded on first use (PEP 562) so that importing one submodule, e.g.
# ``weighting.errors`` for the CLI's error handling, does not load scipy and pandas.
_EXPORTS = {
    "Estimate": "weighting.estimate",
    "Margin": "weighting.targets",
    "SurveyDesign": "weighting.design",
    "Targets": "weighting.targets",
    "WeightingStep": "weighting.design",
    "adjust_nonresponse": "weighting.steps",
    "as_raked": "weighting.steps",
    "calibrate": "weighting.steps",
    "cmc": "weighting.fertility",
    "contraceptive_prevalence": "weighting.indicators",
    "effective_n": "weighting.diagnostics",
    "estimates_table": "weighting.estimate",
    "fertility_rates": "weighting.fertility",
    "kish_deff": "weighting.diagnostics",
    "margin": "weighting.targets",
    "margin_check": "weighting.diagnostics",
    "post_stratify": "weighting.steps",
    "rake": "weighting.steps",
    "read_targets": "weighting.targets",
    "service_coverage": "weighting.indicators",
    "sex_ratio_at_birth": "weighting.indicators",
    "svy_mean": "weighting.estimate",
    "svy_proportion": "weighting.estimate",
    "svy_quantile": "weighting.estimate",
    "svy_ratio": "weighting.estimate",
    "svy_total": "weighting.estimate",
    "targets_from_dict": "weighting.targets",
    "trim_weights": "weighting.steps",
    "weight_summary": "weighting.diagnostics",
    "women_from_ir": "weighting.fertility",
    "women_from_tables": "weighting.fertility",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'weighting' has no attribute '{name}'")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Estimate",
    "Margin",
    "SurveyDesign",
    "Targets",
    "WeightingStep",
    "adjust_nonresponse",
    "as_raked",
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
