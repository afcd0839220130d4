"""Build one XLSForm into its deployable and documentary outputs, all or nothing.

:func:`build_form` returns the files a form builds into (relative path -> bytes) without
writing anything; :func:`write_all_or_nothing` writes a set of outputs so that a failure
leaves nothing half-written. ``popsurvey form build`` and the demo both use them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from forms import files
from forms.compile import ValidateStatus, compile_form, xform_or_raise
from forms.errors import XLSFormError
from forms.issues import Issue, Severity
from forms.lint import LintOptions, lint_form
from forms.model import FormModel
from forms.reader import read_form

CODEBOOK_FORMATS = ("md", "xlsx", "html")


class FormBuildError(XLSFormError):
    """A form that converts but has lint errors; ``issues`` lists them."""

    def __init__(self, message: str, *, file: str | None, issues: Iterable[Issue]) -> None:
        super().__init__(message, file=file)
        self.issues = tuple(issues)


@dataclass(frozen=True)
class BuildResult:
    """The outputs of one form (relative path -> bytes) and what the checks said."""

    form: FormModel
    outputs: Mapping[str, bytes]
    validate: ValidateStatus
    warnings: tuple[Issue, ...]


def build_form(
    source: str | PathLike[str],
    *,
    options: LintOptions | None = None,
    ignore: Iterable[str] = (),
    validate: bool = True,
    codebook_formats: Iterable[str] = ("md",),
    language: str | None = None,
) -> BuildResult:
    """Read, convert, validate and lint ``source``; return its outputs or raise.

    Outputs (``<form_id>`` made a safe file name, :func:`forms.files.safe_file_name`):
    ``<form_id>.xml`` (XForm), ``<form_id>.formmodel.json``,
    ``<form_id>-media/itemsets.csv`` for external choices, and
    ``<form_id>.codebook.<fmt>`` for each format. Raises :class:`XLSFormError` on a pyxform
    or ODK Validate error and :class:`FormBuildError` on lint errors.
    """
    from forms.codebook import render_codebook, resolve_language

    form = read_form(source)
    compiled = compile_form(source, form=form, validate=validate)
    xform = xform_or_raise(compiled)
    lint = lint_form(form, options=options or LintOptions(), ignore=set(ignore))
    errors = [i for i in lint if i.severity is Severity.ERROR]
    if errors:
        raise FormBuildError(
            f"{len(errors)} lint error(s); nothing written", file=form.source, issues=errors
        )
    stem = files.safe_file_name(form.form_id)  # the form id is data: never a path
    outputs = {
        f"{stem}.xml": xform.encode("utf-8"),
        f"{stem}.formmodel.json": form.to_json(indent=2).encode("utf-8"),
    }
    if compiled.itemsets:
        outputs[f"{stem}-media/itemsets.csv"] = compiled.itemsets.encode("utf-8")
    codebook_language = resolve_language(form, language)
    for fmt in dict.fromkeys(codebook_formats):
        outputs[f"{stem}.codebook.{fmt}"] = render_codebook(
            form,
            language=codebook_language,
            fmt=fmt,  # type: ignore[arg-type]
        )
    warnings = tuple(i for i in [*compiled.issues, *lint] if i.severity is Severity.WARNING)
    return BuildResult(form=form, outputs=outputs, validate=compiled.validate, warnings=warnings)


def write_all_or_nothing(out_dir: Path, outputs: Mapping[str, bytes]) -> list[Path]:
    """:func:`forms.files.write_all_or_nothing`, a failure raised as an XLSFormError that
    names ``out_dir`` (one line for the CLI)."""
    try:
        return files.write_all_or_nothing(out_dir, outputs)
    except files.OutsideFolderError as err:
        raise XLSFormError(f"refused to write: {err}", file=str(out_dir)) from err
    except NotADirectoryError as err:
        raise XLSFormError(str(err), file=str(out_dir)) from err
    except OSError as err:
        raise XLSFormError(f"cannot write: {err.strerror or err}", file=str(out_dir)) from err
