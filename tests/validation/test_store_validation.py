"""``popsurvey validate`` over the store: issues stored and replaced, incremental runs,
record-level checks, the contract other stages rely on; SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import hashlib
import json
import threading
from datetime import date

import sqlalchemy as sa
from click.testing import CliRunner
from fixtures import LOOKUP_FORM, SURVEY_V1, SURVEY_V2, valid_submission

from forms import read_markdown
from surveys.cli import main
from surveys.store import models, open_store, writer
from surveys.store.issues import submissions_with_errors, unvalidated_submissions
from surveys.validate import RULES_VERSION, nearest_version, stored_issues, validate_form

TODAY = date(2024, 7, 1)
STATE, ISSUES = models.ValidationState.__table__, models.ValidationIssue.__table__
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


LOOKUP = read_markdown(LOOKUP_FORM)
HOUSEHOLDS = {"households.csv": [{"name": "h1", "label": "H1", "size": "3"}]}


def test_a_run_given_attachments_validates_again_what_was_checked_without(any_store):
    """Lookups into an attachment are only checked when it is given (X199 otherwise): a run
    given the file re-validates what a run without it (e.g. after a pull) checked; a run
    without it takes those results as they are; states stored before attachments counted
    stay valid for runs without."""
    store = any_store
    records = [
        {
            "__id": f"uuid:{size}",
            "meta": {"instanceID": f"uuid:{size}"},
            "__system": {"formVersion": "1"},
            "hh": "h1",
            "hhsize": size,
        }
        for size in (2, 9)
    ]
    with store.transaction() as conn:
        pk = writer.ensure_form(conn, "lookup")
        writer.save_form_version(conn, pk, "1", LOOKUP, source="file")
        writer.store_submissions(conn, pk, records, "test")

    def codes():
        return {(r["central_id"], r["code"]) for r in stored_issues(store, "lookup")}

    without = validate_form(store, "lookup", today=TODAY)
    assert without.validated == 2 and codes() == {("uuid:2", "X199"), ("uuid:9", "X199")}
    given = validate_form(store, "lookup", today=TODAY, attachments=HOUSEHOLDS)
    assert given.validated == 2 and codes() == {("uuid:9", "X101")}
    assert validate_form(store, "lookup", today=TODAY, attachments=HOUSEHOLDS).validated == 0
    assert validate_form(store, "lookup", today=TODAY).validated == 0
    other = {"households.csv": [{"name": "h1", "label": "H1", "size": "10"}]}
    assert validate_form(store, "lookup", today=TODAY, attachments=other).validated == 2
    assert codes() == set()
    # a state written before the digest had an attachments half: the FormModel's digest
    old = hashlib.sha256((RULES_VERSION + LOOKUP.to_json()).encode("utf-8")).hexdigest()
    with store.transaction() as conn:
        conn.execute(sa.update(STATE).values(rules_digest=old))
    assert validate_form(store, "lookup", today=TODAY).validated == 0
    assert validate_form(store, "lookup", today=TODAY, attachments=other).validated == 2


def _purge(conn, *central_ids):
    """What ``pull --reconcile`` does with submissions Central no longer has."""
    form_pk = writer.find_form(conn, "housing")
    stored = set(conn.execute(sa.select(writer.SUBMISSIONS.c.central_id)).scalars())
    return writer.remove_missing(conn, form_pk, stored - set(central_ids))


def _validation_rows(store):
    """(central ids with a validation_state row, validation rows without a submission)."""
    subs = writer.SUBMISSIONS
    with store.engine.connect() as conn:
        validated = set(
            conn.execute(
                sa.select(subs.c.central_id).join(STATE, STATE.c.submission_id == subs.c.id)
            ).scalars()
        )
        orphans = sum(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(table)
                .where(table.c.submission_id.not_in(sa.select(subs.c.id)))
            ).scalar_one()
            for table in (STATE, ISSUES)
        )
    return validated, orphans


def test_a_submission_purged_before_it_is_read_is_skipped(any_store, monkeypatch):
    """Purged after validation chose its pending work, before it read the rows: skipped,
    no crash, no validation row pointing at the missing submission."""
    import surveys.validate

    store = any_store
    _put(store, [_record("uuid:a"), _record("uuid:b", hhsize="two"), _record("uuid:c")])
    read = surveys.validate._read_batch

    def purge_then_read(engine, batch):
        with store.transaction() as conn:
            assert _purge(conn, "uuid:b") == 1
        return read(engine, batch)

    monkeypatch.setattr(surveys.validate, "_read_batch", purge_then_read)
    summary = validate_form(store, "housing", today=TODAY)
    assert (summary.validated, summary.with_errors, summary.issues) == (2, 0, [])
    assert _validation_rows(store) == ({"uuid:a", "uuid:c"}, 0)


def test_a_submission_purged_after_it_was_read_is_skipped(any_store, monkeypatch):
    """Purged while its batch is being checked: neither its state nor its issues stored."""
    import surveys.validate

    store = any_store
    _put(store, [_record("uuid:a"), _record("uuid:b", hhsize="two"), _record("uuid:c")])
    validate_form(store, "housing", today=TODAY)
    _put(store, [_record("uuid:b", instance_id="uuid:b2", hhsize="three")])  # an edit
    check = surveys.validate._Checker.check

    def check_then_purge(self, rows, chosen):
        found = check(self, rows, chosen)
        assert found  # b's errors, found before the purge
        with store.transaction() as conn:
            assert _purge(conn, "uuid:b") == 1
        return found

    monkeypatch.setattr(surveys.validate._Checker, "check", check_then_purge)
    summary = validate_form(store, "housing", today=TODAY)
    assert (summary.validated, summary.unchanged, summary.issues) == (0, 2, [])
    assert _validation_rows(store) == ({"uuid:a", "uuid:c"}, 0)
    assert stored_issues(store, "housing") == []


def test_a_purge_beside_a_validation_run_leaves_no_orphan(any_store, monkeypatch):
    """Two processes: a purge holding its transaction while validation writes, then
    validation holding its write while a purge starts. Whichever goes first, neither fails
    and no validation row outlives its submission (on PostgreSQL the row locks order them,
    on SQLite the write lock)."""
    import surveys.validate

    store = any_store
    _put(store, [_record(f"uuid:{c}") for c in "abcd"])

    def in_thread(target):
        outcome = {}

        def run():
            try:
                outcome["result"] = target()
            except Exception as err:  # reported by the assertions below
                outcome["error"] = err

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread, outcome

    # 1. the purge first: validation waits for it, then skips what it removed
    with store.engine.connect() as conn:
        purge = conn.begin()
        assert _purge(conn, "uuid:b") == 1
        thread, outcome = in_thread(lambda: validate_form(store, "housing", today=TODAY))
        thread.join(1.5)
        assert "error" not in outcome, outcome.get("error")
        purge.commit()
    thread.join(60)
    assert "error" not in outcome, outcome["error"]
    assert outcome["result"].validated == 3
    assert _validation_rows(store) == ({"uuid:a", "uuid:c", "uuid:d"}, 0)

    # 2. validation first: the purge waits for its write, then removes the rows it wrote
    _put(store, [_record("uuid:c", instance_id="uuid:c2", hhsize="two")])  # an edit
    held, release = threading.Event(), threading.Event()
    insert_rows = surveys.validate.bulk.insert_rows

    def insert_and_hold(conn, table, columns, rows):
        insert_rows(conn, table, columns, rows)
        if table is STATE:
            held.set()
            release.wait(30)

    monkeypatch.setattr(surveys.validate.bulk, "insert_rows", insert_and_hold)
    validation, validated = in_thread(lambda: validate_form(store, "housing", today=TODAY))
    assert held.wait(30)

    def purge_c():
        with store.transaction() as conn:
            return _purge(conn, "uuid:c")

    purging, purged = in_thread(purge_c)
    purging.join(1.0)
    release.set()
    validation.join(60)
    purging.join(60)
    assert "error" not in validated, validated.get("error")
    assert "error" not in purged, purged.get("error")
    assert validated["result"].validated == 1 and purged["result"] == 1
    assert _validation_rows(store) == ({"uuid:a", "uuid:d"}, 0)


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
