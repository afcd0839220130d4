"""``popsurvey form ...``: check, build and document XLSForm questionnaires."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import click

from forms.build import CODEBOOK_FORMATS, FormBuildError, build_form, write_all_or_nothing
from forms.check import FormCheck, check_form
from forms.compile import ValidateStatus
from forms.errors import XLSFormError
from forms.issues import Issue, Severity
from forms.lint import LintOptions
from forms.model import FormModel
from forms.reader import read_form
from surveys.cli.common import handle_errors
from surveys.cli.limits import max_unzipped_option


@click.group()
def form() -> None:
    """Check, build and document XLSForm questionnaires."""


# -- shared options ------------------------------------------------------------------------
def lint_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The options that tune the lint: missing-value codes and rules to skip."""
    func = click.option(
        "--ignore",
        "ignore",
        multiple=True,
        metavar="CODE",
        help="Skip lint rule CODE (repeatable, or comma-separated), e.g. --ignore L112.",
    )(func)
    func = click.option(
        "--refusal-code",
        "refusal_codes",
        multiple=True,
        metavar="CODE",
        help="The survey's refusal code(s), e.g. --refusal-code=-99 (repeatable).",
    )(func)
    func = click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="survey.toml whose [codes] give the don't-know and refusal codes (the options "
        "below override it).",
    )(func)
    func = click.option(
        "--dont-know-code",
        "dont_know_codes",
        multiple=True,
        metavar="CODE",
        help="The survey's don't-know code(s), e.g. --dont-know-code=-98 (repeatable).",
    )(func)
    return func


def validate_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--validate/--no-validate``: run ODK Validate (needs Java) or not."""
    return click.option(
        "--validate/--no-validate",
        default=True,
        show_default=True,
        help="Check the XForm with ODK Validate (needs Java on PATH; skipped with a note "
        "when Java is absent).",
    )(func)


def _split(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


def _lint_settings(
    dont_know_codes: Iterable[str],
    refusal_codes: Iterable[str],
    ignore: Iterable[str],
    config_path: str | None = None,
) -> tuple[LintOptions, tuple[str, ...]]:
    dont_know, refusal = _split(dont_know_codes), _split(refusal_codes)
    if config_path is not None:
        # only [codes] matters here: the rest of survey.toml (rosters, sample files) need not
        # exist yet when questionnaires are being written
        from surveys.config import CodesConfig, read_document

        section = read_document(config_path).get("codes") or {}
        defaults = CodesConfig()
        dont_know = dont_know or tuple(str(c) for c in section.get("dont_know", defaults.dont_know))
        refusal = refusal or tuple(str(c) for c in section.get("refused", defaults.refused))
    options = LintOptions(dont_know_codes=dont_know, refusal_codes=refusal)
    return options, tuple(code.upper() for code in _split(ignore))


def issue_line(issue: Issue) -> str:
    """``severity code file: sheet 'survey' row 7: message``."""
    return issue.one_line()


# -- check ----------------------------------------------------------------------------------
@form.command("check", short_help="Check XLSForms: pyxform, ODK Validate and lint.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Human-readable lines or one JSON document.",
)
@validate_option
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too, not only on errors.")
@click.option(
    "--show-info", is_flag=True, help="Also list info lines (checklist items, not problems)."
)
@lint_options
@max_unzipped_option
@handle_errors
def check(
    files: tuple[str, ...],
    output_format: str,
    validate: bool,
    strict: bool,
    show_info: bool,
    config_path: str | None,
    dont_know_codes: tuple[str, ...],
    refusal_codes: tuple[str, ...],
    ignore: tuple[str, ...],
) -> None:
    """Check XLSForm FILEs: pyxform conversion, ODK Validate and popsurvey's lint.

    Prints one line per problem (`severity code file: sheet 'survey' row 7: message`) and a
    summary. Exits 1 when any file has an error (or, with --strict, a warning); 0 otherwise.
    Lint rules are documented in docs/LINT.md.
    """
    options, ignored = _lint_settings(dont_know_codes, refusal_codes, ignore, config_path)
    results = []
    for path in files:  # text output streams: ODK Validate takes a moment per form
        results.append(check_form(path, options=options, ignore=ignored, validate=validate))
        if output_format == "text":
            _echo_check(results[-1], show_info)
    if output_format == "json":
        click.echo(json.dumps(_json_report(results), ensure_ascii=False, indent=2))
    else:
        click.echo(_summary(results, show_info))
    failed = any(r.errors for r in results) or (strict and any(r.warnings for r in results))
    sys.exit(1 if failed else 0)


def _echo_check(result: FormCheck, show_info: bool) -> None:
    if result.form is not None:
        version = f", version {result.form.version}" if result.form.version else ""
        pyxform = "converted" if result.converted else "FAILED"
        validate = result.validate.value
        if result.validate is ValidateStatus.SKIPPED_NO_JAVA:
            validate = "SKIPPED (Java not found on PATH)"
        click.echo(
            f"{result.file} (form_id {result.form.form_id}{version}): pyxform {pyxform}; "
            f"ODK Validate {validate}; {result.errors} error(s), {result.warnings} warning(s)"
        )
    for issue in result.issues:
        if show_info or issue.severity is not Severity.INFO:
            click.echo(issue_line(issue))


def _summary(results: list[FormCheck], show_info: bool) -> str:
    errors = sum(r.errors for r in results)
    warnings = sum(r.warnings for r in results)
    infos = sum(r.infos for r in results)
    failed = sum(1 for r in results if r.errors)
    text = f"checked {len(results)} file(s): {errors} error(s), {warnings} warning(s)"
    if infos:
        text += f", {infos} info" + ("" if show_info else " (list them with --show-info)")
    if failed:
        text += f"; {failed} file(s) with errors"
    no_java = [r for r in results if r.validate is ValidateStatus.SKIPPED_NO_JAVA]
    if no_java:
        text += (
            f"\nODK Validate was SKIPPED for {len(no_java)} file(s): Java not found on PATH "
            "(install a Java runtime, e.g. apt-get install default-jre-headless)"
        )
    return text


def _json_report(results: list[FormCheck]) -> dict[str, Any]:
    return {
        "files": [r.to_dict() for r in results],
        "summary": {
            "files": len(results),
            "errors": sum(r.errors for r in results),
            "warnings": sum(r.warnings for r in results),
            "infos": sum(r.infos for r in results),
            "odk_validate_skipped_no_java": sum(
                1 for r in results if r.validate is ValidateStatus.SKIPPED_NO_JAVA
            ),
        },
    }


# -- build ----------------------------------------------------------------------------------
@form.command("build", short_help="Build the XForm, FormModel JSON and codebook of forms.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write into (created if needed).",
)
@click.option(
    "--codebook-format",
    "codebook_formats",
    multiple=True,
    type=click.Choice(CODEBOOK_FORMATS),
    default=("md",),
    show_default=True,
    help="Codebook format(s) to write (repeatable).",
)
@click.option("--lang", default=None, help="Codebook language (code or name); default: the form's.")
@validate_option
@lint_options
@max_unzipped_option
@handle_errors
def build(
    files: tuple[str, ...],
    out_dir: Path,
    codebook_formats: tuple[str, ...],
    lang: str | None,
    validate: bool,
    config_path: str | None,
    dont_know_codes: tuple[str, ...],
    refusal_codes: tuple[str, ...],
    ignore: tuple[str, ...],
) -> None:
    """Build each FILE into DIR: <form_id>.xml (XForm), <form_id>.formmodel.json and the
    codebook (<form_id>.codebook.md; more formats with --codebook-format).

    External choices go to <form_id>-media/itemsets.csv. Fails (exit 1, nothing written for
    any FILE) on a pyxform, ODK Validate or lint error; warnings are counted (list them with
    `popsurvey form check`).
    """
    options, ignored = _lint_settings(dont_know_codes, refusal_codes, ignore, config_path)
    outputs: dict[str, bytes] = {}
    built_from: dict[str, str] = {}
    for file in files:
        form_model, form_outputs = _build_one(
            file, lang, codebook_formats, validate, options, ignored
        )
        if form_model.form_id in built_from:
            raise XLSFormError(
                f"form_id '{form_model.form_id}' is also the id of {built_from[form_model.form_id]}"
                "; nothing written",
                file=form_model.source,
            )
        built_from[form_model.form_id] = form_model.source or file
        outputs.update(form_outputs)
    for path in write_all_or_nothing(out_dir, outputs):
        click.echo(f"wrote {path}")


def _build_one(
    file: str,
    lang: str | None,
    codebook_formats: Iterable[str],
    validate: bool,
    options: LintOptions,
    ignored: tuple[str, ...],
) -> tuple[FormModel, Mapping[str, bytes]]:
    """The files one form builds into (relative path -> bytes); raises on any error."""
    try:
        result = build_form(
            file,
            options=options,
            ignore=ignored,
            validate=validate,
            codebook_formats=codebook_formats,
            language=lang,
        )
    except FormBuildError as err:
        for issue in err.issues:
            click.echo(issue_line(issue), err=True)
        raise
    _echo_validate_status(result.validate, result.form.source)
    if result.warnings:
        click.echo(
            f"{result.form.source}: {len(result.warnings)} warning(s); run "
            f"`popsurvey form check {file}` to list them",
            err=True,
        )
    return result.form, result.outputs


def _echo_validate_status(status: ValidateStatus, file: str | None) -> None:
    if status is ValidateStatus.SKIPPED_NO_JAVA:
        click.echo(
            f"{file}: ODK Validate was SKIPPED: Java not found on PATH (install a Java "
            "runtime, e.g. apt-get install default-jre-headless)",
            err=True,
        )
    elif status is not ValidateStatus.PASSED:
        click.echo(f"{file}: ODK Validate {status.value}", err=True)


# -- codebook -------------------------------------------------------------------------------
@form.command("codebook", short_help="Write a form's codebook (md, xlsx or html).")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--lang", default=None, help="Language code or name (zh, en); default: the form's.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(CODEBOOK_FORMATS),
    default="md",
    show_default=True,
    help="md and html go to stdout without -o; xlsx needs -o.",
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write."
)
@max_unzipped_option
@handle_errors
def codebook(file: str, lang: str | None, fmt: str, output: Path | None) -> None:
    """Write the codebook of FILE: variable, type, question text, codes and labels,
    relevance, constraint and repeat, in one language."""
    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx needs -o PATH")
    form_model = read_form(file)
    content = _render_codebook(form_model, _codebook_language(form_model, lang), fmt)
    if output is None:
        click.echo(content.decode("utf-8"), nl=False)
        return
    write_all_or_nothing(output.parent, {output.name: content})
    click.echo(f"wrote {output}", err=True)


# forms.codebook is imported when needed, so that `form check` never depends on it
def _codebook_language(form_model: FormModel, lang: str | None) -> str | None:
    from forms.codebook import resolve_language

    return resolve_language(form_model, lang)


def _render_codebook(form_model: FormModel, language: str | None, fmt: str) -> bytes:
    from forms.codebook import render_codebook

    return render_codebook(form_model, language=language, fmt=fmt)  # type: ignore[arg-type]


from surveys.cli.form_logic import logic  # noqa: E402  (popsurvey form logic)

form.add_command(logic)


# -- schema ---------------------------------------------------------------------------------
@form.command("schema", short_help="Write the JSON Schema of a form's submissions.")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write."
)
@handle_errors
def schema(file: str, output: Path | None) -> None:
    """Write the JSON Schema (draft 2020-12) of one submission of FILE (an XLSForm or a
    <form_id>.formmodel.json), as ODK Central's OData returns it; stdout without -o."""
    from validation.schema import schema_text

    if file.endswith(".json"):
        try:
            form_model = FormModel.from_json(Path(file).read_text(encoding="utf-8"))
        except (ValueError, KeyError, TypeError) as err:
            raise XLSFormError(f"not a FormModel JSON file: {err}", file=file) from None
    else:
        form_model = read_form(file)
    content = (schema_text(form_model) + "\n").encode("utf-8")
    if output is None:
        click.echo(content.decode("utf-8"), nl=False)
        return
    write_all_or_nothing(output.parent, {output.name: content})
    click.echo(f"wrote {output}", err=True)
