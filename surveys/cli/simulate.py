"""``popsurvey simulate``: simulated fieldwork for demos, tests and deployment dry runs."""

from __future__ import annotations

from pathlib import Path

import click

from surveys.cli.common import handle_errors


def _shares(values: tuple[str, ...]) -> dict[str, float] | None:
    if not values:
        return None
    out = {}
    for item in values:
        name, _, share = item.partition("=")
        try:
            out[name.strip()] = float(share)
        except ValueError:
            raise click.BadParameter(f"'{item}': use PROFILE=SHARE, e.g. speeder=0.05") from None
    return out


@click.command()
@click.argument("survey", default="survey.toml", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    default="simulated",
    type=click.Path(file_okay=False, path_type=Path),
    show_default=True,
    help="Folder for pages/, audits/ and ground_truth/.",
)
@click.option(
    "--entities",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sample list (default: sample/entities/<list>.csv next to survey.toml).",
)
@click.option(
    "--form",
    "form_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Questionnaire(s) to simulate (default: survey.toml's questionnaires).",
)
@click.option(
    "--seed", default=1, show_default=True, type=int, help="Seed: same seed, same fieldwork."
)
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    metavar="NAME=SHARE",
    help="Share of enumerators with a behaviour profile (repeatable); "
    "default 3% for each planted problem.",
)
@click.option("--tfr", default=1.3, show_default=True, help="Total fertility rate of the births.")
@click.option(
    "--srb", default=110.0, show_default=True, help="Sex ratio at birth (boys per 100 girls)."
)
@click.option(
    "--outcomes",
    "outcomes_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help='JSON visit-outcome shares by stratum, e.g. {"*": {"1": 0.9, "3": 0.1}} '
    "(a06_visit_result codes; default 88% met, 5% no one home, 4% refused, ...).",
)
@click.option("--workers", default=1, show_default=True, help="Processes simulating chunks.")
@click.option(
    "--central", help="Submit to this ODK Central (URL) over OpenRosa instead of writing files."
)
@click.option("--project", type=int, help="Central project id (with --central).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--tokens",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV enumerator,token: each enumerator's app-user token (with --central).",
)
@handle_errors
def simulate(
    survey: Path,
    out_dir: Path,
    entities: Path | None,
    form_files: tuple[str, ...],
    seed: int,
    profiles: tuple[str, ...],
    tfr: float,
    srb: float,
    central: str | None,
    project: int | None,
    tokens: Path | None,
    workers: int,
    outcomes_file: Path | None,
    quiet: bool,
) -> None:
    """Simulate fieldwork for the survey's drawn and assigned sample: OData JSON pages and
    audit logs in --out (read them with `popsurvey import`), with a ground truth of the
    planted problems; or, with --central, submit them as the enumerators' app users."""
    import pandas as pd

    from forms import read_form
    from surveys.cli.progress import progress_bar
    from surveys.config import load_config
    from surveys.errors import ConfigError
    from surveys.simulate import DemographyParams, simulate_fieldwork
    from surveys.simulate.models import Codes
    from surveys.simulate.output import form_folder, simulate_to_directory

    config = load_config(survey)
    list_name = config.central.entity_list if config.central else "households"
    entities = entities or config.directory / "sample" / "entities" / f"{list_name}.csv"
    if not entities.is_file():
        raise ConfigError(
            f"{entities}: no sample list; run `popsurvey sample draw` and `sample assign`"
        )
    table = pd.read_csv(entities, dtype=str, keep_default_na=False)
    if "enumerator" not in table.columns or "name" not in table.columns:
        raise ConfigError(f"{entities}: the sample list needs columns name and enumerator")
    start = config.fieldwork.start if config.fieldwork else None
    end = config.fieldwork.end if config.fieldwork else None
    if start is None or end is None:
        raise ConfigError(f"{config.path.name}: fieldwork: start and end are needed to simulate")
    paths = [Path(p) for p in form_files] or list(config.questionnaires)
    codes = Codes(
        dont_know=tuple(str(c) for c in config.codes.dont_know),
        refused=tuple(str(c) for c in config.codes.refused),
    )
    token_of = {}
    if central:
        if project is None or tokens is None:
            raise click.UsageError("--central needs --project and --tokens")
        token_of = dict(
            pd.read_csv(tokens, dtype=str)[["enumerator", "token"]].itertuples(index=False)
        )
    settings = {
        "start": start,
        "end": end,
        "survey_id": config.id,
        "demography": DemographyParams(tfr=tfr, srb=srb),
        "codes": codes,
        "outcomes": _outcomes(outcomes_file),
    }
    forms = [read_form(path) for path in paths]  # every form read before anything is written
    for number, form in enumerate(forms):
        if central:
            result = simulate_fieldwork(
                form,
                table,
                config.enumerators,
                seed=seed + number,
                profiles=_shares(profiles),
                **settings,
            )
            with progress_bar(f"submit {form.form_id}", quiet) as progress:
                sent = _submit(result, central, project, token_of, progress)
            click.echo(f"{form.form_id}: {sent} submissions sent to {central} (project {project})")
            continue
        with progress_bar(f"simulate {form.form_id}", quiet) as progress:
            summary = simulate_to_directory(
                form,
                table,
                config.enumerators,
                out_dir,
                seed=seed + number,
                workers=workers,
                profiles=_shares(profiles),
                progress=progress,
                **settings,
            )
        click.echo(
            f"{form.form_id}: {summary.submissions} submissions, {summary.audits} audit logs, "
            f"{summary.planted} planted problems; {len(summary.issues)} unsatisfied "
            f"constraints -> {out_dir}/pages/{form_folder(form.form_id)}/ ({summary.pages} pages)"
        )


def _outcomes(path: Path | None) -> dict | None:
    import json

    from surveys.errors import ConfigError

    if path is None:
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not JSON ({err})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected {{stratum: {{code: share}}}}")
    return data


def _submit(result, central: str, project: int, token_of: dict[str, str], progress) -> int:
    import requests

    from surveys.errors import ConfigError
    from surveys.simulate.openrosa import app_user_url, post_submission, submission_xml

    session = requests.Session()
    sent = 0
    for record in result.submissions:
        enumerator = record["__system"]["submitterName"]
        token = token_of.get(enumerator)
        if token is None:
            raise ConfigError(f"no app-user token for enumerator {enumerator} in --tokens")
        audit = result.audits.get(record["__id"])
        post_submission(
            session,
            app_user_url(central, token, project),
            xml=submission_xml(result.form, record),
            attachments={"audit.csv": audit.encode()} if audit else {},
            instance_id=record["__id"],
            device_id=record["__system"].get("deviceId"),
        )
        sent += 1
        progress(sent, len(result.submissions))
    return sent
