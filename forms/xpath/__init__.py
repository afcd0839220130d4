"""ODK XPath as written in XLSForms: parser, syntax tree, JavaRosa-faithful evaluation.

- :func:`parse` / :func:`parse_for`: text -> tree (:mod:`forms.xpath.ast`); malformed text
  raises :class:`forms.errors.ExpressionError` naming the question and the offending text.
- :func:`evaluate` with an :class:`Environment` and :class:`Context`: the per-record tree
  interpreter, the reference semantics (:mod:`forms.xpath.interpreter`).
- :data:`FUNCTIONS`: the function library (:mod:`forms.xpath.functions`); a name that is
  not in it is "not implemented" and is reported, never silently passed.
- :mod:`forms.xpath.values`: JavaRosa's conversions (``to_number("") == NaN``, ...).
- :mod:`forms.xpath.vectorized`: the same semantics compiled over pandas frames.

Most code wants :mod:`forms.logic` (per-submission checks) instead of this package.
"""

from forms.xpath.ast import (
    Binary,
    Call,
    Expr,
    Filter,
    Literal,
    Negate,
    Path,
    Ref,
    Step,
    function_names,
    references,
    walk,
)
from forms.xpath.functions import FUNCTIONS, FunctionSpec
from forms.xpath.instance import Instance, Node, build_instance, convert_answer
from forms.xpath.interpreter import Context, Environment, evaluate, evaluate_boolean
from forms.xpath.parser import parse, parse_for
from forms.xpath.values import EvaluationError, Nodeset, NotImplementedFunction

__all__ = [
    "FUNCTIONS",
    "Binary",
    "Call",
    "Context",
    "Environment",
    "EvaluationError",
    "Expr",
    "Filter",
    "FunctionSpec",
    "Instance",
    "Literal",
    "Negate",
    "Node",
    "Nodeset",
    "NotImplementedFunction",
    "Path",
    "Ref",
    "Step",
    "build_instance",
    "convert_answer",
    "evaluate",
    "evaluate_boolean",
    "function_names",
    "parse",
    "parse_for",
    "references",
    "walk",
]
