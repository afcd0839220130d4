"""Sharing sampled households among enumerators, and the ODK Central entity list.

Households are assigned within areas (the sample column matched to each enumerator's
``area``, e.g. the county), so nobody is sent outside their area:

* ``psu`` (default): whole selected units go to one enumerator, largest first to whoever has
  the lightest load so far (longest-processing-time rule: the heaviest load is within 4/3 of
  the best possible); keeps travel low and each village with one interviewer.
* ``household``: the area's main households, in unit and listing order, are cut into runs of
  equal size (loads differ by at most one); a unit's reserves go to the enumerator with most
  of its main households.

The entity list (one row per household) has the columns ODK Central and the bundled
questionnaires expect: ``name`` (a UUID derived from the survey id and ``hhid``, stable across
re-assignments), ``label``, then properties ``hhid``, ``psu``, ``stratum``, ``address``,
``enumerator`` (the app-user name the form filters on), team, supervisor, role, reserve rank,
person-selection values and any extra sample columns asked for.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Protocol

import numpy as np
import pandas as pd

from forms.issues import Issue, Severity
from surveys.sampling.design import Sample
from surveys.sampling.errors import SamplingError

ASSIGNMENT_MODES = ("psu", "household")
CORE_PROPERTIES = (
    "hhid", "psu", "stratum", "cluster", "address", "enumerator", "team", "supervisor",
    "role", "reserve_rank",
)  # fmt: skip
PROPERTY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
ENTITY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "popsurvey:entities")
"""Namespace of the entity UUIDs, derived from ``uuid5(namespace, "<survey id>/<hhid>")``."""


def entity_uuid(survey_id: str, hhid: object) -> str:
    """The household's entity name: stable across draws, and a version 4 UUID, the only
    kind ODK Central accepts (central-backend lib/data/entity.js), so the name-based UUID's
    version and variant bits are set as version 4's."""
    derived = uuid.uuid5(ENTITY_NAMESPACE, f"{survey_id}/{hhid}")
    return str(uuid.UUID(bytes=derived.bytes, version=4))


class AssignmentError(SamplingError):
    """Households that cannot be assigned (no enumerator in their area, unknown column)."""


class Worker(Protocol):
    """What assignment needs to know about an enumerator."""

    id: str
    area: str
    team: str
    supervisor: str


def household_table(sample: Sample) -> pd.DataFrame:
    """Households with their unit's frame columns (names, area codes, coordinates) joined."""
    extra = [c for c in sample.clusters.columns if c not in sample.households.columns]
    clusters = sample.clusters[["cluster", *extra]].astype({"cluster": str})
    table = sample.households.astype({"cluster": str}).merge(clusters, on="cluster", how="left")
    return table


def assign(
    households: pd.DataFrame,
    enumerators: Sequence[Worker],
    *,
    area: str = "stratum",
    mode: str = "psu",
    include_reserve: bool = True,
) -> tuple[pd.DataFrame, list[Issue]]:
    """Return ``households`` with ``enumerator``, ``team``, ``supervisor`` filled in, and issues."""
    if mode not in ASSIGNMENT_MODES:
        raise AssignmentError(f"unknown assignment mode '{mode}'; use psu or household")
    if area not in households.columns:
        raise AssignmentError(
            f"assignment area column '{area}' is not in the sample (columns: "
            f"{', '.join(households.columns)})"
        )
    if not include_reserve:
        households = households[households["role"] == "main"]
    households = households.copy()
    households[area] = households[area].astype(str)
    by_area: dict[str, list[Worker]] = {}
    for person in enumerators:
        by_area.setdefault(str(person.area), []).append(person)
    issues = [
        Issue("S301", Severity.INFO, f"enumerator '{p.id}': no sampled households in area '{a}'")
        for a, people in by_area.items()
        if a not in set(households[area])
        for p in people
    ]
    owner = pd.Series("", index=households.index, dtype=object)
    for area_value, rows in households.groupby(area, sort=True):
        people = by_area.get(str(area_value))
        if not people:
            raise AssignmentError(
                f"no enumerator has area '{area_value}' ({len(rows)} sampled households); "
                "add one to the roster"
            )
        ids = [p.id for p in people]
        chosen = _by_unit(rows, ids) if mode == "psu" else _by_household(rows, ids)
        owner.loc[rows.index] = chosen
    people_by_id = {p.id: p for p in enumerators}
    households["enumerator"] = owner
    households["team"] = [people_by_id[e].team for e in owner]
    households["supervisor"] = [people_by_id[e].supervisor for e in owner]
    return households, issues


def _by_unit(rows: pd.DataFrame, ids: list[str]) -> pd.Series:
    """Whole units to enumerators, heaviest unit first to the lightest-loaded enumerator."""
    loads = (rows["role"] == "main").groupby(rows["cluster"]).sum()
    order = sorted(loads.index, key=lambda c: (-loads[c], str(c)))
    load = dict.fromkeys(ids, 0)
    owner_of: dict[str, str] = {}
    for cluster in order:
        person = min(ids, key=lambda p: (load[p], ids.index(p)))
        owner_of[cluster] = person
        load[person] += int(loads[cluster])
    return rows["cluster"].map(owner_of)


def _by_household(rows: pd.DataFrame, ids: list[str]) -> pd.Series:
    """Main households cut into equal runs in unit order; reserves follow their unit's majority."""
    main = rows[rows["role"] == "main"].sort_values(["cluster", "hhid"], kind="stable")
    runs = np.array_split(np.arange(len(main)), len(ids))
    owner = pd.Series("", index=rows.index, dtype=object)
    for person, run in zip(ids, runs, strict=True):
        owner.loc[main.index[run]] = person
    majority = (
        owner.loc[main.index].groupby(main["cluster"]).agg(lambda s: s.value_counts().index[0])
    )
    reserves = rows.index[rows["role"] != "main"]
    owner.loc[reserves] = rows.loc[reserves, "cluster"].map(majority).fillna(ids[0])
    return owner


def entity_list(
    assigned: pd.DataFrame,
    survey_id: str,
    *,
    label: Sequence[str] = (),
    properties: Sequence[str] = (),
) -> pd.DataFrame:
    """The entity list for ODK Central: ``name``, ``label`` and the properties, one row each.

    ``label`` names the columns joined (with spaces) into the label shown on the tablet
    (default: ``hhid`` and ``address``); ``properties`` adds sample columns to the core ones.
    Person-selection columns are included when the design uses them.
    """
    columns = list(CORE_PROPERTIES)
    for extra in ("kish_table", "random_number"):
        if extra in assigned.columns and assigned[extra].replace("", np.nan).notna().any():
            columns.append(extra)
    columns += [p for p in properties if p not in columns]
    for column in [*columns, *label]:
        if column not in assigned.columns:
            raise AssignmentError(f"entity property '{column}' is not a column of the sample")
    for column in columns:
        if (
            column in {"name", "label"}
            or column.startswith("__")
            or not PROPERTY_NAME.match(column)
        ):
            raise AssignmentError(
                f"'{column}' cannot be an entity property name (ODK Central reserves name, "
                "label and __*, and names must be XML names)"
            )
    label_columns = list(label) or ["hhid", "address"]
    labels = assigned[label_columns].astype(str).agg(" ".join, axis=1).str.strip()
    names = [entity_uuid(survey_id, h) for h in assigned["hhid"]]
    table = pd.DataFrame({"name": names, "label": labels.to_numpy()})
    for column in columns:
        values = assigned[column].to_numpy()
        table[column] = ["" if _missing(v) else _text(v) for v in values]
    return table


def _missing(value: object) -> bool:
    """True for NaN/None/empty cells."""
    return value is None or (isinstance(value, float) and np.isnan(value)) or value == ""


def _text(value: object) -> str:
    """Entity properties are text; integers stored as floats lose their ``.0``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def workloads(assigned: pd.DataFrame) -> pd.DataFrame:
    """Per enumerator: area, team, units, main and reserve households."""
    grouped = assigned.groupby("enumerator", sort=True)
    return pd.DataFrame(
        {
            "team": grouped["team"].first(),
            "units": grouped["cluster"].nunique(),
            "main": grouped["role"].agg(lambda s: int((s == "main").sum())),
            "reserve": grouped["role"].agg(lambda s: int((s == "reserve").sum())),
        }
    ).reset_index()
