"""Interviews with anomalies of two or more kinds at once, per enumerator against the team:
hand-built flags and teams with answers worked out by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from statistics import NormalDist

import numpy as np
import pandas as pd
from qc_support import inputs, interviews

from forms.issues import Severity
from validation.quality import Flag, run_quality
from validation.quality.combined import interview_kinds, multiple_anomalies
from validation.quality.team import compare_with_team
from validation.quality.words import reason


def _flag(code: str, iid: str | None, variable: str | None = None, who: str = "e1") -> Flag:
    return Flag(code, Severity.WARNING, code, instance_id=iid, enumerator=who, variable=variable)


def test_kinds_of_anomaly_per_interview():
    flags = [
        _flag("Q501", "a"),  # short
        _flag("Q401", "a", "hours"),
        _flag("Q401", "a", "income"),  # two outlying variables: one kind
        _flag("Q401", "b", "hours"),  # one outlying variable: not an anomaly
        _flag("Q701", "b"),
        _flag("Q702", "c"),  # GPS accuracy (the device): not counted
        _flag("Q605", "c"),  # submitted late (the network): not counted
        _flag("Q901", "c"),  # old form version: not counted
        _flag("Q601", "d"),
        _flag("Q604", "d"),  # two date problems: one kind
        _flag("Q703", None),  # an enumerator-level flag: no interview
    ]
    kinds = interview_kinds(flags)
    assert kinds == {"a": {"short", "outliers"}, "b": {"gps_far"}, "d": {"dates"}}


def test_share_counts_completed_interviews_with_two_or_more_kinds():
    flags = [
        _flag("Q501", "1"),
        _flag("Q201", "1"),
        _flag("Q502", "2"),
        _flag("Q503", "2"),
        _flag("Q701", "3"),  # one kind only
        _flag("Q501", "4"),
        _flag("Q302", "4"),  # two kinds but not completed: left out
        _flag("Q853", "5"),
        _flag("Q104", "5"),
    ]
    ids = np.array(["1", "2", "3", "4", "5", "6"], dtype=object)
    who = np.array(["x", "x", "x", "x", "y", "y"], dtype=object)
    completed = np.array([True, True, True, False, True, True])
    frame, notes = multiple_anomalies(flags, ids, who, completed)
    frame = frame.set_index("enumerator")
    assert frame.loc["x", "successes"] == 2 and frame.loc["x", "n"] == 3
    assert frame.loc["y", "successes"] == 1 and frame.loc["y", "n"] == 2
    assert frame.loc["x", "kind"] == "share" and frame.loc["x", "direction"] == "high"
    assert notes["interviews"] == 3 and notes["completed"] == 5
    assert notes["combinations"] == {
        "near_duplicate + short": 1,
        "night + overlap": 1,
        "ids + straight_lining": 1,
    }


def _team(extra: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """20 enumerators of 20 interviews (four of them with one interview of several kinds)
    and ``extra``: name -> (interviews, of several kinds); compared with the team."""
    who, hits = [], []
    for e in range(20):
        who += [f"e{e:02d}"] * 20
        hits += [e < 4] + [False] * 19
    for name, (n, k) in extra.items():
        who += [name] * n
        hits += [True] * k + [False] * (n - k)
    flags = []
    for row, hit in enumerate(hits):
        if hit:
            flags += [_flag("Q501", str(row)), _flag("Q701", str(row))]
    ids = np.arange(len(who)).astype(str).astype(object)
    who = np.array(who, dtype=object)
    frame, _ = multiple_anomalies(flags, ids, who, np.ones(len(who), dtype=bool))
    per = pd.Series(who).value_counts()
    return compare_with_team(frame, per, 10, 3.5).set_index("enumerator")


def test_exact_one_sided_binomial_tail_by_hand():
    """3 of 13 against the typical enumerator's rate: the mean of the 21 rates without the
    4 lowest and 4 highest (twelve 0s and one 1/20: 0.05/13), which is above a quarter of
    the rest's pooled rate (0.25 x 4/400); P(X >= 3 | 13, p) by hand."""
    table = _team({"fab": (13, 3)})
    rates = sorted([0.0] * 16 + [1 / 20] * 4 + [3 / 13])
    p = max(sum(rates[4:-4]) / 13, 0.25 * 4 / 400)
    assert abs(p - 0.05 / 13) < 1e-15
    tail = 1 - sum(math.comb(13, k) * p**k * (1 - p) ** (13 - k) for k in range(3))
    z = NormalDist().inv_cdf(1 - tail)
    assert abs(table.loc["fab", "z"] - z) < 1e-6
    assert z > 3.5 and table.loc["fab", "flagged"]
    assert table.loc["fab", "signal"] == table.loc["fab", "z"]
    # one interview of 20 is what a fifth of the team has: nowhere near a flag
    one = 1 - (1 - p) ** 20
    assert abs(table.loc["e00", "z"] - NormalDist().inv_cdf(1 - one)) < 1e-6
    assert not table.drop(index="fab")["flagged"].any()


def test_five_interviews_cannot_flag_anyone():
    table = _team({"few": (5, 5), "fab": (13, 1)})
    assert table.loc["few", "signal"] == 0 and not table.loc["few", "flagged"]
    assert not table.loc["fab", "flagged"]  # 1 of 13 is not evidence


def test_reason_names_the_count_in_english_and_chinese():
    en = reason("multiple_anomaly_share", 3 / 13, 0.01, 13, successes=3)
    zh = reason("multiple_anomaly_share", 3 / 13, 0.01, 13, "zh", successes=3)
    assert en == "3 of 13 interviews (23%) with two or more kinds of anomaly vs team 1%"
    assert zh == "13份访问中3份（23%）同时有两类及以上异常，全队 1%"


def _invented_team() -> pd.DataFrame:
    """12 enumerators of 15 interviews, one a day; e00 invents 4 (5 minutes, 120 hours and an income
    of 200,000), e01 has 4 short ones only, e02 4 with two outlying numbers only."""
    rows = []
    for e in range(12):
        for k in range(15):
            invented = k < 4 and e in (0, 1, 2)
            short = invented and e in (0, 1)
            outlying = invented and e in (0, 2)
            rows.append(
                {
                    "e": f"e{e:02d}",
                    "hhid": f"H{e}-{k}",
                    "age": 20 + (k * 7 + e) % 40,
                    "worked": "1",
                    "hours": 120 if outlying else 35 + (k * 3 + e) % 11,
                    "income": 200000 if outlying else 3000 + 100 * ((k * 5 + e) % 21),
                    "start": f"2027-07-{k + 1:02d}T10:00:00.000+08:00",
                    "end": (
                        f"2027-07-{k + 1:02d}T10:05:00.000+08:00"
                        if short
                        else f"2027-07-{k + 1:02d}T10:{34 + (k + e) % 9}:00.000+08:00"
                    ),
                    "submitted": f"2027-07-{k + 1:02d}T12:00:00.000Z",
                }
            )
    return interviews(rows)


def _inputs():
    return inputs(_invented_team(), now=datetime(2027, 8, 31, tzinfo=UTC))


def test_run_quality_turns_interview_anomalies_into_enumerator_evidence():
    report = run_quality(_inputs())
    table = report.indicators[report.indicators["indicator"] == "multiple_anomaly_share"]
    table = table.set_index("enumerator")
    assert table.loc["e00", "successes"] == 4 and table.loc["e00", "n"] == 15
    assert table.loc["e01", "successes"] == 0 and table.loc["e02", "successes"] == 0
    assert table.loc["e00", "flagged"] and not table.drop(index="e00")["flagged"].any()
    top = report.enumerators.set_index("enumerator").loc["e00"]
    said = "4 of 15 interviews (27%) with two or more kinds of anomaly vs team 0%"
    assert said in top["reasons_en"]
    assert "15份访问中4份（27%）同时有两类及以上异常" in top["reasons_zh"]
    assert report.notes["multiple_anomalies"]["combinations"] == {"outliers + short": 4}


def test_needs_two_per_interview_checks():
    report = run_quality(_inputs(), checks=["paradata"])
    assert "multiple_anomaly_share" not in set(report.indicators["indicator"])
    assert "multiple_anomalies" in report.skipped
    both = run_quality(_inputs(), checks=["paradata", "outliers"])
    assert "multiple_anomaly_share" in set(both.indicators["indicator"])
