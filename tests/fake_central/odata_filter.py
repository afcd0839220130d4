"""A small evaluator of Central's OData ``$filter`` over submission metadata.

Central lets a filter name only ``__id`` and ``__system/{submissionDate, updatedAt,
submitterId, reviewState, deletedAt}`` (optionally under ``$root/Submissions/``), with
``eq ne lt le gt ge``, ``and or not``, parentheses, ``null`` and literals. Comparisons with
null follow SQL: ``gt``/``lt`` against null are false. Timestamps compare as instants.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

FIELDS = {
    "__id",
    "__system/submissionDate",
    "__system/updatedAt",
    "__system/submitterId",
    "__system/reviewState",
    "__system/deletedAt",
}
TIME_FIELDS = {"__system/submissionDate", "__system/updatedAt", "__system/deletedAt"}
_TOKEN = re.compile(
    r"\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<str>'(?:[^']|'')*')|"
    r"(?P<word>[$A-Za-z_][\w/$.:+-]*)|(?P<num>-?\d[\w.:+-]*))"
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}


class FilterError(ValueError):
    """A filter Central would refuse (400 / 501)."""


Predicate = Callable[[Mapping[str, Any]], bool]


def compile_filter(text: str | None) -> tuple[Predicate, bool]:
    """A predicate over ``{field: value}`` rows, and whether the filter names deletedAt."""
    if not text:
        return (lambda row: True), False
    tokens = _tokenize(text)
    parser = _Parser(tokens)
    predicate = parser.expression()
    if parser.pos != len(tokens):
        raise FilterError(f"unexpected {tokens[parser.pos][1]!r}")
    return predicate, "deletedAt" in text


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise FilterError(f"cannot parse filter at {text[pos : pos + 10]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise FilterError("filter ends too early")
        self.pos += 1
        return token

    def expression(self) -> Predicate:
        left = self.conjunction()
        while self.peek() == ("word", "or"):
            self.take()
            right = self.conjunction()
            left = (lambda a, b: lambda r: a(r) or b(r))(left, right)
        return left

    def conjunction(self) -> Predicate:
        left = self.unary()
        while self.peek() == ("word", "and"):
            self.take()
            right = self.unary()
            left = (lambda a, b: lambda r: a(r) and b(r))(left, right)
        return left

    def unary(self) -> Predicate:
        if self.peek() == ("word", "not"):
            self.take()
            inner = self.unary()
            return lambda r: not inner(r)
        if self.peek() and self.peek()[0] == "lp":  # type: ignore[index]
            self.take()
            inner = self.expression()
            if self.take()[0] != "rp":
                raise FilterError("missing )")
            return inner
        return self.comparison()

    def comparison(self) -> Predicate:
        kind, field = self.take()
        if kind != "word":
            raise FilterError(f"expected a field, got {field!r}")
        field = field.removeprefix("$root/Submissions/")
        if field not in FIELDS:
            raise FilterError(f"the field {field} is not available for filtering")
        _, op = self.take()
        if op not in ("eq", "ne", *_COMPARE):
            raise FilterError(f"unsupported operator {op!r}")
        literal = self.literal(field)

        def predicate(row: Mapping[str, Any]) -> bool:
            value = row.get(field)
            if op == "eq":
                return value == literal
            if op == "ne":
                return value != literal
            if value is None or literal is None:
                return False
            return _COMPARE[op](value, literal)

        return predicate

    def literal(self, field: str) -> Any:
        kind, raw = self.take()
        if kind == "word" and raw == "null":
            return None
        if kind == "str":
            raw = raw[1:-1].replace("''", "'")
        if field in TIME_FIELDS:
            try:
                moment = datetime.fromisoformat(raw)
            except ValueError:
                raise FilterError(f"not a timestamp: {raw!r}") from None
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return raw
