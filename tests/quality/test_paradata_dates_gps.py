"""Paradata from the audit log and start/end; dates; GPS distances and clustering."""

from __future__ import annotations

from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest
from qc_support import inputs, interviews

from validation.quality.dates import dates
from validation.quality.gps import gps, haversine_km
from validation.quality.paradata import audit_per_interview, paradata, section_seconds


def _audit():
    t0 = 1_800_000_000_000
    rows = [
        ("uuid:0001", "form start", None, t0, None, None, None),
        ("uuid:0001", "question", "/qctest/a07_consent", t0 + 1000, t0 + 31000, None, "1"),
        ("uuid:0001", "question", "/qctest/age", t0 + 31000, t0 + 41000, "35", "36"),
        ("uuid:0001", "question", "/qctest/worked", t0 + 41000, t0 + 45000, None, "1"),
        ("uuid:0001", "question", "/qctest/hours", t0 + 45000, t0 + 47000, "40", "40"),
        ("uuid:0002", "question", "/qctest/a07_consent", t0, t0 + 2000, None, "1"),
        ("uuid:0002", "question", "/qctest/grp/age", t0 + 2000, t0 + 3000, None, "50"),
    ]
    columns = ["instance_id", "event", "node", "start_ms", "end_ms", "old_value", "new_value"]
    return pd.DataFrame(rows, columns=columns)


def test_audit_log_per_interview():
    frame = interviews([{"hhid": "H1"}, {"hhid": "H2"}, {"hhid": "H3"}])
    summary = audit_per_interview(inputs(frame, audit=_audit()))
    assert summary["questions"].tolist() == [4, 2, 0]
    assert summary["changes"].tolist() == [1, 0, 0]  # 40 -> 40 is no change
    assert summary["consent_seconds"].iloc[:2].tolist() == [30, 2]
    assert summary["median_question_seconds"].iloc[0] == pytest.approx(7)  # 30, 10, 4, 2
    sections = section_seconds(inputs(frame, audit=_audit()))
    assert sections.loc["uuid:0002", "grp"] == 1


def test_night_overlap_and_short_interviews():
    rows = [
        {"e": "e1", "start": "2027-07-05T09:00:00+08:00", "end": "2027-07-05T09:40:00+08:00"},
        {"e": "e1", "start": "2027-07-05T09:30:00+08:00", "end": "2027-07-05T10:10:00+08:00"},
        {"e": "e2", "start": "2027-07-05T23:10:00+08:00", "end": "2027-07-05T23:50:00+08:00"},
    ]
    rows += [
        {
            "e": "e3",
            "start": f"2027-07-06T{9 + k}:00:00+08:00",
            "end": f"2027-07-06T{9 + k}:35:00+08:00",
        }
        for k in range(8)
    ]
    rows.append(
        {"e": "e3", "start": "2027-07-07T09:00:00+08:00", "end": "2027-07-07T09:02:00+08:00"}
    )
    result = paradata(inputs(interviews(rows)))
    codes = {(f.code, f.instance_id) for f in result.flags}
    assert ("Q503", "uuid:0002") in codes  # started 10 min before the previous one ended
    assert ("Q502", "uuid:0003") in codes  # 23:10 local time
    assert ("Q501", "uuid:0012") in codes  # 2 minutes
    assert {c for c, _ in codes} == {"Q501", "Q502", "Q503"}


def test_dates():
    rows = [
        {
            "start": "2027-06-20T10:00:00+08:00",
            "end": "2027-06-20T10:30:00+08:00",
            "submitted": "2027-06-20T03:00:00Z",
        },
        {
            "start": "2027-07-05T10:00:00+08:00",
            "end": "2027-07-05T09:30:00+08:00",
            "submitted": "2027-07-05T03:00:00Z",
        },
        {
            "start": "2027-07-09T10:00:00+08:00",
            "end": "2027-07-09T10:30:00+08:00",
            "submitted": "2027-07-05T03:00:00Z",
        },
        {
            "start": "2027-07-05T10:00:00+08:00",
            "end": "2027-07-05T10:30:00+08:00",
            "submitted": "2027-07-20T03:00:00Z",
        },
        {
            "start": "2027-07-05T10:00:00+08:00",
            "end": "2027-07-05T10:30:00+08:00",
            "submitted": "2027-07-05T03:00:00Z",
        },
    ]
    result = dates(
        inputs(
            interviews(rows),
            fieldwork=(date(2027, 7, 1), date(2027, 8, 31)),
            now=datetime(2027, 9, 1, tzinfo=UTC),
        )
    )
    codes = sorted((f.instance_id, f.code) for f in result.flags)
    assert codes == [
        ("uuid:0001", "Q601"),  # before fieldwork
        ("uuid:0002", "Q604"),  # ends before it starts
        ("uuid:0003", "Q603"),  # starts after the server received it
        ("uuid:0004", "Q605"),  # submitted 15 days after
    ]


def test_gps_distance_clustering_and_accuracy():
    assert haversine_km(30.0, 120.0, 31.0, 120.0) == pytest.approx(111.195, rel=1e-4)
    rng = np.random.default_rng(1)
    rows, units = [], []
    for e in range(4):
        for k in range(12):
            lat, lon = 30 + rng.uniform(0, 0.05), 120 + rng.uniform(0, 0.05)
            units.append({"unit_id": f"H{e}{k}", "latitude": lat, "longitude": lon})
            here = (30.5, 120.5) if e == 3 else (lat + 0.0001, lon)  # e3: always at home
            rows.append(
                {
                    "e": f"e{e}",
                    "hhid": f"H{e}{k}",
                    "a05_gps_latitude": here[0],
                    "a05_gps_longitude": here[1],
                    "a05_gps_accuracy": 80.0 if k == 0 else 5.0,
                }
            )
    result = gps(inputs(interviews(rows), sample=pd.DataFrame(units)))
    far = {f.enumerator for f in result.flags if f.code == "Q701"}
    assert far == {"e3"}
    clustered = [f for f in result.flags if f.code == "Q703"]
    assert [f.enumerator for f in clustered] == ["e3"]
    assert sum(f.code == "Q702" for f in result.flags) == 4
