"""Offline import: JSON pages, XML folders and Central CSV zips land like pulled data."""

from __future__ import annotations

import json
import random
import zipfile

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from surveys.cli import main
from surveys.importers import ImportFormatError, import_csv_zip, import_json_pages, import_xml_dir
from tests.fake_central import FakeCentral
from tests.fake_central.fixture import edited, household_form, make_audit_csv, make_submission
from tests.fake_central.server import _record
from tests.fake_central.xml import data_to_xml

MODEL = household_form()


@pytest.fixture
def store(any_store):
    return any_store


def submissions(store):
    with store.engine.connect() as conn:
        return {r.central_id: r for r in conn.execute(sa.text("select * from submissions"))}


def write_pages(root, n=9, per_page=4):
    central = FakeCentral()
    central.add_form(1, MODEL)
    rng = random.Random(11)
    for _ in range(n):
        data = make_submission(rng, audit=True)
        sub = central.submit(1, "household", data, attachments={"audit.csv": None})
        folder = root / "audits" / sub.central_id
        folder.mkdir(parents=True)
        (folder / "audit.csv").write_bytes(make_audit_csv(rng, data))
    records = [
        _record(s, expand=True, wkt=False, select=None)
        for s in central.projects[1]["household"].submissions.values()
    ]
    pages = root / "pages" / "household"
    pages.mkdir(parents=True)
    for i in range(0, n, per_page):
        page = {"value": records[i : i + per_page]}
        if i + per_page < n:
            page["@odata.nextLink"] = f"page-{i // per_page + 2:04d}.json"
        (pages / f"page-{i // per_page + 1:04d}.json").write_text(json.dumps(page))
    return records


def test_json_pages_with_audits(store, tmp_path):
    records = write_pages(tmp_path)
    result = import_json_pages(store, tmp_path, "household", MODEL)
    assert result.counts.new == 9 and result.audit_events == 9 * 6
    stored = submissions(store)
    for record in records:
        assert json.loads(stored[record["__id"]].raw_json) == record
    again = import_json_pages(store, tmp_path, "household", MODEL)
    assert again.counts.unchanged == 9  # idempotent


def test_import_stores_audit_logs_in_bulk(any_store, tmp_path):
    """A batch's audit logs go to the store in a fixed number of statements (the bulk
    writers pull uses), not a DELETE and an INSERT per submission: 5x the submissions with
    audit logs costs the same number of statements."""
    from tests.store.test_bulk import count_statements

    sent = count_statements(any_store)
    costs = []
    for n, new in ((12, 12), (60, 48)):  # the same seed: the first 12 are stored already
        root = tmp_path / str(n)
        write_pages(root, n=n, per_page=n)
        before = len(sent)
        result = import_json_pages(any_store, root, "household", MODEL)
        costs.append(len(sent) - before)
        assert (result.counts.new, result.audit_events) == (new, new * 6)
    assert costs[1] <= costs[0] + 2, costs
    with any_store.engine.connect() as conn:
        events = conn.execute(sa.text("select count(*) from audit_events")).scalar_one()
        files = conn.execute(
            sa.text("select count(*) from attachments where name = 'audit.csv'")
        ).scalar_one()
    assert (events, files) == (60 * 6, 60)


def test_bad_json_page_leaves_store_unchanged(store, tmp_path):
    write_pages(tmp_path)
    (tmp_path / "pages" / "household" / "page-0003.json").write_text("{not json")
    with pytest.raises(ImportFormatError, match=r"page-0003\.json: not JSON"):
        import_json_pages(store, tmp_path, "household", MODEL)
    assert submissions(store) == {}


def test_xml_folder_with_edit_and_audit(store, tmp_path):
    rng = random.Random(3)
    datas = [make_submission(rng, audit=True) for _ in range(4)]
    for i, data in enumerate(datas):
        folder = tmp_path / "instances" / f"s{i}"
        folder.mkdir(parents=True)
        (folder / f"s{i}.xml").write_bytes(data_to_xml(data, MODEL))
        (folder / "audit.csv").write_bytes(make_audit_csv(rng, data))
    edit = edited(datas[1], rng)
    (tmp_path / "instances" / "s9").mkdir()
    (tmp_path / "instances" / "s9" / "s9.xml").write_bytes(data_to_xml(edit, MODEL))
    result = import_xml_dir(store, tmp_path, "household", MODEL)
    assert result.counts.new == 4 and result.counts.edited == 1
    stored = submissions(store)
    first = datas[1]["meta"]["instanceID"]
    assert stored[first].instance_id == edit["meta"]["instanceID"]
    raw = json.loads(stored[datas[0]["meta"]["instanceID"]].raw_json)
    assert raw["resp"] == datas[0]["resp"]  # typed like OData: ints and floats
    assert raw["gps"]["coordinates"] == datas[0]["gps"]["coordinates"]
    assert len(raw["member"]) == len(datas[0]["member"])
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from submission_versions")).scalar() == 1
        assert conn.execute(sa.text("select count(*) from audit_events")).scalar() == 4 * 6


def test_broken_xml_is_one_line(store, tmp_path):
    (tmp_path / "a.xml").write_text("<data><unclosed></data>")
    with pytest.raises(ImportFormatError) as err:
        import_xml_dir(store, tmp_path, "household", MODEL)
    assert "a.xml: not XML" in str(err.value)


def csv_zip(path):
    main_csv = (
        "SubmissionDate,start,end,hh_id,resp-age,resp-sex,resp-income,services,"
        "gps-Latitude,gps-Longitude,gps-Altitude,gps-Accuracy,meta-instanceID,KEY,"
        "SubmitterID,SubmitterName,AttachmentsPresent,AttachmentsExpected,Status,ReviewState,"
        "DeviceID,Edits,FormVersion\n"
        "2026-03-02T01:02:03.456Z,2026-03-02T08:00:00.000+08:00,2026-03-02T08:30:00.000+08:00,"
        "HH1,34,2,1500.5,health_edu folic_acid,30.5,110.25,12,4.5,uuid:a,uuid:a,7,enum1,0,0,,"
        "approved,collect:1,0,2026030101\n"
        "2026-03-02T02:02:03.456Z,,,HH2,51,1,,,,,,,uuid:b,uuid:b,7,enum1,0,0,,,collect:1,0,"
        "2026030101\n"
    )
    member_csv = (
        "mname,mage,PARENT_KEY,KEY\n"
        "Li,40,uuid:a,uuid:a/member[1]\nWang,12,uuid:a,uuid:a/member[2]\n"
    )
    birth_csv = (
        "bdate,bsex,PARENT_KEY,KEY\n2014-05-01,1,uuid:a/member[1],uuid:a/member[1]/birth[1]\n"
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("household.csv", main_csv)
        z.writestr("household-member.csv", member_csv)
        z.writestr("household-birth.csv", birth_csv)


def test_central_csv_zip(store, tmp_path):
    csv_zip(tmp_path / "export.zip")
    result = import_csv_zip(store, tmp_path / "export.zip", model=MODEL)
    assert result.counts.new == 2
    stored = submissions(store)
    a = json.loads(stored["uuid:a"].raw_json)
    assert a["resp"] == {"age": 34, "sex": "2", "income": 1500.5}
    assert a["gps"] == {
        "type": "Point",
        "coordinates": [110.25, 30.5, 12.0],
        "properties": {"accuracy": 4.5},
    }
    assert [m["mname"] for m in a["member"]] == ["Li", "Wang"]
    assert a["member"][0]["birth"][0]["bdate"] == "2014-05-01"
    assert stored["uuid:a"].review_state == "approved"
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from repeat_rows")).scalar() == 3


def test_cli_import_and_bad_zip(tmp_path):
    write_pages(tmp_path / "sim")
    db = tmp_path / "cli.db"
    runner = CliRunner()
    ok = runner.invoke(main, ["import", str(tmp_path / "sim"), "--db", str(db)])
    assert ok.exit_code == 0, ok.output
    assert "household from import:json: 9 new" in ok.output
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    bad = runner.invoke(main, ["import", str(tmp_path / "bad.zip"), "--db", str(db)])
    assert bad.exit_code == 1
    assert "bad.zip: not a zip file" in bad.output and "Traceback" not in bad.output
