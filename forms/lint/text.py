"""Small text helpers shared by the lint rules: references, labels, name words."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from forms.model import DEFAULT_LANGUAGE, Question

_REFERENCE = re.compile(r"\$\{\s*([^}]*?)\s*\}")
_LAST_SAVED = "last-saved#"

EXPRESSION_COLUMNS = (
    "relevant",
    "constraint",
    "calculation",
    "choice_filter",
    "repeat_count",
    "default",
    "required",
    "read_only",
    "trigger",
)
"""Question columns that hold XPath expressions (and so may use ``${name}``)."""

TEXT_COLUMNS = ("label", "hint", "guidance_hint", "constraint_message", "required_message")
"""Translatable question columns (``${name}`` references are allowed in them too)."""


def references(text: str | None) -> list[str]:
    """The names referenced as ``${name}`` (or ``${last-saved#name}``) in ``text``, in order."""
    if not text:
        return []
    return [name.removeprefix(_LAST_SAVED) for name in _REFERENCE.findall(text)]


def expression_cells(question: Question) -> Iterable[tuple[str, str]]:
    """Every ``(column, text)`` of ``question`` that may contain ``${name}`` references."""
    for column in EXPRESSION_COLUMNS:
        value = getattr(question, column)
        if value:
            yield column, value
    for column in TEXT_COLUMNS:
        texts: Mapping[str, str] = getattr(question, column)
        for language, value in texts.items():
            yield _column_header(column, language), value


def _column_header(column: str, language: str) -> str:
    return column if language == DEFAULT_LANGUAGE else f"{column}::{language}"


_LEADING_CODE = re.compile(r"^\s*[\(（\[]?\s*-?\d+\s*[\)）\].:：、-]?\s*")
_TRAILING_CODE = re.compile(r"\s*[\(（\[]\s*-?\d+\s*[\)）\]]\s*$")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise_label(label: str) -> str:
    """A label reduced for vocabulary matching: ``"1. Don't know"`` -> ``"dontknow"``.

    Leading/trailing codes (``1.``, ``(98)``), punctuation, spaces and case are removed.
    """
    text = _TRAILING_CODE.sub("", _LEADING_CODE.sub("", label))
    return _NOT_WORD.sub("", text.replace("'", "").replace("’", "")).lower()


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_SPLIT = re.compile(r"[_\-.\s]+|(?<=\D)(?=\d)|(?<=\d)(?=\D)")


def name_words(name: str) -> list[str]:
    """A variable name split into lower-case words: ``"hhMember_age2"`` -> ``hh member age 2``."""
    return [w.lower() for w in _SPLIT.split(_CAMEL.sub("_", name)) if w]


def plural(count: int, word: str) -> str:
    """``1 row`` / ``3 rows``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def quoted_list(items: Iterable[str], limit: int = 5) -> str:
    """``'a', 'b', 'c'`` (at most ``limit`` items, then ``and N more``)."""
    items = list(items)
    shown = ", ".join(f"'{i}'" for i in items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"
