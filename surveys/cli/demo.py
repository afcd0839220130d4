"""``popsurvey demo``: the whole pipeline on the bundled questionnaires and simulated data."""

from __future__ import annotations

from pathlib import Path

import click

from surveys.cli.common import handle_errors


@click.command()
@click.argument("out_dir", default="demo-output", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=20261122, show_default=True, help="Seed for every random step.")
@click.option(
    "--validate/--no-validate",
    default=True,
    show_default=True,
    help="Run ODK Validate on the questionnaires (needs Java).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@handle_errors
def demo(out_dir: Path, seed: int, validate: bool, quiet: bool) -> None:
    """Run every pipeline stage on the bundled questionnaires into OUT_DIR (default
    demo-output/), with an embedded SQLite store: no server needed."""
    from surveys.cli.progress import progress_bar
    from surveys.pipeline import StageReport, run_demo

    def show(report: StageReport) -> None:
        click.secho(f"[{report.title}] ", bold=True, nl=False)
        click.echo(report.summary)
        for path in report.paths:
            click.echo(f"    {path}")

    out_dir.mkdir(parents=True, exist_ok=True)
    with progress_bar("demo stages", quiet) as progress:
        reports = run_demo(out_dir, seed=seed, validate=validate, on_stage=show, progress=progress)
    click.echo(f"demo finished: {len(reports)} stage(s), outputs in {out_dir}/")
