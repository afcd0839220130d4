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
