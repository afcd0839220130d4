"""``popsurvey sample ...``: draw the sample, report on it, assign it to enumerators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from surveys.cli.common import config_option, handle_errors, sample_option
from surveys.config import SurveyConfig, load_config

if TYPE_CHECKING:  # sampling (pandas, numpy) loads only when a command runs, not for --help
    from surveys.sampling import Sample


def _config_with_sample(path: Path) -> SurveyConfig:
    """Load survey.toml and insist on a [sample] section."""
    from surveys.sampling.workflow import design_of

    config = load_config(path)
    design_of(config)
    return config


@click.group()
def sample() -> None:
    """Draw the sample, report on it and assign it to enumerators."""


@sample.command("draw")
@config_option
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the sample [default: sample/ next to survey.toml].",
)
@click.option(
    "--listing",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Household listing (overrides sample.households.listing).",
)
@click.option(
    "--synthetic-listing",
    is_flag=True,
    help="Make up a listing from the frame's household counts (demo and dry runs only).",
)
@click.option("--seed", type=int, default=None, help="Override sample.seed.")
@handle_errors
def draw(
    config_path: Path,
    out: Path | None,
    listing: Path | None,
    synthetic_listing: bool,
    seed: int | None,
) -> None:
    """Draw the sample described by survey.toml: PSUs, units, households and reserves."""
    from surveys.sampling.workflow import design_of, draw_configured_sample

    config = load_config(config_path)
    drawn = draw_configured_sample(
        config, out=out, listing=listing, synthetic_listing=synthetic_listing, seed=seed
    )
    used_seed = seed if seed is not None else design_of(config).seed
    _print_draw_summary(drawn.sample, used_seed, drawn.directory)


def _print_draw_summary(result: Sample, seed: int, target: Path) -> None:
    """What was drawn, where it went, and any issues."""
    psus = result.psu_probabilities
    hh = result.households
    click.echo(
        f"Drew {int(psus['selected'].sum())} PSUs "
        f"({int((psus['selected'] & psus['certainty']).sum())} with certainty) in "
        f"{len(result.allocation)} strata, {len(result.clusters)} final-stage units, "
        f"{int((hh['role'] == 'main').sum())} households and "
        f"{int((hh['role'] == 'reserve').sum())} reserves (seed {seed})."
    )
    if hh.empty:
        click.echo("No households yet: give a listing (--listing or sample.households.listing).")
    click.echo(f"Wrote {target}/")
    for issue in result.issues:
        click.echo(issue.one_line(), err=True)


@sample.command("report")
@config_option
@sample_option
@click.option(
    "--completed",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="CSV with a 'hhid' column of completed households.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "csv", "json"]),
    default="text",
    show_default=True,
    help="Table on the terminal, or CSV / JSON for other tools.",
)
@handle_errors
def report(config_path: Path, sample_dir: Path | None, completed: Path | None, fmt: str) -> None:
    """Per stratum: frame size, n, sum of probabilities, expected and achieved units."""
    from surveys.sampling import read_sample, stratum_report
    from surveys.sampling.workflow import sample_directory

    config = _config_with_sample(config_path)
    drawn, meta = read_sample(sample_directory(config, sample_dir))
    done = _completed_ids(completed) if completed else None
    table = stratum_report(drawn, meta, done)
    if fmt == "csv":
        click.echo(table.to_csv(index=False), nl=False)
    elif fmt == "json":
        click.echo(json.dumps(table.to_dict("records"), ensure_ascii=False, indent=2))
    else:
        click.echo(table.to_string(index=False))


def _completed_ids(path: Path) -> set[str]:
    """The hhid column of a CSV of completed households."""
    from surveys.sampling.frame import read_table, require_columns

    data = read_table(path)
    require_columns(data, ["hhid"], path.name)
    return set(data["hhid"])


@sample.command("assign")
@config_option
@sample_option
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Entity list CSV [default: <sample>/entities/<central.entity_list>.csv].",
)
@click.option(
    "--mode",
    type=click.Choice(["psu", "household"]),
    default=None,
    help="psu: keep each PSU with one enumerator; household: spread households evenly "
    "(default: assignment.mode in survey.toml).",
)
@handle_errors
def assign_command(
    config_path: Path, sample_dir: Path | None, out: Path | None, mode: str | None
) -> None:
    """Assign sampled households to enumerators; write the entity list for ODK Central.

    The CSV (name, label, then properties hhid, psu, stratum, enumerator, ...) is named after
    central.entity_list, so it also serves as the `households.csv` attachment the bundled
    questionnaires select from (filtered on enumerator = the device's user name).
    """
    from surveys.sampling import workloads
    from surveys.sampling.workflow import assign_configured_sample

    config = _config_with_sample(config_path)
    result = assign_configured_sample(config, sample_dir=sample_dir, out=out, mode=mode)
    assigned, target, issues = result.assigned, result.entity_list, result.issues
    click.echo(workloads(assigned).to_string(index=False))
    people = assigned["enumerator"].nunique()
    click.echo(f"Wrote {target} ({result.entities} households for {people} enumerators)")
    for issue in issues:
        click.echo(issue.one_line(), err=True)
