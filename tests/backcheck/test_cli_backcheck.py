"""``popsurvey backcheck form | draw | compare`` on the small survey of tests/report, and the
back-check error rates feeding the report's risk score."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from forms.compile import compile_form, java_available
from forms.reader import read_form
from surveys.cli import main
from surveys.importers.common import import_records
from surveys.store import open_store
from tests.report.fieldwork import INTERVIEWS, write_survey


@pytest.fixture
def survey(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    return write_survey(tmp_path / "survey", url), url


def run(*args):
    result = CliRunner().invoke(main, ["backcheck", *args])
    return result


def test_generated_form_builds_with_the_marked_questions(survey, tmp_path):
    config, url = survey
    out = tmp_path / "backcheck.xlsx"
    result = run("form", "-c", str(config), "--db", url, "-o", str(out), "--version", "7")
    assert result.exit_code == 0, result.output
    model = read_form(out)
    names = [q.name for q in model.questions]
    assert names[-4:] == ["result", "hh_size", "c03_age", "owns_home"]  # questionnaire order
    assert "d14_sex" not in names and "gps" not in names
    assert model.form_id == "backcheck" and model.version == "7"
    assert model["owns_home"].label["中文 (zh)"] == "自有住房"
    assert model["bc_unit"].type == "select_one_from_file" or "bc_unit" in names
    assert [c.name for c in model.choice_lists["yn"].choices] == ["1", "2"]
    built = compile_form(out.read_bytes(), name="backcheck.xlsx", validate=java_available())
    assert built.xform and "backcheck_units.csv" in built.xform


def back_check_records(drawn: pd.DataFrame, wrong: dict[str, dict]) -> list[dict]:
    """Back-check submissions of the drawn units: the original answers, except ``wrong``."""
    answers = {
        row[2]: {"result": row[7], "hh_size": 3, "c03_age": row[8], "owns_home": "1"}
        for row in INTERVIEWS
    }
    records = []
    for k, unit in enumerate(drawn["unit"]):
        iid = f"uuid:bc{k:03d}"
        records.append(
            {
                "__id": iid,
                "backchecker": "bc1",
                "bc_unit": f"ent-{unit}",
                "bc_orig_unit": unit,
                "bc_found": "1",
                "bc_answers": {**answers[unit], **wrong.get(unit, {})},
                "meta": {"instanceID": iid},
                "__system": {
                    "submissionDate": "2027-07-05T10:00:00.000Z",
                    "submitterId": "99",
                    "submitterName": "bc1",
                    "reviewState": None,
                    "edits": 0,
                    "formVersion": "7",
                    "updatedAt": None,
                    "deviceId": None,
                },
            }
        )
    return records


def test_draw_compare_and_feed_the_report(survey, tmp_path):
    config, url = survey
    folder = tmp_path / "bc"
    result = run("draw", "-c", str(config), "--db", url, "-o", str(folder), "--seed", "3")
    assert result.exit_code == 0, result.output
    assert "not published" in result.output
    entities = pd.read_csv(folder / "backcheck_units.csv", dtype=str)
    # e2's four and e3's two flagged interviews, and one of e1's four (20% in the first days)
    assert len(entities) == 7
    assert set(entities.query("reason == 'flagged'")["unit"]) == {f"u{n:02d}" for n in range(5, 11)}
    assert entities.query("enumerator == 'e1'")["reason"].tolist() == ["random"]
    assert entities["name"].is_unique
    again = run("draw", "-c", str(config), "--db", url, "-o", str(folder), "--seed", "3")
    assert again.exit_code == 0 and again.output.startswith("0 unit(s) drawn")
    assert len(pd.read_csv(folder / "backcheck_units.csv")) == 7

    form = tmp_path / "backcheck.xlsx"
    assert (
        run("form", "-c", str(config), "--db", url, "-o", str(form), "--version", "7").exit_code
        == 0
    )
    wrong = {"u05": {"c03_age": 60, "owns_home": "2"}, "u06": {"result": 3}, "u09": {"hh_size": 5}}
    with open_store(url) as store:
        import_records(
            store, "backcheck", back_check_records(entities, wrong), "test", model=read_form(form)
        )
    result = run("compare", "-c", str(config), "--db", url, "-o", str(folder))
    assert result.exit_code == 0, result.output
    rates = pd.read_csv(folder / "backcheck_enumerators.csv").set_index("enumerator")
    # types 1-2 per unit: result, c03_age, owns_home; e2: 4 units, 3 differences of 12
    assert rates.loc["e2", "error_rate"] == pytest.approx(3 / 12)
    assert rates.loc["e3", "error_rate"] == 0  # hh_size is type 3
    book = pd.read_excel(folder / "backcheck.xlsx", sheet_name=None)
    assert list(book) == [
        "enumerator stats",
        "backchecker stats",
        "variable stats",
        "differences",
        "issues",
    ]
    assert len(book["differences"]) == 4

    reports = tmp_path / "reports"
    result = CliRunner().invoke(
        main,
        [
            "report",
            "-c",
            str(config),
            "--db",
            url,
            "--lang",
            "en",
            "-o",
            str(reports),
            "--backchecks",
            str(folder),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_excel(reports / "report.en.xlsx", sheet_name="Enumerators").set_index(
        "Enumerator"
    )
    assert table.loc["e2", "back-check error rate"] == pytest.approx(0.25)
    assert "back-check error rate above limit (15)" in table.loc["e2", "Reasons"]


def test_errors_are_one_line(survey, tmp_path):
    config, url = survey
    result = run("compare", "-c", str(config), "--db", url, "-o", str(tmp_path))
    assert result.exit_code == 1 and "pull the form backcheck" in result.output
    config.write_text(
        config.read_text("utf-8") + "\nbackcheck_tolerances = { nosuch = 1 }\n", "utf-8"
    )
    result = run("form", "-c", str(config), "--db", url, "-o", str(tmp_path / "f.xlsx"))
    assert result.exit_code == 1 and "nosuch: not a back-check variable" in result.output
    assert "Traceback" not in result.output
