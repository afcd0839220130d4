"""A small survey with known answers for the report and back-check tests: a form, a sample
with an entity list, 12 interviews by three enumerators, and quality flags in the store.

- e1 is honest: 35-minute interviews in the day, at the dwelling.
- e2 speeds: 5-minute interviews; every one has an error flag ``duration``.
- e3 works at 23:00 and 3 km from the dwelling on two interviews (warning ``gps``), and has
  an enumerator-level error flag ``srb``.
Two sampled units (u13, u14) are never visited; u04 and u08 were visited but not complete.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from forms import read_markdown
from surveys.importers.common import import_records
from surveys.store import open_store
from surveys.store.models import QCFlag

FORM = read_markdown(
    """
| settings |
| | form_id | version | default_language |
| | hhsurvey | 1 | English (en) |

| survey |
| | type | name | label::English (en) | label::中文 (zh) | bcheck_type |
| | start | start | | | |
| | end | end | | | |
| | text | hhid | Household | 住户 | |
| | text | psu | PSU | 村 | |
| | geopoint | gps | GPS | 位置 | |
| | integer | result | Result | 结果 | 1 |
| | integer | hh_size | Household size | 户人数 | 3 |
| | integer | c03_age | Age | 年龄 | 1 |
| | select_one yn | owns_home | Owns the home | 自有住房 | 2 |
| | begin_repeat | d_hist | Births | 生育史 | |
| | integer | d10_outcome | Outcome | 结局 | |
| | integer | d14_sex | Sex | 性别 | |
| | end_repeat | | | | |

| choices |
| | list_name | name | label::English (en) | label::中文 (zh) |
| | yn | 1 | Yes | 是 |
| | yn | 2 | No | 否 |
"""
)

ENUMERATORS = {"e1": ("11", "王芳"), "e2": ("12", "李强"), "e3": ("13", "张伟")}
UNITS = {
    f"u{n:02d}": ("P1" if n <= 7 else "P2", "县甲" if n <= 7 else "县乙") for n in range(1, 15)
}
DWELLING = {"P1": (36.70, 117.00), "P2": (36.80, 117.20)}
INTERVIEWS = [
    # instance, enumerator, unit, day, hour, minutes, km north of the dwelling, result, age
    ("i01", "e1", "u01", 1, 9, 35, 0.0, 1, 25),
    ("i02", "e1", "u02", 1, 11, 38, 0.1, 1, 30),
    ("i03", "e1", "u03", 2, 9, 36, 0.0, 1, 41),
    ("i04", "e1", "u04", 2, 14, 40, 0.1, 3, 33),
    ("i05", "e2", "u05", 1, 10, 5, 0.0, 1, 35),
    ("i06", "e2", "u06", 1, 10, 5, 0.0, 1, 40),
    ("i07", "e2", "u07", 2, 10, 6, 0.1, 1, 45),
    ("i08", "e2", "u08", 3, 10, 4, 0.0, 3, 50),
    ("i09", "e3", "u09", 1, 23, 35, 3.0, 1, 22),
    ("i10", "e3", "u10", 2, 23, 34, 3.0, 1, 27),
    ("i11", "e3", "u11", 3, 15, 33, 0.0, 1, 38),
    ("i12", "e3", "u12", 3, 16, 37, 0.0, 1, 29),
]
BIRTHS = {"i01": [1, 2], "i02": [2], "i05": [1, 1], "i09": [1, 1, 1], "i10": [1, 2], "i11": [2]}
"""Sex (1 boy, 2 girl) of each live birth of an interview."""
FLAGS = [
    # instance (None: enumerator-level), enumerator, check, severity, value, message
    *[
        (i, "e2", "duration", "error", 5.0, f"interview took 5 minutes ({i})")
        for i in ("i05", "i06", "i07", "i08")
    ],
    ("i09", "e3", "gps", "warning", 3.0, "3.0 km from the sampled dwelling"),
    ("i10", "e3", "gps", "warning", 3.0, "3.0 km from the sampled dwelling"),
    (None, "e3", "srb", "error", 500.0, "sex ratio at birth 500 (5 boys, 1 girl)"),
]


def record(instance, enumerator, unit, day, hour, minutes, km, result, age):
    """One submission as Central's OData gives it."""
    psu = UNITS[unit][0]
    lat, lon = DWELLING[psu]
    start = pd.Timestamp(2027, 7, day, hour, 0)
    end = start + pd.Timedelta(minutes=minutes)
    actor = ENUMERATORS[enumerator][0]
    iid = f"uuid:{instance}"
    return {
        "__id": iid,
        "start": start.strftime("%Y-%m-%dT%H:%M:%S.000+08:00"),
        "end": end.strftime("%Y-%m-%dT%H:%M:%S.000+08:00"),
        "hhid": unit,
        "psu": psu,
        "gps": {"type": "Point", "coordinates": [lon, lat + km / 111.2, 10.0]},
        "result": result,
        "hh_size": 3,
        "c03_age": age,
        "owns_home": "1",
        "d_hist": [
            {"d10_outcome": 1, "d14_sex": sex, "__id": f"{iid}-{k}"}
            for k, sex in enumerate(BIRTHS.get(instance, []))
        ],
        "meta": {"instanceID": iid},
        "__system": {
            "submissionDate": f"2027-07-0{day}T10:00:00.000Z",
            "updatedAt": None,
            "submitterId": actor,
            "submitterName": enumerator,
            "reviewState": "approved" if instance == "i01" else None,
            "deviceId": None,
            "edits": 0,
            "formVersion": "1",
        },
    }


def write_sample(directory: Path) -> Path:
    """The sample directory with its entity list (hhid, psu, county, lat/lon)."""
    entities = directory / "entities"
    entities.mkdir(parents=True)
    rows = [
        {
            "name": f"ent-{unit}",
            "label": unit,
            "hhid": unit,
            "psu": psu,
            "stratum": county,
            "county_name": county,
            "enumerator": "",
            "role": "main",
            "lat": DWELLING[psu][0],
            "lon": DWELLING[psu][1],
        }
        for unit, (psu, county) in UNITS.items()
    ]
    pd.DataFrame(rows).to_csv(entities / "households.csv", index=False)
    return directory


def fill_store(url: str) -> None:
    """Import the interviews and store the flags."""
    with open_store(url) as store:
        import_records(store, "hhsurvey", [record(*row) for row in INTERVIEWS], "test", model=FORM)
        table = QCFlag.__table__
        with store.transaction() as conn:
            ids = dict(conn.execute(sa.text("select central_id, id from submissions")).all())
            enums = dict(conn.execute(sa.text("select code, id from enumerators")).all())
            conn.execute(
                table.insert(),
                [
                    {
                        "submission_id": ids[f"uuid:{i}"] if i else None,
                        "enumerator_id": enums[e] if i is None else None,
                        "check": check,
                        "severity": severity,
                        "value": value,
                        "details_json": json.dumps({"message": message}),
                    }
                    for i, e, check, severity, value, message in FLAGS
                ],
            )


SURVEY_TOML = """
id = "test-survey"
title = "Test survey"

[enumerators]
members = [
  {{ id = "e1", name = "王芳", area = "A", team = "t1" }},
  {{ id = "e2", name = "李强", area = "A", team = "t1" }},
  {{ id = "e3", name = "张伟", area = "B", team = "t2" }},
]

[report]
form = "hhsurvey"
language = "{language}"
"""


def write_survey(directory: Path, url: str, language: str = "zh") -> Path:
    """survey.toml, the sample and a filled store under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    write_sample(directory / "sample")
    fill_store(url)
    path = directory / "survey.toml"
    path.write_text(SURVEY_TOML.format(language=language), encoding="utf-8")
    return path
