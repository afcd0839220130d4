"""A real-world-style household form for the export tests: Chinese and long names, names
that collide once cut or compared ignoring case, a name used in two groups, nested repeats,
a select_multiple with 40 choices and or_other, DK/refused codes, relevance, dates, GPS, PII.
"""

from __future__ import annotations

from forms.frames import submission_frames
from forms.naming import with_specify_other
from forms.reader import read_markdown

LONG_A = "how_many_times_did_you_visit_the_health_centre_last_year"
LONG_B = "how_many_times_did_you_visit_the_health_centre_last_month"
ZH_LONG = "这是一个非常非常非常非常非常非常长的中文变量名称"
LONG_CHOICE_LABEL = "非常长的选项标签" * 12
LONG_TEXT = "长" * 1500 + "x" * 1500

FORM_MD = f"""
| survey |
| | type | name | label::English (en) | label::中文 (zh) | relevant | pii |
| | start | start | | | | |
| | text | resp_name | Respondent name | 被访者姓名 | | yes |
| | integer | age | Age | 年龄 | | |
| | select_one yn | consent | Do you agree? | 您同意吗？ | | |
| | begin_group | g1 | Main | 主要 | ${{consent}} = 1 | |
| | integer | Age | Age of the head | 户主年龄 | | |
| | select_one edu | edu | Education | 教育程度 | | |
| | select_one water or_other | water | Water source | 水源 | | |
| | select_multiple symptoms or_other | symptoms | Symptoms | 症状 | | |
| | integer | {LONG_A} | Visits last year | 去年就诊次数 | | |
| | integer | {LONG_B} | Visits last month | 上月就诊次数 | | |
| | integer | 出生年份 | Birth year | 出生年份 | | |
| | text | {ZH_LONG} | Long Chinese name | 长中文名 | | |
| | date | visit_date | Visit date | 访问日期 | | |
| | dateTime | visit_time | Visit time | 访问时间 | | |
| | geopoint | gps | Location | 位置 | | |
| | text | notes | Notes | 备注 | | |
| | end_group | | | | | |
| | begin_group | g2 | Other | 其他 | | |
| | integer | age | Age again | 再次年龄 | | |
| | end_group | | | | | |
| | begin_repeat | hh | Members | 成员 | | |
| | text | m_name | Name | 姓名 | | yes |
| | integer | m_age | Age | 年龄 | | |
| | select_one sex | m_sex | Sex | 性别 | | |
| | begin_repeat | kids | Children | 子女 | ${{m_age}} > 15 | |
| | integer | c_age | Child age | 子女年龄 | | |
| | end_repeat | | | | | |
| | end_repeat | | | | | |

| choices |
| | list_name | name | label::English (en) | label::中文 (zh) |
| | yn | 1 | Yes | 是 |
| | yn | 2 | No | 否 |
| | yn | 98 | Don't know | 不知道 |
| | yn | 99 | Refused | 拒绝回答 |
| | edu | none | None | 未上学 |
| | edu | primary | Primary | 小学 |
| | edu | secondary | Secondary | 中学 |
| | water | 1 | Piped | 自来水 |
| | water | 2 | Well | 井水 |
| | water | 3 | {LONG_CHOICE_LABEL} | {LONG_CHOICE_LABEL} |
| | sex | 1 | Male | 男 |
| | sex | 2 | Female | 女 |
| | symptoms | s01 | Symptom 1 | 症状1 |
| | symptoms | s02 | Symptom 2 | 症状2 |
| | symptoms | s03 | Symptom 3 | 症状3 |
| | symptoms | s04 | Symptom 4 | 症状4 |
| | symptoms | s05 | Symptom 5 | 症状5 |
| | symptoms | s06 | Symptom 6 | 症状6 |
| | symptoms | s07 | Symptom 7 | 症状7 |
| | symptoms | s08 | Symptom 8 | 症状8 |
| | symptoms | s09 | Symptom 9 | 症状9 |
| | symptoms | s10 | Symptom 10 | 症状10 |
| | symptoms | s11 | Symptom 11 | 症状11 |
| | symptoms | s12 | Symptom 12 | 症状12 |
| | symptoms | s13 | Symptom 13 | 症状13 |
| | symptoms | s14 | Symptom 14 | 症状14 |
| | symptoms | s15 | Symptom 15 | 症状15 |
| | symptoms | s16 | Symptom 16 | 症状16 |
| | symptoms | s17 | Symptom 17 | 症状17 |
| | symptoms | s18 | Symptom 18 | 症状18 |
| | symptoms | s19 | Symptom 19 | 症状19 |
| | symptoms | s20 | Symptom 20 | 症状20 |
| | symptoms | s21 | Symptom 21 | 症状21 |
| | symptoms | s22 | Symptom 22 | 症状22 |
| | symptoms | s23 | Symptom 23 | 症状23 |
| | symptoms | s24 | Symptom 24 | 症状24 |
| | symptoms | s25 | Symptom 25 | 症状25 |
| | symptoms | s26 | Symptom 26 | 症状26 |
| | symptoms | s27 | Symptom 27 | 症状27 |
| | symptoms | s28 | Symptom 28 | 症状28 |
| | symptoms | s29 | Symptom 29 | 症状29 |
| | symptoms | s30 | Symptom 30 | 症状30 |
| | symptoms | s31 | Symptom 31 | 症状31 |
| | symptoms | s32 | Symptom 32 | 症状32 |
| | symptoms | s33 | Symptom 33 | 症状33 |
| | symptoms | s34 | Symptom 34 | 症状34 |
| | symptoms | s35 | Symptom 35 | 症状35 |
| | symptoms | s36 | Symptom 36 | 症状36 |
| | symptoms | s37 | Symptom 37 | 症状37 |
| | symptoms | s38 | Symptom 38 | 症状38 |
| | symptoms | s39 | Symptom 39 | 症状39 |
| | symptoms | s40 | {LONG_CHOICE_LABEL} | {LONG_CHOICE_LABEL} |

| settings |
| | form_id | default_language | version |
| | household_export | 中文 (zh) | 2026120101 |
"""


def household_form():
    """The FormModel of the fixture form."""
    return read_markdown(FORM_MD, name="household_export.md")


def _submission(n, consent, g1=None, g2=None, hh=()):
    return {
        "__id": f"uuid:{n:04d}",
        "meta": {"instanceID": f"uuid:{n:04d}"},
        "start": "2024-01-15T09:00:00.000+08:00",
        "resp_name": f"Person {n}",
        "age": 30 + n,
        "consent": consent,
        "g1": g1 or {},
        "g2": g2 or {"age": 40 + n},
        "hh": list(hh),
    }


def household_records():
    """Four submissions: answered, refused consent (group skipped), don't know, an empty
    answer to a relevant question; repeats nested two deep."""
    full = {
        "Age": 61,
        "edu": "primary",
        "water": "other",
        "water_other": "river",
        "symptoms": "s01 s05 other",
        "symptoms_other": "itchy",
        LONG_A: 3,
        LONG_B: 1,
        "出生年份": 1990,
        ZH_LONG: "文本",
        "visit_date": "2024-01-15",
        "visit_time": "2024-01-15T10:20:30.123+08:00",
        "gps": {
            "type": "Point",
            "coordinates": [116.4, 39.9, 50.0],
            "properties": {"accuracy": 5.0},
        },
        "notes": LONG_TEXT,
    }
    members = [
        {"m_name": "王芳", "m_age": 40, "m_sex": "2", "kids": [{"c_age": 10}, {"c_age": 12}]},
        {"m_name": "李伟", "m_age": 12, "m_sex": "1", "kids": []},
    ]
    return [
        _submission(1, "1", full, hh=members),
        _submission(2, "2"),
        _submission(3, "98"),
        _submission(4, "1", {"edu": None, "symptoms": "s40", "visit_date": "2023-12-31"}),
    ]


def household_frames():
    """The fixture submissions as frames (forms.frames layout, specify-other text kept)."""
    form = household_form()
    return form, submission_frames(with_specify_other(form), household_records())
