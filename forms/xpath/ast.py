"""The syntax tree of an ODK XPath expression.

Nodes are frozen dataclasses so that compiled forms can share and cache them. ``text``
helpers (:func:`unparse`) turn a tree back into XPath for messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


class Expr:
    """Base of every expression node."""

    def children(self) -> tuple[Expr, ...]:
        """The direct sub-expressions (for walking the tree)."""
        return ()


@dataclass(frozen=True)
class Literal(Expr):
    """A string (``'abc'``) or number (``3.5``) literal."""

    value: str | float


@dataclass(frozen=True)
class Ref(Expr):
    """An XLSForm reference ``${name}`` (resolved to the question's absolute path)."""

    name: str


@dataclass(frozen=True)
class Step:
    """One location step: ``axis::name[predicates]``; ``.`` is self::node(), ``..`` parent."""

    axis: str
    """``child``, ``self``, ``parent``, ``attribute``, ``descendant-or-self``."""
    name: str
    """Node test: an element name, ``*`` or ``node()``."""
    predicates: tuple[Expr, ...] = ()


@dataclass(frozen=True)
class Path(Expr):
    """A location path: ``/data/a``, ``../b``, ``current()/../c``, ``instance('x')/root/item``.

    ``start`` is the filter expression the path starts from (``current()``,
    ``instance('x')``, a ``${name}``), None for plain absolute or relative paths.
    """

    absolute: bool
    steps: tuple[Step, ...]
    start: Expr | None = None

    def children(self) -> tuple[Expr, ...]:
        preds = tuple(p for s in self.steps for p in s.predicates)
        return ((self.start,) if self.start is not None else ()) + preds


@dataclass(frozen=True)
class Filter(Expr):
    """A primary expression with predicates: ``(expr)[1]``, ``${rep}[position()=2]``."""

    primary: Expr
    predicates: tuple[Expr, ...]

    def children(self) -> tuple[Expr, ...]:
        return (self.primary, *self.predicates)


@dataclass(frozen=True)
class Binary(Expr):
    """A binary operation: ``or and = != < <= > >= + - * div mod |``."""

    op: str
    left: Expr
    right: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Negate(Expr):
    """Unary minus."""

    operand: Expr

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Call(Expr):
    """A function call; ``name`` keeps its prefix (``jr:choice-name``)."""

    name: str
    args: tuple[Expr, ...]

    def children(self) -> tuple[Expr, ...]:
        return self.args


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of ``expr``, depth first, the root first."""
    yield expr
    for child in expr.children():
        yield from walk(child)


def function_names(expr: Expr) -> set[str]:
    """The names of every function called in ``expr``."""
    return {node.name for node in walk(expr) if isinstance(node, Call)}


def references(expr: Expr) -> set[str]:
    """The ``${name}`` references in ``expr``."""
    return {node.name for node in walk(expr) if isinstance(node, Ref)}
