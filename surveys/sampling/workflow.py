"""The sampling steps of a configured survey: draw from survey.toml, then assign.

``popsurvey sample draw`` / ``sample assign`` and the demo pipeline call these, so the CLI
stays a thin layer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forms.files import atomic_path
from forms.issues import Issue
from surveys.config import SurveyConfig
from surveys.errors import ConfigError
from surveys.sampling.assignment import assign, entity_list, household_table
from surveys.sampling.design import Sample, SampleDesign, draw_sample, load_frame, read_listing
from surveys.sampling.errors import AllocationError, FrameError
from surveys.sampling.frame import Frame
from surveys.sampling.output import read_sample, write_sample


@dataclass(frozen=True)
class DrawResult:
    """A drawn sample, the directory it was written to and the listing it used."""

    sample: Sample
    directory: Path
    listing: pd.DataFrame | None


@dataclass(frozen=True)
class AssignResult:
    """Households with their enumerator, the entity list written, and any issues."""

    assigned: pd.DataFrame
    entity_list: Path
    entities: int
    """Rows (households) in the entity list."""
    issues: Sequence[Issue]


def design_of(config: SurveyConfig) -> SampleDesign:
    """The survey's sample design; an error if survey.toml has no [sample] section."""
    if config.sample is None:
        raise ConfigError(f"{config.path.name}: sample: required key is missing")
    return config.sample


def sample_directory(config: SurveyConfig, given: Path | None = None) -> Path:
    """The sample directory: ``given``, or ``sample/`` next to survey.toml."""
    return given if given is not None else config.directory / "sample"


def draw_configured_sample(
    config: SurveyConfig,
    *,
    out: Path | None = None,
    listing: Path | None = None,
    synthetic_listing: bool = False,
    seed: int | None = None,
) -> DrawResult:
    """Draw the sample survey.toml describes and write it (all or nothing).

    Households come from ``listing`` (a CSV/XLSX listing of the selected units) or, with
    ``synthetic_listing``, from a made-up listing for demos and dry runs.
    """
    design = design_of(config)
    if seed is not None:
        design = dataclasses.replace(design, seed=seed)
    frame = load_frame(design)
    listing_table = None
    if listing is not None:
        listing_table = read_listing(design, listing)
    elif synthetic_listing:
        listing_table = synthetic_listing_for(design, frame)
    try:
        result = draw_sample(design, frame, listing_table)
    except AllocationError as err:
        if err.key is None:
            raise
        raise ConfigError(f"{config.path.name}: sample.{err.key}: {err}") from err
    target = write_sample(result, design, sample_directory(config, out))
    if synthetic_listing and listing_table is not None:
        listing_table.drop(columns=["_row"], errors="ignore").to_csv(
            target / "listing_synthetic.csv", index=False
        )
    return DrawResult(result, target, listing_table)


def synthetic_listing_for(design: SampleDesign, frame: Frame) -> pd.DataFrame:
    """A made-up listing for every unit the design selects (the frame needs households, urban)."""
    from surveys.data.listing import synthetic_listing

    for column in ("households", "urban"):
        if column not in frame.data.columns:
            raise FrameError(
                f"{frame.source}: --synthetic-listing needs a '{column}' column in the frame"
            )
    units = frame.data.rename(columns={design.unit: "cluster"})
    result = draw_sample(design, frame)  # same seed: the same units as the real draw
    wanted = units[units["cluster"].isin(set(result.clusters["cluster"]))]
    listing = synthetic_listing(wanted, seed=design.seed)
    unit_col = design.households.listing_unit or design.unit
    listing = listing.rename(columns={"village_id": unit_col})
    return listing.rename(columns={"hhid": design.households.listing_id})


def assign_configured_sample(
    config: SurveyConfig,
    *,
    sample_dir: Path | None = None,
    out: Path | None = None,
    mode: str | None = None,
) -> AssignResult:
    """Assign the drawn households to the roster and write the ODK Central entity list."""
    design_of(config)
    if not config.enumerators:
        raise ConfigError(f"{config.path.name}: enumerators: the roster is empty")
    directory = sample_directory(config, sample_dir)
    drawn, _ = read_sample(directory)
    if drawn.households.empty:
        raise ConfigError(f"{directory}: the sample has no households yet (draw with a listing)")
    settings = config.assignment
    assigned, issues = assign(
        household_table(drawn),
        config.enumerators,
        area=settings.area or "stratum",
        mode=mode or settings.mode,
        include_reserve=settings.include_reserve,
    )
    entities = entity_list(
        assigned, config.id, label=settings.label, properties=settings.properties
    )
    list_name = config.central.entity_list if config.central else "households"
    target = out or directory / "entities" / f"{list_name}.csv"
    with atomic_path(target) as partial:
        entities.to_csv(partial, index=False)
    return AssignResult(assigned, target, len(entities), tuple(issues))
