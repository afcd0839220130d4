"""The per-stratum sample report: frame, allocation, probabilities, expected vs achieved.

For each stratum: first-stage units and size in the frame, the allocated ``n``, certainty
units, the sum of first-stage inclusion probabilities over the frame (must equal ``n``), PSUs
and final-stage units selected against those expected, main households drawn against the
take, reserves, and, given the list of completed households, completed interviews and the
completion rate.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import pandas as pd

from surveys.sampling.design import Sample


def stratum_report(
    sample: Sample, meta: Mapping[str, Any], completed: Collection[str] | None = None
) -> pd.DataFrame:
    """One row per stratum plus a ``total`` row (see the module docstring for the columns)."""
    design = meta["design"]
    per_cluster = 1
    for stage in design["stages"][1:]:
        per_cluster *= int(stage["per_unit"] or 1)
    take = int(design["households"]["per_psu"])
    alloc = sample.allocation.set_index("stratum")
    psus = sample.psu_probabilities.groupby("stratum")
    hh = sample.households
    main = hh[hh["role"] == "main"]
    table = pd.DataFrame(
        {
            "frame_units": alloc["frame_units"],
            "frame_size": alloc["frame_size"],
            "n": alloc["n"],
            "certainty_units": alloc["certainty_units"],
            "sum_pi": psus["pi"].sum(),
            "psus_selected": psus["selected"].sum(),
            "clusters_expected": alloc["n"] * per_cluster,
            "clusters_selected": sample.clusters.groupby("stratum").size(),
            "households_expected": alloc["n"] * per_cluster * take,
            "households_main": main.groupby("stratum").size(),
            "households_reserve": hh[hh["role"] == "reserve"].groupby("stratum").size(),
        }
    )
    if completed is not None:
        done = main[main["hhid"].isin(set(completed))]
        table["completed"] = done.groupby("stratum").size()
    table = table.fillna(0)
    total = table.sum(numeric_only=True).rename("total")
    table = pd.concat([table, total.to_frame().T])
    if completed is not None:
        table["completion_rate"] = (table["completed"] / table["households_main"]).round(3)
    integer_columns = [
        c for c in table.columns if c not in {"frame_size", "sum_pi", "completion_rate"}
    ]
    table[integer_columns] = table[integer_columns].astype(int)
    table["sum_pi"] = table["sum_pi"].round(6)
    table.index.name = "stratum"
    return table.reset_index()
