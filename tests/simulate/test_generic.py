# ruff: noqa: E501  (the inline XLSForm keeps each row on one line)
"""Any ODK form: generic answers per type obey relevance, constraints, choice filters,
calculations and repeats; bad options give one clear line."""

from __future__ import annotations

from datetime import date

import pandas as pd
from click.testing import CliRunner

from forms import read_markdown
from forms.logic import FormLogic
from surveys.cli import main
from surveys.simulate import simulate_fieldwork

FORM = """
| survey |
| | type | name | label | relevant | constraint | calculation | choice_filter | repeat_count |
| | start | start | | | | | | |
| | end | end | | | | | | |
| | today | today | | | | | | |
| | audit | audit | | | | | | |
| | integer | n_kids | Children | | . >= 0 and . <= 4 | | | |
| | select_one region | region | Region | | | | | |
| | select_one city | city | City | | | | region = ${region} | |
| | decimal | income | Income | | . > 100.5 and . < 900 | | | |
| | calculate | double | | | | ${income} * 2 | | |
| | date | visit | Visit date | | . <= today() | | | |
| | begin_group | more | More | ${n_kids} > 0 | | | | |
| | select_multiple svc | services | Services | | not(selected(., 'none') and count-selected(.) > 1) | | | |
| | end_group | | | | | | | |
| | begin_repeat | kid | Kid | | | | | ${n_kids} |
| | text | kname | Name | | | | | |
| | integer | kage | Age | | . < 18 | | | |
| | end_repeat | | | | | | | |
| | begin_repeat | pet | Pet | | | | | |
| | text | pname | Pet name | | | | | |
| | end_repeat | | | | | | | |
| choices |
| | list_name | name | label | region |
| | region | n | North | |
| | region | s | South | |
| | city | a | A | n |
| | city | b | B | n |
| | city | c | C | s |
| | svc | x | X | |
| | svc | y | Y | |
| | svc | none | None | |
| settings |
| | form_id | version |
| | generic | 3 |
"""


class Person:
    def __init__(self, code: str) -> None:
        self.id = self.name = code


def test_a_generic_form_is_simulated_without_violations():
    form = read_markdown(FORM)
    table = pd.DataFrame(
        {
            "name": [f"h{i}" for i in range(150)],
            "enumerator": ["e1", "e2", "e3"] * 50,
            "stratum": "1",
            "hhid": [str(i) for i in range(150)],
        }
    )
    result = simulate_fieldwork(
        form,
        table,
        [Person("e1"), Person("e2"), Person("e3")],
        seed=1,
        start=date(2026, 3, 1),
        end=date(2026, 3, 20),
        profile_of=dict.fromkeys(("e1", "e2", "e3"), "honest"),
    )
    assert len(result.submissions) == 150 and result.issues == []
    logic = FormLogic(form)
    for submission in result.submissions:
        violations = logic.check(submission, today=date(2026, 3, 20)).violations()
        assert [v.one_line() for v in violations if v.code != "X199"] == []
    cities = {(s["region"], s["city"]) for s in result.submissions}
    assert cities <= {("n", "a"), ("n", "b"), ("s", "c")} and len(cities) == 3
    assert all(len(s.get("kid", [])) == s["n_kids"] for s in result.submissions)
    assert all(
        s["double"] == format(s["income"] * 2, "g") or float(s["double"]) == s["income"] * 2
        for s in result.submissions
    )


def test_unknown_profile_is_one_clear_line(tmp_path):
    from surveys.example import write_example

    write_example(tmp_path, force=True)
    entities = tmp_path / "entities.csv"
    entities.write_text("name,enumerator,hhid,stratum\nh1,enum001,1,379902\n")
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            str(tmp_path / "survey.toml"),
            "--entities",
            str(entities),
            "--profile",
            "sleepy=0.1",
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code != 0
    assert "unknown profile(s) sleepy" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out" / "pages").exists()


def test_missing_sample_list_is_one_clear_line(tmp_path):
    from surveys.example import write_example

    write_example(tmp_path, force=True)
    result = CliRunner().invoke(main, ["simulate", str(tmp_path / "survey.toml")])
    assert result.exit_code == 1 and "no sample list" in result.output


def test_visit_outcomes_follow_the_rates_of_each_stratum(tmp_path):
    import json

    from simulate_support import END, ROOT, START, bundled

    form = bundled("migrants")
    table = pd.DataFrame(
        {
            "name": [f"h{i}" for i in range(400)],
            "enumerator": ["e1", "e2"] * 200,
            "stratum": ["A"] * 200 + ["B"] * 200,
            "hhid": [str(i) for i in range(400)],
            "province": "37",
        }
    )
    outcomes = {"A": {"3": 1.0}, "*": {"1": 0.5, "4": 0.5}}
    result = simulate_fieldwork(
        form,
        table,
        [Person("e1"), Person("e2")],
        seed=2,
        start=START,
        end=END,
        outcomes=outcomes,
        profile_of=dict.fromkeys(("e1", "e2"), "honest"),
    )
    by_stratum: dict[str, list[str]] = {}
    for s in result.submissions:
        by_stratum.setdefault(s["a_id"]["stratum"], []).append(s["a_visit"]["a06_visit_result"])
    assert set(by_stratum["A"]) == {"3"}
    assert set(by_stratum["B"]) == {"1", "4"} and 60 < by_stratum["B"].count("4") < 140
    assert {s["result"] for s in result.submissions if s["a_id"]["stratum"] == "A"} == {"4"}

    from surveys.example import write_example

    write_example(tmp_path, force=True)
    entities = tmp_path / "entities.csv"
    table.to_csv(entities, index=False)
    bad = tmp_path / "outcomes.json"
    bad.write_text(json.dumps({"A": {"42": 1.0}}))
    run = CliRunner().invoke(
        main,
        [
            "simulate",
            str(tmp_path / "survey.toml"),
            "--entities",
            str(entities),
            "--form",
            str(ROOT / "forms" / "questionnaires" / "migrants.xlsx"),
            "--outcomes",
            str(bad),
            "--out",
            str(tmp_path / "out"),
        ],
    )
    assert run.exit_code == 1 and "stratum A: '42' is not a visit result code" in run.output
    assert not (tmp_path / "out").exists()
