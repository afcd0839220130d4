"""What popsurvey relies on from Central's API, checked on the fake and (when configured) on a
real Central: sessions, OData paging and filters, $expand and repeat tables, deletion,
attachments and review states. Faults that only the fake can inject are in test_client.py."""

from __future__ import annotations

import hashlib
import random
from urllib.parse import quote

import pytest

from surveys.central import CentralAuthError, CentralClient, CentralError
from tests.central.handles import FAST
from tests.fake_central.fixture import make_audit_csv, make_submission

N = 12


@pytest.fixture
def seeded(central):
    """The central handle with ``N`` submissions (with audit logs); their ids, oldest first."""
    rng = random.Random(7)
    ids = []
    for _ in range(N):
        data = make_submission(rng, audit=True)
        ids.append(central.submit(data, make_audit_csv(rng, data)))
        central.settle()  # distinct submissionDates, so the filter bounds below are exact
    return central, ids


def rows_of(pages):
    """Every row of an iterable of OData pages."""
    return [r for p in pages for r in p.value]


def first_page(client, form_id, **kwargs):
    """The rows of the first OData page."""
    return next(iter(client.submissions.odata_pages(form_id, **kwargs))).value


def test_session_token_and_bad_password(seeded, capsys, caplog):
    central, _ = seeded
    form_id = central.model.form_id
    assert central.make_client().forms.get(form_id)["xmlFormId"] == form_id
    if central.fake is not None:
        assert ("POST", "/v1/sessions") in central.fake.requests
    wrong = CentralClient(central.url, central.user, "wrong-secret-123", central.project, FAST)
    with pytest.raises(CentralAuthError) as err:
        wrong.forms.get(form_id)
    out = capsys.readouterr()
    for text in (str(err.value), out.out, out.err, caplog.text):
        assert "wrong-secret-123" not in text


def test_paging_count_and_nextlink(seeded):
    central, ids = seeded
    client = central.make_client()
    pages = list(client.submissions.odata_pages(central.model.form_id, page_size=5, count=True))
    assert [len(p.value) for p in pages] == [5, 5, 2]
    assert pages[0].count == N
    assert pages[0].next_link and "%24skiptoken=" in pages[0].next_link
    assert pages[-1].next_link is None
    got = [r["__id"] for r in rows_of(pages)]
    assert got == list(reversed(ids))  # newest first, nothing repeated or lost


def test_system_properties_match_the_submission_api(seeded):
    central, ids = seeded
    client = central.make_client()
    row = first_page(client, central.model.form_id)[0]
    system = row["__system"]
    assert set(system) >= {
        "submissionDate",
        "updatedAt",
        "submitterId",
        "submitterName",
        "attachmentsPresent",
        "attachmentsExpected",
        "status",
        "reviewState",
        "deviceId",
        "edits",
        "formVersion",
        "deletedAt",
    }
    assert system["reviewState"] is None and system["edits"] == 0
    assert system["formVersion"] == central.model.version
    assert system["attachmentsPresent"] == system["attachmentsExpected"] == 1
    assert row["meta"]["instanceID"] == ids[-1]
    listed = client.get_json(client.project_path("forms", central.model.form_id, "submissions"))
    assert {s["instanceId"] for s in listed} == set(ids)


def test_filters_on_system_dates(seeded):
    central, ids = seeded
    client, form_id = central.make_client(), central.model.form_id
    by_id = {r["__id"]: r for r in rows_of(client.submissions.odata_pages(form_id))}
    pivot = by_id[ids[5]]["__system"]["submissionDate"]
    later = first_page(client, form_id, filter=f"__system/submissionDate gt {pivot}")
    assert {r["__id"] for r in later} == set(ids[6:])
    ge = first_page(client, form_id, filter=f"__system/submissionDate ge {pivot}")
    assert len(ge) == len(later) + 1
    central.settle()
    central.review(ids[0], "approved")
    both = first_page(
        client,
        form_id,
        filter=f"__system/submissionDate gt {pivot} or __system/updatedAt gt {pivot}",
    )
    assert {r["__id"] for r in both} == set(ids[6:]) | {ids[0]}
    upper = by_id[ids[8]]["__system"]["submissionDate"]
    window = first_page(
        client,
        form_id,
        filter=f"__system/submissionDate gt {pivot} and __system/submissionDate lt {upper}",
    )
    assert {r["__id"] for r in window} == {ids[6], ids[7]}
    with pytest.raises(CentralError, match="HTTP 501"):
        list(client.submissions.odata_pages(form_id, filter="resp/age gt 3"))


def test_expand_repeat_tables_and_wkt(seeded):
    central, _ = seeded
    client, form_id = central.make_client(), central.model.form_id
    flat = first_page(client, form_id, expand=False)
    assert "member" not in flat[0] and "member@odata.navigationLink" in flat[0]
    expanded = first_page(client, form_id)
    members = sum(len(r["member"]) for r in expanded)
    table = rows_of(
        client.submissions.odata_pages(form_id, table="Submissions.member", page_size=4)
    )
    assert len(table) == members
    assert all(r["__Submissions-id"] for r in table)
    births = rows_of(client.submissions.odata_pages(form_id, table="Submissions.member.birth"))
    member_ids = {m["__id"] for r in expanded for m in r["member"]}
    assert all(b["__Submissions-member-id"] in member_ids for b in births)
    nested = [m for m in table if "birth@odata.navigationLink" in m]
    assert nested and all(
        m["birth@odata.navigationLink"].endswith(f"/member('{m['__id']}')/birth") for m in nested
    )
    wkt = client.get_json(
        client.project_path("forms", form_id) + ".svc/Submissions", params={"$wkt": "true"}
    )
    assert wkt["value"][0]["gps"].startswith("POINT (")
    geojson = expanded[0]["gps"]
    assert geojson["type"] == "Point" and len(geojson["coordinates"]) >= 2


def test_repeat_row_ids_and_navigation_links(seeded):
    central, _ = seeded
    rows = first_page(central.make_client(), central.model.form_id)
    with_births = 0
    for row in rows:
        sub = quote(row["__id"], safe="!'()*-._~")  # as JavaScript's encodeURIComponent
        assert row["member@odata.navigationLink"] == f"Submissions('{sub}')/member"
        for i, member in enumerate(row["member"]):
            assert member["__id"] == sha1_hex(f"Submissions#{row['__id']}%%member#{i}")
            if not member.get("birth"):
                continue
            with_births += 1
            link = f"Submissions('{sub}')/member('{member['__id']}')/birth"
            assert member["birth@odata.navigationLink"] == link
            for j, birth in enumerate(member["birth"]):
                path = f"Submissions#{row['__id']}%%member#{i}%%birth#{j}"
                assert birth["__id"] == sha1_hex(path)
    assert with_births


def sha1_hex(text):
    """Central's repeat row id: the SHA-1 of the row's path."""
    return hashlib.sha1(text.encode()).hexdigest()


def test_deleted_rows_leave_odata_but_filter_on_deletedat_shows_them(seeded):
    central, ids = seeded
    client, form_id = central.make_client(), central.model.form_id
    central.delete(ids[3])
    live = [r["__id"] for r in rows_of(client.submissions.odata_pages(form_id))]
    assert ids[3] not in live and len(live) == N - 1
    gone = list(
        client.submissions.odata_pages(
            form_id, filter="__system/deletedAt ne null", select="__id,__system/deletedAt"
        )
    )
    assert [r["__id"] for r in gone[0].value] == [ids[3]]
    assert gone[0].value[0]["__system"]["deletedAt"]
    with pytest.raises(CentralError, match="HTTP 404"):
        client.attachments.list(form_id, ids[3])


def test_attachments_listed_and_downloaded(seeded):
    central, ids = seeded
    client, form_id = central.make_client(), central.model.form_id
    assert client.attachments.list(form_id, ids[0]) == [{"name": "audit.csv", "exists": True}]
    assert client.attachments.get(form_id, ids[0], "audit.csv").startswith(b"event,node")


def test_review_state_patch(seeded):
    central, ids = seeded
    client, form_id = central.make_client(), central.model.form_id
    client.submissions.set_review_state(form_id, ids[1], "hasIssues")
    assert central.truth()[ids[1]][1] == "hasIssues"
    with pytest.raises(CentralError, match="HTTP 400"):
        client.submissions.set_review_state(form_id, ids[1], "bogus")


def test_unknown_form_is_404(seeded):
    central, _ = seeded
    with pytest.raises(CentralError, match="HTTP 404"):
        central.make_client().forms.get("no_such_form_here")
