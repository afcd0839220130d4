"""Weights built from the store and the drawn sample, checked against hand-computed numbers."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from forms import read_markdown
from surveys.analysis import (
    AnalysisError,
    config_targets,
    design_from_store,
    rake_to_config,
    weight_survey,
)
from surveys.importers import import_json_pages
from surveys.store import open_store

FORM = read_markdown(
    """
| settings |
| | form_id | version |
| | hhsurvey | 1 |

| survey |
| | type | name | label |
| | text | hhid | Household |
| | integer | a04_visit_no | Visit |
| | integer | n_elig | Eligible women |
| | integer | c03_age | Age |
| | integer | result | Result |
"""
)

# hhid: stratum, psu, pi_household (base weights A: 100, 100, 50, 50, 50; B: 20, 20, 25, 25)
SAMPLE = {
    "a1": ("A", "A1", 0.01),
    "a2": ("A", "A1", 0.01),
    "a3": ("A", "A2", 0.02),
    "a4": ("A", "A2", 0.02),
    "a5": ("A", "A2", 0.02),  # never visited: unknown eligibility
    "b1": ("B", "B1", 0.05),
    "b2": ("B", "B1", 0.05),
    "b3": ("B", "B2", 0.04),
    "b4": ("B", "B2", 0.04),
}

# hhid, visit, result, n_elig, age
VISITS = [
    ("a1", 1, 11, None, None),  # not final, superseded by visit 2
    ("a1", 2, 1, 2, 30),  # respondent
    ("a2", 1, 4, None, None),  # refused: eligible non-respondent
    ("a3", 1, 7, 0, None),  # no eligible woman: ineligible
    ("a4", 1, 1, 3, 40),  # respondent
    ("b1", 1, 1, 1, 22),  # respondent
    ("b2", 1, 8, 2, None),  # selected woman away: eligible non-respondent
    ("b3", 1, 3, None, None),  # no one at home: unknown eligibility
    ("b4", 1, 2, 1, 47),  # partly completed: respondent
    ("zz", 1, 1, 1, 33),  # not in the sample
]


def write_sample(directory):
    """A minimal sample directory as surveys.sampling.output writes it."""
    directory.mkdir()
    rows = [
        {"hhid": h, "stratum": s, "psu": p, "pi_household": pi, "role": "main"}
        for h, (s, p, pi) in SAMPLE.items()
    ]
    rows.append(
        {"hhid": "a9", "stratum": "A", "psu": "A1", "pi_household": 0.01, "role": "reserve"}
    )
    pd.DataFrame(rows).to_csv(directory / "households.csv", index=False)
    for name in ("allocation", "psu_probabilities", "clusters", "joint_psu"):
        pd.DataFrame({"stratum": ["A", "B"]}).to_csv(directory / f"{name}.csv", index=False)
    pd.DataFrame(columns=["code", "severity", "message", "variable"]).to_csv(
        directory / "issues.csv", index=False
    )
    (directory / "sample.json").write_text(json.dumps({"counts": {}}))
    return directory


def write_pages(root):
    """The visits as one OData page of the hhsurvey form."""
    records = []
    for k, (hhid, visit, result, n_elig, age) in enumerate(VISITS):
        iid = f"uuid:00000000-0000-4000-8000-{k:012d}"
        records.append(
            {
                "__id": iid,
                "hhid": hhid,
                "a04_visit_no": visit,
                "n_elig": None if n_elig is None else str(n_elig),
                "c03_age": age,
                "result": str(result),
                "meta": {"instanceID": iid},
                "__system": {
                    "submissionDate": f"2027-07-0{visit}T02:00:00.000Z",
                    "submitterId": "5",
                    "submitterName": "enum001",
                    "reviewState": None,
                    "deviceId": None,
                    "edits": 0,
                    "formVersion": "1",
                },
            }
        )
    pages = root / "pages" / "hhsurvey"
    pages.mkdir(parents=True)
    (pages / "page-0001.json").write_text(json.dumps({"value": records}))


@pytest.fixture
def survey(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    write_pages(tmp_path / "fieldwork")
    with open_store(url) as store:
        import_json_pages(store, tmp_path / "fieldwork", "hhsurvey", FORM)
    return url, write_sample(tmp_path / "sample")


def weights_by_hhid(design):
    return dict(zip(design.data["hhid"], np.asarray(design.weights), strict=True))


def test_every_sampled_household_gets_its_base_weight(survey):
    url, sample_dir = survey
    weighted = weight_survey(url, "hhsurvey", sample_dir)
    households = weighted.households
    assert sorted(households.data["hhid"]) == sorted(SAMPLE)  # reserve and "zz" are not in it
    for hhid, weight in weights_by_hhid(households).items():
        assert weight == pytest.approx(1 / SAMPLE[hhid][2], rel=1e-12)
    outcome = dict(zip(households.data["hhid"], households.data["outcome"], strict=True))
    assert outcome == {
        "a1": "respondent",  # its last visit (2), not the first
        "a2": "nonrespondent",
        "a3": "ineligible",
        "a4": "respondent",
        "a5": "unknown",  # no submission at all
        "b1": "respondent",
        "b2": "nonrespondent",
        "b3": "unknown",
        "b4": "respondent",
    }
    assert len(weighted.issues) == 1 and "zz" in weighted.issues[0].message


def test_nonresponse_and_selection_weights_by_hand(survey):
    url, sample_dir = survey
    design = design_from_store(url, "hhsurvey", sample_dir)
    # Stratum A: respondents 100 + 50, non-respondents 100, ineligible 50, unknown 50.
    # Unknown factor (300 + 50) / 300, response factor (150 + 100) / 150.
    a = (350 / 300) * (250 / 150)
    # Stratum B: respondents 20 + 25, non-respondents 20, unknown 25: factors 90/65, 65/45.
    b = (90 / 65) * (65 / 45)
    expected = {"a1": 100 * a * 2, "a4": 50 * a * 3, "b1": 20 * b * 1, "b4": 25 * b * 1}
    got = weights_by_hhid(design)
    assert got.keys() == expected.keys()
    for hhid, value in expected.items():
        assert got[hhid] == pytest.approx(value, rel=1e-12)
    assert [s.method for s in design.history] == ["design", "nonresponse", "selection"]


def test_nonresponse_preserves_the_eligible_weight_total(survey):
    url, sample_dir = survey
    weighted = weight_survey(url, "hhsurvey", sample_dir, selection=None)
    data, w = weighted.households.data, np.asarray(weighted.households.weights)
    for stratum in ("A", "B"):
        rows = (data["stratum"] == stratum).to_numpy()
        outcome = data["outcome"].to_numpy()
        known = rows & (outcome != "unknown")
        eligible = rows & np.isin(outcome, ["respondent", "nonrespondent"])
        # eligible weight once the unknowns are spread by the known eligibility rate
        target = w[eligible].sum() * w[rows].sum() / w[known].sum()
        respondents = weighted.respondents.data["stratum"] == stratum
        assert np.asarray(weighted.respondents.weights)[respondents.to_numpy()].sum() == (
            pytest.approx(target, rel=1e-12)
        )


def test_one_weighting_class_for_the_whole_sample(survey):
    url, sample_dir = survey
    design = design_from_store(url, "hhsurvey", sample_dir, classes=None, selection=None)
    # all: respondents 195, non-respondents 120, ineligible 50, unknown 75 (total 440)
    factor = (440 / 365) * (315 / 195)
    got = weights_by_hhid(design)
    assert got["b4"] == pytest.approx(25 * factor, rel=1e-12)


def test_respondent_without_eligible_women_is_one_clear_error(survey, tmp_path):
    url, sample_dir = survey
    with open_store(url) as store:
        import sqlalchemy as sa

        with store.engine.begin() as conn:
            raw = conn.execute(sa.text("select id, raw_json from submissions")).all()
            for pk, text in raw:
                record = json.loads(text)
                if record["hhid"] == "b1":
                    record["n_elig"] = None
                    conn.execute(
                        sa.text("update submissions set raw_json = :j where id = :i"),
                        {"j": json.dumps(record), "i": pk},
                    )
    with pytest.raises(AnalysisError, match=r"household b1 .*n_elig"):
        design_from_store(url, "hhsurvey", sample_dir)


def age_shares(margins):
    """A [weighting] section with one age_group margin given as shares."""
    target = SimpleNamespace(variable="age_group", margins=margins, file=None, kind="share")
    return SimpleNamespace(targets=(target,))


def test_share_targets_are_scaled_and_raked(survey):
    url, sample_dir = survey
    design = design_from_store(url, "hhsurvey", sample_dir)
    config = age_shares({"15-29": 0.2, "30-39": 0.3, "40-49": 0.5})
    total = float(np.sum(design.weights))
    targets = config_targets(config, total)
    assert targets.margins[0].to_dict() == pytest.approx(
        {"15-29": 0.2 * total, "30-39": 0.3 * total, "40-49": 0.5 * total}
    )
    raked = rake_to_config(design, config)
    groups = raked.data.groupby("age_group")["hhid"].apply(list).to_dict()
    w = weights_by_hhid(raked)
    assert groups == {"15-29": ["b1"], "30-39": ["a1"], "40-49": ["a4", "b4"]}
    assert w["b1"] == pytest.approx(0.2 * total)
    assert w["a1"] == pytest.approx(0.3 * total)
    assert w["a4"] + w["b4"] == pytest.approx(0.5 * total)


def test_ages_outside_the_target_groups_are_named(survey):
    url, sample_dir = survey
    design = design_from_store(url, "hhsurvey", sample_dir)
    config = age_shares({"15-29": 0.4, "30-39": 0.6})
    with pytest.raises(AnalysisError, match=r"2 respondent\(s\) have a c03_age outside .*15-29"):
        rake_to_config(design, config)
