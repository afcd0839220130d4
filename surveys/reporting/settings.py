"""The ``[report]`` section of survey.toml as a typed, frozen view (defaults: the bundled
fertility questionnaire)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from surveys.config import SurveyConfig


@dataclass(frozen=True)
class ReportSettings:
    """Which questions of the main form the report and the back-checks read."""

    form: str = "fertility"
    language: str = "zh"
    unit: str = "hhid"
    result: str = "result"
    complete_codes: tuple[Any, ...] = (1, 2)
    age: str = "c03_age"
    births: str = "d_hist"
    birth_sex: str = "d14_sex"
    male: Any = 1
    female: Any = 2
    live_birth: str = "d10_outcome"
    live_birth_code: Any = 1
    backcheck_form: str = "backcheck"
    backcheck_first_days: int = 7
    backcheck_tolerances: dict[str, float | str] = field(default_factory=dict)
    backcheck_variables: dict[str, int] = field(default_factory=dict)
    backcheck_list: str = "backcheck_units"
    reject_checks: tuple[str, ...] = ()


def report_settings(config: SurveyConfig | None) -> ReportSettings:
    """The ``[report]`` section over the defaults (all defaults without a config)."""
    if config is None:
        return ReportSettings()
    section = dict(config.section("report"))
    if "complete_codes" in section:
        section["complete_codes"] = tuple(section["complete_codes"])
    for key in ("backcheck_tolerances", "backcheck_variables"):
        if key in section:
            section[key] = dict(section[key])
    if "reject_checks" in section:
        section["reject_checks"] = tuple(section["reject_checks"])
    return ReportSettings(**section)
