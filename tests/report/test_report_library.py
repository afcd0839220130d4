"""The report library on plain inputs: the numbers it computes, checked by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from validation.report import ReportError, ReportInputs, compute_report, render_html, text_summary
from validation.report.heaping import myers, sex_ratio, whipple
from validation.report.workbook import display_width, sheet_name


def interviews(rows):
    return pd.DataFrame(rows, columns=["instance_id", "enumerator", "start", "end"])


BASE = interviews(
    [
        ("a1", "A", "2027-07-01T09:00:00+08:00", "2027-07-01T09:30:00+08:00"),
        ("a2", "A", "2027-07-02T09:00:00+08:00", "2027-07-02T09:40:00+08:00"),
        ("b1", "B", "2027-07-01T23:00:00+08:00", "2027-07-01T23:05:00+08:00"),
        ("b2", "B", "2027-07-03T10:00:00+08:00", "2027-07-03T10:06:00+08:00"),
    ]
)
FLAGS = pd.DataFrame(
    [
        ("b1", "B", "duration", "error", 5.0, "short"),
        ("b1", "B", "night", "warning", 23.0, "23 h"),
        ("b2", "B", "duration", "warning", 6.0, "short"),
        (None, "A", "srb", "warning", 300.0, "SRB"),
    ],
    columns=["instance_id", "enumerator", "check", "severity", "value", "message"],
)


def test_risk_score_is_the_documented_composite():
    report = compute_report(ReportInputs(interviews=BASE, flags=FLAGS))
    risk = dict(zip(report.enumerators["enumerator"], report.enumerators["risk"], strict=True))
    # B: worst flag per interview 1.0 (b1) and 0.5 (b2): 100 x 0.75; A: one enumerator-level
    # warning: 7.5 points
    assert risk == {"B": 75.0, "A": 7.5}
    assert list(report.enumerators["enumerator"]) == ["B", "A"]
    assert report.reasons["B"] == [("duration", 2), ("night", 1)]
    assert report.totals["flagged_interviews"] == 2


def test_backcheck_error_rates_above_the_limit_raise_the_risk():
    backchecks = pd.DataFrame({"enumerator": ["A"], "error_rate": [0.25], "compared": [40]})
    report = compute_report(ReportInputs(interviews=BASE, flags=FLAGS, backchecks=backchecks))
    risk = dict(zip(report.enumerators["enumerator"], report.enumerators["risk"], strict=True))
    assert risk["A"] == pytest.approx(7.5 + 100 * (0.25 - 0.10))
    assert report.reasons["A"][0] == ("backcheck", 15)


def test_a_risk_given_by_the_quality_stage_wins():
    roster = pd.DataFrame({"enumerator": ["A", "B"], "risk": [90.0, None]})
    report = compute_report(ReportInputs(interviews=BASE, flags=FLAGS, enumerators=roster))
    risk = dict(zip(report.enumerators["enumerator"], report.enumerators["risk"], strict=True))
    assert risk == {"A": 90.0, "B": 75.0}


def test_paradata_indicators():
    report = compute_report(ReportInputs(interviews=BASE, flags=FLAGS))
    ind = report.indicators
    assert ind.loc["A", "duration_median"] == 35.0
    assert ind.loc["B", "night_share"] == 0.5
    assert ind.loc["B", "flagged_share"] == 1.0
    assert report.heat.loc[23].sum() == 1 and report.heat.shape == (24, 3)


def test_since_keeps_later_interviews_and_enumerator_flags():
    report = compute_report(ReportInputs(interviews=BASE, flags=FLAGS, since=dt.date(2027, 7, 2)))
    assert sorted(report.inputs.interviews["instance_id"]) == ["a2", "b2"]
    assert sorted(report.inputs.flags["instance_id"].fillna("-")) == ["-", "b2"]


def test_missing_column_is_one_clear_error():
    with pytest.raises(ReportError, match="report input 'flags': missing column\\(s\\) check"):
        compute_report(ReportInputs(interviews=BASE, flags=FLAGS.drop(columns=["check"])))
    with pytest.raises(ReportError, match="language 'fr'"):
        render_html(compute_report(ReportInputs(interviews=BASE)), "fr")


def test_bad_values_do_not_crash():
    odd = interviews([("x", None, "not a date", None), ("y", "C", None, "2027-07-01T10:00:00")])
    report = compute_report(ReportInputs(interviews=odd, flags=FLAGS.iloc[:0]))
    assert report.totals["interviews"] == 2
    assert b"<svg" in render_html(report, "en")
    assert "1." not in text_summary(report, "en").split("\n", 2)[2]


def test_whipple_and_myers_reference_values():
    uniform = pd.Series(np.repeat(np.arange(15, 65), 10))
    assert whipple(uniform) == pytest.approx(100.0)
    assert myers(uniform) == pytest.approx(0.0)
    heaped = pd.Series(np.repeat([25, 30, 35, 40, 45, 50, 55], 3))
    assert whipple(heaped) == pytest.approx(500.0)
    on_zero = pd.Series(np.repeat([20, 30, 40, 50], 5))
    assert myers(on_zero) == pytest.approx(90.0)
    # hand computation: 23-57 holds 35 ages; 14 of 40 respondents are on 0/5 ages, 26 not
    mixed = pd.Series([30] * 10 + [35] * 4 + [31] * 26 + [10] * 5)
    assert whipple(mixed) == pytest.approx(500 * 14 / 40)


def test_sex_ratio_and_wilson_interval():
    srb, low, high = sex_ratio(107, 100)
    assert srb == pytest.approx(107.0)
    # Wilson 95% interval for 107/207 boys, mapped to a ratio (computed by hand)
    p, n, z = 107 / 207, 207, 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert low == pytest.approx(100 * (centre - half) / (1 - centre + half))
    assert high == pytest.approx(100 * (centre + half) / (1 - centre - half))
    assert math.isnan(sex_ratio(0, 0)[0])


def test_sheet_names_are_valid_and_unique():
    used = {"Enumerators"}
    first = sheet_name("a/b:c" * 10, used)
    used.add(first)
    second = sheet_name("a/b:c" * 10, used)
    assert len(first) <= 31 and len(second) <= 31 and first != second
    assert not set("[]:*?/\\") & set(first)
    assert display_width("王芳ab") == 6


def test_text_summary_names_the_riskiest_enumerator():
    summary = text_summary(compute_report(ReportInputs(interviews=BASE, flags=FLAGS)), "zh")
    lines = summary.splitlines()
    assert lines[1] == "今日需处理的五件事:"
    assert lines[2].startswith("1. 联系调查员 B(风险分 75)")
    assert len(lines) <= 7


def test_reasons_given_by_the_quality_stage_are_shown_in_the_language():
    roster = pd.DataFrame(
        {
            "enumerator": ["A", "B"],
            "risk": [90.0, 10.0],
            "reasons_zh": ["访问过短 (4)", None],
            "reasons_en": ["too short (4)", ""],
        }
    )
    report = compute_report(ReportInputs(interviews=BASE, flags=FLAGS, enumerators=roster))
    assert "联系调查员 A(风险分 90):访问过短 (4)" in text_summary(report, "zh")
    assert "Call A (risk 90): too short (4)" in text_summary(report, "en")
    assert "Call B (risk 10): too short (2); night interview (1)" in text_summary(report, "en")
    html = render_html(report, "en").decode("utf-8")
    assert "too short (4)" in html
