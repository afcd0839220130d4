"""The simulator's new plants: partial fabrication, duplicate IDs, answer changes."""

from __future__ import annotations

import pandas as pd
from simulate_support import END, START, bundled

from surveys.simulate import simulate_fieldwork
from surveys.simulate.output import write_simulation


def test_partial_fabrication_duplicate_ids_and_changes(survey, small_entities, tmp_path):
    config, _ = survey
    enums = sorted(small_entities["enumerator"].unique())
    profile_of = dict.fromkeys(enums, "honest")
    profile_of[enums[0]] = "partial_fab"
    profile_of[enums[1]] = "duplicate_ids"
    result = simulate_fieldwork(
        bundled("migrants"),
        small_entities,
        config.enumerators,
        seed=9,
        start=START,
        end=END,
        survey_id=config.id,
        profile_of=profile_of,
    )
    by_id = {s["__id"]: s for s in result.submissions}
    invented = [p for p in result.planted if p.profile == "partial_fab"]
    own = [s for s in result.submissions if s["__system"]["submitterName"] == enums[0]]
    assert invented and 0.1 * len(own) <= len(invented) <= 0.25 * len(own)
    assert all("invented at the desk" in p.what for p in invented)
    duplicates = [p for p in result.planted if p.profile == "duplicate_ids"]
    assert duplicates
    for p in duplicates:
        source = p.what.split()[3]
        assert by_id[p.instance_id]["a_id"]["hhid"] == by_id[source]["a_id"]["hhid"]
    assert result.changes
    iid, enumerator, node, old, new = result.changes[0]
    assert old != new and f"question,{node}," in result.audits[iid]
    assert f",{old},{new}" in result.audits[iid]
    assert enumerator in profile_of
    write_simulation(result, tmp_path)
    changes = pd.read_csv(tmp_path / "ground_truth" / "migrants.changes.csv", dtype=str)
    assert len(changes) == len(result.changes)


def test_srb_skew_leaves_daughters_out_of_history_and_counts(survey, small_entities):
    """An srb_skew enumerator's women report fewer daughters (history and counts agree,
    as Collect's consistency check requires); the ground truth says how many were left
    out; twins lose their multiplicity when one of them is left out."""
    from surveys.simulate import DemographyParams

    config, _ = survey
    enums = sorted(small_entities["enumerator"].unique())
    profile_of = dict.fromkeys(enums, "honest")
    profile_of[enums[0]] = "srb_skew"
    result = simulate_fieldwork(
        bundled("fertility"),
        small_entities,
        config.enumerators,
        seed=4,
        start=START,
        end=END,
        survey_id=config.id,
        profile_of=profile_of,
        demography=DemographyParams(daughter_omission=1.0, twin_share=0.3),
    )
    left_out = {p.instance_id: p for p in result.planted if p.profile == "srb_skew"}
    assert left_out
    assert all("daughter(s) left out of the birth history" in p.what for p in left_out.values())
    daughters = {"srb_skew": 0, "honest": 0}
    for s in result.submissions:
        if s["result"] != "1":
            continue
        profile = profile_of[s["__system"]["submitterName"]]
        live = [r for r in s.get("d_hist", []) if r["d10_outcome"] == "1"]
        counts = s["d_counts"]
        assert int(counts.get("d03_n_live") or 0) == len(live)  # None: never pregnant
        assert int(counts.get("d05_n_daus") or 0) == sum(r["d14_sex"] == "2" for r in live)
        for row in live:
            same = [r for r in live if r["d_cmc"] == row["d_cmc"]]
            assert int(row["d13_mult"]) == len(same)
        daughters[profile] += int(counts.get("d05_n_daus") or 0)
    assert daughters["srb_skew"] == 0 and daughters["honest"] > 0
