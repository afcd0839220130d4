"""``popsurvey weight`` and ``popsurvey estimate``: a thin layer over :mod:`weighting`.

Both read any data file a statistician brings (CSV, Parquet, .dta, .sav, .xlsx) with named
columns, print tables on the terminal and write CSV or XLSX (by the output's extension).
Outputs are written to a temporary file and moved into place, so a failure leaves nothing
half-written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from surveys.cli.common import db_option, handle_errors

if TYPE_CHECKING:  # the weighting stack (scipy, pandas) loads only when a command runs
    import pandas as pd

    from weighting.design import SurveyDesign

OUTPUT_TYPES = (".csv", ".xlsx")


def design_options(func):
    """The options that declare a design (as R's svydesign arguments)."""
    options = [
        click.option("--weights", "weights", help="Column of design weights."),
        click.option("--probs", help="Column of overall inclusion probabilities (weights = 1/p)."),
        click.option("--ids", multiple=True, help="Cluster column of a stage (repeat for stages)."),
        click.option("--strata", help="Stratum column (first stage)."),
        click.option("--fpc", multiple=True, help="Population size or fraction column per stage."),
        click.option("--nest", is_flag=True, help="Cluster codes repeat across strata."),
        click.option(
            "--lonely-psu",
            type=click.Choice(["fail", "remove", "adjust", "average", "certainty"]),
            default="fail",
            show_default=True,
            help="What a stratum with one PSU contributes to the variance.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _design(data: Path, weights, probs, ids, strata, fpc, nest, lonely_psu) -> SurveyDesign:
    from weighting.design import SurveyDesign
    from weighting.io import read_table

    return SurveyDesign.from_frame(
        read_table(data),
        weights=weights,
        probs=probs,
        ids=list(ids) or None,
        strata=strata,
        fpc=list(fpc) or None,
        nest=nest,
        lonely_psu=lonely_psu,
    )


def _check_output(path: Path | None) -> None:
    from weighting.errors import DataFileError

    if path is not None and path.suffix.lower() not in OUTPUT_TYPES:
        raise DataFileError(f"{path}: output must be .csv or .xlsx")


def write_tables(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    """Write the first table as CSV, or every table as a sheet of an XLSX, atomically."""
    import pandas as pd

    from forms.files import atomic_path
    from weighting.errors import DataFileError

    try:
        with atomic_path(path) as tmp:
            if path.suffix.lower() == ".csv":
                next(iter(sheets.values())).to_csv(tmp, index=False)
            else:
                with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                    for name, table in sheets.items():
                        table.to_excel(writer, sheet_name=name[:31], index=False)
    except OSError as err:
        raise DataFileError(f"{path}: cannot write: {err}") from err


def _print(title: str, table: pd.DataFrame) -> None:
    import pandas as pd

    click.echo(click.style(title, bold=True))
    with pd.option_context(
        "display.max_rows", 200, "display.width", 140, "display.float_format", "{:.6g}".format
    ):
        # no domain (None) and a normal-theory interval (df NaN) print as blanks, not "None"/"NaN"
        blanks = {c: "" for c in table.columns if table[c].dtype == object}
        click.echo(table.fillna(blanks).to_string(index=False, na_rep=""))
    click.echo()


def survey_options(func):
    """The options that point at a survey and its store (``--survey`` mode)."""
    options = [
        click.option(
            "--survey",
            type=click.Path(exists=True, path_type=Path),
            help="Survey directory (or its survey.toml): work on the store (--db), not on DATA.",
        ),
        db_option,
        click.option(
            "--form", "form_id", help="With --survey: form to use (default [weighting] form)."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command()
@click.argument("data", type=click.Path(path_type=Path), required=False)
@survey_options
@click.option(
    "--keep-invalid",
    is_flag=True,
    help="With --survey: keep submissions with validation errors or rejected in review.",
)
@design_options
@click.option(
    "--nonresponse",
    "outcome",
    help="Outcome column: respondent, nonrespondent, ineligible, unknown.",
)
@click.option(
    "--nr-codes", help='Outcome codes as JSON, e.g. \'{"respondent": 1, "nonrespondent": 2, ...}\'.'
)
@click.option(
    "--classes", multiple=True, help="Weighting-class column for non-response (repeatable)."
)
@click.option(
    "--post-stratify",
    "poststrat",
    type=click.Path(path_type=Path),
    help="Targets CSV with one margin.",
)
@click.option(
    "--rake",
    "rake_targets",
    type=click.Path(path_type=Path),
    help="Targets CSV of margins to rake to.",
)
@click.option(
    "--calibrate",
    "cal_targets",
    type=click.Path(path_type=Path),
    help="Targets CSV to calibrate to.",
)
@click.option(
    "--distance",
    type=click.Choice(["linear", "raking", "logit"]),
    default="linear",
    show_default=True,
    help="Calibration distance function (as R's calibrate(calfun=...)).",
)
@click.option("--bounds", nargs=2, type=float, help="Lower and upper bound of the g-weights.")
@click.option(
    "--epsilon",
    type=float,
    help="Convergence tolerance (raking: cell change; calibration: relative misfit).",
)
@click.option("--maxit", type=int, help="Most sweeps (raking) or Newton iterations (calibration).")
@click.option("--trim", nargs=2, type=float, help="Trim the final weights to LOWER UPPER.")
@click.option(
    "--replicates",
    "replicate_type",
    type=click.Choice(["JK1", "JKn", "BRR", "bootstrap", "subbootstrap"]),
    help="Also build replicate weights of this type, carried through every step.",
)
@click.option(
    "--n-replicates", type=int, default=50, show_default=True, help="Bootstrap replicates."
)
@click.option(
    "--seed", type=int, default=12345, show_default=True, help="Seed of bootstrap replicates."
)
@click.option("--force", is_flag=True, help="Keep weights that did not converge.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    help="Weighted data, .csv or .xlsx (required with DATA).",
)
@click.pass_context
@handle_errors
def weight(
    ctx,
    data,
    survey,
    db,
    form_id,
    keep_invalid,
    weights,
    probs,
    ids,
    strata,
    fpc,
    nest,
    lonely_psu,
    outcome,
    nr_codes,
    classes,
    poststrat,
    rake_targets,
    cal_targets,
    distance,
    bounds,
    epsilon,
    maxit,
    trim,
    replicate_type,
    n_replicates,
    seed,
    force,
    output,
):
    """Weight DATA: non-response, post-stratification / raking / calibration, trimming.

    Steps run in that order; each is recorded in the history printed at the end (and written
    to the XLSX's "history" sheet). Targets CSVs have columns variable, level, total.

    With --survey DIR instead of DATA: run the weighting survey.toml's [weighting] describes
    on the store's submissions and the drawn sample, keep the weights and the run in the
    store (a rerun replaces the previous run once it finished) and print the diagnostics.
    """
    import numpy as np
    import pandas as pd

    from surveys.cli import survey_weighting as by_survey

    if survey is not None or data is None:
        if survey is None:
            raise click.UsageError("give DATA or --survey DIR")
        if data is not None:
            raise click.UsageError("give DATA or --survey DIR, not both")
        by_survey.refuse(ctx, "--survey", ("survey", "db", "form_id", "keep_invalid", "output"))
        _check_output(output)
        return by_survey.weight_survey(survey, db, form_id, keep_invalid, output)
    by_survey.forbid(ctx, "DATA", ("db", "form_id", "keep_invalid"))
    if output is None:
        raise click.UsageError("give -o/--output for the weighted data")

    from weighting.diagnostics import history_table, margin_check, weight_summary
    from weighting.errors import WeightingError
    from weighting.steps import adjust_nonresponse, calibrate, post_stratify, rake, trim_weights
    from weighting.targets import read_targets

    _check_output(output)
    design = _design(data, weights, probs, ids, strata, fpc, nest, lonely_psu)
    if replicate_type:
        design = design.with_replicates(replicate_type, replicates=n_replicates, seed=seed)
    if outcome:
        try:
            codes = json.loads(nr_codes) if nr_codes else None
        except json.JSONDecodeError as err:
            raise WeightingError(f"--nr-codes is not JSON: {err}") from err
        design = adjust_nonresponse(design, outcome, classes=list(classes), codes=codes)
    checks = []
    if poststrat:
        targets = read_targets(poststrat)
        if len(targets.margins) != 1:
            raise WeightingError(f"{poststrat}: post-stratification needs exactly one margin")
        design = post_stratify(design, targets.margins[0])
        checks.append(targets)
    if rake_targets:
        targets = read_targets(rake_targets)
        # tighter than R's defaults (epsilon 1, 10 sweeps): the margins are met to 1e-9
        design = rake(design, targets, force=force, epsilon=epsilon or 1e-9, maxit=maxit or 100)
        checks.append(targets)
    if cal_targets:
        targets = read_targets(cal_targets)
        opts = {k: v for k, v in (("epsilon", epsilon), ("maxit", maxit)) if v is not None}
        design = calibrate(
            design,
            targets,
            distance=distance,
            bounds=tuple(bounds) if bounds else (-np.inf, np.inf),
            force=force,
            **opts,
        )
        checks.append(targets)
    if trim:
        design = trim_weights(design, lower=trim[0], upper=trim[1])
    history = history_table(design)
    summary = pd.DataFrame([weight_summary(design)])
    margins = pd.concat([margin_check(design, t) for t in checks]) if checks else pd.DataFrame()
    _print(
        "Weighting history",
        history[["method", "iterations", "converged"]].astype(object).where(history.notna(), ""),
    )
    _print("Weights", summary.T.reset_index().set_axis(["statistic", "value"], axis=1))
    if not margins.empty:
        _print("Margins: achieved against target", margins)
    sheets = {"data": design.frame(), "summary": summary, "history": history}
    if not margins.empty:
        sheets["margins"] = margins
    reps = design.replicates
    if reps is not None:
        sheets["replicates"] = pd.DataFrame(
            {"replicate": [f"repw_{i + 1}" for i in range(reps.count)], "rscale": reps.rscales}
        ).assign(type=reps.kind, scale=reps.scale)
    write_tables(output, sheets)
    click.echo(f"wrote {output} ({design.n} rows, weight column {design.weight_column!r})")
    if reps is not None:
        click.echo(
            f"replicate weights repw_1..repw_{reps.count}: {reps.kind}, scale {reps.scale:.10g}"
            + ("" if np.allclose(reps.rscales, 1) else " (per-replicate rscales in the sheet)")
        )


@click.command()
@click.argument("data", type=click.Path(path_type=Path), required=False)
@survey_options
@design_options
@click.option("--replicate-weights", "rep_prefix", help="Prefix of given replicate weight columns.")
@click.option(
    "--replicate-type", default="bootstrap", show_default=True, help="Type of the given replicates."
)
@click.option("--scale", type=float, help="Variance scale of the given replicates.")
@click.option(
    "--replicates",
    "replicate_type_new",
    type=click.Choice(["JK1", "JKn", "BRR", "bootstrap", "subbootstrap"]),
    help="Build replicate weights from the design.",
)
@click.option("--mean", "means", multiple=True, help="Variable to average (repeatable).")
@click.option("--total", "totals", multiple=True, help="Variable to total (repeatable).")
@click.option("--ratio", "ratios", multiple=True, help="NUMERATOR/DENOMINATOR (repeatable).")
@click.option(
    "--proportion",
    "proportions",
    multiple=True,
    help="VARIABLE=VALUE, logit interval (repeatable).",
)
@click.option(
    "--quantile",
    "quantiles",
    multiple=True,
    help="Variable whose quartiles to estimate (repeatable).",
)
@click.option("--by", multiple=True, help="Domain variable(s); several are crossed.")
@click.option("--where", multiple=True, help="Subpopulation VARIABLE=VALUE (repeatable: all hold).")
@click.option(
    "--level", type=float, default=0.95, show_default=True, help="Confidence level of the CIs."
)
@click.option(
    "--fertility", is_flag=True, help="DATA is a DHS IR-layout women's file: ASFR, TFR, GFR."
)
@click.option(
    "--rate-interval",
    type=click.Choice(["log", "wald"]),
    default="log",
    show_default=True,
    help="With --fertility: 95% interval on the log scale (never below 0) or DHS's +/- 1.96 SE.",
)
@click.option(
    "--language",
    type=click.Choice(["zh", "en"]),
    default="en",
    show_default=True,
    help="Language of the indicator names and column headers.",
)
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Results, .csv or .xlsx.")
@click.pass_context
@handle_errors
def estimate(
    ctx,
    data,
    survey,
    db,
    form_id,
    weights,
    probs,
    ids,
    strata,
    fpc,
    nest,
    lonely_psu,
    rep_prefix,
    replicate_type,
    scale,
    replicate_type_new,
    means,
    totals,
    ratios,
    proportions,
    quantiles,
    by,
    where,
    level,
    fertility,
    rate_interval,
    language,
    output,
):
    """Estimate means, totals, ratios, proportions, quantiles (or fertility rates) with SEs.

    On DATA, a file with design columns; with --fertility, DATA is a DHS IR-layout women's
    file (rates by --by domain, jackknife within each domain; SRB when it has b4_NN). With
    --survey DIR, on the store's newest weighting run: the survey's indicators, or the
    --mean, --proportion, ... asked for. Options a mode does not use are errors.
    """
    import numpy as np

    from surveys.cli import survey_weighting as by_survey
    from weighting.design import SurveyDesign
    from weighting.errors import WeightingError
    from weighting.estimate import (
        estimates_table,
        svy_mean,
        svy_proportion,
        svy_quantile,
        svy_ratio,
        svy_total,
    )
    from weighting.io import read_table

    _check_output(output)
    asked = any((means, totals, ratios, proportions, quantiles))
    title = "Estimates"
    if survey is not None:
        if data is not None:
            raise click.UsageError("give DATA or --survey DIR, not both")
        common = ("survey", "db", "form_id", "level", "language", "output")
        if not asked:
            by_survey.refuse(ctx, "--survey (the survey's indicators)", (*common, "by"))
            return by_survey.estimate_survey(survey, db, form_id, by, level, language, output)
        generic = ("means", "totals", "ratios", "proportions", "quantiles", "by", "where")
        by_survey.refuse(ctx, "--survey", (*common, *generic))
        design, run, _ = by_survey.survey_design(survey, db, form_id)
        title = by_survey.run_title(run, design)
    elif data is None:
        raise click.UsageError("give DATA or --survey DIR")
    else:
        by_survey.forbid(ctx, "DATA", ("db", "form_id"))
    if fertility and survey is None:
        fertility_options = ("by", "where", "level", "rate_interval", "language", "output")
        by_survey.refuse(ctx, "--fertility", ("fertility", *fertility_options))
        return by_survey.estimate_fertility_file(
            data, by, where, level, rate_interval, language, output
        )
    by_survey.forbid(ctx, "estimates other than --fertility", ("rate_interval",))
    if survey is None and rep_prefix:
        frame = read_table(data)
        cols = [c for c in frame.columns if str(c).startswith(rep_prefix)]
        if not cols or not weights or scale is None:
            raise WeightingError(
                "given replicate weights need --weights, --scale and columns with the prefix"
            )
        design = SurveyDesign.from_replicate_weights(
            frame, weights=weights, replicate_weights=cols, kind=replicate_type, scale=scale
        )
    elif survey is None:
        design = _design(data, weights, probs, ids, strata, fpc, nest, lonely_psu)
        if replicate_type_new:
            design = design.with_replicates(replicate_type_new)
    domain = list(by) or None
    subset = np.ones(design.n, dtype=bool)
    for spec in where:
        if "=" not in spec:
            raise WeightingError(f"--where {spec!r}: write VARIABLE=VALUE")
        var, value = spec.split("=", 1)
        subset &= (design.data[var] == _value(design, var, value)).to_numpy()
    rows = []
    for var in (*means, *totals, *quantiles):
        _check_numbers(design, var)
    for var in means:
        rows += svy_mean(design, var, by=domain, level=level, subset=subset)
    for var in totals:
        rows += svy_total(design, var, by=domain, level=level, subset=subset)
    for spec in ratios:
        if "/" not in spec:
            raise WeightingError(f"--ratio {spec!r}: write NUMERATOR/DENOMINATOR")
        num, den = spec.split("/", 1)
        rows += svy_ratio(design, num, den, by=domain, level=level, subset=subset)
    for spec in proportions:
        if "=" not in spec:
            raise WeightingError(f"--proportion {spec!r}: write VARIABLE=VALUE")
        var, value = spec.split("=", 1)
        rows += svy_proportion(
            design, var, _value(design, var, value), by=domain, level=level, subset=subset
        )
    for var in quantiles:
        rows += svy_quantile(design, var, [0.25, 0.5, 0.75], by=domain, level=level, subset=subset)
    if not rows:
        raise WeightingError(
            "nothing to estimate: give --mean, --total, --ratio, --proportion or --quantile"
        )
    table = estimates_table(rows)
    by_survey.show_and_write(title, {"estimates": table}, language, output)


def _check_numbers(design: SurveyDesign, variable: str) -> None:
    """A column of numbers with a few cells that are not (``abc``) is an error naming those
    rows, not a categorical variable estimated level by level."""
    import pandas as pd

    from weighting.errors import WeightingError

    if variable not in design.data.columns or pd.api.types.is_numeric_dtype(design.data[variable]):
        return
    column = design.data[variable]
    present = column.notna() & (column.astype(str).str.strip() != "")
    numbers = pd.to_numeric(column.where(present), errors="coerce")
    bad = present & numbers.isna()
    if bad.any() and numbers.notna().sum() >= bad.sum():
        positions = [i + 1 for i in bad.to_numpy().nonzero()[0]]
        shown = ", ".join(f"{p} ({column.iloc[p - 1]!r})" for p in positions[:5]) + (
            f" and {len(positions) - 5} more" if len(positions) > 5 else ""
        )
        raise WeightingError(
            f"{variable!r} holds numbers but {len(positions)} row(s) are not numbers: "
            f"data row {shown}; fix them (or blank them as missing)"
        )


def _value(design: SurveyDesign, variable: str, text: str):
    """The value ``text`` as the type of the column (so 1 matches an integer column)."""
    import pandas as pd

    from weighting.errors import WeightingError

    if variable not in design.data.columns:
        raise WeightingError(f"no variable {variable!r} in the data")
    if pd.api.types.is_numeric_dtype(design.data[variable]):
        try:
            return float(text)
        except ValueError as err:
            raise WeightingError(
                f"--proportion {variable}={text}: {variable!r} is numeric"
            ) from err
    return text
