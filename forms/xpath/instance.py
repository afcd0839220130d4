"""Instance trees: a submission (ODK Central OData JSON) as the XML-like tree XPath walks.

:func:`build_instance` lays the FormModel's structure over one submission: one node per
group, per repeat instance and per question (empty questions included, as in JavaRosa's
in-memory instance), with answers converted to XPath values by question type.
:func:`choice_instance` builds the secondary instance ``instance('list')/root/item`` that
pyxform generates for a choice list.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from forms.model import ChoiceList, FormModel, Question
from forms.xpath.values import number_to_string, parse_date_time, string_to_number

RelevanceHook = Callable[["Node"], bool]


class Node:
    """One element of an instance: a group, a repeat instance, a question or an item."""

    __slots__ = ("children", "index", "instance", "name", "override", "parent", "question", "value")

    def __init__(
        self,
        name: str,
        parent: Node | None,
        instance: Instance,
        *,
        question: Question | None = None,
        value: Any = None,
        index: int = 1,
    ) -> None:
        self.name = name
        self.parent = parent
        self.instance = instance
        self.question = question
        self.value = value
        """The typed answer, or None when empty."""
        self.index = index
        """1-based position among same-name siblings (repeat instance number)."""
        self.children: list[Node] = []
        self.override: Any = None
        if parent is not None:
            parent.children.append(self)

    def read(self) -> Any:
        """The value as an expression reads it: "" when empty or not relevant."""
        value = self.value
        if value is None or value == "":
            return ""
        if not self.instance.is_relevant(self):
            return ""
        return value

    @property
    def is_empty(self) -> bool:
        """True when the node holds no answer."""
        return self.value is None or self.value == ""

    def child(self, name: str) -> Node | None:
        """The first child named ``name``."""
        return next((c for c in self.children if c.name == name), None)

    def ancestors_or_self(self) -> list[Node]:
        """This node and its ancestors, the document node first."""
        chain: list[Node] = []
        node: Node | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        chain.reverse()
        return chain

    def descendants(self) -> Iterator[Node]:
        """Every node below this one, in document order."""
        for child in self.children:
            yield child
            yield from child.descendants()

    def path_text(self) -> str:
        """``/data/hh/kids[2]/kname``: the node's path with repeat positions."""
        parts = []
        for node in self.ancestors_or_self()[1:]:
            is_repeat = node.question is not None and node.question.is_repeat
            parts.append(f"{node.name}[{node.index}]" if is_repeat else node.name)
        return "/" + "/".join(parts)

    def repeat_indices(self) -> tuple[int, ...]:
        """The 1-based instance numbers of the enclosing repeats, outermost first."""
        return tuple(
            n.index
            for n in self.ancestors_or_self()
            if n.question is not None and n.question.is_repeat
        )

    def __repr__(self) -> str:
        return f"Node({self.path_text()}={self.value!r})"


class Instance:
    """A document: a virtual document node whose only child is the instance root."""

    def __init__(self, relevance: RelevanceHook | None = None) -> None:
        self.document = Node("#document", None, self)
        self.relevance = relevance
        self.by_xpath: dict[str, list[Node]] = {}
        """Every node of a form element by the element's xpath, in document order."""
        self.missing_repeats: set[str] = set()
        """Repeats whose rows the submission did not include (OData without $expand)."""
        self.malformed_repeats: dict[str, str] = {}
        """Repeat xpath -> the JSON type sent instead of a list (neither list nor object)."""
        self.indexes: dict[tuple[int, str | None, str], dict[str, list[Node]] | None] = {}
        """Equality indexes of a secondary instance's items (see
        :func:`forms.xpath.interpreter.indexed_children`), built on first use."""

    @property
    def root(self) -> Node:
        """The instance root (``/data``)."""
        return self.document.children[0]

    def is_relevant(self, node: Node) -> bool:
        """Relevance through the hook (secondary instances are always relevant)."""
        return True if self.relevance is None else self.relevance(node)

    def nodes(self, xpath: str) -> list[Node]:
        """The nodes of form element ``xpath`` (one per repeat instance)."""
        return self.by_xpath.get(xpath, [])


def build_instance(
    form: FormModel, submission: Mapping[str, Any], relevance: RelevanceHook | None = None
) -> Instance:
    """The instance tree of one OData submission laid over ``form``'s structure."""
    instance = Instance(relevance)
    root = Node(form.root, instance.document, instance)
    children: dict[str, list[Question]] = {}
    for element in form.elements:
        children.setdefault(element.parent, []).append(element)
    _fill(instance, root, f"/{form.root}", submission, children)
    if root.child("meta") is None:
        meta = Node("meta", root, instance)
        raw_meta = submission.get("meta") if isinstance(submission, Mapping) else None
        instance_id = raw_meta.get("instanceID") if isinstance(raw_meta, Mapping) else None
        Node("instanceID", meta, instance, value=instance_id or submission.get("__id"))
    return instance


def _fill(
    instance: Instance,
    parent: Node,
    xpath: str,
    data: Mapping[str, Any],
    children: Mapping[str, list[Question]],
) -> None:
    for element in children.get(xpath, ()):
        raw = data.get(element.name) if isinstance(data, Mapping) else None
        nodes = instance.by_xpath.setdefault(element.xpath, [])
        if element.is_repeat:
            if raw is None and f"{element.name}@odata.navigationLink" in (data or {}):
                instance.missing_repeats.add(element.xpath)
            rows = repeat_rows(raw)
            if raw is not None and not isinstance(raw, list | Mapping):
                instance.malformed_repeats[element.xpath] = type(raw).__name__
            for index, row in enumerate(rows, start=1):
                node = Node(element.name, parent, instance, question=element, index=index)
                nodes.append(node)
                _fill(
                    instance, node, element.xpath, row if isinstance(row, Mapping) else {}, children
                )
        elif element.is_group:
            node = Node(element.name, parent, instance, question=element)
            nodes.append(node)
            _fill(instance, node, element.xpath, raw if isinstance(raw, Mapping) else {}, children)
        else:
            value = convert_answer(element, raw)
            nodes.append(Node(element.name, parent, instance, question=element, value=value))


def repeat_rows(raw: Any) -> list[Any]:
    """The instances of a repeat as sent: a list, or a single object read as one instance
    (Central always sends a list; a hand-written file may not). Anything else: none."""
    if isinstance(raw, list):
        return raw
    if isinstance(raw, Mapping):
        return [raw]
    return []


def convert_answer(question: Question, raw: Any) -> Any:
    """An OData answer as the XPath value JavaRosa would hold (None when empty).

    Numbers become floats, dates ``date``, dateTimes ``datetime``, geopoints the
    ``"lat lon alt acc"`` text, everything else text. An answer that does not fit its type
    (``"abc"`` in an integer) is kept as text so that nothing is lost.
    """
    if raw is None or raw == "":
        return None
    kind = question.type
    if kind in ("integer", "decimal", "range"):
        if isinstance(raw, bool):
            return str(raw).lower()
        if isinstance(raw, int | float):
            return float(raw)
        number = string_to_number(str(raw))
        return str(raw) if math.isnan(number) else number
    if kind in ("date", "dateTime", "start", "end", "today", "time"):
        return _convert_temporal(kind, raw)
    if kind in ("geopoint", "geotrace", "geoshape", "start-geopoint"):
        return geojson_to_text(raw)
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float):
        return number_to_string(raw)
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, str):
        return raw
    return str(raw)


def _convert_temporal(kind: str, raw: Any) -> Any:
    text = str(raw)
    if kind == "time":
        parsed = parse_date_time(f"1970-01-01T{text}")
        return parsed if parsed is not None else text
    parsed = parse_date_time(text)
    if parsed is None:
        return text
    if kind == "date" and isinstance(parsed, datetime):
        return parsed.date()
    if kind != "date" and not isinstance(parsed, datetime) and isinstance(parsed, date):
        return datetime(parsed.year, parsed.month, parsed.day)
    return parsed


def geojson_to_text(raw: Any) -> str:
    """GeoJSON Point/LineString/Polygon -> ODK's ``"lat lon alt acc;..."`` text."""
    if isinstance(raw, str):
        return raw
    if not isinstance(raw, Mapping):
        return str(raw)
    kind = raw.get("type")
    coords = raw.get("coordinates")
    accuracy = (raw.get("properties") or {}).get("accuracy")
    if kind == "Point" and isinstance(coords, list):
        return _point_text(coords, accuracy)
    if kind == "LineString" and isinstance(coords, list):
        return ";".join(_point_text(c, None) for c in coords)
    if kind == "Polygon" and isinstance(coords, list) and coords:
        return ";".join(_point_text(c, None) for c in coords[0])
    return str(raw)


def _point_text(coords: list[Any], accuracy: Any) -> str:
    lon, lat = coords[0], coords[1]
    alt = coords[2] if len(coords) > 2 else 0
    parts = [lat, lon, alt, accuracy if accuracy is not None else 0]
    return " ".join(_plain_number(p) for p in parts)


def _plain_number(value: Any) -> str:
    kind = type(value)
    if kind is float:
        return repr(value)
    if kind is int:
        return str(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(float(value)) if isinstance(value, float) else str(value)
    return str(value)


def choice_instance(choices: ChoiceList, language: str | None) -> Instance:
    """The secondary instance pyxform writes for a choice list: ``root/item`` nodes with
    ``name``, ``label`` (in ``language``) and one child per extra column."""
    instance = Instance()
    root = Node("root", instance.document, instance)
    for index, choice in enumerate(choices.choices, start=1):
        item = Node("item", root, instance, index=index)
        Node("name", item, instance, value=choice.name)
        Node("label", item, instance, value=choice.text(language) or "")
        for column, value in choice.extras.items():
            Node(column, item, instance, value=value)
    return instance


def rows_instance(rows: Sequence[Mapping[str, Any]]) -> Instance:
    """A secondary instance from table rows (a CSV attachment or an entity list):
    ``root/item`` with one child per column, values as text."""
    instance = Instance()
    root = Node("root", instance.document, instance)
    for index, row in enumerate(rows, start=1):
        item = Node("item", root, instance, index=index)
        for column, value in row.items():
            text = None if value is None else str(value)
            Node(str(column), item, instance, value=text)
    return instance
