"""Validate many submissions of one form version: schema, form logic, record-level checks.

:func:`validate_records` is the bulk path (column-wise, :mod:`validation.columns` and
:mod:`forms.xpath.vector_checks`); :func:`validation.reference.reference_issues` is the
per-record reference with the same results.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from forms.issues import Issue
from forms.logic import FormLogic, _instance_id
from forms.model import FormModel
from forms.xpath.vector_checks import check_frames
from forms.xpath.vectorized import VectorLogic
from validation.columns import ColumnValidator
from validation.reference import logic_value


def record_identity(record: Any) -> tuple[str | None, str | None]:
    """(instance ID, enumerator) of an OData record, as FormLogic.check names them."""
    if not isinstance(record, Mapping):
        return None, None
    system = record.get("__system")
    enumerator = None
    if isinstance(system, Mapping):
        who = system.get("submitterName") or system.get("submitterId")
        enumerator = str(who) if who is not None else None
    return _instance_id(record), enumerator


class FormValidator:
    """The column-wise validator of one form version (compiled once, used for many runs)."""

    def __init__(self, form: FormModel, logic: FormLogic | None = None) -> None:
        """``logic``: a FormLogic with the form's attachments (households.csv, ...)."""
        self.form = form
        self.logic = logic or FormLogic(form)
        self.vector_logic = VectorLogic(form, self.logic)

    def validate(
        self, records: Sequence[Mapping[str, Any]], *, today: date
    ) -> list[tuple[int, Issue]]:
        """Issues of ``records`` (parsed OData objects) as (record index, Issue)."""
        columns = ColumnValidator(self.form)
        schema_issues, frames, _ = columns.run(records)
        logic_issues, _ = check_frames(
            self.vector_logic, frames, today=today, shapes=columns.shapes
        )
        identities = [record_identity(r) for r in records]
        out = []
        for index, issue in schema_issues:
            out.append((index, _with_identity(issue, identities[index])))
        for found in logic_issues:
            issue = replace(found.issue, value=logic_value(found.issue, records[found.record]))
            out.append((found.record, _with_identity(issue, identities[found.record])))
        return out


def _with_identity(issue: Issue, identity: tuple[str | None, str | None]) -> Issue:
    return replace(issue, instance_id=identity[0], enumerator=identity[1])


def validate_records(
    form: FormModel,
    records: Sequence[Mapping[str, Any]],
    *,
    today: date,
    logic: FormLogic | None = None,
) -> list[Issue]:
    """Every schema and logic issue of ``records`` (column-wise)."""
    return [issue for _, issue in FormValidator(form, logic).validate(records, today=today)]
