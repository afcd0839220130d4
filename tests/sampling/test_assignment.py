"""Assignment to enumerators within areas, balanced; the ODK Central entity list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pandas as pd
import pytest

from surveys.sampling import assign, entity_list, workloads
from surveys.sampling.assignment import AssignmentError


@dataclass(frozen=True)
class Person:
    id: str
    area: str
    team: str = "t"
    supervisor: str = "s"


def households(units: dict[str, tuple[str, int]], reserve: int = 1) -> pd.DataFrame:
    """``{cluster: (area, main households)}`` -> a household table."""
    rows = []
    for cluster, (area, count) in units.items():
        for k in range(count + reserve):
            rows.append(
                {
                    "hhid": f"{cluster}-{k:03d}",
                    "stratum": area,
                    "psu": cluster,
                    "cluster": cluster,
                    "role": "main" if k < count else "reserve",
                    "reserve_rank": 0 if k < count else k - count + 1,
                    "address": f"{k + 1}号",
                    "kish_table": "C",
                    "random_number": float("nan"),
                    "urban": 1.0,
                }
            )
    return pd.DataFrame(rows)


UNITS = {
    "u1": ("A", 20), "u2": ("A", 20), "u3": ("A", 20), "u4": ("A", 20), "u5": ("A", 20),
    "u6": ("A", 20), "u7": ("B", 30), "u8": ("B", 10),
}  # fmt: skip
PEOPLE = [Person("e1", "A"), Person("e2", "A"), Person("e3", "A"), Person("e4", "B")]


def test_psu_mode_keeps_units_whole_and_balances():
    assigned, issues = assign(households(UNITS), PEOPLE)
    assert not issues
    assert (assigned.groupby("cluster")["enumerator"].nunique() == 1).all()
    loads = workloads(assigned).set_index("enumerator")["main"]
    assert loads.to_dict() == {"e1": 40, "e2": 40, "e3": 40, "e4": 40}
    # Nobody works outside their area.
    area_of = {p.id: p.area for p in PEOPLE}
    assert (assigned["enumerator"].map(area_of) == assigned["stratum"]).all()


def test_household_mode_loads_differ_by_at_most_one():
    units = {"u1": ("A", 37), "u2": ("A", 11), "u3": ("A", 5)}
    assigned, _ = assign(households(units), PEOPLE[:3], mode="household")
    main = assigned[assigned["role"] == "main"]
    loads = main.groupby("enumerator").size()
    assert loads.max() - loads.min() <= 1 and loads.sum() == 53
    reserves = assigned[assigned["role"] == "reserve"]
    assert set(reserves["enumerator"]) <= set(loads.index)


def test_psu_mode_is_within_four_thirds_of_the_best_load():
    units = {f"u{k}": ("A", size) for k, size in enumerate([30, 25, 22, 20, 18, 15, 9, 7, 3])}
    assigned, _ = assign(households(units, reserve=0), PEOPLE[:3])
    loads = assigned.groupby("enumerator").size()
    best_possible = max(149 / 3, 30)
    assert loads.max() <= 4 / 3 * best_possible


def test_area_without_enumerator_is_an_error():
    with pytest.raises(AssignmentError, match="no enumerator has area 'B' \\(42 sampled"):
        assign(households(UNITS), PEOPLE[:3])


def test_enumerator_without_households_is_reported():
    _, issues = assign(households(UNITS), [*PEOPLE, Person("e9", "Z")])
    assert [i.code for i in issues] == ["S301"]
    assert "e9" in issues[0].message


def test_reserves_can_be_left_out():
    assigned, _ = assign(households(UNITS), PEOPLE, include_reserve=False)
    assert set(assigned["role"]) == {"main"}


def test_entity_list_columns_and_stable_names():
    assigned, _ = assign(households(UNITS), PEOPLE)
    entities = entity_list(assigned, "demo-2027", label=["hhid", "address"], properties=["urban"])
    assert list(entities.columns[:4]) == ["name", "label", "hhid", "psu"]
    for column in ("enumerator", "stratum", "address", "kish_table", "urban", "reserve_rank"):
        assert column in entities.columns
    assert "random_number" not in entities.columns  # not used by this design
    assert entities["urban"].iloc[0] == "1"
    assert entities["label"].iloc[0] == "u1-000 1号"
    for name in entities["name"]:  # ODK Central takes version 4 UUIDs only
        assert uuid.UUID(name).version == 4 and uuid.UUID(name).variant == uuid.RFC_4122
    again = entity_list(assigned.iloc[::-1], "demo-2027")
    assert dict(zip(again["hhid"], again["name"], strict=True)) == dict(
        zip(entities["hhid"], entities["name"], strict=True)
    )


@pytest.mark.parametrize(("prop", "message"), [("label", "cannot be an entity property"),
                                                ("nope", "'nope' is not a column")])  # fmt: skip
def test_bad_entity_properties(prop, message):
    assigned, _ = assign(households(UNITS), PEOPLE)
    assigned["label"] = "x"
    with pytest.raises(AssignmentError, match=message):
        entity_list(assigned, "s", properties=[prop])
