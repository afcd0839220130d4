"""Decoding OData pages while keeping each row's JSON text exactly as received.

``json.loads`` on a page gives objects only; storing "the raw JSON as received" would then
mean encoding every row again, which costs as much as decoding it. :func:`decode_page` walks
the top-level object with the C scanner (``JSONDecoder.raw_decode``) and slices each row of
``value`` out of the text: one decoding pass, and the stored text is byte-for-byte Central's.
"""

from __future__ import annotations

import json
from typing import Any

_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\n\r"


class PageFormatError(ValueError):
    """The text is not a JSON object (or its ``value`` is not a list)."""


def decode_page(text: str) -> tuple[dict[str, Any], list[str] | None]:
    """The page as an object, and the text of each row of its ``value`` list (None when
    the page has no ``value`` list)."""
    pos = _skip(text, 0)
    if not text.startswith("{", pos):
        return _fallback(text)
    page: dict[str, Any] = {}
    raws: list[str] | None = None
    pos = _skip(text, pos + 1)
    if text.startswith("}", pos):
        return page, None
    while True:
        key, pos = _value(text, pos)
        pos = _expect(text, pos, ":")
        if key == "value" and text.startswith("[", pos):
            page[key], raws, pos = _rows(text, pos)
        else:
            page[key], pos = _value(text, pos)
        pos = _skip(text, pos)
        if text.startswith("}", pos):
            break
        pos = _expect(text, pos, ",")
    if _skip(text, pos + 1) != len(text):
        raise PageFormatError("text after the JSON object")
    return page, raws


def _rows(text: str, pos: int) -> tuple[list[Any], list[str], int]:
    rows: list[Any] = []
    raws: list[str] = []
    pos = _skip(text, pos + 1)
    if text.startswith("]", pos):
        return rows, raws, pos + 1
    while True:
        start = pos
        row, pos = _value(text, pos)
        rows.append(row)
        raws.append(text[start:pos])
        pos = _skip(text, pos)
        if text.startswith("]", pos):
            return rows, raws, pos + 1
        pos = _expect(text, pos, ",")


def _value(text: str, pos: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as err:
        raise PageFormatError(str(err)) from None


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _expect(text: str, pos: int, char: str) -> int:
    pos = _skip(text, pos)
    if not text.startswith(char, pos):
        raise PageFormatError(f"expected {char!r} at {pos}")
    return _skip(text, pos + 1)


def _fallback(text: str) -> tuple[Any, None]:
    try:
        return json.loads(text), None
    except json.JSONDecodeError as err:
        raise PageFormatError(str(err)) from None
