"""Column-wise validation of many submissions of one form version against its JSON Schema.

The submissions (parsed OData objects) are taken apart container by container -- the
root, each group, each repeat's rows across all submissions -- into one list of values per
field; each schema keyword is then checked over a whole column (JSON types from one pass
over the column, enumerations with ``isin``, patterns and formats once per distinct text)
instead of walking each submission's schema. The same pass lays the answers out as the
frames of :mod:`forms.frames` (repeat rows keyed to their parent row, as
:func:`forms.frames.submission_frames` does) for the form logic's vectorised checks.

The schema interpreted here is the one :func:`validation.schema.submission_schema`
generates (objects with properties / patternProperties / additionalProperties /
required, arrays of objects, leaves with type / enum / pattern / format / minLength,
GeoJSON leaves); :mod:`validation.reference` runs jsonschema on the same schema, and the
tests check that both find the same issues.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forms.frames import (
    ID,
    PARENT_ROW,
    POSITION,
    SubmissionFrames,
    column_names,
    frame_layout,
    typed_column,
)
from forms.issues import Issue
from forms.model import FormModel
from forms.xpath.vector_checks import RepeatShape
from validation.codes import MESSAGES, SEVERITY
from validation.reference import value_text
from validation.rules import GEO_KINDS, format_ok, geo_problems
from validation.schema import NAVIGATION_LINK, submission_schema

NUMERIC_TYPES = frozenset({"integer", "decimal", "range"})

ABSENT = object()
"""A key the object does not have (as opposed to a key holding null)."""
ABSENT_KIND, NULL, BOOL, INT, FLOAT, STR, DICT, LIST, OTHER = range(9)
"""Kinds of values: a missing key, then the JSON types (OTHER: not a JSON value)."""
_KIND_OF_TYPE = {
    object: ABSENT_KIND,
    type(None): NULL,
    bool: BOOL,
    int: INT,
    float: FLOAT,
    str: STR,
    dict: DICT,
    list: LIST,
}
_KIND_OF_NAME = {
    "null": NULL,
    "boolean": BOOL,
    "integer": INT,
    "number": FLOAT,
    "string": STR,
    "object": DICT,
    "array": LIST,
}
_NAV = re.compile(NAVIGATION_LINK)


@dataclass
class Table:
    """Rows of one container level: the submissions, or one repeat's rows."""

    name: str | None
    xpath: str
    rel: str
    """Path of the repeat from its parent table's row (``grp/member``), "" for the root."""
    parent: Table | None
    parent_row: np.ndarray
    position: np.ndarray
    record: np.ndarray
    values: dict[str, list[Any]] = field(default_factory=dict)
    """Question xpath -> raw answers per row (None when absent), for the logic frames."""

    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.record)

    def prefix(self, row: int) -> str:
        """``member[2]/birth[1]/`` for a row ("" for a submission)."""
        if self.parent is None:
            return ""
        return (
            f"{self.parent.prefix(int(self.parent_row[row]))}{self.rel}[{int(self.position[row])}]/"
        )


@dataclass
class Found:
    """Issues found column-wise: per code, the (table, row, path suffix, value, detail)."""

    items: list[tuple[str, Table, int, str, Any, str]] = field(default_factory=list)

    def add(
        self, code: str, table: Table, rows: np.ndarray, path: str, values: Any, detail: str
    ) -> None:
        """Record ``code`` at ``rows`` of ``table`` (values: a list indexed by row, or None)."""
        for row in rows.tolist():
            value = ABSENT if values is None else values[row]
            self.items.append((code, table, row, path, value, detail))


class ColumnValidator:
    """The column-wise schema check of one form version (see the module docstring)."""

    def __init__(self, form: FormModel) -> None:
        self.form = form
        self.schema = submission_schema(form)
        self.root = f"/{form.root}"
        self.logic_root = self.root
        self._patterns: dict[str, re.Pattern[str]] = {}
        self.shapes = RepeatShape()
        self.questions = {q.xpath: q for q in form.elements if q.holds_data}

    def run(
        self, records: Sequence[Mapping[str, Any]]
    ) -> tuple[list[tuple[int, Issue]], SubmissionFrames, list[Table]]:
        """Schema issues as (record index, Issue without instance/enumerator), the logic
        frames and the tables (for mapping frame rows back to records)."""
        n = len(records)
        main = Table(None, self.root, "", None, np.full(n, -1), np.ones(n, np.int64), np.arange(n))
        tables = [main]
        found = Found()
        checked = np.ones(n, dtype=bool)
        self._object(self.schema, list(records), checked, main, "", self.root, found, tables)
        issues = [self._issue(item) for item in found.items]
        frames = self._frames(records, tables)
        return issues, frames, tables

    # -- the walk ----------------------------------------------------------------------
    def _object(
        self,
        schema: Mapping[str, Any],
        objs: list[Any],
        checked: np.ndarray,
        table: Table,
        rel: str,
        xpath: str,
        found: Found,
        tables: list[Table],
    ) -> None:
        """Validate the objects ``objs`` (rows of ``table``; ``checked`` says which are
        objects the schema reaches) against an object ``schema``."""
        properties: Mapping[str, Any] = schema.get("properties", {})
        all_dicts = bool((kinds_of(objs) == DICT).all())
        columns: dict[str, tuple[list[Any], np.ndarray]] = {}
        for key in properties:
            if all_dicts:
                values = list(map(dict.get, objs, itertools.repeat(key), itertools.repeat(ABSENT)))
            else:
                values = [o.get(key, ABSENT) if type(o) is dict else ABSENT for o in objs]
            columns[key] = (values, kinds_of(values))
        if schema.get("additionalProperties") is False:
            self._extras(properties, columns, objs, all_dicts, checked, table, rel, found)
        for key in schema.get("required", ()):
            missing = checked & (columns[key][1] == ABSENT_KIND)
            found.add(
                "V105",
                table,
                np.flatnonzero(missing),
                rel + key,
                None,
                "required answer missing (no such field)",
            )
        for key, sub in properties.items():
            values, kinds = columns[key]
            element_xpath = f"{xpath}/{key}"
            if sub.get("type") == "array" and "items" in sub:
                self._repeat(
                    key,
                    sub,
                    values,
                    kinds,
                    checked,
                    table,
                    rel,
                    element_xpath,
                    found,
                    tables,
                    objs,
                )
            elif "properties" in sub and "x-odk-type" not in sub:
                self._leaf(sub, values, kinds, checked, table, rel + key, found)
                inner = checked & (kinds == DICT)
                self._object(
                    sub, values, inner, table, f"{rel}{key}/", element_xpath, found, tables
                )
            else:
                self._leaf(sub, values, kinds, checked, table, rel + key, found)
                question = self.questions.get(element_xpath)
                if question is not None:
                    table.values[element_xpath] = logic_column(question, values, kinds)

    def _extras(self, properties, columns, objs, all_dicts, checked, table, rel, found) -> None:
        """Fields the schema does not define: rows with more keys than the known ones
        present (navigation links counted) are looked at one by one."""
        n = len(objs)
        if not n:
            return
        known_present = np.zeros(n, dtype=np.int64)
        for _, kinds in columns.values():
            known_present += kinds != ABSENT_KIND
        links = [f"{k}@odata.navigationLink" for k, v in properties.items() if "items" in v]
        for link in links:
            if all_dicts:
                known_present += np.fromiter(
                    map(dict.__contains__, objs, itertools.repeat(link)), bool, n
                )
            else:
                known_present += np.fromiter((type(o) is dict and link in o for o in objs), bool, n)
        if all_dicts:
            sizes = np.fromiter(map(len, objs), np.int64, n)
        else:
            sizes = np.fromiter((len(o) if type(o) is dict else 0 for o in objs), np.int64, n)
        known = set(properties)
        for row in np.flatnonzero(checked & (sizes > known_present)).tolist():
            for key in sorted(objs[row].keys() - known):
                if not _NAV.search(key):
                    found.items.append(
                        (
                            "V106",
                            table,
                            row,
                            rel + key,
                            objs[row][key],
                            "field not defined by the form",
                        )
                    )

    def _repeat(
        self, key, schema, values, kinds, checked, table, rel, xpath, found, tables, objs
    ) -> None:
        n = len(values)
        present = kinds != ABSENT_KIND
        is_list = kinds == LIST
        self._shape(key, values, kinds, table, xpath, objs)
        bad = checked & present & ~is_list
        self._type_issue(bad, values, table, rel + key, found, "array")
        rows = [v if type(v) is list else ([v] if type(v) is dict else []) for v in values]
        lengths = np.fromiter(map(len, rows), np.int64, n)
        items = list(itertools.chain.from_iterable(rows))
        parent_row = np.repeat(np.arange(n), lengths)
        starts = np.repeat(np.cumsum(lengths) - lengths, lengths)
        position = np.arange(len(items)) - starts + 1
        child = Table(key, xpath, rel + key, table, parent_row, position, table.record[parent_row])
        tables.append(child)
        item_is_dict = kinds_of(items) == DICT
        reached = np.repeat(checked & is_list, lengths)
        self._type_issue(reached & ~item_is_dict, items, child, None, found, "object")
        self._object(
            schema["items"], items, reached & item_is_dict, child, "", xpath, found, tables
        )

    def _shape(self, key, values, kinds, table, xpath, objs) -> None:
        """Remember the records whose repeat is malformed or sent without its rows."""
        odd = (kinds != ABSENT_KIND) & (kinds != NULL) & (kinds != LIST) & (kinds != DICT)
        for row in np.flatnonzero(odd).tolist():
            self.shapes.malformed.setdefault(xpath, {}).setdefault(
                int(table.record[row]), type(values[row]).__name__
            )
        empty = np.flatnonzero((kinds == ABSENT_KIND) | (kinds == NULL))
        if len(empty):
            link = f"{key}@odata.navigationLink"
            for row in empty.tolist():
                container = objs[row]
                if type(container) is dict and link in container:
                    self.shapes.missing.setdefault(xpath, set()).add(int(table.record[row]))

    def _type_issue(self, rows_mask, values, table, path, found, expected) -> None:
        rows = np.flatnonzero(rows_mask)
        if not len(rows):
            return
        for row in rows.tolist():
            value = values[row]
            code = "V105" if value is None else "V101"
            where = path
            found.items.append(
                (code, table, row, where, value, f"{_short(value)} is not of type '{expected}'")
            )

    def _leaf(self, schema, values, kinds, checked, table, path, found) -> None:
        n = len(values)
        present = checked & (kinds != ABSENT_KIND)
        if not present.any():
            return
        types = schema.get("type")
        if types is not None:
            allowed = (types,) if isinstance(types, str) else tuple(types)
            ok = np.isin(kinds, [_KIND_OF_NAME[t] for t in allowed])
            if "integer" in allowed:
                floats = np.flatnonzero(present & (kinds == FLOAT))
                if len(floats):
                    ok[floats] |= np.array([values[i].is_integer() for i in floats.tolist()])
            if "number" in allowed:
                ok |= kinds == INT
            self._report(
                present & ~ok,
                values,
                "V101",
                table,
                path,
                found,
                lambda v: f"{_short(v)} is not of type {types}",
            )
        if "enum" in schema:
            codes = [c for c in schema["enum"] if c is not None]
            is_str = kinds == STR
            member = np.zeros(n, dtype=bool)
            at = np.flatnonzero(is_str)
            if len(at):
                member[at] = pd.Series(_objects([values[i] for i in at.tolist()])).isin(codes)
            ok = member | ((kinds == NULL) & (None in schema["enum"]))
            self._report(
                present & ~ok,
                values,
                "V102",
                table,
                path,
                found,
                lambda v: f"{_short(v)} is not one of the codes",
            )
        texts_at = np.flatnonzero(present & (kinds == STR))
        if len(texts_at) and ("pattern" in schema or "format" in schema or "minLength" in schema):
            texts = _objects([values[i] for i in texts_at.tolist()])
            if "pattern" in schema:
                matcher = self._pattern(schema["pattern"])
                ok = _map_unique(lambda t: matcher.search(t) is not None, texts)
                for row in texts_at[~ok].tolist():
                    found.items.append(
                        (
                            "V103",
                            table,
                            row,
                            path,
                            values[row],
                            f"{_short(values[row])} does not match {schema['pattern']}",
                        )
                    )
            if "format" in schema:
                fmt = schema["format"]
                ok = _map_unique(lambda t: format_ok(fmt, t), texts)
                for row in texts_at[~ok].tolist():
                    found.items.append(
                        (
                            "V104",
                            table,
                            row,
                            path,
                            values[row],
                            f"{_short(values[row])} is not a valid {fmt}",
                        )
                    )
            if "minLength" in schema:
                ok = _map_unique(lambda t: len(t) >= schema["minLength"], texts)
                for row in texts_at[~ok].tolist():
                    found.items.append(("V101", table, row, path, values[row], "empty text"))
        if schema.get("x-odk-type") in GEO_KINDS:
            geo = GEO_KINDS[schema["x-odk-type"]]
            for row in np.flatnonzero(present & (kinds == DICT)).tolist():
                problems = geo_problems(geo, values[row])
                if problems:
                    found.items.append(("V107", table, row, path, None, problems[0][1]))

    def _report(self, mask, values, code, table, path, found, detail) -> None:
        for row in np.flatnonzero(mask).tolist():
            value = values[row]
            found.items.append(
                ("V105" if value is None else code, table, row, path, value, detail(value))
            )

    def _pattern(self, pattern: str) -> re.Pattern[str]:
        compiled = self._patterns.get(pattern)
        if compiled is None:
            compiled = self._patterns[pattern] = re.compile(pattern)
        return compiled

    # -- results -----------------------------------------------------------------------
    def _issue(self, item: tuple[str, Table, int, str, Any, str]) -> tuple[int, Issue]:
        code, table, row, path, value, detail = item
        full = table.prefix(row)[:-1] if path is None else table.prefix(row) + path
        return int(table.record[row]), Issue(
            code=code,
            severity=SEVERITY[code],
            message=f"{MESSAGES[code]}: {detail}",
            variable=f"{self.root}/{full}" if full else self.root,
            value=None if value is ABSENT else value_text(value),
        )

    def _frames(
        self, records: Sequence[Mapping[str, Any]], tables: list[Table]
    ) -> SubmissionFrames:
        form = self.form
        names = column_names(form)
        layout = frame_layout(form)
        ids = [
            (r.get(ID) or (r.get("meta") or {}).get("instanceID"))
            if isinstance(r, Mapping)
            else None
            for r in records
        ]
        by_name = {t.name: t for t in tables}
        frames: dict[str | None, pd.DataFrame] = {}
        for key, questions in layout.items():
            table = by_name.get(key)
            n = table.n if table is not None else 0
            data: dict[str, Any] = {
                ID: pd.Series(
                    [ids[i] for i in table.record.tolist()] if table else [], dtype=object
                )
            }
            if key is not None:
                data[PARENT_ROW] = (
                    table.parent_row.astype(np.int64) if table else np.empty(0, np.int64)
                )
                data[POSITION] = table.position.astype(np.int64) if table else np.empty(0, np.int64)
            for question in questions:
                raw = table.values.get(question.xpath) if table is not None else None
                if isinstance(raw, pd.Series):
                    data[names[question.xpath]] = raw
                else:
                    data[names[question.xpath]] = typed_column(
                        question, raw if raw is not None else [None] * n
                    )
            frames[key] = pd.DataFrame(data)
        main = frames.pop(None)
        return SubmissionFrames(form=form, main=main, repeats=frames)  # type: ignore[arg-type]


def _objects(values: Any) -> np.ndarray:
    """A 1-d object array of ``values`` (lists stay elements, never a second dimension)."""
    if not isinstance(values, list):
        values = list(values)
    return np.fromiter(values, dtype=object, count=len(values))


def kinds_of(values: list[Any]) -> np.ndarray:
    """The kind (ABSENT_KIND, NULL, ... OTHER) of each value (one dictionary lookup of
    each value's type, in C)."""
    kinds = map(_KIND_OF_TYPE.get, map(type, values), itertools.repeat(OTHER))
    return np.fromiter(kinds, dtype=np.int8, count=len(values))


def logic_column(question: Any, values: list[Any], kinds: np.ndarray) -> Any:
    """The frame column of a question (as :func:`forms.frames.typed_column` types it),
    built at once when the answers have the expected JSON types."""
    kind = question.type
    n = len(values)
    if kind in NUMERIC_TYPES and bool(np.isin(kinds, (ABSENT_KIND, NULL, INT, FLOAT)).all()):
        numbers = np.full(n, np.nan)
        at = np.flatnonzero((kinds == INT) | (kinds == FLOAT))
        if len(at):
            numbers[at] = np.array([values[i] for i in at.tolist()], dtype=np.float64)
        return pd.Series(numbers)
    if (
        kind not in NUMERIC_TYPES
        and kind not in ("date", *GEO_KINDS)
        and bool(np.isin(kinds, (ABSENT_KIND, NULL, STR)).all())
    ):
        texts = _objects(values)
        texts[kinds != STR] = None
        if len(texts):
            texts[texts == ""] = None
        return pd.Series(texts, dtype=object)
    return [None if v is ABSENT else v for v in values]


def _map_unique(fn: Any, texts: np.ndarray) -> np.ndarray:
    codes, uniques = pd.factorize(texts)
    mapped = np.fromiter((bool(fn(u)) for u in uniques), bool, len(uniques))
    return mapped[codes]


def _short(value: Any) -> str:
    text = value_text(value) or "null"
    return repr(text) if isinstance(value, str) else text
