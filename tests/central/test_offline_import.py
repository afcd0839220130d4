"""The offline import paths read what a real Central produces as the pull reads its API: the
CSV export zip (``submissions.csv.zip``, main and repeat CSVs, the audit CSV) and each
submission's XML with its audit.csv, imported into one store, give the same analysis frames
as ``popsurvey pull`` into another. Real Central only: the fake does not write exports."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from surveys.central.pull import pull_form
from surveys.importers import import_csv_zip, import_xml_dir
from surveys.store import open_store
from surveys.store.frames import analysis_frames
from tests.fake_central.fixture import edited, make_audit_csv, make_submission

CENTRAL_ONLY = ("submitter_id", "submitter_name", "submission_date", "review_state")
"""What Central knows of a submission that its XML does not carry."""


@pytest.fixture
def fieldwork(central):
    """Twenty submissions (half with audit logs), one edited, one deleted, one reviewed."""
    if central.fake is not None:
        pytest.skip("needs a real Central's CSV export and submission XML")
    rng = random.Random(41)
    ids, datas = [], {}
    for i in range(20):
        data = make_submission(rng, audit=i % 2 == 0)
        audit = make_audit_csv(rng, data) if i % 2 == 0 else None
        ids.append(central.submit(data, audit))
        datas[ids[-1]] = data
    central.submit(edited(datas[ids[4]], rng))
    central.delete(ids[7])
    central.review(ids[9], "approved")
    return central, ids


def frames_of(url, form_id):
    """The store's analysis frames of ``form_id``."""
    with open_store(url) as store:
        return analysis_frames(store, form_id)


def same_frames(left, right, *, skip=()):
    """Equal main and repeat frames (but for the ``skip`` columns), by row id and as text."""
    assert set(left.repeats) == set(right.repeats)
    pairs = [(left.main, right.main, "__id")]
    pairs += [(left.repeats[r], right.repeats[r], "__key") for r in left.repeats]
    for a, b, key in pairs:
        assert sorted(a.columns) == sorted(b.columns)
        columns = sorted(c for c in a.columns if c != key and c not in skip)
        a, b = a.set_index(key).sort_index()[columns], b.set_index(key).sort_index()[columns]
        pd.testing.assert_frame_equal(a.astype(str), b.astype(str), check_dtype=False)


def pulled(central, tmp_path):
    """The analysis frames of the form pulled from Central's API into a fresh store."""
    url = f"sqlite:///{tmp_path / 'pulled.db'}"
    with open_store(url) as store:
        pull_form(store, central.make_client(), central.model.form_id, model=central.model)
    return frames_of(url, central.model.form_id)


def test_csv_export_zip_imports_like_a_pull(fieldwork, tmp_path):
    central, _ = fieldwork
    form_id = central.model.form_id
    client = central.make_client()
    archive = tmp_path / f"{form_id}.zip"
    archive.write_bytes(
        client.request("GET", client.project_path("forms", form_id, "submissions.csv.zip")).content
    )
    url = f"sqlite:///{tmp_path / 'imported.db'}"
    with open_store(url) as store:
        result = import_csv_zip(store, archive, form_id, central.model)
    assert result.counts.new == 19  # the deleted one is not exported
    same_frames(frames_of(url, form_id), pulled(central, tmp_path))


def test_submission_xml_folder_imports_like_a_pull(fieldwork, tmp_path):
    central, _ = fieldwork
    form_id = central.model.form_id
    client = central.make_client()
    folder = tmp_path / "instances"
    base = client.project_path("forms", form_id, "submissions")
    for row in client.get_json(base):
        cid = row["instanceId"]
        target = folder / cid.replace(":", "_")
        target.mkdir(parents=True)
        versions = client.get_json(f"{base}/{cid}/versions")
        for n, version in enumerate(sorted(versions, key=lambda v: v["createdAt"])):
            name = version["instanceId"]
            xml = client.request("GET", f"{base}/{cid}/versions/{name}.xml").content
            (target / f"{n:02d}-{name.replace(':', '_')}.xml").write_bytes(xml)
        names = [a["name"] for a in client.attachments.list(form_id, cid) if a["exists"]]
        if "audit.csv" in names:
            (target / "audit.csv").write_bytes(client.attachments.get(form_id, cid, "audit.csv"))
    url = f"sqlite:///{tmp_path / 'imported.db'}"
    with open_store(url) as store:
        import_xml_dir(store, folder, form_id, central.model)
    imported, from_api = frames_of(url, form_id), pulled(central, tmp_path)
    assert len(imported.main) == 19 and imported.main["edits"].sum() == 1
    same_frames(imported, from_api, skip=CENTRAL_ONLY)
