"""Planted problems and their ground truth; Central's OData shape; files the importer
reads; the OpenRosa XML round trip and multipart POST."""

from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
import requests
from simulate_support import END, START, bundled, checker

from surveys.simulate import simulate_fieldwork
from surveys.simulate.openrosa import app_user_url, post_submission, submission_xml
from surveys.simulate.output import write_simulation


def _planted(survey, small_entities, name="migrants", profile_of=None):
    """Simulated fieldwork of form ``name`` with planted profiles (``profile_of``; default:
    one enumerator each of six profiles, the rest honest): (form, profile_of, result)."""
    config, _ = survey
    if profile_of is None:
        enums = sorted(small_entities["enumerator"].unique())
        profiles = ["speeder", "fabricator", "night", "gps_one_place", "screen_out", "dont_know"]
        profile_of = {e: "honest" for e in enums}
        profile_of.update(dict(zip(enums, profiles, strict=False)))
    form = bundled(name)
    return (
        form,
        profile_of,
        simulate_fieldwork(
            form,
            small_entities,
            config.enumerators,
            seed=4,
            start=START,
            end=END,
            survey_id=config.id,
            profile_of=profile_of,
        ),
    )


def test_planted_problems_are_in_the_ground_truth(survey, small_entities):
    _, profile_of, result = _planted(survey, small_entities)
    truth = {row["enumerator"]: row for row in result.ground_truth()}
    by_enum: dict[str, list] = {}
    for s in result.submissions:
        by_enum.setdefault(s["__system"]["submitterName"], []).append(s)
    for enumerator, profile in profile_of.items():
        assert truth[enumerator]["profile"] == profile
        if profile != "honest":
            assert truth[enumerator]["instance_ids"], profile
    minutes = {
        e: pd.Series(
            [
                (pd.Timestamp(s["end"]) - pd.Timestamp(s["start"])).total_seconds() / 60
                for s in subs
                if s["result"] == "1"
            ]
        ).median()
        for e, subs in by_enum.items()
    }
    speeder = next(e for e, p in profile_of.items() if p == "speeder")
    honest = [m for e, m in minutes.items() if profile_of[e] == "honest"]
    assert minutes[speeder] < min(honest) / 2
    night = next(e for e, p in profile_of.items() if p == "night")
    hours = {pd.Timestamp(s["start"]).hour for s in by_enum[night]}
    assert hours <= {22, 23, 0, 1, 2, 3, 4}
    one_place = next(e for e, p in profile_of.items() if p == "gps_one_place")
    points = {tuple(s["a_visit"]["a05_gps"]["coordinates"][:2]) for s in by_enum[one_place]}
    spread = max(abs(a[0] - b[0]) + abs(a[1] - b[1]) for a in points for b in points)
    assert spread < 0.01  # within ~1 km: GPS noise around one spot
    fabricator = next(e for e, p in profile_of.items() if p == "fabricator")
    copies = truth[fabricator]["details"]
    assert copies and all(text.startswith("copy of uuid:") for text in copies.values())
    screener = next(e for e, p in profile_of.items() if p == "screen_out")
    screened = [s for s in by_enum[screener] if s["__id"] in truth[screener]["details"]]
    assert screened and all(s["result"] == "7" for s in screened)


def test_submissions_have_central_odata_shape(survey, small_entities):
    _, _, result = _planted(survey, small_entities)
    record = next(s for s in result.submissions if s["result"] == "1")
    assert record["__id"].startswith("uuid:") and record["meta"]["instanceID"] == record["__id"]
    system = record["__system"]
    assert set(system) >= {
        "submissionDate",
        "updatedAt",
        "submitterId",
        "submitterName",
        "reviewState",
        "deviceId",
        "edits",
        "formVersion",
        "deletedAt",
    }
    assert system["submissionDate"].endswith("Z") and isinstance(system["submitterId"], str)
    assert record["start"].endswith("+08:00")
    gps = record["a_visit"]["a05_gps"]
    assert (
        gps["type"] == "Point" and len(gps["coordinates"]) == 3 and "accuracy" in gps["properties"]
    )
    assert isinstance(record["a_visit"]["a04_visit_no"], int)
    assert isinstance(record["a_cmc_int"], str)  # calculates are strings
    assert isinstance(record["c_roster"], list) and all("__id" in r for r in record["c_roster"])
    multi = [s["f_house"]["f02_med_ins"] for s in result.submissions if s["result"] == "1"]
    assert any(isinstance(m, str) and " " in m for m in multi)
    log = result.audits[record["__id"]].splitlines()
    assert log[0] == "event,node,start,end,latitude,longitude,accuracy,old-value,new-value"
    assert log[1].startswith("form start,,") and any("/data/c_roster[1]/" in x for x in log)


def test_written_pages_import_into_the_store(survey, small_entities, tmp_path):
    from surveys.importers import import_json_pages
    from surveys.store import open_store

    form, _, result = _planted(survey, small_entities)
    write_simulation(result, tmp_path / "sim", page_size=150)
    assert (tmp_path / "sim" / "pages" / "migrants" / "page-0002.json").is_file()
    assert (tmp_path / "sim" / "ground_truth" / "migrants.csv").is_file()
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        imported = import_json_pages(store, tmp_path / "sim", "migrants", form)
    assert imported.counts.new == len(result.submissions)
    assert imported.audit_events > 10 * len(result.submissions)


def test_submission_xml_round_trips(survey, small_entities):
    from surveys.importers import parse_submission_xml

    form, _, result = _planted(survey, small_entities, "fertility")
    for record in result.submissions[:60]:
        parsed = parse_submission_xml(submission_xml(form, record), form)
        for key, value in record.items():
            if key in ("__system", "__id", "meta") or key.endswith("@odata.navigationLink"):
                continue
            assert _norm(parsed.get(key)) == _norm(value), key
        assert parsed["__id"] == record["__id"]
        assert parsed["meta"]["audit"] == record["meta"]["audit"]  # where pyxform binds it


def _norm(value):
    plain = _plain(value)
    return None if plain in ([], {}, None) else plain


def _plain(value):
    """Drop repeat row ids and empty values, which XML does not carry."""
    if isinstance(value, dict):
        if value.get("type") == "Point":
            return [round(float(c), 6) for c in value["coordinates"]]
        return {
            k: _plain(v)
            for k, v in value.items()
            if k != "__id" and _plain(v) not in (None, {}, [])
        }
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def test_openrosa_post_is_multipart_with_the_audit(survey, small_entities):
    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            body = self.rfile.read(length)
            message = BytesParser(policy=HTTP).parsebytes(
                f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body
            )
            parts = {
                part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
                for part in message.iter_parts()
            }
            received.append((self.path, self.headers["X-OpenRosa-Version"], parts))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        form, _, result = _planted(survey, small_entities)
        record = result.submissions[0]
        url = app_user_url(f"http://127.0.0.1:{server.server_port}", "TOKEN1", 7)
        status = post_submission(
            requests.Session(),
            url,
            xml=submission_xml(form, record),
            attachments={"audit.csv": result.audits[record["__id"]].encode()},
            instance_id=record["__id"],
        )
    finally:
        server.shutdown()
    assert status == 201
    path, version, parts = received[0]
    assert path == "/v1/key/TOKEN1/projects/7/submission" and version == "1.0"
    assert record["__id"].encode() in parts["xml_submission_file"]
    assert parts["audit.csv"].startswith(b"event,node,start,end")


def test_chunked_output_does_not_depend_on_workers(survey, small_entities, tmp_path):
    from surveys.simulate import simulate_to_directory

    config, _ = survey
    form = bundled("migrants")
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        summary = simulate_to_directory(
            form,
            small_entities,
            config.enumerators,
            out,
            seed=3,
            chunk_size=100,
            workers=workers,
            page_size=70,
            start=START,
            end=END,
            survey_id=config.id,
        )
        assert summary.submissions == (small_entities["role"] == "main").sum()
        pages = sorted((out / "pages" / "migrants").glob("page-*.json"))
        outputs.append([p.read_bytes() for p in pages])
        outputs[-1].append((out / "ground_truth" / "migrants.csv").read_bytes())
    assert outputs[0] == outputs[1]
    first = json.loads(outputs[0][0])
    assert len(first["value"]) == 70 and "@odata.nextLink" in first
    assert "@odata.nextLink" not in json.loads(outputs[0][-2])


@pytest.mark.parametrize("name", ["migrants", "fertility"])
def test_copied_records_have_their_own_calculations(survey, small_entities, name):
    """A fabricator's copies and duplicate household IDs are typed on a tablet, where the
    form's calculations are recomputed from the copied answers (and the record's own
    interview day and household): the stored calculations agree with the form's logic."""
    from datetime import date

    from validation.validate import validate_records

    enums = sorted(small_entities["enumerator"].unique())
    profile_of = {e: ("fabricator" if k % 2 else "duplicate_ids") for k, e in enumerate(enums)}
    form, _, result = _planted(survey, small_entities, name, profile_of)
    planted = [row for row in result.ground_truth() if row["instance_ids"]]
    assert {row["profile"] for row in planted} == {"fabricator", "duplicate_ids"}
    issues = validate_records(
        form,
        result.submissions,
        today=date(2027, 9, 1),
        logic=checker(form, small_entities),
    )
    assert [i for i in issues if i.code == "X104"] == []
