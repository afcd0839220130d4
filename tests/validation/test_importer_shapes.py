"""The JSON Schema describes what the importers and (the fake of) Central's OData produce:
valid submissions imported from OData pages or a Central CSV export give no schema issue."""

from __future__ import annotations

from datetime import date

import pytest

from surveys.importers import import_csv_zip, import_json_pages
from surveys.validate import stored_issues, validate_form
from tests.store.test_import import MODEL, csv_zip, write_pages


def _schema_codes(store):
    return sorted(
        (r["central_id"], r["code"], r["variable"], r["value"])
        for r in stored_issues(store, "household")
        if r["code"].startswith("V")
    )


@pytest.mark.parametrize("source", ["pages", "csv"])
def test_imported_submissions_match_the_schema(any_store, tmp_path, source):
    if source == "pages":
        write_pages(tmp_path, n=9)
        import_json_pages(any_store, tmp_path, "household", MODEL)
    else:
        csv_zip(tmp_path / "export.zip")
        import_csv_zip(any_store, tmp_path / "export.zip", model=MODEL)
    summary = validate_form(any_store, "household", today=date(2026, 7, 1))
    assert summary.validated > 0
    assert _schema_codes(any_store) == []
