# ruff: noqa: E501
"""XLSForm fixtures (markdown tables, pyxform's idiom) shared by the logic tests and bench."""

from __future__ import annotations

HOUSEHOLD_MD = """
| survey |                  |             |                         |                                   |                                  |                     |                                      |                       |
|        | type             | name        | label                   | relevant                          | constraint                       | required            | calculation                          | choice_filter         |
|        | text             | hhid        | Household ID            |                                   | regex(., '^[A-Z]{2}[0-9]{4}$')   | yes                 |                                      |                       |
|        | select_one prov  | province    | Province                |                                   |                                  | yes                 |                                      |                       |
|        | select_one city  | city        | City                    |                                   |                                  | yes                 |                                      | prov = ${province}    |
|        | date             | interview   | Interview date          |                                   | . <= today() and . >= date('2024-01-01') | yes          |                                      |                       |
|        | integer          | hhsize      | Household size          |                                   | . >= 1 and . <= 20               | yes                 |                                      |                       |
|        | begin_repeat     | member      | Member                  |                                   |                                  |                     |                                      |                       |
|        | text             | mname       | Name                    |                                   | string-length(.) <= 20           | yes                 |                                      |                       |
|        | select_one sex   | msex        | Sex                     |                                   |                                  | yes                 |                                      |                       |
|        | integer          | mage        | Age                     |                                   | . >= 0 and . <= 110              | yes                 |                                      |                       |
|        | select_one rel   | mrel        | Relation to head        |                                   | position(..) = 1 or . != '1'     | yes                 |                                      |                       |
|        | select_one yn    | mschool     | In school               | ${mage} >= 6 and ${mage} <= 24    |                                  | yes                 |                                      |                       |
|        | calculate        | mpos        |                         |                                   |                                  |                     | position(..)                         |                       |
|        | end_repeat       |             |                         |                                   |                                  |                     |                                      |                       |
|        | calculate        | nadults     |                         |                                   |                                  |                     | count(${member}[mage >= 18])         |                       |
|        | calculate        | totage      |                         |                                   |                                  |                     | sum(${mage})                         |                       |
|        | begin_group      | mig         | Migration               | ${hhsize} > 0                     |                                  |                     |                                      |                       |
|        | select_multiple reason | reasons | Reasons for moving    |                                   | not(selected(., 'none') and count-selected(.) > 1) | yes |                               |                       |
|        | text             | reason_other | Other reason           | selected(${reasons}, 'other')     |                                  | yes                 |                                      |                       |
|        | decimal          | income      | Monthly income (yuan)   | not(selected(${reasons}, 'none')) | . >= 0 and . < 1000000           |                     |                                      |                       |
|        | date             | arrived     | Arrival date            |                                   | . <= ${interview} and ${interview} - . < 36500 |       |                                      |                       |
|        | calculate        | months_here |                         |                                   |                                  |                     | int((${interview} - ${arrived}) div 30.4375) |               |
|        | integer          | stay_years  | Intended years          | ${months_here} >= 1               | . >= 0 and . <= 99               |                     |                                      |                       |
|        | end_group        |             |                         |                                   |                                  |                     |                                      |                       |
|        | geopoint         | gps         | Location                |                                   |                                  |                     |                                      |                       |
|        | text             | phone       | Phone                   | ${hhsize} >= 1                    | regex(., '^1[3-9][0-9]{9}$') or . = '' |               |                                      |                       |
| choices |                 |             |                         |                                   |                                  |                     |                                      |                       |
|        | list_name        | name        | label                   | prov                              |                                  |                     |                                      |                       |
|        | prov             | 11          | Beijing                 |                                   |                                  |                     |                                      |                       |
|        | prov             | 44          | Guangdong               |                                   |                                  |                     |                                      |                       |
|        | city             | 1101        | Dongcheng               | 11                                |                                  |                     |                                      |                       |
|        | city             | 1102        | Xicheng                 | 11                                |                                  |                     |                                      |                       |
|        | city             | 4401        | Guangzhou               | 44                                |                                  |                     |                                      |                       |
|        | city             | 4403        | Shenzhen                | 44                                |                                  |                     |                                      |                       |
|        | sex              | 1           | Male                    |                                   |                                  |                     |                                      |                       |
|        | sex              | 2           | Female                  |                                   |                                  |                     |                                      |                       |
|        | rel              | 1           | Head                    |                                   |                                  |                     |                                      |                       |
|        | rel              | 2           | Spouse                  |                                   |                                  |                     |                                      |                       |
|        | rel              | 3           | Child                   |                                   |                                  |                     |                                      |                       |
|        | yn               | 1           | Yes                     |                                   |                                  |                     |                                      |                       |
|        | yn               | 0           | No                      |                                   |                                  |                     |                                      |                       |
|        | reason           | work        | Work                    |                                   |                                  |                     |                                      |                       |
|        | reason           | family      | Family                  |                                   |                                  |                     |                                      |                       |
|        | reason           | other       | Other                   |                                   |                                  |                     |                                      |                       |
|        | reason           | none        | None                    |                                   |                                  |                     |                                      |                       |
| settings |                |             |                         |                                   |                                  |                     |                                      |                       |
|        | form_id          | version     |                         |                                   |                                  |                     |                                      |                       |
|        | household        | 2024060101  |                         |                                   |                                  |                     |                                      |                       |
"""


def household_submission(**overrides):
    """A valid OData submission of HOUSEHOLD_MD (overrides replace top-level keys)."""
    submission = {
        "__id": "uuid:0001",
        "__system": {"submitterName": "enum01", "submitterId": "7"},
        "meta": {"instanceID": "uuid:0001"},
        "hhid": "BJ0001",
        "province": "11",
        "city": "1102",
        "interview": "2024-06-15",
        "hhsize": 2,
        "member": [
            {"mname": "Li", "msex": "1", "mage": 40, "mrel": "1", "mschool": None, "mpos": "1"},
            {"mname": "Wang", "msex": "2", "mage": 12, "mrel": "3", "mschool": "1", "mpos": "2"},
        ],
        "nadults": "1",
        "totage": "52",
        "mig": {
            "reasons": "work family",
            "reason_other": None,
            "income": 5200.5,
            "arrived": "2020-03-01",
            "months_here": "51",
            "stay_years": 5,
        },
        "gps": {"type": "Point", "coordinates": [116.4, 39.9, 50.0], "properties": {"accuracy": 5}},
        "phone": "13812345678",
    }
    submission.update(overrides)
    return submission


NESTED_MD = """
| survey |                  |          |        |                                                    |                                                              |          |
|        | type             | name     | label  | relevant                                           | constraint                                                   | required |
|        | date             | today_d  | Today  |                                                    | . >= date('2020-01-01')                                      | yes      |
|        | integer          | nhh      | N      |                                                    | . >= 0 and . <= 6 and . = count(${hh})                       |          |
|        | text             | note_t   | Note   | ${nhh} != '' and ${nhh} = 0                        | string-length(.) > 2 and not(contains(., 'x'))               |          |
|        | begin_repeat     | hh       | HH     | position(.) <= ${nhh} or ${nhh} = ''               |                                                              |          |
|        | select_one yn    | own      | Own    |                                                    |                                                              | yes      |
|        | integer          | rooms    | Rooms  | ${own} = '1'                                       | . > 0 and . < sum(${age}) + 5                                |          |
|        | begin_repeat     | person   | Person |                                                    |                                                              |          |
|        | integer          | age      | Age    |                                                    | . >= 0 and (position(..) > 1 or . >= 15)                     | yes      |
|        | select_multiple yn | langs  | Langs  | ${age} >= 3                                        | not(selected(., '0') and count-selected(.) > 1)              |          |
|        | date             | dob      | Born   | ${age} != ''                                       | . <= ${today_d} and int((${today_d} - .) div 365.25) - ${age} < 2 |     |
|        | text             | pname    | Name   | ${rooms} >= 1 or ${own} != '1'                     | regex(., '^[A-Za-z ]+$') or . = concat('W', 'ang')          |          |
|        | integer          | older    | Older  | position(..) > 1                                   | . = if(indexed-repeat(${age}, ${person}, 1) > ${age}, 1, 0)  |          |
|        | text             | fallback | FB     | coalesce(${pname}, 'none') != 'none'               | substr(., 0, 1) != 'x'                                       |          |
|        | end_repeat       |          |        |                                                    |                                                              |          |
|        | integer          | nkids    | Kids   | count(${person}[age < 15]) > 0                     | . = count(../person[age < 15]) and . mod 1 = 0               |          |
|        | end_repeat       |          |        |                                                    |                                                              |          |
|        | decimal          | total    | Total  | count(${hh}) > 0                                   | . = round(. , 1) and . div 2 < 1000 and -. < 0               |          |
| choices |                 |          |        |                                                    |                                                              |          |
|        | list_name        | name     | label  |                                                    |                                                              |          |
|        | yn               | 1        | Yes    |                                                    |                                                              |          |
|        | yn               | 0        | No     |                                                    |                                                              |          |
"""
