"""Quality control from the store (SQLite and PostgreSQL), incremental, and `popsurvey qc`."""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa
from click.testing import CliRunner

from surveys.cli import main
from surveys.importers import import_json_pages
from surveys.quality import FLAGS, run_store_qc, write_outputs


def test_runs_once_per_change_and_keeps_review_states(any_store, fieldwork, tmp_path):
    config, form, folder, result = fieldwork
    import_json_pages(any_store, folder, form.form_id, form)
    first = run_store_qc(any_store, form.form_id, config)
    assert first.ran and len(first.flags) == len(
        {(f.code, f.instance_id, f.enumerator, f.variable) for f in first.report.flags}
    )
    speeder = next(e for e, p in result.profiles.items() if p == "speeder")
    assert speeder in set(first.ranking.loc[first.ranking["flagged"], "enumerator"])
    assert first.ranking["reasons_zh"].str.len().max() > 0
    again = run_store_qc(any_store, form.form_id, config)
    assert not again.ran and again.run_id == first.run_id
    flag = first.flags.iloc[0]
    with any_store.engine.begin() as conn:
        conn.execute(
            FLAGS.update()
            .where(FLAGS.c.id == int(flag["id"]))
            .values(review_state_sent="hasIssues")
        )
    forced = run_store_qc(any_store, form.form_id, config, force=True)
    assert forced.ran and forced.run_id != first.run_id
    kept = forced.flags.set_index("id").loc[int(flag["id"])]
    assert kept["review_state_sent"] == "hasIssues"
    assert kept["created_at"] == flag["created_at"] and kept["run_id"] == forced.run_id
    paths = write_outputs(forced, tmp_path / "qc")
    records = json.loads(paths[1].read_text("utf-8"))
    assert len(records) == len(forced.flags) and "evidence" in records[0]
    assert len(pd.read_csv(paths[0])) == len(forced.flags)


def test_duplicate_ids_planted_by_the_simulator_are_found(any_store, fieldwork):
    config, form, folder, result = fieldwork
    import_json_pages(any_store, folder, form.form_id, form)
    qc = run_store_qc(any_store, form.form_id, config)
    planted = {p.instance_id for p in result.planted if p.profile == "duplicate_ids"}
    found = set(qc.flags.loc[qc.flags["code"] == "Q102", "instance_id"])
    assert planted and planted <= found


def test_cli_prints_the_ranking_and_writes_every_flag(fieldwork, tmp_path):
    config, form, folder, _ = fieldwork
    db = tmp_path / "qc.db"
    runner = CliRunner()
    result = runner.invoke(main, ["import", "json", str(folder), form.form_id, "--db", str(db)])
    if result.exit_code != 0:  # the import command's own spelling
        from surveys.store import open_store

        with open_store(f"sqlite:///{db}") as store:
            import_json_pages(store, folder, form.form_id, form)
    out = tmp_path / "qc"
    result = runner.invoke(
        main,
        ["qc", form.form_id, "--db", str(db), "-c", str(config.path), "-o", str(out), "-q"],
    )
    assert result.exit_code == 0, result.output
    assert "enumerators flagged" in result.output and "rank" in result.output
    assert (out / "fertility.qc.flags.json").is_file()
    assert (out / "fertility.qc.enumerators.csv").is_file()
    again = runner.invoke(
        main,
        [
            "qc",
            form.form_id,
            "--db",
            str(db),
            "-c",
            str(config.path),
            "-o",
            str(out),
            "--lang",
            "zh",
        ],
    )
    assert "unchanged since the last run" in again.output and "全队" in again.output


def test_cli_errors_are_one_line(fieldwork, tmp_path):
    config, *_ = fieldwork
    db = tmp_path / "empty.db"
    runner = CliRunner()
    result = runner.invoke(main, ["qc", "nosuchform", "--db", str(db), "-c", str(config.path)])
    assert result.exit_code == 1
    assert "form nosuchform is not in the store" in result.output
    assert "Traceback" not in result.output
    bad = config.directory / "bad-roles.toml"
    text = config.path.read_text("utf-8").replace(
        "[quality]", '[quality]\nroles = { birth_sexx = "d14_sex" }'
    )
    bad.write_text(text, "utf-8")
    result = runner.invoke(main, ["qc", "fertility", "--db", str(db), "-c", str(bad)])
    assert result.exit_code == 1 and "unknown role 'birth_sexx'" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unknown_check_is_one_line(any_store, fieldwork):
    import pytest

    from surveys.quality import QualityRunError

    config, form, folder, _ = fieldwork
    import_json_pages(any_store, folder, form.form_id, form)
    with pytest.raises(QualityRunError, match="unknown check"):
        run_store_qc(any_store, form.form_id, config, checks=["speling"])
    with any_store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(FLAGS)).scalar() == 0


def _import_part(store, folder, form, part):
    from surveys.importers.common import import_records
    from surveys.importers.json_pages import audit_of, page_files, read_pages

    records = list(read_pages(page_files(folder, form.form_id)))
    cut = int(0.7 * len(records))
    chosen = records[:cut] if part == 0 else records[cut:]
    import_records(
        store,
        form.form_id,
        chosen,
        "import:json",
        model=form,
        audit_for=lambda i: audit_of(folder, i),
    )
    return len(chosen)


def _comparable(result):
    flags = {
        (r.code, r.instance_id or "", r.enumerator or "", r.variable or "", round(r.value or 0, 9))
        for r in result.flags.itertuples()
    }
    ranking = [
        (r.enumerator, round(r.risk, 6), bool(r.flagged)) for r in result.ranking.itertuples()
    ]
    return flags, ranking


def test_incremental_run_after_new_submissions_equals_a_full_run(any_store, fieldwork):
    """After new submissions arrive, only they are re-summarised and scanned against all;
    the flags and the ranking are those of a full run over the same store."""
    config, form, folder, _ = fieldwork
    _import_part(any_store, folder, form, 0)
    first = run_store_qc(any_store, form.form_id, config)
    assert first.ran and first.recomputed is None
    new = _import_part(any_store, folder, form, 1)
    incremental = run_store_qc(any_store, form.form_id, config)
    assert incremental.ran and incremental.recomputed == new
    full = run_store_qc(any_store, form.form_id, config, force=True, incremental=False)
    assert full.recomputed is None
    assert _comparable(incremental) == _comparable(full)
    threshold = config.quality.near_duplicate_share

    def above(result):  # below the threshold a best share is a lower bound only
        shares = result.report.notes["near_duplicates"]["best_share"]
        return {i: s for i, s in shares.items() if s >= threshold}

    assert above(incremental) == above(full)

    def several_kinds(result):  # made from the flags after the checks: the same both ways
        table = result.report.indicators
        table = table[table["indicator"] == "multiple_anomaly_share"]
        return sorted(zip(table["enumerator"], table["successes"], table["n"], strict=True))

    assert several_kinds(full) and several_kinds(incremental) == several_kinds(full)


def test_a_flagged_submission_purged_on_central_is_removed_with_its_flags(any_store, fieldwork):
    """A pull that finds a submission purged on Central removes it even when quality control
    flagged it (qc_flags points at the submission); the next run recomputes without it."""
    from surveys.store import writer

    config, form, folder, _ = fieldwork
    import_json_pages(any_store, folder, form.form_id, form)
    first = run_store_qc(any_store, form.form_id, config)
    flagged = first.flags.dropna(subset=["instance_id"])["instance_id"].iloc[0]
    with any_store.engine.begin() as conn:
        form_pk = conn.execute(
            sa.select(writer.FORMS.c.id).where(writer.FORMS.c.xml_form_id == form.form_id)
        ).scalar_one()
        ids = set(
            conn.execute(
                sa.select(writer.SUBMISSIONS.c.central_id).where(
                    writer.SUBMISSIONS.c.form_id == form_pk
                )
            ).scalars()
        )
        assert writer.remove_missing(conn, form_pk, ids - {flagged}) == 1
    again = run_store_qc(any_store, form.form_id, config)
    assert again.ran and flagged not in set(again.flags["instance_id"].dropna())


def test_a_new_run_rewrites_only_flags_whose_content_changed(any_store, fieldwork):
    """Flags found again move to the new run; one whose stored content differs from what the
    run found (here tampered with) is rewritten, the others keep their rows."""
    config, form, folder, _ = fieldwork
    import_json_pages(any_store, folder, form.form_id, form)
    first = run_store_qc(any_store, form.form_id, config)
    tampered, untouched = (int(i) for i in first.flags["id"].iloc[:2])
    with any_store.engine.begin() as conn:
        conn.execute(FLAGS.update().where(FLAGS.c.id == tampered).values(message="edited"))
    again = run_store_qc(any_store, form.form_id, config, force=True)
    stored = again.flags.set_index("id")
    assert stored.loc[tampered, "message"] == first.flags.set_index("id").loc[tampered, "message"]
    assert stored.loc[untouched, "run_id"] == again.run_id != first.run_id
    assert set(stored.index) == set(first.flags["id"])


def _audit_events_by_read_sql(store, form_pk, only=None, chunk=500_000):
    """The audit events as pandas.read_sql read them before the driver-cursor reader (the
    reference the faster reader must equal: columns, dtypes, categories, order)."""
    from pandas.api.types import union_categoricals

    from surveys.quality import AUDITS, audit_query

    query = audit_query(form_pk)  # the same query, read by pandas instead of the cursor
    if only is not None:
        query = query.where(AUDITS.c.submission_id.in_(only))
    with store.engine.connect() as conn:
        parts = list(pd.read_sql(query, conn, chunksize=chunk))
    for part in parts:
        for column in ("submission_instance", "event", "node"):
            part[column] = part[column].astype("category")
    frame = pd.concat(
        [p.drop(columns=["submission_instance", "event", "node"]) for p in parts],
        ignore_index=True,
    )
    for column in ("submission_instance", "event", "node"):
        frame[column] = union_categoricals([p[column] for p in parts])
    return frame.rename(columns={"submission_instance": "instance_id"})


def test_audit_events_read_through_the_driver_equal_read_sql(any_store, fieldwork, monkeypatch):
    """The driver-cursor reader gives the frame pandas.read_sql gave (dtypes, categories and
    their order, row order), in one batch and in many, for all submissions and for some;
    missing times become NaN (float64) and missing values None."""
    import surveys.quality as quality
    from surveys.store import writer

    _config, form, folder, _ = fieldwork
    import_json_pages(any_store, folder, form.form_id, form)
    form_pk = quality._form_pk(any_store, form.form_id)
    with any_store.engine.begin() as conn:  # a missing time and missing texts
        first = conn.execute(sa.select(sa.func.min(quality.AUDITS.c.id))).scalar()
        conn.execute(
            quality.AUDITS.update()
            .where(quality.AUDITS.c.id == first)
            .values(end_ms=None, node=None, old_value=None)
        )
        pks = list(
            conn.execute(
                sa.select(writer.SUBMISSIONS.c.id).where(writer.SUBMISSIONS.c.form_id == form_pk)
            ).scalars()
        )
    for chunk in (500_000, 997):
        monkeypatch.setattr(quality, "AUDIT_CHUNK", chunk)
        for only in (None, pks[::3]):
            read = quality._audit_events(any_store, form_pk, only)
            expected = _audit_events_by_read_sql(any_store, form_pk, only, chunk)
            assert len(read) > chunk or chunk > 1000
            pd.testing.assert_frame_equal(read, expected)
            for column in ("instance_id", "event", "node"):
                assert list(read[column].cat.categories) == list(expected[column].cat.categories)
    assert quality._audit_events(any_store, form_pk, []).empty


def _state(store):
    from surveys.quality import STATE

    with store.engine.connect() as conn:
        table = pd.read_sql(sa.select(STATE).order_by(STATE.c.submission_id), conn)
    return table.drop(columns=["run_id"]), set(table["run_id"])


def test_state_written_by_changes_equals_the_state_rewritten_whole(any_store, fieldwork):
    """After an incremental run (new submissions, one gone, one whose stamp was tampered
    with, so it is recomputed) the kept state holds what rewriting it whole would: the
    run's best matches, and stamps and audit summaries equal to a full run's from scratch;
    every row belongs to the latest run."""
    from surveys.quality import STATE
    from surveys.store import writer

    config, form, folder, _ = fieldwork
    _import_part(any_store, folder, form, 0)
    first = run_store_qc(any_store, form.form_id, config)
    before, _ = _state(any_store)
    tampered, gone = (int(i) for i in before["submission_id"].iloc[:2])
    with any_store.engine.begin() as conn:
        conn.execute(STATE.update().where(STATE.c.submission_id == tampered).values(stamp="x"))
        conn.execute(
            writer.SUBMISSIONS.update().where(writer.SUBMISSIONS.c.id == gone).values(deleted=True)
        )
    _import_part(any_store, folder, form, 1)
    incremental = run_store_qc(any_store, form.form_id, config)
    kept, runs = _state(any_store)
    assert runs == {incremental.run_id} != {first.run_id}
    assert gone not in set(kept["submission_id"])
    assert kept.set_index("submission_id").loc[tampered, "stamp"] != "x"
    notes = incremental.report.notes["near_duplicates"]
    for column in ("best_share", "best_match"):  # below the threshold a run's lower bound
        expected = kept["instance_id"].map(notes[column]).rename(column)
        pd.testing.assert_series_equal(kept[column], expected, check_dtype=False)
    with any_store.engine.begin() as conn:
        conn.execute(STATE.delete())
    run_store_qc(any_store, form.form_id, config, force=True, incremental=False)
    rewritten, _ = _state(any_store)
    columns = kept.columns.drop(["best_share", "best_match"])
    pd.testing.assert_frame_equal(kept[columns], rewritten[columns])
