"""`popsurvey export` from the store (SQLite and PostgreSQL): submissions with validation
errors or rejected in review left out unless asked (and logged), the newest finished weighting
run's weights and design in every file (never a failed or running run's), the run recorded in
export_runs with the files' checksums."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pyreadstat
import sqlalchemy as sa
from click.testing import CliRunner

from surveys.cli import main
from surveys.store import models, weights, writer
from tests.exports.household import household_form, household_records


def _record(data, review=None):
    return {
        **data,
        "__system": {
            "submissionDate": "2026-03-02T01:02:03.456Z",
            "updatedAt": None,
            "reviewState": review,
            "formVersion": "2026120101",
            "edits": 0,
            "submitterId": "5",
            "submitterName": "enum",
            "deviceId": "collect:1",
            "deletedAt": None,
        },
    }


def _fill(store):
    form = household_form()
    records = household_records()
    reviews = {"uuid:0003": "rejected"}
    with store.transaction() as conn:
        pk = writer.ensure_form(conn, form.form_id, form.title)
        writer.save_form_version(conn, pk, form.version, form)
        writer.store_submissions(
            conn, pk, [_record(r, reviews.get(r["__id"])) for r in records], "test"
        )
        ids = dict(
            conn.execute(sa.select(writer.SUBMISSIONS.c.central_id, writer.SUBMISSIONS.c.id)).all()
        )
        conn.execute(
            models.ValidationIssue.__table__.insert().values(
                submission_id=ids["uuid:0002"], code="X101", severity="error", message="bad"
            )
        )
    # a finished run (kept with its design), then a newer failed and a running one whose
    # weights (as an older writer or a crash could leave them) must never be exported
    run_id = weights.start_run(store, form.form_id, "survey", {"classes": ["stratum"]})
    order = sorted(ids)
    weights.finish_run(
        store,
        run_id,
        pd.DataFrame({"__id": order, "final": [n * 1.5 for n in range(1, len(order) + 1)]}),
        diagnostics={},
        history=[],
        design=pd.DataFrame(
            {
                "__id": order,
                "stratum": [str(1 + n % 2) for n in range(1, len(order) + 1)],
                "psu": [str(10 + n) for n in range(1, len(order) + 1)],
                "fpc": [40.0] * len(order),
            }
        ),
    )
    unfinished = []
    for status in ("failed", "running"):
        other = weights.start_run(store, form.form_id, "survey", {})
        if status == "failed":
            weights.fail_run(store, other, "raking did not converge")
        with store.transaction() as conn:
            conn.execute(
                models.Weight.__table__.insert(),
                [
                    {"run_id": other, "submission_id": ids[c], "weight_name": "final", "value": 99}
                    for c in order
                ],
            )
        unfinished.append(other)
    return form, run_id, unfinished


def test_export_leaves_out_errors_and_rejected_with_latest_weights(any_store, store_url, tmp_path):
    _, finished, _ = _fill(any_store)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["export", "--db", store_url, "--format", "sav", "--format", "dta", "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "1 submissions with validation errors left out" in result.output
    assert "1 submissions rejected in review left out" in result.output
    data = pyreadstat.read_sav(out / "household_export.sav")[0]
    assert data["submission_id"].tolist() == ["uuid:0001", "uuid:0004"]
    assert data["final_weight"].tolist() == [1.5, 6.0]  # the finished run's
    assert data["design_psu"].tolist() == [11, 14] and data["design_fpc"].tolist() == [40, 40]
    kids = pyreadstat.read_dta(out / "household_export_kids.dta")[0]
    assert kids["final_weight"].tolist() == [1.5, 1.5]
    log = (out / "household_export_export.log").read_text("utf-8")
    assert "rejected in review left out" in log and "validation errors left out" in log
    do = (out / "household_export.do").read_text("utf-8")
    assert "svyset design_psu [pweight=final_weight], strata(design_stratum) fpc(design_fpc)" in do
    with any_store.engine.connect() as conn:
        run = conn.execute(sa.select(models.ExportRun.__table__)).one()
    assert run.form_id == "household_export" and run.row_count == 2
    assert run.form_versions == "2026120101"
    files = json.loads(run.files_json)
    sav = (out / "household_export.sav").read_bytes()
    assert files["household_export.sav"] == hashlib.sha256(sav).hexdigest()
    provenance = json.loads((out / "household_export_provenance.json").read_text("utf-8"))
    assert provenance["weighting"]["id"] == finished == run.weighting_run_id


def test_keep_and_unweighted_and_one_line_errors(any_store, store_url, tmp_path):
    _, _, unfinished = _fill(any_store)
    runner = CliRunner()
    out = tmp_path / "all"
    result = runner.invoke(
        main,
        [
            "export",
            "--db",
            store_url,
            "--form",
            "household_export",
            "--format",
            "csv",
            "--keep-errors",
            "--keep-rejected",
            "--unweighted",
            "--format",
            "dta",
            "--writer",
            "pyreadstat",
            "--pii",
            "drop",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "KEPT (--keep-errors)" in result.output
    assert "writer: pyreadstat" in result.output
    assert pd.read_stata(out / "household_export.dta")["consent"].tolist()[1] == "否"
    table = pd.read_csv(out / "household_export.csv")
    assert table["submission_id"].tolist() == [f"uuid:000{n}" for n in (1, 2, 3, 4)]
    assert "final_weight" not in table.columns and "resp_name" not in table.columns
    assert table["consent"].tolist() == [1, 2, 98, 1]
    bad = runner.invoke(main, ["export", "--db", store_url, "--form", "nope", "-o", str(out)])
    assert bad.exit_code == 1 and "form nope is not in the store" in bad.output
    assert "Traceback" not in bad.output
    missing_run = runner.invoke(
        main, ["export", "--db", store_url, "--weighting-run", "99", "-o", str(out)]
    )
    assert missing_run.exit_code == 1 and "no weighting run 99" in missing_run.output
    for run_id, status in zip(unfinished, ("failed", "running"), strict=True):
        refused = runner.invoke(
            main, ["export", "--db", store_url, "--weighting-run", str(run_id), "-o", str(out)]
        )
        assert refused.exit_code == 1, refused.output
        assert f"weighting run {run_id} is {status}" in refused.output
        assert "only a finished run" in refused.output


def test_questions_of_older_form_versions_are_exported_from_the_store(
    any_store, store_url, tmp_path
):
    """A submission of an older form version keeps the answers to questions the newest
    version dropped: the export names and labels them from the stored older version."""
    from forms.reader import read_markdown
    from tests.exports.test_export_files import OLD_VERSION_MD

    _fill(any_store)
    old = read_markdown(OLD_VERSION_MD, name="old.md")
    record = _record({"__id": "uuid:0009", "smoked": "2", "fuels": "gas wood", "rooms": "3"})
    record["__system"]["formVersion"] = old.version
    with any_store.transaction() as conn:
        pk = writer.ensure_form(conn, old.form_id, old.title)
        writer.save_form_version(conn, pk, old.version, old)
        writer.store_submissions(conn, pk, [record], "test")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["export", "--db", store_url, "--format", "sav", "--unweighted", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    data, meta = pyreadstat.read_sav(out / "household_export.sav")
    row = data[data["submission_id"] == "uuid:0009"].iloc[0]
    assert row["smoked"] == 2 and meta.variable_value_labels["smoked"][2] == "否"
    assert row["fuels_wood"] == 1 and row["rooms"] == 3
    assert meta.column_names_to_labels["rooms"] == "房间数"
    log = (out / "household_export_export.log").read_text("utf-8")
    assert "E105" not in log


def test_sav_compression_is_bytecode_unless_none_is_asked(any_store, store_url, tmp_path):
    """SPSS's bytecode by default (header compression 1), uncompressed with
    --sav-compression none (0); a .zsav written by popsurvey's own writer (2)."""
    _fill(any_store)
    codes = {}
    for asked in ((), ("--sav-compression", "none")):
        out = tmp_path / (asked[-1] if asked else "default")
        result = CliRunner().invoke(
            main,
            [
                "export",
                "--db",
                store_url,
                "--format",
                "sav",
                "--format",
                "zsav",
                "-o",
                str(out),
                *asked,
            ],
        )
        assert result.exit_code == 0, result.output
        assert "writer: popsurvey" in result.output
        assert f"sav compression: {asked[-1] if asked else 'bytecode'}" in result.output
        codes[out.name] = [
            int.from_bytes((out / f"household_export.{ext}").read_bytes()[72:76], "little")
            for ext in ("sav", "zsav")
        ]
        data = pyreadstat.read_sav(out / "household_export.sav")[0]
        assert data["submission_id"].tolist() == ["uuid:0001", "uuid:0004"]
    assert codes == {"default": [1, 2], "none": [0, 2]}
