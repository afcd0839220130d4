# ruff: noqa: E501
"""Fixture forms (markdown XLSForms) for validation: two versions of a survey with repeats
within repeats, select_multiple, geopoint, dates, calculations, a choice filter and a
repeat_count; version 2 adds a question."""

from __future__ import annotations

SURVEY_V1 = """
| survey |                        |            |                |                      |                     |          |                                    |                  |              |
|        | type                   | name       | label          | relevant             | constraint          | required | calculation                        | choice_filter    | repeat_count |
|        | start                  | start      |                |                      |                     |          |                                    |                  |              |
|        | date                   | visit      | Visit date     |                      | . >= date('2024-01-01') | yes  |                                    |                  |              |
|        | time                   | visit_time | Visit time     |                      |                     |          |                                    |                  |              |
|        | dateTime               | appointment | Appointment   |                      |                     |          |                                    |                  |              |
|        | select_one prov        | province   | Province       |                      |                     | yes      |                                    |                  |              |
|        | select_one city        | city       | City           |                      |                     |          |                                    | prov = ${province} |            |
|        | integer                | hhsize     | Household size |                      | . >= 1 and . <= 20  | yes      |                                    |                  |              |
|        | begin_group            | dwelling   | Dwelling       |                      |                     |          |                                    |                  |              |
|        | geopoint               | gps        | Location       |                      |                     |          |                                    |                  |              |
|        | select_multiple amen   | amenities  | Amenities      |                      |                     | yes      |                                    |                  |              |
|        | decimal                | rent       | Rent           | ${hhsize} > 1        | . >= 0              |          |                                    |                  |              |
|        | end_group              |            |                |                      |                     |          |                                    |                  |              |
|        | begin_repeat           | member     | Member         |                      |                     |          |                                    |                  | ${hhsize}    |
|        | text                   | mname      | Name           |                      |                     | yes      |                                    |                  |              |
|        | integer                | nkids      | Children       |                      | . >= 0              |          |                                    |                  |              |
|        | begin_repeat           | child      | Child          | ${nkids} > 0         |                     |          |                                    |                  | ${nkids}     |
|        | integer                | kage       | Age            |                      | . >= 0 and . < 100  | yes      |                                    |                  |              |
|        | date                   | kbirth     | Birth date     |                      | . <= ${visit}       |          |                                    |                  |              |
|        | end_repeat             |            |                |                      |                     |          |                                    |                  |              |
|        | end_repeat             |            |                |                      |                     |          |                                    |                  |              |
|        | calculate              | nmembers   |                |                      |                     |          | count(${member})                   |                  |              |
| choices |                       |            |                |                      |                     |          |                                    |                  |              |
|        | list_name              | name       | label          | prov                 |                     |          |                                    |                  |              |
|        | prov                   | 11         | Beijing        |                      |                     |          |                                    |                  |              |
|        | prov                   | 44         | Guangdong      |                      |                     |          |                                    |                  |              |
|        | city                   | 1101       | Dongcheng      | 11                   |                     |          |                                    |                  |              |
|        | city                   | 4401       | Guangzhou      | 44                   |                     |          |                                    |                  |              |
|        | amen                   | water      | Tap water      |                      |                     |          |                                    |                  |              |
|        | amen                   | toilet     | Toilet         |                      |                     |          |                                    |                  |              |
|        | amen                   | heat       | Heating        |                      |                     |          |                                    |                  |              |
| settings |                      |            |                |                      |                     |          |                                    |                  |              |
|        | form_id                | version    |                |                      |                     |          |                                    |                  |              |
|        | housing                | 1          |                |                      |                     |          |                                    |                  |              |
"""

SURVEY_V2 = SURVEY_V1.replace(
    "|        | calculate              | nmembers   |",
    "|        | text                   | phone      | Phone          |                      |                     |          |                                    |                  |              |\n|        | calculate              | nmembers   |",
).replace("| housing                | 1          |", "| housing                | 2          |")

LOOKUP_FORM = """
| survey |                                     |         |           |                                                          |
|        | type                                | name    | label     | constraint                                               |
|        | select_one_from_file households.csv | hh      | Household |                                                          |
|        | integer                             | hhsize  | Size      | . <= instance('households')/root/item[name = ${hh}]/size |
| settings |                                   |         |           |                                                          |
|        | form_id                             | version |           |                                                          |
|        | lookup                              | 1       |           |                                                          |
"""
"""A form that reads an attachment: the household's size limit from households.csv."""


def valid_submission(**overrides):
    """A valid OData submission of SURVEY_V1 (``overrides`` replace top-level keys)."""
    record = {
        "start": "2024-06-15T09:00:00.000+08:00",
        "visit": "2024-06-15",
        "visit_time": "09:30:00.000+08:00",
        "appointment": None,
        "province": "11",
        "city": "1101",
        "hhsize": 2,
        "dwelling": {
            "gps": {
                "type": "Point",
                "coordinates": [116.4, 39.9, 50.0],
                "properties": {"accuracy": 5.0},
            },
            "amenities": "water toilet",
            "rent": 1200.5,
        },
        "member": [
            {
                "mname": "Li",
                "nkids": 1,
                "child": [{"kage": 3, "kbirth": "2021-02-01", "__id": "c1"}],
                "__id": "m1",
            },
            {"mname": "Wang", "nkids": 0, "__id": "m2"},
        ],
        "nmembers": "2",
        "meta": {"instanceID": "uuid:one"},
        "__id": "uuid:one",
        "__system": {
            "submissionDate": "2024-06-15T10:00:00.000Z",
            "updatedAt": None,
            "submitterId": "5",
            "submitterName": "enum01",
            "reviewState": None,
            "formVersion": "1",
        },
    }
    record.update(overrides)
    return record
