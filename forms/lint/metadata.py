"""Rules on the form metadata that fieldwork quality checks depend on."""

from __future__ import annotations

import re
from collections.abc import Iterator

from forms.issues import Issue, Severity
from forms.lint.registry import LintContext, rule
from forms.model import Question

AUDIT_LOCATION_PARAMETERS = ("location-priority", "location-min-interval", "location-max-age")
RECOMMENDED_AUDIT_PARAMETERS = (
    "location-priority=balanced location-min-interval=60 location-max-age=120 track-changes=true"
)


def _of_type(ctx: LintContext, *types: str) -> list[Question]:
    return [q for q in ctx.form.elements if q.type in types]


@rule("L103", Severity.WARNING, "no start or end time")
def missing_start_end(ctx: LintContext) -> Iterator[Issue]:
    """The form records no ``start`` or no ``end`` metadata (interview duration)."""
    missing = [t for t in ("start", "end") if not _of_type(ctx, t)]
    if missing:
        yield ctx.issue(
            "L103",
            f"no {' or '.join(repr(t) for t in missing)} metadata question: interview "
            "duration and time-of-day checks need both start and end (add a row of type "
            f"{' and one of type '.join(missing)})",
        )


@rule("L104", Severity.WARNING, "no device or user identification")
def missing_device_or_user(ctx: LintContext) -> Iterator[Issue]:
    """Neither ``deviceid`` nor ``username`` metadata: submissions cannot be tied to a
    tablet or a login when the Central account is shared."""
    if not _of_type(ctx, "deviceid", "username"):
        yield ctx.issue(
            "L104",
            "no 'deviceid' or 'username' metadata question: add a row of type deviceid "
            "(and/or username) so each interview can be traced to a tablet",
        )


@rule("L105", Severity.WARNING, "no audit log with location and track-changes")
def missing_audit(ctx: LintContext) -> Iterator[Issue]:
    """No ``audit`` question, or one without location tracking or ``track-changes=true``."""
    audits = _of_type(ctx, "audit")
    if not audits:
        yield ctx.issue(
            "L105",
            "no 'audit' metadata question: per-question timing, GPS and answer-change checks "
            f"need it (add type audit with parameters {RECOMMENDED_AUDIT_PARAMETERS})",
        )
        return
    audit = audits[0]
    parameters = {k.lower(): v.strip().lower() for k, v in audit.parameters.items()}
    missing = [p for p in AUDIT_LOCATION_PARAMETERS if p not in parameters]
    if parameters.get("track-changes") != "true":
        missing.append("track-changes=true")
    if missing:
        yield ctx.issue(
            "L105",
            f"the audit does not set {', '.join(missing)}: GPS and answer-change checks "
            f"need them (use {RECOMMENDED_AUDIT_PARAMETERS})",
            row=audit.row,
            variable=audit.name,
        )


@rule("L106", Severity.WARNING, "no instance_name")
def missing_instance_name(ctx: LintContext) -> Iterator[Issue]:
    """No ``instance_name`` setting: every submission is listed under its UUID only."""
    if not ctx.form.instance_name:
        yield ctx.issue(
            "L106",
            "no instance_name: submissions show up in ODK Collect and Central as bare UUIDs; "
            "set instance_name, e.g. concat(${hhid}, '-', ${respondent_name})",
            sheet="settings",
        )


@rule("L107", Severity.WARNING, "no form_id or version setting")
def missing_form_id_or_version(ctx: LintContext) -> Iterator[Issue]:
    """No ``form_id`` (the id then comes from the file name) or no ``version`` setting."""
    settings = ctx.form.settings
    if not (settings.get("form_id") or settings.get("id_string")):
        yield ctx.issue(
            "L107",
            f"no form_id: the form id '{ctx.form.form_id}' comes from the file name, so "
            "renaming the file would make a new form in ODK Central; set form_id",
            sheet="settings",
        )
    if not ctx.form.version:
        yield ctx.issue(
            "L107",
            "no version: ODK Central needs a new version for every form update and popsurvey "
            "keeps one FormModel per version; set version, e.g. 2026110101 (yyyymmddnn)",
            sheet="settings",
        )


_XML_NAME = re.compile(r"^[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF]*$")


@rule("L108", Severity.ERROR, "form_id is not a valid XML name")
def invalid_form_id(ctx: LintContext) -> Iterator[Issue]:
    """The form id (``form_id`` setting, or the file name) is not a valid XML name: ODK
    requires one, and popsurvey names output files after it."""
    form_id = ctx.form.form_id
    if not _XML_NAME.match(form_id):
        yield ctx.issue(
            "L108",
            f"form_id {form_id!r} is not a valid XML name (letters, digits, _ - . only, "
            "starting with a letter or _; no '/', ':' or spaces); ODK Central refuses it",
            sheet="settings",
            variable="form_id",
        )
