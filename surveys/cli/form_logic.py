"""``popsurvey form logic FORM SUBMISSION.json``: check one submission against its form's
own logic (relevance, constraints, required, calculations, choice filters, repeat counts)."""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import click

import forms.lint.expressions  # noqa: F401  (registers lint rules L140/L141 for `form check`)
from forms.errors import FormsError
from forms.logic import FormLogic, QuestionResult, SubmissionCheck
from forms.reader import read_form
from surveys.cli.common import handle_errors
from surveys.cli.limits import max_unzipped_option


class SubmissionFileError(FormsError):
    """A submission file that cannot be read as OData JSON."""


def load_submissions(path: Path) -> list[dict[str, Any]]:
    """One submission (a JSON object), a list of them, or an OData ``{"value": [...]}``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise SubmissionFileError(f"{path}: cannot read ({err})") from None
    except json.JSONDecodeError as err:
        raise SubmissionFileError(
            f"{path}: not valid JSON (line {err.lineno}, column {err.colno}: {err.msg})"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("value"), list):
        data = data["value"]
    items = data if isinstance(data, list) else [data]
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise SubmissionFileError(f"{path}: submission {index} is not a JSON object")
    return items


@click.command("logic")
@click.argument("form_file", metavar="FORM", type=click.Path(path_type=Path))
@click.argument("submission_file", metavar="SUBMISSION.json", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help='Output format; json is always {"submissions": [one object per submission]}.',
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date today() returns (default: the real today).",
)
@click.option(
    "--attachment",
    "attachments",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A CSV form attachment (e.g. households.csv) that instance('households') and "
    "select_one_from_file read (repeatable).",
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="Text output: list every question, not only the problems.",
)
@max_unzipped_option
@handle_errors
def logic(
    form_file: Path,
    submission_file: Path,
    fmt: str,
    today: Any,
    attachments: tuple[Path, ...],
    show_all: bool,
) -> None:
    """Check SUBMISSION.json (Central OData JSON) against FORM's own logic.

    Prints per question: relevant or not, required but empty, constraint violated,
    calculation that differs, answer not among the choices offered, and anything that
    could not be evaluated. Exit code 1 when a submission violates its form's logic.

    ``--format json`` prints always one object, ``{"submissions": [...]}``, with one
    entry per submission in the file (also when the file holds a single one).
    """
    form_model = read_form(form_file)
    submissions = load_submissions(submission_file)
    day: date | None = today.date() if today is not None else None
    evaluator = FormLogic(form_model, attachments=read_attachments(attachments))
    checks = [evaluator.check(s, today=day) for s in submissions]
    if fmt == "json":
        payload = {"submissions": [cli_wording(c.to_dict()) for c in checks]}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for check in checks:
            _print_text(check, show_all)
    if any(i.severity.value == "error" for c in checks for i in c.violations()):
        raise SystemExit(1)


def read_attachments(paths: tuple[Path, ...]) -> dict[str, list[dict[str, str]]]:
    """The rows of each CSV attachment, by file name."""
    tables = {}
    for path in paths:
        try:
            with path.open(encoding="utf-8-sig", newline="") as handle:
                tables[path.name] = list(csv.DictReader(handle))
        except (OSError, UnicodeDecodeError, csv.Error) as err:
            raise FormsError(f"{path}: cannot read attachment: {err}") from err
    return tables


_LIBRARY_ATTACHMENT_HINT = re.compile(
    r"instance\('([^']*)'\) is not available \(an attached file or entity list: pass its "
    r"rows to FormLogic\(attachments=\.\.\.\)\)"
)


def cli_wording(value: Any) -> Any:
    """Library messages reworded for command-line users (strings inside dicts/lists too):
    a missing attachment asks for ``--attachment NAME.csv``."""
    if isinstance(value, str):
        return _LIBRARY_ATTACHMENT_HINT.sub(
            r"instance('\1') is not available (an attached file or entity list: pass "
            r"--attachment \1.csv)",
            value,
        )
    if isinstance(value, dict):
        return {k: cli_wording(v) for k, v in value.items()}
    if isinstance(value, list):
        return [cli_wording(v) for v in value]
    return value


def _print_text(check: SubmissionCheck, show_all: bool) -> None:
    issues = check.violations()
    click.echo(
        f"submission {check.instance_id or '(no instance ID)'} "
        f"(form {check.form_id}): {len(check.results)} checks, "
        f"{len(issues)} finding(s)"
    )
    for result in check.results:
        is_repeat = check.messages.get(result.name, {}).get("kind") == "repeat"
        line = _result_line(result, is_repeat)
        if show_all or line[0] not in ("ok", "skipped"):
            click.echo(cli_wording(f"  {line[0]:<14} {result.instance_path}{line[1]}"))
    for issue in issues:
        click.echo(cli_wording(f"  {issue.severity.value} {issue.code} {issue.message}"))


def _result_line(r: QuestionResult, is_repeat: bool = False) -> tuple[str, str]:
    value = f" = {r.value!r}" if r.value else ""
    if r.not_evaluated:
        return "not evaluated", f"{value}: {'; '.join(r.not_evaluated)}"
    if is_repeat and r.calculation_mismatch:
        instances, expected = r.calculation_mismatch
        return "REPEAT COUNT", f": {instances} instance(s), repeat_count gives {expected}"
    if r.constraint_ok is False:
        return "CONSTRAINT", value
    if r.required_missing:
        return "REQUIRED", " (empty)"
    if r.answer_not_offered:
        return "NOT OFFERED", value
    if r.calculation_mismatch:
        stored, recomputed = r.calculation_mismatch
        return "CALCULATION", f": stored {stored!r}, recomputed {recomputed!r}"
    if not r.relevant:
        return ("NOT RELEVANT" if r.value else "skipped"), value
    return "ok", value
