"""``popsurvey validate`` over the store: issues stored and replaced, incremental runs,
record-level checks, the contract other stages rely on; SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from datetime import date

import sqlalchemy as sa
from click.testing import CliRunner
from fixtures import SURVEY_V1, SURVEY_V2, valid_submission

from forms import read_markdown
from surveys.cli import main
from surveys.store import models, open_store, writer
from surveys.store.issues import submissions_with_errors, unvalidated_submissions
from surveys.validate import nearest_version, stored_issues, validate_form

TODAY = date(2024, 7, 1)
V1, V2 = read_markdown(SURVEY_V1), read_markdown(SURVEY_V2)


def _record(central_id, version="1", **changes):
    record = copy.deepcopy(valid_submission())
    record["__id"] = central_id
    record["meta"]["instanceID"] = changes.pop("instance_id", central_id)
    record["__system"]["formVersion"] = version
    record.update(changes)
    return record


def _put(store, records, raw=None, models_=(V1,)):
    with store.transaction() as conn:
        pk = writer.ensure_form(conn, "housing")
        for model in models_:
            writer.save_form_version(conn, pk, model.version, model, source="file")
        writer.store_submissions(conn, pk, records, "test", raw=raw)


def _codes(store):
    return {(r["central_id"], r["code"], r["variable"]) for r in stored_issues(store, "housing")}


def test_issues_stored_replaced_and_incremental(any_store):
    store = any_store
    _put(store, [_record("uuid:a"), _record("uuid:b", hhsize="two"), _record("uuid:c")])
    first = validate_form(store, "housing", today=TODAY)
    assert (first.validated, first.unchanged, first.with_errors) == (3, 0, 1)
    assert ("uuid:b", "V101", "/data/hhsize") in _codes(store)
    assert submissions_with_errors(store, "housing") == {"uuid:b"}
    assert submissions_with_errors(store) == {"uuid:b"}
    # nothing changed: nothing validated again
    again = validate_form(store, "housing", today=TODAY)
    assert (again.validated, again.unchanged) == (0, 3)
    assert unvalidated_submissions(store, "housing") == set()
    # an edit in Central (new instanceID) fixes b and breaks c: only they are validated again
    _put(
        store,
        [
            _record("uuid:b", instance_id="uuid:b2"),
            _record("uuid:c", instance_id="uuid:c2", province="77"),
        ],
    )
    assert unvalidated_submissions(store, "housing") == {"uuid:b", "uuid:c"}
    third = validate_form(store, "housing", today=TODAY)
    assert (third.validated, third.unchanged) == (2, 1)
    codes = _codes(store)
    assert not any(c[0] == "uuid:b" for c in codes)  # old issues replaced
    assert ("uuid:c", "V102", "/data/province") in codes
    assert submissions_with_errors(store, "housing") == {"uuid:c"}
    # --all validates every one again, with the same result
    everything = validate_form(store, "housing", today=TODAY, everything=True)
    assert everything.validated == 3 and _codes(store) == codes
    # the submission with errors is kept, marked, never dropped
    with store.engine.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(writer.SUBMISSIONS)).scalar() == 3
        )


def test_worker_processes_give_the_same_issues(tmp_path, monkeypatch):
    import surveys.validate

    db = f"sqlite:///{tmp_path / 'store.db'}"
    records = [_record(f"uuid:{i}", hhsize=i % 25) for i in range(12)]
    records.append(_record("uuid:odd", version="7", province=3))
    with open_store(db) as store:
        _put(store, records)
        single = validate_form(store, "housing", today=TODAY)
        expected = _codes(store)
        monkeypatch.setattr(surveys.validate, "BATCH", 4)
        parallel = validate_form(store, "housing", today=TODAY, everything=True, workers=2)
        assert parallel.validated == single.validated == 13
        assert _codes(store) == expected and expected


def test_versions_unknown_version_and_field_added_later(any_store):
    store = any_store
    later = _record("uuid:v2", version="2", phone="13800000000")
    unknown = _record("uuid:v9", version="9", phone="13800000000")
    _put(store, [_record("uuid:v1"), later, unknown], models_=(V1, V2))
    validate_form(store, "housing", today=TODAY)
    codes = _codes(store)
    assert not any(c[0] in ("uuid:v1", "uuid:v2") for c in codes)
    assert ("uuid:v9", "V203", None) in codes  # validated against version 2, with a warning
    assert not any(c[0] == "uuid:v9" and c[1] == "V106" for c in codes)
    row = next(r for r in stored_issues(store, "housing") if r["code"] == "V203")
    assert row["form_version"] == "2" and row["severity"] == "warning"
    with store.engine.connect() as conn:
        schemas = conn.execute(sa.select(writer.FORM_VERSIONS.c.json_schema)).scalars().all()
    assert all(json.loads(s)["$schema"].endswith("2020-12/schema") for s in schemas)
    assert nearest_version("3", ["1", "2", "10"]) == "2"
    assert nearest_version("x", ["1", "2"]) == "2"


def test_broken_json_and_bad_encoding_are_records_not_crashes(any_store):
    store = any_store
    good = _record("uuid:ok")
    surrogate = _record("uuid:enc")
    text = json.dumps(surrogate, ensure_ascii=True).replace('"Li"', '"L\\udc80i"')
    _put(store, [good, surrogate], raw=[json.dumps(good), text])
    with store.transaction() as conn:  # a row whose JSON was damaged in the store
        conn.execute(
            sa.update(writer.SUBMISSIONS)
            .where(writer.SUBMISSIONS.c.central_id == "uuid:ok")
            .values(raw_json='{"__id": "uuid:ok", "hhsize": ')
        )
    summary = validate_form(store, "housing", today=TODAY)
    assert summary.validated == 2
    codes = _codes(store)
    assert ("uuid:ok", "V201", None) in codes
    assert ("uuid:enc", "V202", "/member[1]/mname") in codes
    assert submissions_with_errors(store, "housing") == {"uuid:ok", "uuid:enc"}


def test_validate_command(tmp_path):
    db = f"sqlite:///{tmp_path / 'store.db'}"
    with open_store(db) as store:
        _put(store, [_record("uuid:a"), _record("uuid:b", hhsize=99, bogus=1)])
    runner = CliRunner()
    result = runner.invoke(main, ["validate", "--db", db, "--form", "housing", "-q"])
    assert result.exit_code == 0, result.output
    assert "X101" in result.output and "V106" in result.output and "by enumerator" in result.output
    as_json = runner.invoke(main, ["validate", "--db", db, "--format", "json", "-q"])
    assert as_json.exit_code == 0
    document = json.loads(as_json.stdout)
    form = document["summary"]["by_form"][0]
    assert form["submissions"] == 2 and form["with_errors"] == 1
    assert form["share_with_errors"] == 0.5
    assert {i["code"] for i in document["issues"]} >= {"X101", "V106"}
    as_csv = runner.invoke(main, ["validate", "--db", db, "--format", "csv", "--all", "-q"])
    assert as_csv.exit_code == 0
    assert as_csv.stdout.splitlines()[0].startswith("form_id,central_id,instance_id")
    missing = runner.invoke(main, ["validate", "--db", db, "--form", "nope", "-q"])
    assert missing.exit_code == 1 and "form nope is not in the store" in missing.output
    with open_store(db) as store, store.engine.connect() as conn:
        rows = conn.execute(sa.select(models.ValidationIssue.__table__)).all()
    assert rows and all(r.severity in ("error", "warning", "info") for r in rows)


def test_form_schema_command(tmp_path):
    form_file = tmp_path / "housing.md"
    form_file.write_text(SURVEY_V1, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["form", "schema", str(form_file)])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["properties"]["hhsize"]["type"] == "integer"
    out = tmp_path / "s.json"
    written = runner.invoke(main, ["form", "schema", str(form_file), "-o", str(out)])
    assert written.exit_code == 0 and json.loads(out.read_text())["$schema"]
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    failed = runner.invoke(main, ["form", "schema", str(bad)])
    assert failed.exit_code == 1 and "not a FormModel JSON file" in failed.output
