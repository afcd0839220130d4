"""The report reads what the quality stage stores beyond the base ``qc_flags`` columns (its
migration adds ``form_id``, ``instance_id``, ``enumerator``, ``message`` and the ranking
table ``qc_enumerators``): those are created here when the store does not have them yet."""

from __future__ import annotations

import json

import pandas as pd
import sqlalchemy as sa
from click.testing import CliRunner

from surveys.cli import main
from surveys.store import open_store
from tests.report.fieldwork import write_survey

FLAG_COLUMNS = {"form_id": "INTEGER", "instance_id": "VARCHAR(100)",
                "enumerator": "VARCHAR(200)", "message": "TEXT"}  # fmt: skip


def add_quality_tables(conn) -> None:
    """The quality stage's schema, where the store lacks it."""
    inspector = sa.inspect(conn)
    have = {c["name"] for c in inspector.get_columns("qc_flags")}
    for name, kind in FLAG_COLUMNS.items():
        if name not in have:
            conn.execute(sa.text(f"alter table qc_flags add column {name} {kind}"))
    if not inspector.has_table("qc_runs"):
        conn.execute(sa.text(
            "create table qc_runs (id integer primary key, form_id integer not null, "
            "fingerprint varchar(200) not null)"))  # fmt: skip
    if not inspector.has_table("qc_enumerators"):
        conn.execute(sa.text(
            "create table qc_enumerators (id integer primary key, run_id integer not null, "
            "form_id integer not null, enumerator varchar(200) not null, interviews integer, "
            "risk float, flagged boolean, rank integer, reasons_en text, reasons_zh text, "
            "indicators_json text)"))  # fmt: skip


def test_report_uses_the_quality_stage_ranking_and_messages(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    config = write_survey(tmp_path / "survey", url)
    with open_store(url) as store, store.transaction() as conn:
        add_quality_tables(conn)
        form = conn.execute(sa.text("select id from forms where xml_form_id = 'hhsurvey'")).scalar()
        i12 = conn.execute(sa.text("select id from submissions where central_id = 'uuid:i12'"))
        conn.execute(
            sa.text(
                'insert into qc_flags (submission_id, form_id, instance_id, enumerator, "check", '
                "severity, value, message, details_json) values (:s, :f, 'uuid:i12', 'e1', "
                "'outlier', 'warning', 9.0, 'hh_size 9 is above the fence 7', :d)"
            ),
            {"s": i12.scalar(), "f": form, "d": json.dumps({"fence": 7})},
        )
        run = conn.execute(
            sa.text("insert into qc_runs (form_id, fingerprint) values (:f, 'x') returning id"),
            {"f": form},
        ).scalar()
        insert = sa.text(
            "insert into qc_enumerators (run_id, form_id, enumerator, interviews, risk, "
            "flagged, rank, reasons_en, reasons_zh, indicators_json) values "
            "(:r, :f, :e, 4, :risk, 1, 1, :en, :zh, :j)"
        )
        for e, risk, en, zh, dk in (
            ("e1", 88.5, "answers unlike the team", "回答与全队不同", 0.42),
            ("e2", 60.0, "too short", "访问过短", 0.05),
            ("e3", 10.0, "", "", 0.04),
        ):
            indicators = json.dumps({"dk_rate": {"value": dk, "n": 40}})
            conn.execute(
                insert,
                {"r": run, "f": form, "e": e, "risk": risk, "en": en, "zh": zh, "j": indicators},
            )
    out = tmp_path / "reports"
    result = CliRunner().invoke(
        main, ["report", "-c", str(config), "--db", url, "--lang", "en", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "1. Call e1 王芳 (risk 88.5): answers unlike the team" in result.output
    assert "2. Call e2 李强 (risk 60): too short" in result.output
    book = pd.read_excel(out / "report.en.xlsx", sheet_name=None)
    summary = book["Enumerators"].set_index("Enumerator")
    assert summary.loc["e1", "Risk"] == 88.5 and summary.loc["e1", "dk_rate"] == 0.42
    assert book["outlier"]["Message"].tolist() == ["hh_size 9 is above the fence 7"]
    assert len(book["duration"]) == 4  # the base flags are read as before
    html = (out / "report.en.html").read_text("utf-8")
    assert "answers unlike the team" in html and "dk_rate" in html


def test_every_quality_check_and_indicator_has_words_in_both_languages():
    """The report names each registered check and each indicator the quality stage writes
    in Chinese and English (a check added without words would show its raw name)."""
    from validation.quality.registry import selected_checks
    from validation.quality.words import LABELS
    from validation.report.i18n import CHECK_LABELS, LANGUAGES, indicator_label

    checks = selected_checks()  # every registered check
    assert len(checks) >= 20
    missing = [c.name for c in checks if c.name not in CHECK_LABELS]
    assert not missing, f"checks without report words: {missing}"
    for item in checks:
        assert all(CHECK_LABELS[item.name].get(language) for language in LANGUAGES)
    for name in LABELS:
        for language in LANGUAGES:
            assert indicator_label(name, language), (name, language)
