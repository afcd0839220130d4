"""Answer sets for the bundled questionnaires, shaped like Central's OData JSON.

``fertility_answers`` and ``migrants_answers`` give one consistent, fully interviewed
household each; tests change a few answers and check what the form logic engine says.
:func:`submission` nests the flat answers into groups and repeats and fills in every
calculate the way ODK Collect would (recomputed with :class:`forms.logic.FormLogic`), except
the few that Collect computes from things popsurvey cannot see (the sample list attachment,
``random()``), which the answer set gives itself.
"""

from __future__ import annotations

import copy
import re
from datetime import date
from typing import Any

from forms.logic import FormLogic, check_submission
from forms.model import FormModel
from forms.xpath.instance import convert_answer
from forms.xpath.values import to_string, unpack

INTERVIEW_DAY = date(2026, 7, 15)
SAMPLE_ROW = {
    "a02_hh": "hh-0001",
    "hhid": "3101040010001",
    "psu": "310104001",
    "stratum": "3101",
    "province": "31",
    "urban": "1",
    "address": "徐汇区漕溪北路100弄3号201室",
}


def _base() -> dict[str, Any]:
    return {
        "start": "2026-07-15T09:02:11.000+08:00",
        "end": "2026-07-15T09:41:37.000+08:00",
        "today": INTERVIEW_DAY.isoformat(),
        "deviceid": "collect:abc123",
        "username": "enum01",
        "a_enum": "enum01",
        **SAMPLE_ROW,
        "a04_visit_no": 1,
        "a05_gps": {
            "type": "Point",
            "coordinates": [121.437, 31.188, 12.0],
            "properties": {"accuracy": 6.0},
        },
        "a06_visit_result": "1",
        "a07_consent": "1",
        "z01_status": "1",
    }


def fertility_answers() -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """A woman born March 1990, married 2014, with a son (2015), a miscarriage (2017),
    twin daughters (2019, one died at 2 months) and a son (July 2024, under 3)."""
    flat = {
        **_base(),
        "b01_hh_size": 6,
        "b02_n_women": 2,
        "b_rand": "0.7",
        "b07_sel_result": "1",
        "c01_birth_year": 1990,
        "c02_birth_month": 3,
        "c03_age": 36,
        "c04_edu": "4",
        "c05_ethnic": "1",
        "c06_hukou_type": "1",
        "c07_hukou_place": "1",
        "c09_marital": "2",
        "c10_mar_year": 2014,
        "c11_mar_month": 5,
        "d01_ever_preg": "1",
        "d02_preg_now": "2",
        "d03_n_live": 4,
        "d04_n_sons": 2,
        "d05_n_daus": 2,
        "d06_n_still": 0,
        "d07_n_misc": 1,
        "d08_n_induced": 0,
        "d19_hist_ok": "1",
        "e01_use": "1",
        "e02_method": "3",
        "e03_source": "1",
        "f01_ideal": 2,
        "f02_intend": 4,
        "f03_plan": "2",
        "f06_why_not": "1 3",
        "g01_premarital": "1",
        "g03_prepreg": "1",
        "g04_folic": "1",
        "g05_folic_ok": "1",
        "g06_anc_n": 8,
        "g07_anc_month": 2,
        "g08_postnatal": "1",
        "h01_carer": "3",
        "h02_nursery": "3",
    }
    rows = {
        "b_women": [
            {"b04_w_name": "王芳", "b05_w_age": 58, "b06_w_rel": "1"},
            {"b04_w_name": "李娜", "b05_w_age": 36, "b06_w_rel": "4"},
        ],
        "d_hist": [
            _birth(2015, 4, sex="1", place="1"),
            {"d10_outcome": "3", "d11_year": 2017, "d12_month": 98},
            _birth(2019, 1, sex="2", place="2", mult="2"),
            _birth(2019, 1, sex="2", place="2", mult="2", alive="2", death_years=0, death_months=2),
            _birth(2024, 7, sex="1", place="1"),
        ],
    }
    return flat, rows


def _birth(
    year: int,
    month: int,
    *,
    sex: str,
    place: str,
    mult: str = "1",
    alive: str = "1",
    death_years: int | None = None,
    death_months: int | None = None,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "d10_outcome": "1",
        "d11_year": year,
        "d12_month": month,
        "d13_mult": mult,
        "d14_sex": sex,
        "d15_alive": alive,
        "d18_place": place,
    }
    if death_years is not None:
        row["d16_death_age"] = death_years
    if death_months is not None:
        row["d17_death_mon"] = death_months
    return row


def migrants_answers() -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """A woman born May 1993, hukou in Anhui, in Shanghai since March 2018, married, with her
    husband and two children; one child born here (2020)."""
    flat = {
        **_base(),
        "b01_sex": "2",
        "b02_birth_year": 1993,
        "b03_birth_month": 5,
        "b04_arr_year": 2018,
        "b05_arr_month": 3,
        "b06_hukou_place": "5",
        "b07_hukou_prov": "34",
        "c00_hh_n": 4,
        "d01_first_year": 2011,
        "d03_reason": "1",
        "d04_stay": "1",
        "d05_stay_long": "3",
        "d06_hukou_move": "1",
        "e01_worked": "1",
        "e03_occ": "8",
        "e04_status": "1",
        "e05_contract": "1",
        "e06_hours": 48,
        "e07_income": 6500,
        "e08_hh_income": 15000,
        "e09_hh_spend": 9000,
        "e10_housing_spend": 3500,
        "f01_housing": "3",
        "f02_med_ins": "4",
        "f03_ins_place": "1",
        "f04_pension": "1",
        "f05_ss_card": "1",
        "g01_record": "3",
        "g02_health_edu": "3 8",
        "g03_family_doc": "2",
        "h00_mar_year": 2013,
        "h00_mar_month": 10,
        "h01_n_live": 2,
        "h02_n_since": 1,
        "h03_last_year": 2020,
        "h04_last_month": 9,
        "h05_birth_place": "1",
        "h06_fp_use": "1",
        "h07_method": "7",
        "h08_services": "1 3 6",
        **{f"i{n:02d}_agree": "3" for n in range(1, 9)},
    }
    person = {"c08_hukou_type": "1", "c09_hukou_prov": "34", "c10_live_now": "1"}
    rows = {
        "c_roster": [
            {
                "c01_name": "张丽",
                "c02_rel": "0",
                "c03_sex": "2",
                "c04_birth_year": 1993,
                "c05_birth_month": 5,
                "c06_edu": "3",
                "c07_marital": "2",
                **person,
            },
            {
                "c01_name": "刘强",
                "c02_rel": "1",
                "c03_sex": "1",
                "c04_birth_year": 1990,
                "c05_birth_month": 11,
                "c06_edu": "3",
                "c07_marital": "2",
                **person,
            },
            {
                "c01_name": "刘小宝",
                "c02_rel": "2",
                "c03_sex": "1",
                "c04_birth_year": 2014,
                "c05_birth_month": 2,
                "c06_edu": "2",
                **person,
                "c10_live_now": "2",
            },
            {
                "c01_name": "刘小妹",
                "c02_rel": "2",
                "c03_sex": "2",
                "c04_birth_year": 2020,
                "c05_birth_month": 9,
                **person,
            },
        ],
    }
    return flat, rows


GIVEN = frozenset({"a_enum", *SAMPLE_ROW, "b_rand"})
"""Calculates the answer set gives itself (Collect computes them from the sample list
attachment or random())."""


def submission(
    form: FormModel,
    flat: dict[str, Any],
    rows: dict[str, list[dict[str, Any]]],
    *,
    instance_id: str = "uuid:00000000-0000-4000-8000-000000000001",
) -> dict[str, Any]:
    """Nest ``flat`` answers and repeat ``rows`` as OData JSON and fill the calculates."""
    data: dict[str, Any] = {"__id": instance_id, "meta": {"instanceID": instance_id}}
    for name, value in flat.items():
        _place(form, data, name, value)
    for repeat_name, instances in rows.items():
        repeat = form[repeat_name]
        _container(form, data, repeat)[repeat_name] = [copy.deepcopy(r) for r in instances]
    _fill_calculates(form, data, flat, rows)
    return data


def _container(form: FormModel, data: dict[str, Any], element: Any) -> dict[str, Any]:
    node = data
    for xpath in element.enclosing:
        group = form.by_xpath(xpath)
        assert group is not None and group.is_group, f"{element.name} is inside a repeat"
        node = node.setdefault(group.name, {})
    return node


def _place(form: FormModel, data: dict[str, Any], name: str, value: Any) -> None:
    element = form[name]
    if element.repeats:
        raise ValueError(f"{name} belongs in a repeat row")
    _container(form, data, element)[name] = value


def _fill_calculates(
    form: FormModel,
    data: dict[str, Any],
    flat: dict[str, Any],
    rows: dict[str, list[dict[str, Any]]],
) -> None:
    logic = FormLogic(form)
    calculates = [q for q in form.questions if q.calculation and q.name not in GIVEN]
    for _ in range(3):  # calculates may read later ones (and other repeat rows): settle
        run = logic.run(data, today=INTERVIEW_DAY, strict=True)
        for question in calculates:
            if question.repeats:
                repeat = form.by_xpath(question.repeats[-1])
                assert repeat is not None
                holder = _container(form, data, repeat).get(repeat.name, [])
                for index, row in enumerate(holder, start=1):
                    _set(run, question, (index,), row)
            else:
                _set(run, question, (), _container(form, data, question))


def _set(run: Any, question: Any, indices: tuple[int, ...], holder: dict[str, Any]) -> None:
    """Compute one calculate in ``run`` (so later ones see it) and store it in ``holder``."""
    holder.pop(question.name, None)
    node = run.locate(question, indices)
    if not run.relevant(node):
        node.value = None
        return
    compiled = run.logic.expression(question, "calculation")
    value = to_string(unpack(run.value(compiled, node)))
    node.value = convert_answer(question, value)
    if value != "":
        holder[question.name] = value


SAMPLE_CALCULATES = frozenset(SAMPLE_ROW) - {"a02_hh"}
"""Calculates Collect reads from the sample list attachment, which popsurvey's logic engine
does not have: it reports them as not evaluated (X199, info), never as passed."""


def problems(
    form: FormModel, flat: dict[str, Any], rows: dict[str, list[dict[str, Any]]]
) -> set[tuple[str, str, tuple[int, ...]]]:
    """``(code, variable, repeat indices)`` of every violation of the answer set."""
    data = submission(form, flat, rows)
    check = check_submission(form, data, today=INTERVIEW_DAY)
    found = set()
    for issue in check.violations():
        if issue.code == "X199" and issue.variable in SAMPLE_CALCULATES:
            continue
        indices = tuple(int(i) for i in _indices(issue.message))
        found.add((issue.code, issue.variable or "", indices))
    return found


def codes(found: set[tuple[str, str, tuple[int, ...]]]) -> set[tuple[str, str]]:
    """The violations without their repeat indices."""
    return {(code, variable) for code, variable, _ in found}


def value(
    form: FormModel, flat: dict[str, Any], rows: dict[str, list[dict[str, Any]]], name: str
) -> Any:
    """The value of ``name`` (a calculate, say) in the filled-in submission."""
    data = submission(form, flat, rows)
    element = form[name]
    node: Any = data
    for xpath in element.enclosing:
        node = node.get(xpath.rsplit("/", 1)[1], {})
    return node.get(name)


def _indices(message: str) -> list[str]:
    path = message.split(":", 1)[0]
    return re.findall(r"\[(\d+)\]", path)
