# ruff: noqa: E501
"""A small questionnaire (markdown XLSForm) and frames built by hand for the quality tests."""

from __future__ import annotations

import pandas as pd

from forms import read_markdown
from validation.quality import QualityInputs, Thresholds

QC_MD = """
| survey |                   |             |              |                |                                                         |
|        | type              | name        | label        | relevant       | constraint                                              |
|        | start             | start       |              |                |                                                         |
|        | end               | end         |              |                |                                                         |
|        | text              | hhid        | Household ID |                |                                                         |
|        | select_one yn     | a07_consent | Consent      |                |                                                         |
|        | integer           | age         | Age          |                | . >= 15 and . <= 99                                     |
|        | select_one yn     | worked      | Worked?      |                |                                                         |
|        | integer           | hours       | Hours        | ${worked} = 1  | . >= 1 and . <= 120                                     |
|        | integer           | income      | Income       | ${worked} = 1  | (. >= 0 and . <= 200000) or . = 999998 or . = 999999    |
|        | select_one health | health      | Health       |                |                                                         |
|        | text              | health_oth  | Other health | ${health} = 96 |                                                         |
|        | select_one agree  | i01         | Agree 1      |                |                                                         |
|        | select_one agree  | i02         | Agree 2      |                |                                                         |
|        | select_one agree  | i03         | Agree 3      |                |                                                         |
|        | select_one agree  | i04         | Agree 4      |                |                                                         |
|        | geopoint          | a05_gps     | GPS          |                |                                                         |
| choices |                  |             |              |                |                                                         |
|        | list_name         | name        | label        |                |                                                         |
|        | yn                | 1           | Yes          |                |                                                         |
|        | yn                | 2           | No           |                |                                                         |
|        | health            | 1           | Good         |                |                                                         |
|        | health            | 2           | Poor         |                |                                                         |
|        | health            | 96          | Other        |                |                                                         |
|        | health            | 98          | Don't know   |                |                                                         |
|        | health            | 99          | Refused      |                |                                                         |
|        | agree             | 1           | Agree        |                |                                                         |
|        | agree             | 2           | Neutral      |                |                                                         |
|        | agree             | 3           | Disagree     |                |                                                         |
|        | agree             | 98          | Don't know   |                |                                                         |
| settings |                 |             |              |                |                                                         |
|        | form_title        | form_id     | version      |                |                                                         |
|        | QC test           | qctest      | 3            |                |                                                         |
"""


def qc_form():
    """The test questionnaire's FormModel."""
    return read_markdown(QC_MD, name="qctest.md")


def interviews(rows: list[dict]) -> pd.DataFrame:
    """A main frame from answer dicts: ``__id``/``instance_id`` numbered, enumerator
    ``e`` (default ``e1``), version 3, start 10:00 and end 10:40 on 2027-07-05 (+08:00)
    unless given; numbers as floats, choices as text."""
    out = []
    for k, row in enumerate(rows, start=1):
        row = dict(row)
        iid = row.pop("iid", f"uuid:{k:04d}")
        out.append(
            {
                "__id": iid,
                "instance_id": iid,
                "form_version": row.pop("version", "3"),
                "submitter_name": row.pop("e", "e1"),
                "submission_date": row.pop("submitted", "2027-07-05T03:00:00.000Z"),
                "start": row.pop("start", "2027-07-05T10:00:00.000+08:00"),
                "end": row.pop("end", "2027-07-05T10:40:00.000+08:00"),
                "a07_consent": row.pop("a07_consent", "1"),
                **row,
            }
        )
    frame = pd.DataFrame(out)
    for name in ("age", "hours", "income", "a05_gps_latitude", "a05_gps_longitude"):
        if name in frame.columns:
            frame[name] = pd.to_numeric(frame[name], errors="coerce").astype(float)
    return frame


def inputs(main: pd.DataFrame, **kwargs) -> QualityInputs:
    """QualityInputs over the test form; the roles point at its variables."""
    from validation.quality import Roles

    roles = kwargs.pop("roles", Roles(unit_id="hhid", outcome="none", ages=("age",)))
    thresholds = kwargs.pop("thresholds", Thresholds(outlier_min_values=5, min_interviews=10))
    return QualityInputs(form=qc_form(), main=main, roles=roles, thresholds=thresholds, **kwargs)
