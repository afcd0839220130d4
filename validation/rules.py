"""What one answer must look like, per question: the rules the JSON Schema is written from
and that the column-wise checks apply (one source for both, so they cannot drift apart).

A :class:`FieldRule` says the JSON types an answer may have, the codes of a select_one, the
token pattern of a select_multiple, the shape and calendar check of dates and times, the
GeoJSON of geopoints and whether the answer is unconditionally required (``required`` yes,
no relevance on the question or any enclosing group or repeat).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from forms.model import METADATA_TYPES, FormModel, Question

DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
DATETIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)
TIME_PATTERN = r"^[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?$"

TEMPORAL = {
    "date": ("date", DATE_PATTERN),
    "today": ("date", DATE_PATTERN),
    "dateTime": ("date-time", DATETIME_PATTERN),
    "start": ("date-time", DATETIME_PATTERN),
    "end": ("date-time", DATETIME_PATTERN),
    "time": ("time", TIME_PATTERN),
}
"""Question type -> (JSON Schema format, pattern of its text)."""
TOKEN_TYPES = frozenset({"select_multiple", "rank"})
CODE_TYPES = frozenset({"select_one"})
GEO_KINDS = {
    "geopoint": "Point",
    "start-geopoint": "Point",
    "geotrace": "LineString",
    "geoshape": "Polygon",
}
NOT_INPUT = METADATA_TYPES | {"calculate", "note", "hidden", "xml-external", "csv-external"}
_YES = {"yes", "true", "true()", "1", "y"}


@dataclass(frozen=True)
class FieldRule:
    """The schema of one answer (see the module docstring)."""

    question: Question
    json_types: tuple[str, ...]
    """JSON types allowed besides null (``integer``, ``number``, ``string``, ``object``);
    empty when any type is accepted (an enumeration says it all)."""
    required: bool = False
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    format: str | None = None
    geo: str | None = None
    """GeoJSON geometry type of geo questions."""

    @property
    def name(self) -> str:
        """The question name (its key in the OData object)."""
        return self.question.name


def is_unconditionally_required(form: FormModel, question: Question) -> bool:
    """``required`` is yes and nothing (question, groups, repeats) has a relevance."""
    if (question.required or "").strip().lower() not in _YES or question.type in NOT_INPUT:
        return False
    if question.relevant:
        return False
    for xpath in question.enclosing:
        element = form.by_xpath(xpath)
        if element is not None and element.relevant:
            return False
    return True


def field_rule(form: FormModel, question: Question) -> FieldRule:
    """The rule of one question holding data."""
    kind = question.type
    required = is_unconditionally_required(form, question)
    if kind == "integer":
        return FieldRule(question, ("integer",), required)
    if kind in ("decimal", "range"):
        return FieldRule(question, ("number",), required)
    if kind in TEMPORAL:
        fmt, pattern = TEMPORAL[kind]
        return FieldRule(question, ("string",), required, pattern=pattern, format=fmt)
    if kind in GEO_KINDS:
        return FieldRule(question, ("object",), required, geo=GEO_KINDS[kind])
    choices = form.choices_for(question)
    if kind in CODE_TYPES and choices is not None:
        codes = choices.codes + (("other",) if question.or_other else ())
        return FieldRule(question, (), required, enum=tuple(dict.fromkeys(codes)))
    if kind in TOKEN_TYPES and choices is not None:
        codes = choices.codes + (("other",) if question.or_other else ())
        return FieldRule(question, ("string",), required, pattern=token_pattern(codes))
    return FieldRule(question, ("string",), required)


def token_pattern(codes: tuple[str, ...]) -> str:
    """The pattern of space-separated choice codes (``^(a|b)( (a|b))*$``)."""
    alternatives = "|".join(
        re.escape(code) for code in sorted(set(codes), key=lambda c: (-len(c), c))
    )
    return f"^({alternatives})( ({alternatives}))*$"


def format_ok(fmt: str, text: str) -> bool:
    """The calendar check of a ``date``, ``date-time`` (offset required) or ``time`` text
    that already matches its pattern."""
    try:
        if fmt == "date":
            date.fromisoformat(text)
        elif fmt == "date-time":
            return datetime.fromisoformat(text).tzinfo is not None
        elif fmt == "time":
            time.fromisoformat(text)
    except ValueError:
        return False
    return True


def geo_problems(geo: str, value: Any) -> list[tuple[str, str]]:
    """Problems of a GeoJSON answer as ``(path suffix, message)``, empty when fine: the
    geometry type, and coordinates as [longitude, latitude(, altitude)] in range."""
    if geo == "Point" and _plain_point(value):
        return []
    out: list[tuple[str, str]] = []
    if value.get("type") != geo:
        out.append(("/type", f"GeoJSON type must be '{geo}'"))
    if "coordinates" not in value:
        out.append(("", "GeoJSON has no coordinates"))
        return out
    coordinates = value["coordinates"]
    if geo == "Point":
        out.extend(_position_problems(coordinates, "/coordinates"))
    elif not isinstance(coordinates, list):
        out.append(("/coordinates", "coordinates must be an array"))
    else:
        for index, item in enumerate(coordinates):
            if geo == "Polygon":
                if not isinstance(item, list):
                    out.append((f"/coordinates[{index + 1}]", "a ring must be an array"))
                    continue
                for inner, position in enumerate(item):
                    out.extend(
                        _position_problems(position, f"/coordinates[{index + 1}][{inner + 1}]")
                    )
            else:
                out.extend(_position_problems(item, f"/coordinates[{index + 1}]"))
    accuracy = value.get("properties")
    if accuracy is not None and not isinstance(accuracy, dict):
        out.append(("/properties", "properties must be an object"))
    return out


def _plain_point(value: dict) -> bool:
    """A GeoJSON Point as Central writes it, in range (the common case, checked at once)."""
    coordinates = value.get("coordinates")
    if value.get("type") != "Point" or type(coordinates) is not list:
        return False
    if not 2 <= len(coordinates) <= 3 or any(type(c) not in (int, float) for c in coordinates):
        return False
    properties = value.get("properties")
    return (
        -180.0 <= coordinates[0] <= 180.0
        and -90.0 <= coordinates[1] <= 90.0
        and (properties is None or type(properties) is dict)
    )


def _position_problems(position: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(position, list) or not 2 <= len(position) <= 3:
        return [
            (where, "a position must be [longitude, latitude] or [longitude, latitude, altitude]")
        ]
    out = []
    for index, (number, bound) in enumerate(zip(position, (180.0, 90.0, None), strict=False)):
        if isinstance(number, bool) or not isinstance(number, int | float):
            out.append((f"{where}[{index + 1}]", "a coordinate must be a number"))
        elif bound is not None and not -bound <= number <= bound:
            what = "longitude" if index == 0 else "latitude"
            out.append(
                (f"{where}[{index + 1}]", f"{what} {number} is outside -{bound:g}..{bound:g}")
            )
    return out
