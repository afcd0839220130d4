"""The reference evaluator: walks an expression tree for one record (JavaRosa's semantics).

:class:`Environment` holds what an evaluation needs besides the tree: the submission's
instance, today's date, the secondary instances of choice lists and how ``${name}`` maps
to a path. :func:`evaluate` returns an XPath value (see :mod:`forms.xpath.values`).

Absolute paths (``${name}`` included) are *contextualised* as JavaRosa does: a step that
names a repeat the context node is inside of selects that same repeat instance, so
``${age}`` in a repeat means the age of the current member, and from outside the repeat
it means every member's age (a nodeset for ``count()``/``sum()``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from forms.xpath.ast import Binary, Call, Expr, Filter, Literal, Negate, Path, Ref, Step
from forms.xpath.functions import FUNCTIONS, fn_normalize_space, string_length_of
from forms.xpath.instance import Instance, Node
from forms.xpath.values import (
    EvaluationError,
    Nodeset,
    NotImplementedFunction,
    is_null,
    to_boolean,
    to_decimal_date_time,
    to_int,
    to_number,
    to_string,
    unpack,
)


@dataclass
class Environment:
    """Everything an evaluation reads besides the expression and its context node."""

    instance: Instance
    ref_paths: Mapping[str, tuple[str, ...]]
    """``${name}`` -> element names from the root (``("data", "hh", "age")``)."""
    today: date = field(default_factory=date.today)
    now: datetime | None = None
    secondary: Callable[[str], Instance | None] = lambda name: None
    choice_label: Callable[[str, str], str] = lambda path, value: ""
    """(question path or ``${name}`` text, choice code) -> label, for jr:choice-name."""
    device_offset: timedelta = timedelta(0)
    """The device's UTC offset: where a date or an offset-less time is on the time line
    (decimal-date-time); see :func:`forms.logic.device_offset`."""


@dataclass(frozen=True)
class Context:
    """The context of an evaluation: node, ``current()``, and predicate position/size."""

    node: Node
    current: Node
    position: int = -1
    size: int = -1


def evaluate(expr: Expr, ctx: Context, env: Environment) -> Any:
    """The value of ``expr`` in ``ctx``. Raises EvaluationError (JavaRosa would too)."""
    kind = type(expr)
    if kind is Literal:
        return expr.value  # type: ignore[attr-defined]
    if kind is Ref:
        return Nodeset(_ref_nodes(expr.name, ctx, env))  # type: ignore[attr-defined]
    if kind is Binary:
        return _binary(expr, ctx, env)  # type: ignore[arg-type]
    if kind is Path:
        return Nodeset(_path_nodes(expr, ctx, env))  # type: ignore[arg-type]
    if kind is Call:
        return _call(expr, ctx, env)  # type: ignore[arg-type]
    if kind is Negate:
        return -to_number(evaluate(expr.operand, ctx, env))  # type: ignore[attr-defined]
    if kind is Filter:
        base = evaluate(expr.primary, ctx, env)  # type: ignore[attr-defined]
        if not isinstance(base, Nodeset):
            raise EvaluationError("predicates can only filter fields and paths")
        return Nodeset(_apply_predicates(list(base.nodes), expr.predicates, ctx, env))  # type: ignore[attr-defined]
    raise EvaluationError(f"cannot evaluate {expr!r}")


def evaluate_boolean(expr: Expr, ctx: Context, env: Environment) -> bool:
    """``boolean(expr)``: how relevance, constraints and required are read."""
    return to_boolean(evaluate(expr, ctx, env))


# -- operators ------------------------------------------------------------------------
def _binary(expr: Binary, ctx: Context, env: Environment) -> Any:
    op = expr.op
    if op == "and":
        return evaluate_boolean(expr.left, ctx, env) and evaluate_boolean(expr.right, ctx, env)
    if op == "or":
        return evaluate_boolean(expr.left, ctx, env) or evaluate_boolean(expr.right, ctx, env)
    left = evaluate(expr.left, ctx, env)
    right = evaluate(expr.right, ctx, env)
    if op == "|":
        if not isinstance(left, Nodeset) or not isinstance(right, Nodeset):
            raise EvaluationError("'|' joins fields and paths only")
        seen = {id(n) for n in left.nodes}
        return Nodeset([*left.nodes, *(n for n in right.nodes if id(n) not in seen)])
    if op in ("=", "!="):
        return equals(unpack(left), unpack(right)) == (op == "=")
    if op in ("<", "<=", ">", ">="):
        return compare(op, to_number(left), to_number(right))
    return arithmetic(op, to_number(left), to_number(right))


def equals(a: Any, b: Any) -> bool:
    """JavaRosa's ``=``: booleans if either is boolean, numbers if either is a number,
    else strings (so dates compare as ``yyyy-mm-dd`` and two empty answers are equal)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return to_boolean(a) == to_boolean(b)
    if isinstance(a, float) or isinstance(b, float):
        return abs(to_number(a) - to_number(b)) < 1e-12
    return to_string(a) == to_string(b)


def compare(op: str, a: float, b: float) -> bool:
    """``< <= > >=`` on numbers (NaN compares false)."""
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def arithmetic(op: str, a: float, b: float) -> float:
    """``+ - * div mod`` on doubles as Java computes them (x div 0 is infinite, x mod 0 NaN)."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "div":
        if b == 0:
            if a == 0 or a != a:
                return float("nan")
            negative = (a < 0) != (str(b).startswith("-"))
            return float("-inf") if negative else float("inf")
        return a / b
    if op == "mod":
        if b == 0 or a != a or b != b or a in (float("inf"), float("-inf")):
            return float("nan")
        return math.fmod(a, b)
    raise EvaluationError(f"unknown operator {op}")


# -- paths ----------------------------------------------------------------------------
def _ref_nodes(name: str, ctx: Context, env: Environment) -> list[Node]:
    names = env.ref_paths.get(name)
    if names is None:
        raise EvaluationError(f"${{{name}}} refers to no question of the form")
    steps = tuple(Step("child", n) for n in names)
    return _absolute(steps, ctx, env, env.instance.document)


def _absolute(
    steps: tuple[Step, ...], ctx: Context, env: Environment, document: Node
) -> list[Node]:
    """Walk absolute ``steps`` from ``document``, pinning repeat instances on the way
    down to those of the context node (JavaRosa's contextualisation)."""
    chain = ctx.current.ancestors_or_self() if ctx.current.instance is document.instance else []
    nodes = [document]
    aligned = bool(chain)
    for depth, step in enumerate(steps, start=1):
        nodes = _step(nodes, step, ctx, env)
        if aligned:
            anchor = chain[depth] if depth < len(chain) else None
            if (
                anchor is not None
                and step.axis == "child"
                and not step.predicates
                and anchor.name == step.name
                and any(n is anchor for n in nodes)
            ):
                nodes = [anchor]
            else:
                aligned = False
    return nodes


def _path_nodes(path: Path, ctx: Context, env: Environment) -> list[Node]:
    if path.start is not None:
        base = evaluate(path.start, ctx, env)
        if not isinstance(base, Nodeset):
            raise EvaluationError("a path can only continue from a field or a path")
        nodes = list(base.nodes)
        for step in path.steps:
            nodes = _step(nodes, step, ctx, env)
        return nodes
    if path.absolute:
        return _absolute(path.steps, ctx, env, env.instance.document)
    nodes = [ctx.node]
    for step in path.steps:
        nodes = _step(nodes, step, ctx, env)
    return nodes


def _step(nodes: list[Node], step: Step, ctx: Context, env: Environment) -> list[Node]:
    out: list[Node] = []
    seen: set[int] = set()
    for node in nodes:
        indexed = None
        if step.predicates and step.axis == "child" and step.name not in ("*", "node()"):
            indexed = indexed_children(node, step.name, step.predicates[0], ctx.current, env)
        if indexed is not None:
            candidates = _apply_predicates(indexed, step.predicates[1:], ctx, env)
        else:
            candidates = _axis(node, step)
            if step.predicates:
                candidates = _apply_predicates(candidates, step.predicates, ctx, env)
        for candidate in candidates:
            if id(candidate) not in seen:
                seen.add(id(candidate))
                out.append(candidate)
    return out


def _axis(node: Node, step: Step) -> list[Node]:
    axis, name = step.axis, step.name
    if axis == "child":
        pool = node.children
    elif axis == "self":
        pool = [node]
    elif axis == "parent":
        pool = [node.parent] if node.parent is not None else []
    elif axis == "descendant-or-self":
        pool = [node, *node.descendants()]
    elif axis == "descendant":
        pool = list(node.descendants())
    elif axis in ("ancestor", "ancestor-or-self"):
        chain = node.ancestors_or_self()
        pool = list(reversed(chain if axis == "ancestor-or-self" else chain[:-1]))
    elif axis == "attribute":
        return []
    else:
        raise EvaluationError(f"axis {axis} is not supported")
    if name in ("node()", "*"):
        return [n for n in pool if n.name != "#document" or name == "node()"]
    return [n for n in pool if n.name == name]


def _apply_predicates(
    nodes: list[Node], predicates: tuple[Expr, ...], ctx: Context, env: Environment
) -> list[Node]:
    for predicate in predicates:
        size = len(nodes)
        kept = []
        for position, node in enumerate(nodes, start=1):
            inner = Context(node, ctx.current, position, size)
            value = unpack(evaluate(predicate, inner, env))
            if isinstance(value, float) and not isinstance(value, bool):
                if value == position:
                    kept.append(node)
            elif to_boolean(value):
                kept.append(node)
        nodes = kept
    return nodes


# -- equality lookups in secondary instances ------------------------------------------
_ITEM_FREE_CALLS = frozenset({"current", "today", "true", "false"})
"""Functions without arguments that do not read the context node (nor draw anew)."""
_CONTEXT_CALLS = frozenset(
    {"position", "last", "name", "local-name", "random", "uuid", "once", "indexed-repeat"}
)
_EQUALITY_SPECS: dict[int, tuple[Expr, tuple[str, Expr] | None]] = {}


def indexed_children(
    parent: Node, name: str | None, predicate: Expr, current: Node, env: Environment
) -> list[Node] | None:
    """The children of ``parent`` (those named ``name``; all for None) for which the
    predicate ``column = key`` holds, looked up in an index of the children by their
    ``column`` text instead of evaluating the predicate once per child.

    Only for a secondary instance (a choice list, an attached CSV, an entity list: they
    never change and have no relevance) and a predicate whose ``key`` side does not read
    the child (``${ref}``, ``current()``, literals, absolute paths). None when the lookup
    would not be exactly JavaRosa's ``=`` (a number or boolean key compares as a number
    or boolean; a child whose ``column`` is not text or is repeated): then the caller
    evaluates the predicate child by child, as before."""
    instance = parent.instance
    if instance is env.instance or instance.relevance is not None:
        return None
    spec = _equality_spec(predicate)
    if spec is None:
        return None
    column, key_expr = spec
    slot = (id(parent), name, column)
    if slot not in instance.indexes:
        instance.indexes[slot] = _build_index(parent, name, column)
    index = instance.indexes[slot]
    if index is None:
        return None
    children = index.get("\0children", [])
    if not children:
        return []
    key = unpack(evaluate(key_expr, Context(children[0], current, 1, len(children)), env))
    if isinstance(key, bool | float):
        return None
    return list(index.get("=" + to_string(key), ()))


def _equality_spec(predicate: Expr) -> tuple[str, Expr] | None:
    """(column, key expression) of a predicate ``column = key`` (either order) whose key
    does not read the context node; None otherwise (memoised per tree)."""
    known = _EQUALITY_SPECS.get(id(predicate))
    if known is not None and known[0] is predicate:
        return known[1]
    spec = None
    if isinstance(predicate, Binary) and predicate.op == "=":
        for column_side, key_side in (
            (predicate.left, predicate.right),
            (predicate.right, predicate.left),
        ):
            column = _child_column(column_side)
            if column is not None and _item_free(key_side):
                spec = (column, key_side)
                break
    _EQUALITY_SPECS[id(predicate)] = (predicate, spec)
    return spec


def _child_column(expr: Expr) -> str | None:
    if (
        isinstance(expr, Path)
        and expr.start is None
        and not expr.absolute
        and len(expr.steps) == 1
        and expr.steps[0].axis == "child"
        and not expr.steps[0].predicates
        and expr.steps[0].name not in ("*", "node()")
    ):
        return expr.steps[0].name
    return None


def _item_free(expr: Expr) -> bool:
    """Does ``expr`` give the same value whatever the context node (not current())?"""
    from forms.xpath.ast import walk

    for node in walk(expr):
        if isinstance(node, Path) and node.start is None and not node.absolute:
            return False
        if isinstance(node, Call):
            if node.name in _CONTEXT_CALLS:
                return False
            if not node.args and node.name not in _ITEM_FREE_CALLS:
                return False
    return True


def _build_index(parent: Node, name: str | None, column: str) -> dict[str, list[Node]] | None:
    """Children of ``parent`` by the text of their ``column`` child ("" when they have
    none), or None when some child's ``column`` is repeated or not text."""
    children = [c for c in parent.children if name is None or c.name == name]
    index: dict[str, list[Node]] = {"\0children": children}
    for child in children:
        cells = [c for c in child.children if c.name == column]
        if len(cells) > 1:
            return None
        value = cells[0].read() if cells else ""
        if not isinstance(value, str):
            return None
        index.setdefault("=" + value, []).append(child)
    return index


# -- functions ------------------------------------------------------------------------
def _call(call: Call, ctx: Context, env: Environment) -> Any:
    name = call.name
    spec = FUNCTIONS.get(name)
    if spec is None:
        raise NotImplementedFunction(f"function '{name}' is not implemented")
    if spec.impl is not None:
        return spec.impl(*(evaluate(arg, ctx, env) for arg in call.args))
    handler = _SPECIAL[name]
    return handler(call, ctx, env)


def _if(call: Call, ctx: Context, env: Environment) -> Any:
    test = evaluate_boolean(call.args[0], ctx, env)
    return evaluate(call.args[1] if test else call.args[2], ctx, env)


def _coalesce(call: Call, ctx: Context, env: Environment) -> Any:
    first = evaluate(call.args[0], ctx, env)
    return first if not is_null(first) else evaluate(call.args[1], ctx, env)


def _once(call: Call, ctx: Context, env: Environment) -> Any:
    current = ctx.current.read()
    if current is None or to_string(current) == "":
        return evaluate(call.args[0], ctx, env)
    return current


def _position(call: Call, ctx: Context, env: Environment) -> Any:
    if call.args:
        nodes = evaluate(call.args[0], ctx, env)
        if not isinstance(nodes, Nodeset):
            raise EvaluationError("position() needs a path such as '..'")
        return float(nodes.nodes[0].index) if nodes.nodes else 0.0
    if ctx.position != -1:
        return float(ctx.position)
    return float(ctx.node.index)


def _indexed_repeat(call: Call, ctx: Context, env: Environment) -> Any:
    target = _static_names(call.args[0], ctx, env, "indexed-repeat(): parameter 1")
    pinned: dict[int, int] = {}
    for k in range(1, len(call.args), 2):
        group = _static_names(call.args[k], ctx, env, f"indexed-repeat(): parameter {k + 1}")
        if target[: len(group)] != group:
            raise EvaluationError(
                f"indexed-repeat(): parameter {k + 1} must be a parent of the field in parameter 1"
            )
        index = to_int(evaluate(call.args[k + 1], ctx, env))
        position = int(index) if index == index and abs(index) < 2**31 else 1
        pinned[len(group)] = max(position, 1)
    nodes = [env.instance.document]
    chain = ctx.current.ancestors_or_self()
    aligned = True
    for depth, name in enumerate(target, start=1):
        nodes = [c for n in nodes for c in n.children if c.name == name]
        if depth in pinned:
            nodes = [n for n in nodes if n.index == pinned[depth]]
            aligned = False
        elif aligned:
            anchor = chain[depth] if depth < len(chain) else None
            if anchor is not None and anchor.name == name and any(n is anchor for n in nodes):
                nodes = [anchor]
            else:
                aligned = False
    return Nodeset(nodes)


def _static_names(expr: Expr, ctx: Context, env: Environment, what: str) -> tuple[str, ...]:
    """The element names (from the root) of a ``${name}`` or a plain path argument."""
    if isinstance(expr, Ref):
        names = env.ref_paths.get(expr.name)
        if names is None:
            raise EvaluationError(f"${{{expr.name}}} refers to no question of the form")
        return names
    if isinstance(expr, Path) and expr.start is None and all(not s.predicates for s in expr.steps):
        if expr.absolute:
            return tuple(s.name for s in expr.steps)
        names = [n.name for n in ctx.node.ancestors_or_self()[1:]]
        for step in expr.steps:
            if step.axis == "parent":
                names.pop()
            elif step.axis == "child":
                names.append(step.name)
        return tuple(names)
    raise EvaluationError(f"{what} must be a field reference")


def _current(call: Call, ctx: Context, env: Environment) -> Any:
    return Nodeset([ctx.current])


def _instance(call: Call, ctx: Context, env: Environment) -> Any:
    name = to_string(evaluate(call.args[0], ctx, env))
    secondary = env.secondary(name)
    if secondary is None:
        raise NotImplementedFunction(missing_instance_message(name))
    return Nodeset([secondary.document])


def missing_instance_message(name: str) -> str:
    """Why ``instance(name)`` cannot be read: its attachment or entity list was not given.
    (The CLI recognises this text and tells users about ``--attachment``.)"""
    return (
        f"instance('{name}') is not available (an attached file or entity list: pass "
        "its rows to FormLogic(attachments=...))"
    )


def _choice_name(call: Call, ctx: Context, env: Environment) -> Any:
    value = to_string(evaluate(call.args[0], ctx, env))
    target = call.args[1]
    if isinstance(target, Literal) and isinstance(target.value, str):
        where = target.value
    elif isinstance(target, Ref):
        where = "${" + target.name + "}"
    else:
        where = to_string(evaluate(target, ctx, env))
    return env.choice_label(where, value) if value else ""


def _today(call: Call, ctx: Context, env: Environment) -> Any:
    return env.today


def _now(call: Call, ctx: Context, env: Environment) -> Any:
    return env.now or datetime.now(UTC)


def _decimal_date_time(call: Call, ctx: Context, env: Environment) -> Any:
    if len(call.args) != 1:
        raise EvaluationError("decimal-date-time() takes 1 argument")
    value = evaluate(call.args[0], ctx, env)
    return to_decimal_date_time(value, True, env.device_offset)


def _string_length(call: Call, ctx: Context, env: Environment) -> Any:
    arg = evaluate(call.args[0], ctx, env) if call.args else ctx.node.read()
    return string_length_of(arg)


def _normalize_space(call: Call, ctx: Context, env: Environment) -> Any:
    arg = evaluate(call.args[0], ctx, env) if call.args else ctx.node.read()
    return fn_normalize_space(arg)


_SPECIAL: dict[str, Callable[[Call, Context, Environment], Any]] = {
    "if": _if,
    "coalesce": _coalesce,
    "once": _once,
    "position": _position,
    "indexed-repeat": _indexed_repeat,
    "current": _current,
    "instance": _instance,
    "jr:choice-name": _choice_name,
    "today": _today,
    "now": _now,
    "string-length": _string_length,
    "decimal-date-time": _decimal_date_time,
    "normalize-space": _normalize_space,
}
