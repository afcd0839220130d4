"""The reference path: each submission validated on its own, by jsonschema against the
form's JSON Schema and by the form logic's interpreter (:meth:`forms.logic.FormLogic.check`).

Slow (per record) but independent of the column-wise path of :mod:`validation.columns` and
:mod:`forms.xpath.vectorized`; tests and the benchmark check that both give the same issues.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from forms.issues import Issue
from forms.logic import FormLogic
from forms.model import FormModel
from validation.codes import MESSAGES, SEVERITY
from validation.schema import rules_by_xpath, validator

_SCHEMA_CODES = {
    "type": "V101",
    "minLength": "V101",
    "enum": "V102",
    "pattern": "V103",
    "format": "V104",
    "required": "V105",
    "additionalProperties": "V106",
}


def issue_key(issue: Issue) -> tuple[str, str | None, str | None, str | None, str | None]:
    """What makes two issues the same finding: (code, instance ID, variable path, value,
    and for X199 the message: each reason a node could not be evaluated for is a finding
    of its own)."""
    detail = issue.message if issue.code == "X199" else None
    return (issue.code, issue.instance_id, issue.variable, issue.value, detail)


_STEP = re.compile(r"^(.*)\[([0-9]+)\]$")
_NO_ANSWER_VALUE = frozenset({"X102", "X199"})
"""Logic codes whose issue has no value (the answer is empty, or nothing was evaluated)."""


def answer_at(record: Any, path: str) -> Any:
    """The answer of ``record`` (an OData object) at an instance path such as
    ``/data/grp/member[2]/age`` (a repeat sent as one object is its instance 1); None when
    the record has nothing there."""
    node = record
    for part in path.strip("/").split("/")[1:]:
        match = _STEP.match(part)
        name, index = (match.group(1), int(match.group(2))) if match else (part, None)
        if not isinstance(node, Mapping):
            return None
        node = node.get(name)
        if index is not None:
            rows = node if isinstance(node, list) else [node] if isinstance(node, Mapping) else []
            if not 1 <= index <= len(rows):
                return None
            node = rows[index - 1]
    return node


def logic_value(issue: Issue, record: Any) -> str | None:
    """The value of a form-logic issue (X101-X199), the same in both paths: the answer as
    stored at the issue's path (JSON text, as for the schema codes), the number of
    instances for X106, none for X102 and X199."""
    if issue.code == "X106":
        return issue.value
    if issue.code in _NO_ANSWER_VALUE or not issue.variable:
        return None
    return value_text(answer_at(record, issue.variable)) or None


def value_text(value: Any) -> str | None:
    """An answer as short text for an issue (None for null)."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:197] + "..."


class ReferenceValidator:
    """One form version's reference validator (jsonschema + FormLogic)."""

    def __init__(self, form: FormModel, logic: FormLogic | None = None) -> None:
        """``logic`` carries the attachments (households.csv ...) when the form needs them."""
        self.form = form
        self.root = f"/{form.root}"
        self.validator = validator(form)
        self.logic = logic or FormLogic(form)
        self.geo = {
            xpath.removeprefix(self.root + "/"): rule.geo
            for xpath, rule in rules_by_xpath(form).items()
            if rule.geo
        }

    def schema_issues(
        self, record: Mapping[str, Any], instance_id: str | None, enumerator: str | None
    ) -> list[Issue]:
        """jsonschema's errors as Issues (one per field and code)."""
        found: dict[tuple, Issue] = {}
        for error in self.validator.iter_errors(record):
            for issue in self._issues_of(error, instance_id, enumerator):
                found.setdefault(issue_key(issue), issue)
        return list(found.values())

    def logic_issues(self, record: Mapping[str, Any], today: date) -> list[Issue]:
        """The form logic's X101-X199 issues, variable = instance path."""
        check = self.logic.check(record, today=today)
        out = []
        for issue in check.violations():
            path, _, message = issue.message.partition(": ")
            found = Issue(
                code=issue.code,
                severity=issue.severity,
                message=message,
                variable=path,
                instance_id=issue.instance_id,
                enumerator=issue.enumerator,
                value=issue.value,
            )
            out.append(replace(found, value=logic_value(found, record)))
        return out

    def _issues_of(self, error: Any, instance_id: str | None, enumerator: str | None):
        parts = list(error.absolute_path)
        keys = [p for p in parts if isinstance(p, str)]
        template = "/".join(keys)
        for depth in range(1, len(keys) + 1):
            prefix = "/".join(keys[:depth])
            if prefix in self.geo and (
                prefix != template or error.validator not in ("type", "enum")
            ):
                geo_path = _display(parts[: _index_of_key(parts, depth)])
                yield self._issue("V107", geo_path, error.message, instance_id, enumerator, None)
                return
        validator_name = str(error.validator)
        if validator_name == "required":
            missing = [k for k in error.validator_value if k not in error.instance]
            for key in missing:
                yield self._issue(
                    "V105",
                    _display([*parts, key]),
                    "required answer missing (no such field)",
                    instance_id,
                    enumerator,
                    None,
                )
            return
        if validator_name == "additionalProperties":
            schema = error.schema
            for key in error.instance:
                if key in schema.get("properties", {}):
                    continue
                if any(
                    __import__("re").search(p, key) for p in schema.get("patternProperties", {})
                ):
                    continue
                yield self._issue(
                    "V106",
                    _display([*parts, key]),
                    "field not defined by the form",
                    instance_id,
                    enumerator,
                    value_text(error.instance[key]),
                )
            return
        code = _SCHEMA_CODES.get(validator_name, "V101")
        if error.instance is None and code in ("V101", "V102"):
            code = "V105"
        yield self._issue(
            code,
            _display(parts),
            error.message,
            instance_id,
            enumerator,
            value_text(error.instance),
        )

    def _issue(self, code, path, message, instance_id, enumerator, value) -> Issue:
        return Issue(
            code=code,
            severity=SEVERITY[code],
            message=f"{MESSAGES[code]}: {message}",
            variable=f"{self.root}/{path}" if path else self.root,
            instance_id=instance_id,
            enumerator=enumerator,
            value=value,
        )


def _index_of_key(parts: list[Any], depth: int) -> int:
    seen = 0
    for index, part in enumerate(parts):
        if isinstance(part, str):
            seen += 1
            if seen == depth:
                return index + 1
    return len(parts)


def _display(parts: list[Any]) -> str:
    """``["member", 1, "age"]`` -> ``member[2]/age``."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, int) and out:
            out[-1] = f"{out[-1]}[{part + 1}]"
        elif isinstance(part, int):
            out.append(f"[{part + 1}]")
        else:
            out.append(str(part))
    return "/".join(out)


def reference_issues(
    form: FormModel,
    records: list[Mapping[str, Any]],
    *,
    today: date,
    logic: FormLogic | None = None,
) -> list[Issue]:
    """Schema and logic issues of ``records`` (parsed OData objects), record by record."""
    from forms.logic import _instance_id

    checker = ReferenceValidator(form, logic)
    out: list[Issue] = []
    for record in records:
        system = record.get("__system") if isinstance(record, Mapping) else None
        enumerator = None
        if isinstance(system, Mapping):
            who = system.get("submitterName") or system.get("submitterId")
            enumerator = str(who) if who is not None else None
        instance_id = _instance_id(record)
        out.extend(checker.schema_issues(record, instance_id, enumerator))
        out.extend(checker.logic_issues(record, today))
    return out
