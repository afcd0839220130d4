"""``popsurvey qc``: per-enumerator quality control of a stored form."""

from __future__ import annotations

from pathlib import Path

import click

from surveys.cli.common import db_option, handle_errors, optional_config
from surveys.cli.progress import progress_bar


@click.command("qc")
@click.argument("form_id")
@db_option
@click.option(
    "-c",
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="survey.toml: thresholds ([quality]), codes, fieldwork dates and the sample "
    "[default: survey.toml here, if there is one].",
)
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("qc"),
    show_default=True,
    help="Folder for <form>.qc.flags.csv/.json and <form>.qc.enumerators.csv.",
)
@click.option("--check", "checks", multiple=True, help="Run only this check (repeatable).")
@click.option("--force", is_flag=True, help="Run even if nothing changed since the last run.")
@click.option("--top", default=20, show_default=True, type=click.IntRange(0), help="Rows shown.")
@click.option(
    "--lang",
    type=click.Choice(["en", "zh"]),
    default="en",
    show_default=True,
    help="Language of the reasons.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@handle_errors
def qc(
    form_id: str,
    db: str | None,
    config_path: Path | None,
    out_dir: Path,
    checks: tuple[str, ...],
    force: bool,
    top: int,
    lang: str,
    quiet: bool,
) -> None:
    """Check FORM_ID's stored submissions per enumerator; print the risk ranking and write
    every flag with its evidence (CSV and JSON).

    Nothing is recomputed when no submission, audit log or setting changed since the last
    run (use --force to run anyway).
    """
    from surveys.quality import run_store_qc, write_outputs
    from surveys.store import open_store

    config = optional_config(config_path)
    with open_store(db) as store, progress_bar(f"qc {form_id}", quiet) as progress:
        result = run_store_qc(
            store, form_id, config, force=force, checks=list(checks) or None, progress=progress
        )
    paths = write_outputs(result, out_dir)
    click.echo(ranking_text(result, top, lang))
    click.echo(f"wrote {', '.join(str(p) for p in paths)}", err=True)


def ranking_text(result, top: int, lang: str = "en") -> str:
    """The summary line and the ``top`` rows of the ranking."""
    ranking = result.ranking
    flagged = int(ranking["flagged"].sum()) if len(ranking) else 0
    state = "checked" if result.ran else "unchanged since the last run"
    lines = [
        f"{result.form_id}: {result.submissions} submissions {state}; {len(result.flags)} flags; "
        f"{flagged} of {len(ranking)} enumerators flagged"
    ]
    if top and len(ranking):
        lines.append(f"{'rank':>4}  {'enumerator':<14}{'interviews':>10}{'risk':>8}  reasons")
        column = "reasons_zh" if lang == "zh" else "reasons_en"
        for row in ranking.head(top).itertuples():
            mark = "*" if row.flagged else " "
            lines.append(
                f"{row.rank:>4}{mark} {row.enumerator:<14}{row.interviews:>10}{row.risk:>8.1f}  "
                f"{getattr(row, column) or ''}"
            )
    lines += area_lines(result.report)
    return "\n".join(lines)


def area_lines(report) -> list[str]:
    """One line per area whose daughters fall short enough to need a look (Q806 per area,
    ``roles.area``): an area's practice that no single enumerator's births can show."""
    notes = report.notes.get("omitted_daughters", {}) if report is not None else {}
    lines = []
    for area in notes.get("areas", []):
        if area["needs_a_look"]:
            verdict = "flagged" if area["flagged"] else "needs a look"
            lines.append(
                f"area {area['area']}: {area['daughters']:.0f} daughters reported by "
                f"{area['women']} women vs {area['expected_daughters']:.1f} expected from their "
                f"ages and the {area['sons']:.0f} sons (z {area['z']:.1f}): {verdict}"
            )
    return lines
