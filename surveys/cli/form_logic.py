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


VECTOR_FROM = 20
"""From this many submissions on, ``auto`` checks them with the vectorised engine."""


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
@click.option(
    "--details",
    is_flag=True,
    help="Text output for several submissions: every finding after the summary.",
)
@click.option(
    "--engine",
    type=click.Choice(["auto", "vector", "per-record"]),
    default="auto",
    show_default=True,
    help=f"vector: the whole file at once (relevance, constraints, required); per-record: "
    f"every check, one submission at a time (slow). auto: vector above {VECTOR_FROM - 1} "
    "submissions unless --all.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@max_unzipped_option
@handle_errors
def logic(
    form_file: Path,
    submission_file: Path,
    fmt: str,
    today: Any,
    attachments: tuple[Path, ...],
    show_all: bool,
    details: bool,
    engine: str,
    quiet: bool,
) -> None:
    """Check SUBMISSION.json (Central OData JSON) against FORM's own logic.

    One submission: per question, relevant or not, required but empty, constraint
    violated, calculation that differs, answer not among the choices offered, and anything
    that could not be evaluated. Several: a summary first (findings by code and question),
    each finding with --details. Exit code 1 when a submission violates its form's logic.

    Many submissions are checked by the vectorised engine (relevance, constraints,
    required: X101-X103, X199) in seconds; --engine per-record runs every check (also
    calculations, choice filters, repeat counts) one submission at a time.

    ``--format json`` prints always one object, ``{"submissions": [...]}``, with one
    entry per submission in the file (also when the file holds a single one); the
    vectorised engine gives each one its ``violations`` only.
    """
    from surveys.cli.progress import progress_bar

    form_model = read_form(form_file)
    submissions = load_submissions(submission_file)
    day: date | None = today.date() if today is not None else None
    tables = read_attachments(attachments)
    vector = engine == "vector" or (
        engine == "auto" and len(submissions) >= VECTOR_FROM and not show_all
    )
    with progress_bar("form logic", quiet) as progress:
        if vector:
            findings = _vector_findings(form_model, submissions, tables, day, progress)
            checks = None
        else:
            evaluator = FormLogic(form_model, attachments=tables)
            checks = []
            for done, submission in enumerate(submissions, start=1):
                checks.append(evaluator.check(submission, today=day))
                progress(done, len(submissions))
            findings = [i for c in checks for i in c.violations()]
    if fmt == "json":
        if checks is not None:
            entries = [cli_wording(c.to_dict()) for c in checks]
        else:
            entries = _vector_entries(form_model.form_id, submissions, findings)
        click.echo(json.dumps({"submissions": entries}, ensure_ascii=False, indent=2))
    elif checks is not None and len(checks) == 1:
        _print_text(checks[0], show_all)
    else:
        _print_summary(form_model.form_id, len(submissions), findings, vector)
        if details or show_all:
            for check in checks or ():
                if show_all or check.violations():
                    _print_text(check, show_all)
            if checks is None:
                for issue in findings:
                    click.echo(cli_wording(f"  {issue.one_line()}"))
        elif findings:
            click.echo("(each finding: --details)")
    if any(i.severity.value == "error" for i in findings):
        raise SystemExit(1)


def _vector_findings(
    form_model: Any,
    submissions: list[dict[str, Any]],
    tables: dict[str, list[dict[str, str]]],
    day: date | None,
    progress: Any,
) -> list[Any]:
    """X101-X103 and X199 for every submission at once (:mod:`forms.xpath.vectorized`)."""
    from forms.frames import submission_frames
    from forms.xpath.vectorized import VectorLogic

    frames = submission_frames(form_model, submissions)
    logic = VectorLogic(form_model, attachments=tables)
    results = logic.evaluate(frames, today=day, progress=progress)
    return results.issues(frames)


def _vector_entries(
    form_id: str, submissions: list[dict[str, Any]], findings: list[Any]
) -> list[dict[str, Any]]:
    """One JSON entry per submission (in file order) with its findings."""
    by_instance: dict[str, list[dict[str, Any]]] = {}
    for issue in findings:
        by_instance.setdefault(str(issue.instance_id), []).append(cli_wording(issue.to_dict()))
    entries = []
    for submission in submissions:
        key = submission.get("__id") or (submission.get("meta") or {}).get("instanceID")
        entries.append(
            {"form_id": form_id, "instance_id": key, "violations": by_instance.get(str(key), [])}
        )
    return entries


def _print_summary(form_id: str, count: int, findings: list[Any], vector: bool) -> None:
    """The summary of several submissions: how many have findings, by code and question."""
    from collections import Counter

    engine = "vectorised: relevance, constraints, required" if vector else "every check"
    with_findings = len({i.instance_id for i in findings})
    click.echo(
        f"{count} submission(s) of form {form_id} checked ({engine}): "
        f"{with_findings} with findings, {len(findings)} finding(s)"
    )
    by_code = Counter((i.severity.value, i.code) for i in findings)
    for (severity, code), n in sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0])):
        questions = Counter(i.variable for i in findings if i.code == code).most_common(5)
        shown = ", ".join(f"{name} ({k})" for name, k in questions)
        click.echo(f"  {severity} {code} {_CODE_TITLES.get(code, '')}: {n} ({shown})")


_CODE_TITLES = {
    "X101": "constraint violated",
    "X102": "required but empty",
    "X103": "answered but not relevant",
    "X104": "calculation differs",
    "X105": "answer not offered",
    "X106": "repeat count differs",
    "X199": "not evaluated",
}


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
