"""A JSON Schema (draft 2020-12) of one submission of a form, as Central's OData returns it.

The shape is the one of ``.svc/Submissions?$expand=*`` and of popsurvey's importers
(:mod:`forms.logic.odata_value`): groups are nested objects, repeats arrays of objects
(each row with Central's ``__id``, a repeat's rows announced by a
``<name>@odata.navigationLink``), integers and decimals JSON numbers, dates, dateTimes (with
their UTC offset) and times ISO text, geopoints GeoJSON points, select_one one of the list's
codes, select_multiple the codes separated by single spaces, everything else text; every
answer may be null except the unconditionally required ones. ``__id``, ``__system`` and
``meta`` (instanceID, instanceName, the audit log's file name) are described too; a field
the form does not define is refused (``additionalProperties: false``).

Formats (``date``, ``date-time``, ``time``) are asserted by :data:`FORMAT_CHECKER`
(calendar dates, an offset on dateTimes); the patterns hold the shape for any validator.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from forms.model import FormModel, Question
from validation.rules import FieldRule, field_rule, format_ok

DIALECT = "https://json-schema.org/draft/2020-12/schema"
NAVIGATION_LINK = r"@odata\.navigationLink$"
REVIEW_STATES = (None, "hasIssues", "edited", "approved", "rejected", "received")

FORMAT_CHECKER = jsonschema.FormatChecker(formats=())
for _name in ("date", "date-time", "time"):
    FORMAT_CHECKER.checks(_name)(
        lambda text, _fmt=_name: not isinstance(text, str) or format_ok(_fmt, text)
    )


def rules_by_xpath(form: FormModel) -> dict[str, FieldRule]:
    """The :class:`FieldRule` of every question holding data, by XPath."""
    return {
        q.xpath: field_rule(form, q) for q in form.elements if q.holds_data and q.type != "audit"
    }


def submission_schema(form: FormModel) -> dict[str, Any]:
    """The JSON Schema of one submission of ``form`` (see the module docstring)."""
    children: dict[str, list[Question]] = {}
    for element in form.elements:
        children.setdefault(element.parent, []).append(element)
    rules = rules_by_xpath(form)
    root = _container(f"/{form.root}", children, rules)
    root["properties"]["__id"] = {"type": "string", "minLength": 1}
    root["properties"]["__system"] = SYSTEM_SCHEMA
    root["properties"]["meta"] = _meta_schema(form)
    root["required"] = ["__id", *root.get("required", [])]
    return {
        "$schema": DIALECT,
        "$id": f"urn:popsurvey:form:{form.form_id}:{form.version or ''}",
        "title": f"{form.title or form.form_id} (version {form.version or '-'}): one submission",
        **root,
    }


def schema_text(form: FormModel) -> str:
    """:func:`submission_schema` as indented JSON text (as stored and written)."""
    return json.dumps(submission_schema(form), ensure_ascii=False, indent=2)


def answer_schema(rule: FieldRule) -> dict[str, Any]:
    """The schema of one answer."""
    schema: dict[str, Any] = {}
    if rule.enum is not None:
        schema["enum"] = list(rule.enum) + ([] if rule.required else [None])
    elif rule.json_types:
        types = list(rule.json_types) + ([] if rule.required else ["null"])
        schema["type"] = types[0] if len(types) == 1 else types
    if rule.pattern:
        schema["pattern"] = rule.pattern
    if rule.format:
        schema["format"] = rule.format
    if rule.geo:
        schema.update(GEOJSON[rule.geo])
    label = rule.question.text("label")
    if label:
        schema["title"] = label
    schema["x-odk-type"] = rule.question.type
    return schema


def _container(
    xpath: str, children: dict[str, list[Question]], rules: dict[str, FieldRule]
) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required: list[str] = []
    for element in children.get(xpath, ()):
        if element.type == "audit":
            continue  # Central shows the audit log's file name under meta
        if element.is_repeat:
            item = _container(element.xpath, children, rules)
            item["properties"]["__id"] = {"type": "string"}
            properties[element.name] = {"type": "array", "items": item}
        elif element.is_group:
            group = _container(element.xpath, children, rules)
            properties[element.name] = group
            if group.get("required"):
                required.append(element.name)
        elif element.type == "note":
            properties[element.name] = {"type": ["string", "null"], "x-odk-type": "note"}
        elif element.xpath in rules:
            rule = rules[element.xpath]
            properties[element.name] = answer_schema(rule)
            if rule.required:
                required.append(element.name)
    out: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "patternProperties": {NAVIGATION_LINK: {"type": "string"}},
        "additionalProperties": False,
    }
    if required:
        out["required"] = required
    return out


def _meta_schema(form: FormModel) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "instanceID": {"type": "string", "minLength": 1},
        "instanceName": {"type": ["string", "null"]},
        "deprecatedID": {"type": ["string", "null"]},
        "entity": {"type": ["object", "null"]},
    }
    if "audit" in form:
        properties["audit"] = {"type": ["string", "null"]}
    return {"type": "object", "properties": properties, "additionalProperties": False}


_TIME = {"type": ["string", "null"], "format": "date-time"}
SYSTEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "submissionDate": _TIME,
        "updatedAt": _TIME,
        "submitterId": {"type": ["string", "integer", "null"]},
        "submitterName": {"type": ["string", "null"]},
        "attachmentsPresent": {"type": ["integer", "null"]},
        "attachmentsExpected": {"type": ["integer", "null"]},
        "status": {"type": ["string", "null"]},
        "reviewState": {"enum": list(REVIEW_STATES)},
        "deviceId": {"type": ["string", "null"]},
        "edits": {"type": ["integer", "null"]},
        "formVersion": {"type": ["string", "null"]},
        "deletedAt": _TIME,
    },
}
"""Central's ``__system`` block (more keys are allowed: Central adds some over time)."""

_LON = {"type": "number", "minimum": -180, "maximum": 180}
_LAT = {"type": "number", "minimum": -90, "maximum": 90}
_POSITION = {
    "type": "array",
    "minItems": 2,
    "maxItems": 3,
    "prefixItems": [_LON, _LAT, {"type": "number"}],
}


def _geometry(kind: str, coordinates: dict[str, Any]) -> dict[str, Any]:
    return {
        "required": ["type", "coordinates"],
        "properties": {
            "type": {"const": kind},
            "coordinates": coordinates,
            "properties": {"type": ["object", "null"]},
        },
    }


GEOJSON = {
    "Point": _geometry("Point", _POSITION),
    "LineString": _geometry("LineString", {"type": "array", "items": _POSITION}),
    "Polygon": _geometry(
        "Polygon", {"type": "array", "items": {"type": "array", "items": _POSITION}}
    ),
}
"""GeoJSON geometries as Central writes geopoints, geotraces and geoshapes."""


def validator(form: FormModel) -> jsonschema.protocols.Validator:
    """A draft 2020-12 validator of ``form``'s submissions that asserts the formats."""
    return jsonschema.Draft202012Validator(submission_schema(form), format_checker=FORMAT_CHECKER)
