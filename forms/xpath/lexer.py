"""Tokenise ODK XPath as written in XLSForms (``${name}`` references included).

XPath's rule for operator names applies: ``and``, ``or``, ``div``, ``mod`` and ``*`` are
operators only when the previous token can end an operand; otherwise they are names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from forms.errors import ExpressionError


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is ``number``, ``string``, ``name``, ``ref``, ``op`` or ``end``."""

    kind: str
    text: str
    pos: int


_NAME_START = r"[A-Za-z_\u00C0-\uFFFF]"
_NAME_CHAR = r"[A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF]"
_QNAME = rf"{_NAME_START}{_NAME_CHAR}*(?::{_NAME_START}{_NAME_CHAR}*)?"
_TOKEN = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<ref>\$\{{\s*(?P<refname>[^}}\s]*)\s*\}})
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<string>'[^']*'|"[^"]*")
  | (?P<op>//|::|\.\.|!=|<=|>=|[/()\[\],|+\-*=<>.@$])
  | (?P<name>{_QNAME}(?:::)?)
    """,
    re.VERBOSE,
)
_OPERAND_END = {")", "]", ".", "..", "*"}
_OPERATOR_NAMES = {"and", "or", "div", "mod"}


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens (ending with an ``end`` token).

    Raises :class:`ExpressionError` on a character that cannot start a token or an
    unterminated string.
    """
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            char = text[pos]
            what = "unterminated string" if char in "'\"" else f"unexpected character '{char}'"
            raise ExpressionError(f"{what} at position {pos + 1}")
        kind = match.lastgroup or ""
        if kind == "refname":
            kind = "ref"
        value = match.group(0)
        if kind == "ws":
            pos = match.end()
            continue
        if kind == "name" and value.endswith("::"):
            tokens.append(Token("name", value[:-2], pos))
            tokens.append(Token("op", "::", match.end() - 2))
            pos = match.end()
            continue
        if kind == "ref":
            value = match.group("refname")
        elif kind == "name" and value in _OPERATOR_NAMES and _after_operand(tokens):
            kind = "op"
        elif kind == "op" and value == "*" and _after_operand(tokens):
            value = "*mul"
        tokens.append(Token(kind, value, pos))
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _after_operand(tokens: list[Token]) -> bool:
    if not tokens:
        return False
    last = tokens[-1]
    if last.kind in ("number", "string", "name", "ref"):
        return True
    return last.kind == "op" and last.text in _OPERAND_END
