"""``popsurvey weight --survey DIR`` and ``popsurvey estimate --survey DIR`` (the store), and
``popsurvey estimate DATA --fertility`` (a DHS IR-layout file): the parts of the ``weight``
and ``estimate`` commands (:mod:`surveys.cli.weighting`) that are not a data file with
design columns.

Each mode accepts only the options it uses: an option given to a mode that does not use it
is an error naming it, never silently ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

if TYPE_CHECKING:
    import pandas as pd


class OptionConflict(click.UsageError):
    """An option the chosen mode does not use."""


def given(ctx: click.Context, names: Iterable[str]) -> list[str]:
    """The options among ``names`` (parameter names) that the user gave, as typed."""
    found = []
    for name in names:
        source = ctx.get_parameter_source(name)
        if source == ParameterSource.COMMANDLINE:
            param = next(p for p in ctx.command.params if p.name == name)
            found.append(param.opts[-1] if param.opts[-1].startswith("--") else param.opts[0])
    return found


def refuse(ctx: click.Context, mode: str, allowed: Sequence[str]) -> None:
    """Fail when an option outside ``allowed`` (parameter names) was given for ``mode``."""
    others = [p.name for p in ctx.command.params if p.name not in allowed and p.name]
    forbid(ctx, mode, others)


def forbid(ctx: click.Context, mode: str, names: Sequence[str]) -> None:
    """Fail when one of the options ``names`` (parameter names) was given for ``mode``."""
    extra = given(ctx, [n for n in names if n != "data"])
    if extra:
        raise OptionConflict(f"{', '.join(extra)}: not used with {mode}")


def _survey(survey: Path, form: str | None) -> tuple[Any, str, Path]:
    """survey.toml, the form to weight and the sample directory of a survey directory."""
    from surveys.config import CONFIG_FILE, load_config
    from surveys.errors import ConfigError
    from surveys.sampling.workflow import sample_directory

    path = survey / CONFIG_FILE if survey.is_dir() else survey
    config = load_config(path)
    form_id = form or config.weighting.form
    if not form_id:
        raise ConfigError(f'{path}: say which form to weight: [weighting] form = "..." or --form')
    return config, form_id, sample_directory(config, None)


def weight_survey(
    survey: Path, db: str | None, form: str | None, keep_invalid: bool, output: Path | None
) -> None:
    """Run the survey's configured weighting on the store and print its diagnostics."""
    from surveys.cli.progress import progress_bar
    from surveys.store import open_store
    from surveys.survey_weighting import run_weighting

    config, form_id, sample_dir = _survey(survey, form)
    with open_store(db) as store, progress_bar("weighting", quiet=False) as progress:
        weighted, found = run_weighting(
            store,
            form_id,
            sample_dir,
            config.weighting,
            keep_invalid=keep_invalid,
            progress=progress,
        )
    _print_diagnostics(form_id, weighted, found)
    if output is not None:
        from surveys.cli.weighting import write_tables

        write_tables(output, {"weights": weighted.respondents.frame()})
        click.echo(f"wrote {output}")


def _print_diagnostics(form_id: str, weighted: Any, found: dict) -> None:
    from weighting.diagnostics import history_table

    history = history_table(weighted.respondents)
    click.echo(click.style(f"Weighting of {form_id}", bold=True))
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(found["outcomes"].items()))
    click.echo(f"  {found['sampled households']} sampled households ({outcomes})")
    click.echo(f"  {found['respondents']} respondents weighted")
    for step in history.itertuples():
        state = "" if step.converged is None else f" (converged: {step.converged})"
        click.echo(f"  step {step.step}: {step.method}{state}")
    click.echo(
        f"  weights {found['weight min']:.6g} .. {found['weight max']:.6g} "
        f"(max/min {found['max/min ratio']:.3g}, CV {found['cv']:.3g}), total "
        f"{found['weight total']:.6g}; design effect due to weighting "
        f"{found['deff due to weighting (Kish)']:.4g}, effective n {found['effective n']:.1f}"
    )
    click.echo(f"  {weighted_message(found)}")
    for line in found["issues"]:
        click.echo(f"  {line}", err=True)


def weighted_message(found: dict) -> str:
    """What happened to the submissions with validation errors or rejected in review."""
    return str(found.get("left out") or "")


def survey_design(survey: Path, db: str | None, form: str | None):
    """The respondents' design of the survey's newest finished weighting run, its run and
    the form's analysis frames."""
    from surveys.store import open_store
    from surveys.survey_weighting import stored_design

    _, form_id, sample_dir = _survey(survey, form)
    with open_store(db) as store:
        return stored_design(store, form_id, sample_dir)


def estimate_survey(
    survey: Path,
    db: str | None,
    form: str | None,
    by: Sequence[str],
    level: float,
    language: str,
    output,
) -> None:
    """The survey's indicators from the stored weights (in each ``by`` domain), printed and
    written."""
    from surveys.survey_weighting import survey_indicators

    design, run, frames = survey_design(survey, db, form)
    table, issues = survey_indicators(design, frames, level=level, by=list(by) or None)
    for issue in issues:
        click.echo(issue.one_line(), err=True)
    title = run_title(run, design)
    if "d_hist" in frames.repeats:
        title += "; TFR, ASFR, GFR: DHS delete-one-cluster jackknife on the final weights"
    show_and_write(title, {"indicators": table}, language, output)


def run_title(run: Any, design: Any = None) -> str:
    """One line naming the weighting run estimates come from (and, given the design, how
    their SEs are computed)."""
    when = f" of {run.finished_at:%Y-%m-%d %H:%M} UTC" if run.finished_at else ""
    title = f"{run.form_id}: estimates on weighting run {run.id}{when}"
    if design is None:
        return title
    from surveys.survey_weighting import variance_note

    return f"{title}\n  SEs: {variance_note(design)}"


def show_and_write(
    title: str, sheets: dict[str, pd.DataFrame], language: str, output: Path | None
) -> None:
    from surveys.cli.weighting import _print, write_tables
    from surveys.survey_weighting import in_language

    shown = {name: in_language(table, language) for name, table in sheets.items()}
    for table in shown.values():
        _print(title, table)
    if output:  # full precision in the file; the screen shows 6 significant digits
        write_tables(output, shown)
        click.echo(f"wrote {output}")


def estimate_fertility_file(
    data: Path,
    by: Sequence[str],
    where: Sequence[str],
    level: float,
    interval: str,
    language: str,
    output: Path | None,
) -> None:
    """DHS rates (and the sex ratio at birth when the file has b4_NN) from an IR file, overall
    or by domain, on the women ``--where`` selects."""
    from weighting.io import read_table

    frame = read_table(data)
    table = fertility_table(frame, by, where, level=level, interval=interval)
    title = "Fertility (DHS method, 36 months before interview; jackknife SE over clusters"
    title += " within each domain)" if by else ")"
    show_and_write(title, {"fertility": table}, language, output)


def fertility_table(
    frame: pd.DataFrame,
    by: Sequence[str],
    where: Sequence[str],
    *,
    level: float = 0.95,
    interval: str = "log",
) -> pd.DataFrame:
    """ASFR, TFR, GFR by domain (and SRB overall and by birth order when the IR file has
    the children's sex) of the women selected by ``where`` (``VARIABLE=VALUE``, all hold)."""
    import pandas as pd

    from weighting.design import SurveyDesign
    from weighting.fertility import (
        births_from_ir,
        fertility_by_domain,
        no_birth_notes,
        women_from_ir,
    )
    from weighting.indicators import sex_ratio_at_birth

    keep = frame_mask(frame, where)
    frame = frame[keep].reset_index(drop=True)
    domain = domain_labels(frame, by)
    rates = fertility_by_domain(women_from_ir(frame), domain, interval=interval, level=level)
    rates["note"] = no_birth_notes(rates)
    if not any(str(c).lower().startswith("b4_") for c in frame.columns):
        return rates if domain is not None else rates.drop(columns="domain")
    births = births_from_ir(frame)
    births["domain"] = None if domain is None else domain.to_numpy()[births["woman"]]
    design = SurveyDesign.from_frame(
        births,
        weights="weight",
        ids="v021",
        strata="v022" if "v022" in births.columns else None,
        lonely_psu="adjust",
    )
    rows = []
    for column, name in ((None, "SRB"), ("birth_order", "SRB birth order")):
        crossed = [c for c in (("domain" if domain is not None else None), column) if c]
        for e in sex_ratio_at_birth(design, "b4", male=1, female=2, by=crossed or None):
            label, order = _split_domain(e.domain, domain is not None, column is not None)
            rows.append(
                {
                    "domain": label,
                    "indicator": f"{name} {order}" if column else name,
                    "estimate": e.estimate,
                    "se": e.se,
                    "ci_low": e.ci_low,
                    "ci_high": e.ci_high,
                    "deff": e.deff,
                    "n": e.n,
                    "note": "live births in the histories with known sex, boys per 100 girls",
                }
            )
    table = pd.concat([rates, pd.DataFrame(rows)], ignore_index=True)
    return table if domain is not None else table.drop(columns="domain")


def _split_domain(label: Any, has_domain: bool, has_order: bool) -> tuple[Any, str]:
    if not (has_domain and has_order):
        return (label if has_domain else None), ("" if has_domain else str(label or ""))
    domain, _, order = str(label).rpartition(".")
    return domain, order


def domain_labels(frame: pd.DataFrame, by: Sequence[str]) -> pd.Series | None:
    """One domain label per row (several variables crossed with "."), or None."""
    from weighting.errors import DataFileError

    if not by:
        return None
    missing = [b for b in by if b not in frame.columns]
    if missing:
        raise DataFileError(f"--by {missing[0]}: no such column in the data")
    parts = frame[list(by)]
    labels = parts.astype(str).agg(".".join, axis=1)
    return labels.where(parts.notna().all(axis=1), None)


def frame_mask(frame: pd.DataFrame, where: Sequence[str]):
    """Rows where every ``VARIABLE=VALUE`` holds (numbers compared as numbers)."""
    import numpy as np
    import pandas as pd

    from weighting.errors import WeightingError

    keep = np.ones(len(frame), dtype=bool)
    for spec in where:
        if "=" not in spec:
            raise WeightingError(f"--where {spec!r}: write VARIABLE=VALUE")
        variable, text = spec.split("=", 1)
        if variable not in frame.columns:
            raise WeightingError(f"--where {spec}: no variable {variable!r} in the data")
        column = frame[variable]
        if pd.api.types.is_numeric_dtype(column):
            try:
                value: Any = float(text)
            except ValueError as err:
                raise WeightingError(f"--where {spec}: {variable!r} is numeric") from err
        else:
            value = text
        keep &= (column == value).to_numpy()
    if not keep.any():
        raise WeightingError(f"--where {' '.join(where)}: no row matches")
    return keep
