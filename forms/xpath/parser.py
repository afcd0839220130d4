"""Parse ODK XPath (as written in XLSForms) into the tree of :mod:`forms.xpath.ast`.

The grammar is XPath 1.0's, plus ``${name}`` references. :func:`parse` raises
:class:`forms.errors.ExpressionError` naming the offending text and position; callers that
know the question add its name with :func:`parse_for`.
"""

from __future__ import annotations

from functools import lru_cache

from forms.errors import ExpressionError
from forms.xpath.ast import Binary, Call, Expr, Filter, Literal, Negate, Path, Ref, Step
from forms.xpath.lexer import Token, tokenize

_AXES = {
    "child",
    "self",
    "parent",
    "attribute",
    "descendant",
    "descendant-or-self",
    "ancestor",
    "ancestor-or-self",
}
_NODE_TYPES = {"node", "text"}


@lru_cache(maxsize=4096)
def parse(text: str) -> Expr:
    """Parse one XPath expression; raises ExpressionError when it is malformed."""
    if not text or not text.strip():
        raise ExpressionError("empty expression")
    try:
        return _Parser(text).parse()
    except ExpressionError as err:
        raise ExpressionError(f"{err} in '{text}'") from None


def parse_for(text: str, question: str, column: str) -> Expr:
    """Parse ``text`` found in ``column`` of question ``question`` (the name goes in errors)."""
    try:
        return parse(text)
    except ExpressionError as err:
        raise ExpressionError(f"{question}: {column}: {err}") from None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- token helpers ----------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, offset: int = 1) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def at(self, *ops: str) -> bool:
        return self.tok.kind == "op" and self.tok.text in ops

    def take(self) -> Token:
        token = self.tok
        self.i += 1
        return token

    def expect(self, op: str) -> None:
        if not self.at(op):
            self.fail(f"expected '{op}'")
        self.i += 1

    def fail(self, message: str) -> None:
        token = self.tok
        found = "end of expression" if token.kind == "end" else f"'{token.text}'"
        raise ExpressionError(f"{message}, found {found} at position {token.pos + 1}")

    # -- grammar ------------------------------------------------------------------------
    def parse(self) -> Expr:
        expr = self.or_expr()
        if self.tok.kind != "end":
            self.fail("unexpected text after the expression")
        return expr

    def binary(self, ops: tuple[str, ...], operand) -> Expr:  # type: ignore[no-untyped-def]
        left = operand()
        while self.at(*ops):
            op = self.take().text
            left = Binary("*" if op == "*mul" else op, left, operand())
        return left

    def or_expr(self) -> Expr:
        return self.binary(("or",), self.and_expr)

    def and_expr(self) -> Expr:
        return self.binary(("and",), self.eq_expr)

    def eq_expr(self) -> Expr:
        return self.binary(("=", "!="), self.rel_expr)

    def rel_expr(self) -> Expr:
        return self.binary(("<", "<=", ">", ">="), self.add_expr)

    def add_expr(self) -> Expr:
        return self.binary(("+", "-"), self.mul_expr)

    def mul_expr(self) -> Expr:
        return self.binary(("*mul", "div", "mod"), self.unary_expr)

    def unary_expr(self) -> Expr:
        if self.at("-"):
            self.take()
            return Negate(self.unary_expr())
        return self.union_expr()

    def union_expr(self) -> Expr:
        return self.binary(("|",), self.path_expr)

    def path_expr(self) -> Expr:
        token = self.tok
        if token.kind == "op" and token.text in ("/", "//"):
            return self.absolute_path()
        if self.starts_step():
            return Path(False, self.relative_steps())
        primary = self.filter_expr()
        if self.at("/", "//"):
            steps = self.continue_steps()
            if isinstance(primary, Path):  # "(a/b)/c": continue the same path
                return Path(primary.absolute, primary.steps + steps, primary.start)
            return Path(False, steps, primary)
        return primary

    def starts_step(self) -> bool:
        token = self.tok
        if token.kind == "op":
            return token.text in (".", "..", "@", "*")
        if token.kind != "name":
            return False
        nxt = self.peek()
        if nxt.kind == "op" and nxt.text == "::":
            return True
        if nxt.kind == "op" and nxt.text == "(":
            return token.text in _NODE_TYPES
        return True

    def absolute_path(self) -> Expr:
        first = self.take().text
        steps: tuple[Step, ...] = ()
        if first == "//":
            steps = (Step("descendant-or-self", "node()"),)
        if self.starts_step():
            steps += self.relative_steps()
        elif first == "//":
            self.fail("expected a step after '//'")
        return Path(True, steps)

    def continue_steps(self) -> tuple[Step, ...]:
        steps: tuple[Step, ...] = ()
        while self.at("/", "//"):
            if self.take().text == "//":
                steps += (Step("descendant-or-self", "node()"),)
            steps += (self.step(),)
        return steps

    def relative_steps(self) -> tuple[Step, ...]:
        steps = (self.step(),)
        return steps + self.continue_steps()

    def step(self) -> Step:
        token = self.tok
        if self.at("."):
            self.take()
            return Step("self", "node()")
        if self.at(".."):
            self.take()
            return Step("parent", "node()")
        axis = "child"
        if self.at("@"):
            self.take()
            axis = "attribute"
        elif token.kind == "name" and self.peek().kind == "op" and self.peek().text == "::":
            if token.text not in _AXES:
                self.fail(f"unknown axis '{token.text}'")
            axis = self.take().text
            self.take()
        token = self.tok
        if self.at("*", "*mul"):
            self.take()
            name = "*"
        elif token.kind == "name":
            name = self.take().text
            if name in _NODE_TYPES and self.at("("):
                self.take()
                self.expect(")")
                name = f"{name}()"
        else:
            self.fail("expected a name")
        predicates = self.predicates()
        return Step(axis, name, predicates)

    def predicates(self) -> tuple[Expr, ...]:
        preds: list[Expr] = []
        while self.at("["):
            self.take()
            preds.append(self.or_expr())
            self.expect("]")
        return tuple(preds)

    def filter_expr(self) -> Expr:
        primary = self.primary()
        predicates = self.predicates()
        return Filter(primary, predicates) if predicates else primary

    def primary(self) -> Expr:
        token = self.tok
        if token.kind == "ref":
            self.take()
            if not token.text:
                raise ExpressionError(f"empty reference '${{}}' at position {token.pos + 1}")
            return Ref(token.text)
        if token.kind == "number":
            self.take()
            return Literal(float(token.text))
        if token.kind == "string":
            self.take()
            return Literal(token.text[1:-1])
        if self.at("("):
            self.take()
            expr = self.or_expr()
            self.expect(")")
            return expr
        if token.kind == "name" and self.peek().kind == "op" and self.peek().text == "(":
            name = self.take().text
            self.take()
            args: list[Expr] = []
            if not self.at(")"):
                args.append(self.or_expr())
                while self.at(","):
                    self.take()
                    args.append(self.or_expr())
            self.expect(")")
            return Call(name, tuple(args))
        if self.at("$"):
            self.fail("XPath variables are not supported")
        self.fail("expected a value, a reference or a function call")
        raise AssertionError("unreachable")
