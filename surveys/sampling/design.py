"""A stratified multistage sample design and the draw that carries it out.

Stages of area units (county -> township -> village, or just villages) are drawn with a
method from :mod:`surveys.sampling.methods`: the first stage within strata with the allocated
sizes, later stages a fixed number per selected unit of the stage above, sizes summed from the
frame. Households are then drawn from the listing of each selected final-stage unit, with
reserves, and each household gets what the tablet needs to pick one eligible person.

Every random decision uses its own ``numpy`` generator seeded from ``(seed, stage, unit)``,
so the draw is reproducible and redrawing one stratum or unit does not move the others.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from forms.issues import Issue, Severity
from surveys.sampling.allocation import StratumTotals, allocate
from surveys.sampling.errors import FrameError
from surveys.sampling.frame import (
    ROW,
    Frame,
    Problem,
    id_problems,
    raise_problems,
    read_frame,
    read_table,
    require_columns,
)
from surveys.sampling.households import select_households, within_probability
from surveys.sampling.methods import get_method
from surveys.sampling.persons import assign_kish_tables


@dataclass(frozen=True)
class StageDesign:
    """One stage of area units: the frame column identifying them and how they are drawn.

    ``per_unit`` is the number drawn in each selected unit of the stage above (stages 2+);
    ``sort_by`` orders units before a systematic draw (implicit stratification).
    """

    unit: str
    method: str = "systematic_pps"
    per_unit: int | None = None
    label: str | None = None
    sort_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class HouseholdDesign:
    """The household stage: take per final-stage unit, reserves, and the listing file."""

    method: str = "systematic"
    per_psu: int = 20
    reserve: int = 0
    listing: Path | None = None
    listing_unit: str | None = None
    listing_id: str = "hhid"
    address: str | None = "address"


@dataclass(frozen=True)
class PersonDesign:
    """How one eligible person is chosen in each household: none, kish or random."""

    method: str = "none"
    eligible: str = ""


@dataclass(frozen=True)
class SampleDesign:
    """Everything needed to draw the sample again, identically."""

    frame: Path
    strata: str
    size: str
    n: int
    stages: tuple[StageDesign, ...]
    allocation: str = "proportional"
    min_per_stratum: int = 2
    power_exponent: float = 0.5
    stratum_sd: str | Mapping[str, float] | None = None
    stratum_n: Mapping[str, int] | None = None
    seed: int = 1
    households: HouseholdDesign = field(default_factory=HouseholdDesign)
    persons: PersonDesign = field(default_factory=PersonDesign)
    sheet: str | None = None

    @property
    def unit(self) -> str:
        """The frame column identifying rows: the last area stage's unit."""
        return self.stages[-1].unit

    @property
    def psu(self) -> str:
        """The frame column identifying primary sampling units (first stage)."""
        return self.stages[0].unit


@dataclass(frozen=True)
class Sample:
    """A drawn sample: tables ready to write, and the issues met while drawing."""

    allocation: pd.DataFrame
    psu_probabilities: pd.DataFrame
    clusters: pd.DataFrame
    households: pd.DataFrame
    joint: pd.DataFrame
    issues: tuple[Issue, ...] = ()


def load_frame(design: SampleDesign) -> Frame:
    """Read and check the design's frame, including every column the design refers to."""
    extra = [c for stage in design.stages for c in (*stage.sort_by, stage.label) if c]
    if isinstance(design.stratum_sd, str):
        extra.append(design.stratum_sd)
    return read_frame(
        design.frame,
        unit=design.unit,
        strata=design.strata,
        size=design.size,
        stage_units=[s.unit for s in design.stages[:-1]],
        sheet=design.sheet,
        extra_columns=extra,
    )


HOUSEHOLD_STAGE = 90
"""Stage number seeding household selection (area stages are 1, 2, ...)."""
PERSON_STAGE = 91
"""Stage number seeding the person-selection values (Kish table, random number)."""


def generator(seed: int, stage: int, key: str) -> np.random.Generator:
    """The generator for one stage in one stratum or unit (stable across runs and platforms)."""
    return np.random.default_rng([seed, stage, zlib.crc32(str(key).encode("utf-8"))])


def stratum_spread(design: SampleDesign, frame: Frame) -> dict[str, float] | None:
    """Per-stratum SD for Neyman/power allocation: from a frame column or the given values."""
    if design.stratum_sd is None or not isinstance(design.stratum_sd, str):
        return dict(design.stratum_sd) if design.stratum_sd is not None else None
    column = design.stratum_sd
    values: dict[str, float] = {}
    first_row: dict[str, int] = {}
    problems = []
    for stratum, text, row in zip(
        frame.data[frame.strata], frame.data[column], frame.data[ROW], strict=True
    ):
        try:
            value = float(text)
        except ValueError:
            problems.append(Problem(row, f"{column} is not a number: '{text}'"))
            continue
        if stratum in values and values[stratum] != value:
            problems.append(
                Problem(
                    row,
                    f"{column} is {text} here but {values[stratum]:g} at row "
                    f"{first_row[stratum]} of stratum '{stratum}'; it must be constant",
                )
            )
        values.setdefault(stratum, value)
        first_row.setdefault(stratum, row)
    raise_problems(problems, frame.source)
    return values


def stage_units(rows: pd.DataFrame, stage: StageDesign, size: str) -> pd.DataFrame:
    """One row per unit of ``stage`` among ``rows``: summed size, first row's attributes."""
    grouped = rows.groupby(stage.unit, sort=False)
    units = grouped.first()
    units[size] = grouped[size].sum()
    units = units.reset_index()
    if stage.sort_by:
        units = units.sort_values(list(stage.sort_by), kind="stable").reset_index(drop=True)
    return units


def allocation_table(design: SampleDesign, frame: Frame) -> pd.DataFrame:
    """Per stratum: first-stage units and total size in the frame, and the allocated ``n``."""
    data = frame.data
    strata = []
    for name, rows in data.groupby(frame.strata, sort=True):
        strata.append(
            StratumTotals(str(name), int(rows[design.psu].nunique()), float(rows[frame.size].sum()))
        )
    sizes = allocate(
        strata,
        design.n,
        design.allocation,
        minimum=design.min_per_stratum,
        sd=stratum_spread(design, frame),
        exponent=design.power_exponent,
        fixed=design.stratum_n,
    )
    return pd.DataFrame(
        {
            "stratum": [s.name for s in strata],
            "frame_units": [s.units for s in strata],
            "frame_size": [s.size for s in strata],
            "n": [sizes[s.name] for s in strata],
        }
    )


def draw_sample(
    design: SampleDesign, frame: Frame | None = None, listing: pd.DataFrame | None = None
) -> Sample:
    """Draw the sample: allocation, area stages, then households if a listing is given.

    ``listing`` defaults to the design's listing file; without one only area units are drawn.
    """
    frame = frame or load_frame(design)
    issues: list[Issue] = []
    allocation = allocation_table(design, frame)
    psu_probs, selected, joint = _first_stage(design, frame, allocation)
    allocation["certainty_units"] = (
        psu_probs.groupby("stratum")["certainty"].sum().reindex(allocation["stratum"]).to_numpy()
    )
    for number, stage in enumerate(design.stages[1:], start=2):
        selected = _later_stage(design, frame, selected, number, stage, issues)
    clusters = _cluster_table(design, frame, selected)
    if listing is None and design.households.listing is not None:
        listing = read_listing(design)
    households = (
        _households(design, clusters, listing, issues) if listing is not None else _no_households()
    )
    return Sample(allocation, psu_probs, clusters, households, joint, tuple(issues))


def _first_stage(
    design: SampleDesign, frame: Frame, allocation: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Draw PSUs in each stratum; return all PSUs' probabilities, selected rows and ``pi_ij``."""
    stage = design.stages[0]
    method = get_method(stage.method)
    wanted = dict(zip(allocation["stratum"], allocation["n"], strict=True))
    prob_tables, selected_rows, joint_tables = [], [], []
    for stratum, rows in frame.data.groupby(frame.strata, sort=True):
        units = stage_units(rows, stage, frame.size)
        pi = method.probabilities(units[frame.size].to_numpy(), int(wanted[str(stratum)]))
        chosen = method.draw(pi, generator(design.seed, 1, str(stratum)))
        flags = np.zeros(len(units), dtype=bool)
        flags[chosen] = True
        prob_tables.append(
            pd.DataFrame(
                {
                    "stratum": str(stratum),
                    "psu": units[stage.unit].to_numpy(),
                    "size": units[frame.size].to_numpy(),
                    "pi": pi,
                    "certainty": pi >= 1 - 1e-12,
                    "selected": flags,
                }
            )
        )
        ids = units[stage.unit].to_numpy()[chosen]
        chosen_pi = dict(zip(ids, pi[chosen], strict=True))
        part = rows[rows[stage.unit].isin(set(ids))].copy()
        part["pi_stage1"] = part[stage.unit].map(chosen_pi)
        selected_rows.append(part)
        joint_tables.append(_joint_rows(str(stratum), ids, method.joint(pi, chosen)))
    return (
        pd.concat(prob_tables, ignore_index=True),
        pd.concat(selected_rows, ignore_index=True),
        pd.concat(joint_tables, ignore_index=True),
    )


def _joint_rows(stratum: str, ids: np.ndarray, joint: np.ndarray) -> pd.DataFrame:
    """Long table of ``pi_ij`` for every ordered pair (including ``i == j``) of sampled PSUs."""
    i, j = np.meshgrid(np.arange(ids.size), np.arange(ids.size), indexing="ij")
    return pd.DataFrame(
        {
            "stratum": stratum,
            "psu_i": ids[i.ravel()],
            "psu_j": ids[j.ravel()],
            "pi_ij": joint.ravel(),
        }
    )


def _later_stage(
    design: SampleDesign,
    frame: Frame,
    selected: pd.DataFrame,
    number: int,
    stage: StageDesign,
    issues: list[Issue],
) -> pd.DataFrame:
    """Draw ``per_unit`` units of ``stage`` inside every unit selected at the stage above."""
    parent = design.stages[number - 2].unit
    method = get_method(stage.method)
    take = stage.per_unit or 1
    kept = []
    for parent_id, rows in selected.groupby(parent, sort=False):
        units = stage_units(rows, stage, frame.size)
        n = min(take, len(units))
        if n < take:
            issues.append(
                Issue(
                    "S102",
                    Severity.WARNING,
                    f"{parent} '{parent_id}' has {len(units)} units of {stage.unit}, fewer than "
                    f"the {take} asked: all taken",
                    variable=stage.unit,
                )
            )
        pi = method.probabilities(units[frame.size].to_numpy(), n)
        chosen = method.draw(pi, generator(design.seed, number, str(parent_id)))
        chosen_pi = dict(zip(units[stage.unit].to_numpy()[chosen], pi[chosen], strict=True))
        part = rows[rows[stage.unit].isin(set(chosen_pi))].copy()
        part[f"pi_stage{number}"] = part[stage.unit].map(chosen_pi)
        kept.append(part)
    return pd.concat(kept, ignore_index=True)


def _cluster_table(design: SampleDesign, frame: Frame, selected: pd.DataFrame) -> pd.DataFrame:
    """The selected final-stage area units with their stage-wise and overall probabilities."""
    stage_cols = [f"pi_stage{k}" for k in range(1, len(design.stages) + 1)]
    front = pd.DataFrame(
        {
            "stratum": selected[frame.strata].to_numpy(),
            "psu": selected[design.psu].to_numpy(),
            "cluster": selected[design.unit].to_numpy(),
            "size": selected[frame.size].to_numpy(),
        }
    )
    for col in stage_cols:
        front[col] = selected[col].to_numpy()
    front["pi_cluster"] = np.prod(selected[stage_cols].to_numpy(), axis=1)
    carried = selected.drop(columns=[ROW, *stage_cols, frame.size])
    carried = carried.drop(columns=[c for c in carried.columns if c in front.columns])
    table = pd.concat([front, carried.reset_index(drop=True)], axis=1)
    return table.sort_values(["stratum", "psu", "cluster"], kind="stable").reset_index(drop=True)


def read_listing(design: SampleDesign, path: str | Path | None = None) -> pd.DataFrame:
    """Read and check the household listing (one row per household, unit and ID columns)."""
    path = Path(path or design.households.listing)
    unit_col = design.households.listing_unit or design.unit
    data = read_table(path)
    columns = [unit_col, design.households.listing_id]
    require_columns(data, columns, path.name)
    problems = id_problems(data, design.households.listing_id)
    problems += [
        Problem(row, f"{unit_col} is empty")
        for value, row in zip(data[unit_col], data[ROW], strict=True)
        if value == ""
    ]
    problems.sort(key=lambda p: p.row)
    raise_problems(problems, path.name)
    return data


HOUSEHOLD_COLUMNS = [
    "hhid",
    "stratum",
    "psu",
    "cluster",
    "role",
    "reserve_rank",
    "listed",
    "pi_cluster",
    "pi_within",
    "pi_household",
    "kish_table",
    "random_number",
    "address",
]


def _no_households() -> pd.DataFrame:
    """An empty household table (no listing yet)."""
    return pd.DataFrame(columns=HOUSEHOLD_COLUMNS)


def _households(
    design: SampleDesign, clusters: pd.DataFrame, listing: pd.DataFrame, issues: list[Issue]
) -> pd.DataFrame:
    """Draw main and reserve households in every selected cluster from its listing."""
    hh = design.households
    unit_col = hh.listing_unit or design.unit
    if unit_col not in listing.columns or hh.listing_id not in listing.columns:
        raise FrameError(f"household listing needs columns '{unit_col}' and '{hh.listing_id}'")
    by_unit = dict(tuple(listing.groupby(unit_col, sort=False)))
    tables = []
    for cluster in clusters.to_dict("records"):
        rows = by_unit.get(cluster["cluster"])
        if rows is None:
            issues.append(
                Issue(
                    "S201",
                    Severity.ERROR,
                    f"selected unit '{cluster['cluster']}' has no households in the listing",
                    variable=unit_col,
                )
            )
            continue
        tables.append(_cluster_households(design, cluster, rows, issues))
    if not tables:
        return _no_households()
    return pd.concat(tables, ignore_index=True)


def _cluster_households(
    design: SampleDesign, cluster: Mapping[str, Any], rows: pd.DataFrame, issues: list[Issue]
) -> pd.DataFrame:
    """Main and reserve households of one cluster, with probabilities and person selection."""
    hh = design.households
    listed = len(rows)
    key = str(cluster["cluster"])
    main, spare = select_households(
        listed, hh.per_psu, hh.reserve, hh.method, generator(design.seed, HOUSEHOLD_STAGE, key)
    )
    if listed < hh.per_psu:
        issues.append(
            Issue(
                "S202",
                Severity.WARNING,
                f"unit '{key}' lists {listed} households, fewer than the {hh.per_psu} asked: "
                "all taken, no reserve",
            )
        )
    elif spare.size < hh.reserve:
        issues.append(
            Issue(
                "S203",
                Severity.INFO,
                f"unit '{key}' has only {spare.size} reserve households of the {hh.reserve} asked",
            )
        )
    picked = np.concatenate([main, spare])
    chosen = rows.iloc[picked]
    pi_within = within_probability(listed, hh.per_psu)
    pi_cluster = float(cluster["pi_cluster"])
    table = pd.DataFrame(
        {
            "hhid": chosen[hh.listing_id].to_numpy(),
            "stratum": cluster["stratum"],
            "psu": cluster["psu"],
            "cluster": key,
            "role": ["main"] * main.size + ["reserve"] * spare.size,
            "reserve_rank": [0] * main.size + list(range(1, spare.size + 1)),
            "listed": listed,
            "pi_cluster": pi_cluster,
            "pi_within": pi_within,
            "pi_household": pi_cluster * pi_within,
            "kish_table": "",
            "random_number": np.nan,
            "address": chosen[hh.address].to_numpy() if hh.address in chosen.columns else "",
        }
    )
    person_rng = generator(design.seed, PERSON_STAGE, key)
    if design.persons.method == "kish":
        table["kish_table"] = assign_kish_tables(len(table), person_rng)
    elif design.persons.method == "random":
        table["random_number"] = np.round(person_rng.random(len(table)), 6)
    return table
