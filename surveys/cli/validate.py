"""``popsurvey validate``: check stored submissions against their form version."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import click

from surveys.cli.common import db_option, handle_errors
from surveys.cli.progress import progress_bar

DEFAULT_WORKERS = 2
"""Processes validating batches side by side (also after ``popsurvey pull``)."""
DETAIL_COLUMNS = (
    "form_id",
    "central_id",
    "instance_id",
    "enumerator",
    "code",
    "severity",
    "variable",
    "value",
    "message",
    "form_version",
)


@click.command("validate")
@click.option(
    "--form",
    "form_ids",
    multiple=True,
    help="Form id to validate (repeatable); default: every form in the store.",
)
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Validate every stored submission again, not only new and changed ones.",
)
@db_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="table: the summary and the first issues; json: summary and every issue; "
    "csv: every issue (summary on stderr).",
)
@click.option(
    "--limit",
    default=30,
    show_default=True,
    type=click.IntRange(0),
    help="Issues listed with --format table.",
)
@click.option(
    "--attachment",
    "attachment_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    help="A CSV the form reads (select_one_from_file, instance lookups), e.g. "
    "households.csv (repeatable).",
)
@click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Date for today() in constraints (default: today).",
)
@click.option(
    "--workers",
    default=DEFAULT_WORKERS,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Processes validating batches side by side.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@handle_errors
def validate(
    form_ids: tuple[str, ...],
    everything: bool,
    db: str | None,
    output_format: str,
    limit: int,
    attachment_files: tuple[str, ...],
    today: Any,
    workers: int,
    quiet: bool,
) -> None:
    """Validate stored submissions: the form version's JSON Schema, the form's own logic
    (constraints, required, relevance, calculations, choice filters, repeat counts) and
    record-level checks (broken JSON, text encodings, unknown form versions).

    New and changed submissions only, unless --all (and those checked with other
    --attachment files, or none, when files are given). Issues replace the ones stored before
    (table validation_issues); a summary by form, enumerator and code follows. Exits 0
    when the run completed, whatever it found: data problems are findings.
    """
    from surveys.store import open_store
    from surveys.validate import validate_form

    attachments = read_attachments(attachment_files)
    with open_store(db) as store:
        forms = list(form_ids) or all_form_ids(store)
        for form_id in forms:
            with progress_bar(f"validate {form_id}", quiet) as progress:
                summary = validate_form(
                    store,
                    form_id,
                    everything=everything,
                    today=today.date() if today else date.today(),
                    attachments=attachments,
                    progress=progress,
                    workers=workers,
                )
            click.echo(summary.line(), err=True)
        details = [r for f in forms for r in _issues(store, f)]
        totals = _submission_totals(store, forms)
    report = summarise(details, totals)
    if output_format == "json":
        click.echo(
            json.dumps(
                {"summary": report, "issues": details}, ensure_ascii=False, indent=2, default=str
            )
        )
    elif output_format == "csv":
        click.echo(_summary_text(report), err=True)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=DETAIL_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(details)
        sys.stdout.write(buffer.getvalue())
    else:
        click.echo(_summary_text(report))
        for row in details[:limit]:
            click.echo(
                f"{row['severity']} {row['code']} {row['form_id']} {row['instance_id']} "
                f"({row['enumerator']}) {row['variable'] or ''}: {row['message']}"
            )
        if len(details) > limit:
            click.echo(f"... and {len(details) - limit} more issue(s): use --format csv or json")


def read_attachments(paths: tuple[str, ...]) -> dict[str, list[dict[str, str]]]:
    """The rows of each CSV attachment by file name; a file that does not read as UTF-8 CSV
    is one line (before anything is done with the store)."""
    out = {}
    for path in paths:
        try:
            out[Path(path).name] = read_csv_rows(path)
        except (UnicodeDecodeError, csv.Error) as err:
            raise click.ClickException(f"{path}: not a UTF-8 CSV file: {err}") from err
    return out


def read_csv_rows(path: str) -> list[dict[str, str]]:
    """Rows of a CSV attachment (UTF-8, a BOM allowed)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def all_form_ids(store: Any) -> list[str]:
    """Every form with submissions in the store."""
    import sqlalchemy as sa

    from surveys.store import writer

    with store.engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(
                sa.select(writer.FORMS.c.xml_form_id).order_by(writer.FORMS.c.xml_form_id)
            )
        ]


def _issues(store: Any, form_id: str) -> list[dict[str, Any]]:
    from surveys.validate import stored_issues

    return stored_issues(store, form_id)


def _submission_totals(store: Any, forms: list[str]) -> dict[str, Any]:
    import sqlalchemy as sa

    from surveys.store import writer

    subs = writer.SUBMISSIONS
    by_form: dict[str, int] = {}
    by_enumerator: dict[tuple[str, str], int] = {}
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(writer.FORMS.c.xml_form_id, subs.c.submitter_name, subs.c.submitter_id)
            .select_from(subs.join(writer.FORMS, writer.FORMS.c.id == subs.c.form_id))
            .where(writer.FORMS.c.xml_form_id.in_(forms), subs.c.deleted.is_(False))
        ).all()
    for form_id, name, actor in rows:
        by_form[form_id] = by_form.get(form_id, 0) + 1
        who = str(name or actor)
        by_enumerator[(form_id, who)] = by_enumerator.get((form_id, who), 0) + 1
    return {"form": by_form, "enumerator": by_enumerator}


def summarise(details: list[dict[str, Any]], totals: dict[str, Any]) -> dict[str, Any]:
    """Counts and shares of submissions affected by form, by enumerator and by code."""
    forms: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    enumerators: dict[tuple[str, str], dict[str, set]] = defaultdict(lambda: defaultdict(set))
    codes: dict[tuple[str, str, str], list] = defaultdict(lambda: [0, set()])
    for row in details:
        key = row["central_id"]
        forms[row["form_id"]][row["severity"]].add(key)
        forms[row["form_id"]]["any"].add(key)
        who = (row["form_id"], str(row["enumerator"]))
        enumerators[who][row["severity"]].add(key)
        enumerators[who]["any"].add(key)
        entry = codes[(row["form_id"], row["code"], row["severity"])]
        entry[0] += 1
        entry[1].add(key)

    def share(part: int, whole: int) -> float:
        return round(part / whole, 4) if whole else 0.0

    return {
        "by_form": [
            {
                "form_id": form_id,
                "submissions": total,
                "with_errors": len(forms[form_id]["error"]),
                "share_with_errors": share(len(forms[form_id]["error"]), total),
                "with_warnings": len(forms[form_id]["warning"]),
                "issues": sum(v[0] for k, v in codes.items() if k[0] == form_id),
            }
            for form_id, total in sorted(totals["form"].items())
        ],
        "by_enumerator": [
            {
                "form_id": key[0],
                "enumerator": key[1],
                "submissions": total,
                "with_errors": len(enumerators[key]["error"]),
                "share_with_errors": share(len(enumerators[key]["error"]), total),
                "with_warnings": len(enumerators[key]["warning"]),
            }
            for key, total in sorted(totals["enumerator"].items())
        ],
        "by_code": [
            {
                "form_id": key[0],
                "code": key[1],
                "severity": key[2],
                "issues": value[0],
                "submissions": len(value[1]),
                "share_of_submissions": share(len(value[1]), totals["form"].get(key[0], 0)),
            }
            for key, value in sorted(codes.items())
        ],
    }


def _summary_text(report: dict[str, Any]) -> str:
    lines = [
        "by form:",
        f"  {'form':<20}{'submissions':>12}{'errors':>8}{'share':>8}{'warnings':>10}{'issues':>8}",
    ]
    for r in report["by_form"]:
        lines.append(
            f"  {r['form_id']:<20}{r['submissions']:>12}{r['with_errors']:>8}"
            f"{100 * r['share_with_errors']:>7.1f}%{r['with_warnings']:>10}{r['issues']:>8}"
        )
    lines += [
        "by code:",
        f"  {'form':<20}{'code':<6}{'severity':<9}{'issues':>8}{'submissions':>12}{'share':>8}",
    ]
    for r in report["by_code"]:
        lines.append(
            f"  {r['form_id']:<20}{r['code']:<6}{r['severity']:<9}{r['issues']:>8}"
            f"{r['submissions']:>12}{100 * r['share_of_submissions']:>7.1f}%"
        )
    lines += [
        "by enumerator:",
        f"  {'form':<20}{'enumerator':<20}{'submissions':>12}{'errors':>8}{'share':>8}"
        f"{'warnings':>10}",
    ]
    for r in report["by_enumerator"]:
        lines.append(
            f"  {r['form_id']:<20}{r['enumerator']:<20}{r['submissions']:>12}{r['with_errors']:>8}"
            f"{100 * r['share_with_errors']:>7.1f}%{r['with_warnings']:>10}"
        )
    return "\n".join(lines)
