"""Per-enumerator quality control of survey submissions.

    from validation.quality import QualityInputs, Thresholds, run_quality
    report = run_quality(QualityInputs(form=form, main=frames.main, repeats=frames.repeats,
                                       audit=events, sample=units, thresholds=Thresholds()))
    report.enumerators   # risk ranking with reasons (en, zh)
    report.flags         # every flag with its evidence

A registry of checks (:mod:`.registry`; one module per concept: :mod:`.ids`,
:mod:`.near_duplicates`, :mod:`.rates`, :mod:`.outliers`, :mod:`.paradata`, :mod:`.dates`,
:mod:`.gps`, :mod:`.demography`, :mod:`.fabrication`, :mod:`.admin`), interviews with
anomalies of several kinds at once made from their flags (:mod:`.combined`), each
enumerator compared with the team (:mod:`.team`), and a risk score with reasons
(:mod:`.report`).
Takes plain inputs only (a FormModel, frames, thresholds, codes), never the store.
"""

from validation.quality.errors import QualityError
from validation.quality.flags import CheckResult, Flag
from validation.quality.inputs import (
    AUDIT_SUMMARY_COLUMNS,
    Codes,
    EarlierResults,
    QualityInputs,
    Roles,
    Thresholds,
)
from validation.quality.registry import CHECKS, selected_checks
from validation.quality.report import QualityReport, run_quality

__all__ = [
    "AUDIT_SUMMARY_COLUMNS",
    "CHECKS",
    "CheckResult",
    "Codes",
    "EarlierResults",
    "Flag",
    "QualityError",
    "QualityInputs",
    "QualityReport",
    "Roles",
    "Thresholds",
    "run_quality",
    "selected_checks",
]
