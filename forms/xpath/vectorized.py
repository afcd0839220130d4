"""The form's logic compiled over whole frames (numpy/pandas), one expression at a time.

:class:`VectorLogic` evaluates every relevance, constraint and required expression of a
form over the flattened frames of :mod:`forms.frames` -- over the main frame for
questions outside repeats and over each repeat frame for questions inside -- with the SAME
results as the per-record interpreter (:mod:`forms.xpath.interpreter`, the reference).

An expression tree is walked once per frame, not once per record: each node becomes a
numpy operation over a column. JavaRosa's per-value typing is kept exactly: a numeric or
date column with empty answers is "a number, or the empty string on those rows", so an
operation like ``=`` computes each type combination and picks per row (two empty integers
are equal; an empty integer does not equal 0).

What is vectorised: literals, ``${name}``/relative/absolute references (with JavaRosa's
repeat contextualisation), arithmetic, comparisons, and/or, ``if`` and ``coalesce`` with
like-typed branches, not/true/false/boolean/number/string/int/round, selected,
count-selected, string-length, regex/contains/starts-with/ends-with with literal
patterns, concat, today(), date('literal'), position(..), count/sum/count-non-empty of
repeats (also ``repeat[predicate]``), indexed-repeat with a literal index, and lookups
into secondary instances -- attachments given as ``VectorLogic(form, attachments=...)``
and choice lists: ``instance('x')/root/item[col = value and ...]/col`` and
``count(instance('x')/root/item[...])``, where each ``value`` has one value per context
row (current(), ``${name}``, literals...). Those are joins of the frame with the items,
comparing as JavaRosa's ``=`` does per row (numbers when the value is a number, with an
empty number read as ""; booleans; else text); no match reads "", several matches read
as one value are an error as in the interpreter.

Rows where the interpreter would raise (an instance whose file was not given, several
matches) carry the interpreter's message in :attr:`V.error`; ``and``/``or``/``if``/
``coalesce`` pass it on only where the interpreter evaluates that operand. Results then
say "not evaluated" on exactly the interpreter's rows (:attr:`VectorResults
.not_evaluated`; constraint None, required False, relevance True). Anything
else -- or a column whose type would make JavaRosa raise (text in an integer column,
dateTime columns) -- falls back to the interpreter, record by record; :attr:`VectorResults
.fallbacks` lists those expressions and :attr:`VectorResults.fallback_records` counts the
records they were interpreted for.

:mod:`forms.xpath.vector_checks` adds the rest of ``FormLogic.check`` over the same
:class:`FrameRun`: X104 (calculations), X105 (choice filters), X106 (repeat counts) and X199
with the interpreter's reasons.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from forms.frames import PARENT_ROW, POSITION, SubmissionFrames, column_names, frames_to_submissions
from forms.issues import Issue, Severity
from forms.model import FormModel, Question
from forms.xpath.ast import Binary, Call, Expr, Filter, Literal, Negate, Path, Ref, Step, walk
from forms.xpath.functions import compile_java_regex, fn_round
from forms.xpath.values import (
    EPOCH,
    EvaluationError,
    number_to_string,
    repeated_field_message,
    string_to_number,
    to_string,
)

STRING_TYPES = frozenset(
    {
        "text",
        "select_one",
        "select_multiple",
        "select_one_from_file",
        "select_multiple_from_file",
        "select_one_external",
        "rank",
        "calculate",
        "hidden",
        "barcode",
        "geopoint",
        "geotrace",
        "geoshape",
        "start-geopoint",
        "deviceid",
        "username",
        "phonenumber",
        "subscriberid",
        "simserial",
        "email",
        "image",
        "audio",
        "video",
        "file",
        "acknowledge",
        "osm",
        "background-audio",
        "audit",
        "trigger",
        "xml-external",
        "csv-external",
        "background-geopoint",
    }
)


class CannotVectorize(Exception):
    """Raised while compiling an expression that must be interpreted record by record."""


@dataclass
class V:
    """A column of XPath values of one kind: ``num`` (float64), ``date`` (days, float64),
    ``str`` (object), ``bool``. ``empty`` marks rows that are really the empty string."""

    kind: str
    data: np.ndarray
    empty: np.ndarray | None = None
    error: np.ndarray | None = None
    """Object array: per row, why the interpreter would raise there ("not evaluated",
    e.g. an attachment that was not given), None on rows that evaluate; None when no row
    raises. The values of ``data`` on error rows are meaningless."""


@dataclass
class SecNodes:
    """A nodeset per context row from a secondary instance
    (``instance('x')/root/item[pred]/col``): how many nodes match, the first one's text
    ("" when none) and the interpreter's error per row (see :attr:`V.error`)."""

    counts: np.ndarray
    first: np.ndarray
    path: str
    error: np.ndarray | None = None


@dataclass
class NodesV:
    """A nodeset per context row: the nodes of ``element`` at rows ``rows`` of its node
    frame; ``owner`` is each node's row in frame ``pinned``, the frame whose row picks
    the set (the context's own frame or one of its ancestors)."""

    element: Question
    rows: np.ndarray
    owner: np.ndarray
    pinned: str | None


@dataclass
class VectorResults:
    """Per question (by name): arrays over the rows of the question's frame."""

    relevant: dict[str, np.ndarray] = field(default_factory=dict)
    constraint_ok: dict[str, np.ndarray] = field(default_factory=dict)
    """Object arrays of True / False / None (None: empty, not relevant or no constraint)."""
    required_missing: dict[str, np.ndarray] = field(default_factory=dict)
    answered_not_relevant: dict[str, np.ndarray] = field(default_factory=dict)
    """An answer where the question is not relevant (X103)."""
    fallbacks: list[tuple[str, str]] = field(default_factory=list)
    """(question, column) expressions that were interpreted record by record."""
    fallback_records: int = 0
    vectorised: list[tuple[str, str]] = field(default_factory=list)
    not_evaluated: dict[str, np.ndarray] = field(default_factory=dict)
    """Object arrays: per node, the "not evaluated" reasons of its own relevance,
    constraint and required expressions joined with "; " (as the interpreter words them,
    e.g. "constraint: instance('households') is not available ..."), None when all
    evaluated."""

    def issues(self, frames: SubmissionFrames) -> list[Issue]:
        """X101 (constraint violated), X102 (required but empty), X103 (answered but
        not relevant) and X199 (not evaluated, the reasons of one node joined by "; ") as
        Issue records, like :meth:`forms.logic.SubmissionCheck.violations`
        (messages name the instance path; ``enumerator`` is not in the frames)."""
        form = frames.form
        out: list[Issue] = []
        for element in form.elements:
            frame = frames.frame_of(element) if element.holds_data else None
            if frame is None:
                continue
            checks = (
                (
                    "X101",
                    Severity.ERROR,
                    self.constraint_ok.get(element.name),
                    False,
                    f"violates constraint {element.constraint}",
                ),
                (
                    "X102",
                    Severity.ERROR,
                    self.required_missing.get(element.name),
                    True,
                    "required but empty",
                ),
                (
                    "X103",
                    Severity.WARNING,
                    self.answered_not_relevant.get(element.name),
                    True,
                    f"answered but not relevant ({element.relevant or 'enclosing group'})",
                ),
            )
            for code, severity, values, flag, text in checks:
                if values is None:
                    continue
                rows = (
                    np.flatnonzero(values == flag)
                    if flag is False
                    else np.flatnonzero(values.astype(bool))
                )
                if flag is False:
                    rows = [r for r in rows if values[r] is False]
                for row in rows:
                    out.append(
                        Issue(
                            code=code,
                            severity=severity,
                            message=f"{instance_path(frames, element, int(row))}: {text}",
                            variable=element.name,
                            instance_id=str(frame["__id"].iat[row]),
                        )
                    )
            reasons = self.not_evaluated.get(element.name)
            if reasons is None:
                continue
            for row in np.flatnonzero(pd.notna(reasons)):
                out.append(
                    Issue(
                        code="X199",
                        severity=Severity.INFO,
                        message=f"{instance_path(frames, element, int(row))}: not evaluated: "
                        f"{reasons[row]}",
                        variable=element.name,
                        instance_id=str(frame["__id"].iat[row]),
                    )
                )
        return out


def instance_path(frames: SubmissionFrames, element: Question, row: int) -> str:
    """``/data/hh[2]/person[1]/age`` for ``element`` at ``row`` of its frame."""
    form = frames.form
    indices: list[int] = []
    owner = form.by_xpath(element.repeat) if element.repeat else None
    while owner is not None:
        frame = frames.repeats[owner.name]
        indices.append(int(frame[POSITION].iat[row]))
        row = int(frame[PARENT_ROW].iat[row])
        owner = form.by_xpath(owner.repeats[-1]) if owner.repeats else None
    indices.reverse()
    parts, k = [], 0
    for depth, name in enumerate(element.xpath.split("/")[1:], start=1):
        prefix = "/" + "/".join(element.xpath.split("/")[1 : depth + 1])
        if prefix in element.repeats:
            parts.append(f"{name}[{indices[k]}]")
            k += 1
        else:
            parts.append(name)
    return "/" + "/".join(parts)


class VectorLogic:
    """A form's relevance/constraint/required logic evaluated over frames."""

    def __init__(
        self,
        form: FormModel,
        logic: Any = None,
        *,
        attachments: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        """``attachments``: file name -> rows, as for :class:`forms.logic.FormLogic`
        (ignored when ``logic`` is given: that FormLogic's attachments are used)."""
        from forms.logic import FormLogic

        self.form = form
        self.logic = logic if logic is not None else FormLogic(form, attachments=attachments)
        self.names = column_names(form)
        self.elements = {e.xpath: e for e in form.elements}

    def frame_run(self, frames: SubmissionFrames, today: date | None = None) -> FrameRun:
        """A :class:`FrameRun` over ``frames`` (``today`` for today(); default the date)."""
        return FrameRun(self, frames, today or date.today())

    def evaluate(
        self,
        frames: SubmissionFrames,
        *,
        today: date | None = None,
        columns: tuple[str, ...] = ("relevant", "constraint", "required"),
        progress: Callable[[int, int | None], None] | None = None,
    ) -> VectorResults:
        """Evaluate ``columns`` for every question over ``frames`` (``progress(done,
        total)`` after each question, if given)."""
        run = self.frame_run(frames, today)
        results = VectorResults()
        for done, element in enumerate(self.form.elements, start=1):
            if progress is not None:
                progress(done, len(self.form.elements))
            if "relevant" in columns:
                results.relevant[element.name] = run.relevance(element)
            if not element.holds_data:
                continue
            if "relevant" in columns:
                results.answered_not_relevant[element.name] = ~results.relevant[
                    element.name
                ] & ~run.own_empty(element)
            if "constraint" in columns:
                results.constraint_ok[element.name] = run.constraint(element)
            if "required" in columns:
                results.required_missing[element.name] = run.required(element)
        results.not_evaluated = run.not_evaluated_arrays()
        results.fallbacks = run.fallbacks
        results.fallback_records = run.fallback_records
        results.vectorised = run.vectorised
        return results


def _kind_of_question(question: Question) -> str:
    if question.type in ("integer", "decimal", "range"):
        return "num"
    if question.type == "date":
        return "date"
    if question.type in STRING_TYPES or question.type == "note":
        return "str"
    return "other"


class FrameRun:
    """One evaluation of a form's logic over one set of frames, with its caches (relevance
    per question, columns read, secondary-instance tables).

    :meth:`VectorLogic.evaluate` uses one for the whole form; a caller that fills answers
    question by question (the fieldwork simulator) keeps one, evaluates single expressions
    with :meth:`evaluate_expression` and drops the cached ``columns[xpath]`` of a question
    whose answers it changed."""

    def __init__(self, vl: VectorLogic, frames: SubmissionFrames, today: date) -> None:
        self.vl = vl
        self.form = vl.form
        self.frames = frames
        self.today = today
        self._relevance: dict[str, np.ndarray] = {}
        self._in_progress: set[str] = set()
        self.fallbacks: list[tuple[str, str]] = []
        self.fallback_records = 0
        self.vectorised: list[tuple[str, str]] = []
        self._runs: list[Any] | None = None
        self._row_maps: dict[tuple[str | None, str | None], np.ndarray] = {}
        self.columns: dict[str, V] = {}
        self.reads: dict[tuple[str, str | None], V] = {}
        self.tables: dict[str, dict[str, np.ndarray] | None] = {}
        self.reasons: dict[str, list[tuple[int, np.ndarray]]] = {}
        """Per question: (column order, object array of reasons) to join."""

    def evaluate_expression(self, tree: Expr, context: Question) -> V | NodesV | SecNodes:
        """The value of a parsed expression per row of ``context``'s frame (a ``V``; a
        nodeset as ``NodesV``/``SecNodes``: make one value of it with :func:`scalar`).
        Raises :class:`CannotVectorize` for what must go to the interpreter."""
        return _Compiler(self, context).eval(tree)

    def forget(self, xpath: str) -> None:
        """The answers of the question at ``xpath`` changed in the frames: drop its cached
        column and what was derived from answers (reads, relevance)."""
        self.columns.pop(xpath, None)
        self.reads.clear()
        self._relevance.clear()
        self.__dict__.get("_own_empty", {}).pop(xpath, None)
        self.__dict__.pop("_matches", None)

    # -- not evaluated -----------------------------------------------------------------
    def note(self, element: Question, order: int, reasons: np.ndarray | None) -> None:
        """Record "not evaluated" reasons (None where evaluated) of one column."""
        if reasons is not None and pd.notna(reasons).any():
            self.reasons.setdefault(element.name, []).append((order, reasons))

    def not_evaluated_arrays(self) -> dict[str, np.ndarray]:
        """Per element: the joined reasons per node (see VectorResults.not_evaluated)."""
        out: dict[str, np.ndarray] = {}
        for element in self.form.elements:
            n = self.size(self.node_frame(element))
            joined = np.full(n, None, dtype=object)
            for _, reasons in sorted(self.reasons.get(element.name, []), key=lambda r: r[0]):
                mask = pd.notna(reasons)
                for row in np.flatnonzero(mask):
                    joined[row] = (
                        reasons[row] if joined[row] is None else f"{joined[row]}; {reasons[row]}"
                    )
            out[element.name] = joined
        return out

    def not_evaluated_lists(self) -> dict[str, dict[int, tuple[str, ...]]]:
        """Per element with reasons: row -> its "not evaluated" reasons, one by one
        (relevance, constraint, required, calculation, choices; the interpreter lists them
        separately too)."""
        out: dict[str, dict[int, tuple[str, ...]]] = {}
        for name, entries in self.reasons.items():
            rows: dict[int, tuple[str, ...]] = {}
            for _, reasons in sorted(entries, key=lambda r: r[0]):
                for row in np.flatnonzero(pd.notna(reasons)).tolist():
                    rows[row] = (*rows.get(row, ()), reasons[row])
            if rows:
                out[name] = rows
        return out

    def table(self, name: str) -> dict[str, np.ndarray] | None:
        """Secondary instance ``name`` as text columns over its items (None when the
        form's FormLogic has no such instance); built once per VectorLogic."""
        shared = self.vl.__dict__.setdefault("_tables", {})
        if name in shared:
            self.tables[name] = shared[name]
        if name not in self.tables and _is_attachment(self.vl.logic, name):
            self.tables[name] = shared[name] = _rows_table(self.vl.logic.attachments[name])
        if name not in self.tables:
            instance = self.vl.logic.secondary(name)
            if instance is None:
                self.tables[name] = None
            else:
                root = instance.document.children[0] if instance.document.children else None
                items = root.children if root is not None else []
                names: dict[str, None] = {}
                for item in items:
                    for child in item.children:
                        names.setdefault(child.name, None)
                columns = {c: np.full(len(items), "", dtype=object) for c in names}
                for row, item in enumerate(items):
                    for child in item.children:
                        if child.value is not None and child.value != "":
                            columns[child.name][row] = to_string(child.value)
                self.tables[name] = {
                    "__root__": np.array([root.name if root is not None else ""], dtype=object),
                    "__item__": np.array([i.name for i in items], dtype=object),
                    **columns,
                }
            shared[name] = self.tables[name]
        return self.tables[name]

    # -- frames ----------------------------------------------------------------------
    def node_frame(self, element: Question) -> str | None:
        """The frame whose rows are the nodes of ``element``."""
        if element.is_repeat:
            return element.name
        if element.repeat is None:
            return None
        return self.vl.elements[element.repeat].name

    def frame(self, name: str | None) -> pd.DataFrame:
        return self.frames.main if name is None else self.frames.repeats[name]

    def size(self, name: str | None) -> int:
        return len(self.frame(name))

    def parent_frame(self, name: str | None) -> str | None:
        repeat = self.form[name] if name is not None else None
        assert repeat is not None
        parent = self.vl.elements.get(repeat.parent)
        return self.node_frame(parent) if parent is not None else None

    def chain(self, name: str | None) -> list[str | None]:
        """``name`` and its ancestor frames, innermost first, the main frame (None) last."""
        out = [name]
        while name is not None:
            name = self.parent_frame(name)
            out.append(name)
        return out

    def row_map(self, source: str | None, target: str | None) -> np.ndarray:
        """For each row of frame ``source``, its row in ancestor-or-self frame ``target``."""
        key = (source, target)
        if key in self._row_maps:
            return self._row_maps[key]
        if source == target:
            rows = np.arange(self.size(source))
        else:
            parent = self.parent_frame(source)
            up = self.frame(source)[PARENT_ROW].to_numpy()
            rows = self.row_map(parent, target)[up]
        self._row_maps[key] = rows
        return rows

    # -- relevance ---------------------------------------------------------------------
    def relevance(self, element: Question) -> np.ndarray:
        """Inherited relevance of every node of ``element`` (rows of its node frame)."""
        known = self._relevance.get(element.name)
        if known is not None:
            return known
        frame = self.node_frame(element)
        n = self.size(frame)
        if element.name in self._in_progress:
            return np.ones(n, dtype=bool)
        self._in_progress.add(element.name)
        try:
            parent = self.vl.elements.get(element.parent)
            if parent is not None:
                inherited = self.relevance(parent)
                inherited = inherited[self.row_map(frame, self.node_frame(parent))]
            else:
                inherited = np.ones(n, dtype=bool)
            compiled = self.vl.logic.expressions.get((element.name, "relevant"))
            if compiled is None:
                result = inherited
            else:
                own = self._vector_or_none(compiled, element, "relevant", boolean=True)
                if own is None:
                    result = self._fallback_relevance(element)
                else:
                    value, errors = own
                    if errors is None:
                        result = inherited & value
                    else:
                        failed = pd.notna(errors)
                        # the interpreter treats a relevance it cannot evaluate as relevant
                        result = inherited & (value | failed)
                        self.note(element, 0, _reasons("relevant", errors, inherited & failed))
        finally:
            self._in_progress.discard(element.name)
        self._relevance[element.name] = result
        return result

    def constraint(self, element: Question) -> np.ndarray:
        frame = self.node_frame(element)
        n = self.size(frame)
        out = np.full(n, None, dtype=object)
        compiled = self.vl.logic.expressions.get((element.name, "constraint"))
        if compiled is None:
            return out
        own = self._vector_or_none(compiled, element, "constraint", boolean=True)
        if own is None:
            return self._fallback_result(element, "constraint_ok")
        value, errors = own
        active = self.relevance(element) & ~self.own_empty(element)
        out[active] = value[active]
        if errors is not None:
            failed = active & pd.notna(errors)
            out[failed] = None
            self.note(element, 1, _reasons("constraint", errors, failed))
        return out

    def required(self, element: Question) -> np.ndarray:
        from forms.logic import _NOT_INPUT

        frame = self.node_frame(element)
        n = self.size(frame)
        compiled = self.vl.logic.expressions.get((element.name, "required"))
        if compiled is None or element.type in _NOT_INPUT:
            return np.zeros(n, dtype=bool)
        own = self._vector_or_none(compiled, element, "required", boolean=True)
        if own is None:
            return self._fallback_result(element, "required_missing").astype(bool)
        value, errors = own
        asked = self.relevance(element) & self.own_empty(element)
        if errors is None:
            return asked & value
        failed = pd.notna(errors)
        self.note(element, 2, _reasons("required", errors, asked & failed))
        return asked & value & ~failed

    def own_empty(self, element: Question) -> np.ndarray:
        """Rows of ``element``'s node frame where it has no answer (memoised per run)."""
        memo = self.__dict__.setdefault("_own_empty", {})
        if element.xpath not in memo:
            column = self.frame(self.node_frame(element))[self.vl.names[element.xpath]]
            memo[element.xpath] = _empty_mask(column)
        return memo[element.xpath]

    def base_column(self, target: Question) -> V:
        """``target``'s answers as XPath values over its node frame, before relevance."""
        cached = self.columns.get(target.xpath)
        if cached is not None:
            return cached
        column = self.frame(self.node_frame(target))[self.vl.names[target.xpath]]
        kind = _kind_of_question(target)
        if kind == "num":
            if column.dtype != np.float64:
                raise CannotVectorize("non-numeric values in a numeric column")
            data = column.to_numpy()
            value = V("num", data, np.isnan(data))
        elif kind == "date":
            if not pd.api.types.is_datetime64_any_dtype(column):
                raise CannotVectorize("unparsed dates")
            stamps = column.to_numpy()
            empty = np.isnat(stamps)
            days = stamps.astype("datetime64[D]").astype(np.int64).astype(np.float64)
            value = V("date", np.where(empty, np.nan, days), empty)
        elif kind == "str":
            data = column.to_numpy(dtype=object)
            value = V("str", np.where(pd.isna(data), "", data).astype(object))
        else:
            raise CannotVectorize(f"{target.type} values")
        self.columns[target.xpath] = value
        return value

    def _vector_or_none(
        self, compiled: Any, element: Question, column: str, boolean: bool
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """(boolean value, per-row errors or None) of ``compiled`` over ``element``'s
        frame; None when it must be interpreted record by record."""
        if not compiled.ok:
            raise_later = compiled.problem
            self.fallbacks.append((element.name, f"{column} ({raise_later})"))
            return None
        try:
            value = scalar(_Compiler(self, element).eval(compiled.tree), self)
            result = to_bool(value)
        except CannotVectorize:
            self.fallbacks.append((element.name, column))
            return None
        self.vectorised.append((element.name, column))
        return result, value.error

    def _to_bool(self, value: V | NodesV) -> np.ndarray:
        return to_bool(scalar(value, self))

    # -- fallback ------------------------------------------------------------------------
    def runs(self) -> list[Any]:
        if self._runs is None:
            submissions = frames_to_submissions(self.frames)
            self._runs = [self.vl.logic.run(s, today=self.today) for s in submissions]
        return self._runs

    def _nodes(self, element: Question) -> list[tuple[Any, Any]]:
        pairs = []
        for run in self.runs():
            for node in run.instance.nodes(element.xpath):
                pairs.append((run, node))
        self.fallback_records += len(self.runs())
        return pairs

    def _fallback_relevance(self, element: Question) -> np.ndarray:
        pairs = self._nodes(element)
        relevant = np.array([run.relevant(node) for run, node in pairs], dtype=bool)
        reasons = np.array([run.relevance_errors.get(id(node)) for run, node in pairs], object)
        self.note(element, 0, reasons)
        return relevant

    def _fallback_result(self, element: Question, attribute: str) -> np.ndarray:
        values = []
        notes = []
        for run, node in self._nodes(element):
            result: dict[str, Any] = {}
            reasons: list[str] = []
            if run.relevant(node):
                if attribute == "constraint_ok":
                    run._constraint(element, node, result, reasons)
                else:
                    run._required(element, node, result, reasons)
            default = None if attribute == "constraint_ok" else False
            values.append(result.get(attribute, default))
            notes.append("; ".join(reasons) or None)
        self.note(element, 1 if attribute == "constraint_ok" else 2, np.array(notes, object))
        return np.array(values, dtype=object)


def _reads_context(expr: Expr) -> bool:
    """Whether ``expr`` reads its context node (``current()``, a relative path), so that
    its value is not that of any other question of the same frame."""
    for node in walk(expr):
        if isinstance(node, Call) and node.name in ("current", "position"):
            return True
        if isinstance(node, Path) and node.start is None and not node.absolute:
            return True
    return False


def _is_attachment(logic: Any, name: str) -> bool:
    """Whether ``instance(name)`` is an attachment's rows (not a choice list)."""
    form = logic.form
    return (
        name not in form.choice_lists
        and name not in form.external_choice_lists
        and name in logic.attachments
    )


def _rows_table(rows: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """An attachment's rows as the text columns :meth:`FrameRun.table` gives (the same as
    reading them through :func:`forms.xpath.instance.rows_instance`, without its nodes).
    Built with C-level loops: a 200,000-row households list is read on every run."""
    import itertools

    n = len(rows)
    names = dict.fromkeys(map(str, itertools.chain.from_iterable(rows)))
    plain = {type(row) for row in rows} <= {dict}
    columns: dict[str, np.ndarray] = {}
    for column in names:
        if plain:
            cells = map(dict.get, rows, itertools.repeat(column))
        else:
            cells = (row.get(column) for row in rows)
        texts = np.fromiter(cells, dtype=object, count=n)
        is_text = np.fromiter(map(isinstance, texts, itertools.repeat(str)), bool, count=n)
        odd = np.flatnonzero(~is_text)
        for row in odd.tolist():
            value = texts[row]
            texts[row] = "" if value is None else str(value)
        columns[column] = texts
    return {
        "__root__": np.array(["root"], dtype=object),
        "__item__": np.full(n, "item", dtype=object),
        **columns,
    }


# -- values ---------------------------------------------------------------------------
def _empty_mask(column: pd.Series) -> np.ndarray:
    if column.dtype == object:
        values = column.to_numpy(dtype=object)
        return pd.isna(values) | (values == "")
    return column.isna().to_numpy()


def map_unique(fn: Callable[[Any], Any], data: np.ndarray, dtype: Any) -> np.ndarray:
    """Apply a scalar function once per distinct value."""
    if len(data) == 0:
        return np.empty(0, dtype=dtype)
    codes, uniques = pd.factorize(data, use_na_sentinel=False)
    values = uniques.tolist() if hasattr(uniques, "tolist") else list(uniques)
    mapped = np.array([fn(u) for u in values], dtype=dtype)
    return mapped[codes]


def full(kind: str, value: Any, n: int) -> V:
    """A column of ``n`` copies of a literal ``value`` of ``kind`` (str, bool or num)."""
    if kind == "str":
        arr = np.empty(n, dtype=object)
        arr[:] = value
        return V("str", arr)
    if kind == "bool":
        return V("bool", np.full(n, bool(value)))
    return V(kind, np.full(n, float(value)))


def to_num(v: V) -> np.ndarray:
    """The column as numbers (JavaRosa's toNumeric): empty answers are NaN."""
    if v.kind in ("num", "date"):
        return v.data if v.empty is None else np.where(v.empty, np.nan, v.data)
    if v.kind == "bool":
        return v.data.astype(np.float64)
    return map_unique(string_to_number, v.data, np.float64)


def to_bool(v: V) -> np.ndarray:
    """The column as booleans (JavaRosa's toBoolean): non-zero numbers, non-empty text."""
    if v.kind == "bool":
        return v.data
    if v.kind == "num":
        data = to_num(v)
        with np.errstate(invalid="ignore"):
            return (np.abs(data) > 1e-12) & ~np.isnan(data)
    if v.kind == "date":
        return np.ones(len(v.data), dtype=bool) if v.empty is None else ~v.empty
    return v.data != ""


def _date_text(days: float) -> str:
    return date.fromordinal(EPOCH.toordinal() + int(days)).isoformat()


def to_str(v: V) -> np.ndarray:
    """The column as text (JavaRosa's toString): numbers as ``5``, dates as ISO dates."""
    if v.kind == "str":
        return v.data
    if v.kind == "bool":
        return np.where(v.data, "true", "false").astype(object)
    fn = number_to_string if v.kind == "num" else _date_text
    text = map_unique(fn, np.nan_to_num(v.data, nan=0.0) if v.kind == "date" else v.data, object)
    if v.empty is not None:
        text = np.where(v.empty, "", text).astype(object)
    return text


def variants(v: V) -> list[tuple[np.ndarray | None, V]]:
    """(row mask, pure value) pairs: a column with empties is a number or ""."""
    if v.empty is None or v.kind in ("str", "bool") or not v.empty.any():
        return [(None, V(v.kind, v.data))]
    blank = np.empty(len(v.data), dtype=object)
    blank[:] = ""
    return [(~v.empty, V(v.kind, v.data)), (v.empty, V("str", blank))]


def _equal_pure(a: V, b: V) -> np.ndarray:
    if a.kind == "bool" or b.kind == "bool":
        return to_bool(a) == to_bool(b)
    if a.kind == "num" or b.kind == "num":
        with np.errstate(invalid="ignore"):
            return np.abs(to_num(a) - to_num(b)) < 1e-12
    return to_str(a) == to_str(b)


def equal(a: V, b: V) -> np.ndarray:
    """JavaRosa's ``=`` per row, empties included."""
    n = len(a.data)
    out = np.zeros(n, dtype=bool)
    for mask_a, pa in variants(a):
        for mask_b, pb in variants(b):
            mask = _and_masks(mask_a, mask_b, n)
            if mask is not None and not mask.any():
                continue
            result = _equal_pure(pa, pb)
            if mask is None:
                out = result
            else:
                out[mask] = result[mask]
    return np.asarray(out, dtype=bool)


def _and_masks(a: np.ndarray | None, b: np.ndarray | None, n: int) -> np.ndarray | None:
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def scalar(value: V | NodesV | SecNodes, run: FrameRun) -> V:
    """A V for a value used as one value: a nodeset must hold one node per row (a
    secondary-instance nodeset: at most one, else the interpreter's error)."""
    if isinstance(value, V):
        return value
    if isinstance(value, SecNodes):
        several = value.counts > 1
        error = value.error
        if several.any():
            extra = np.full(len(several), None, dtype=object)
            extra[several] = [
                repeated_field_message(value.path, int(c)) for c in value.counts[several]
            ]
            error = first_error([error, extra])
        return V("str", value.first, error=error)
    raise CannotVectorize("a nodeset used as a value")


def first_error(errors: Sequence[np.ndarray | None]) -> np.ndarray | None:
    """Per row, the first error of ``errors`` (evaluation order), None when none."""
    out: np.ndarray | None = None
    for error in errors:
        if error is None:
            continue
        if out is None:
            out = error.copy()
        else:
            gap = pd.isna(out)
            out[gap] = error[gap]
    if out is not None and not pd.notna(out).any():
        return None
    return out


def gated(error: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    """``error`` only on ``rows`` (where the expression is actually evaluated)."""
    if error is None:
        return None
    out = np.where(rows, error, None).astype(object)
    return out if pd.notna(out).any() else None


def _reasons(column: str, errors: np.ndarray, rows: np.ndarray) -> np.ndarray:
    out = np.full(len(errors), None, dtype=object)
    for row in np.flatnonzero(rows):
        out[row] = f"{column}: {errors[row]}"
    return out


def _error_of(value: Any) -> np.ndarray | None:
    return value.error if isinstance(value, V | SecNodes) else None


_LAZY_CALLS = frozenset({"if", "coalesce"})


# -- the compiler ---------------------------------------------------------------------
class _Compiler:
    """Evaluates one expression tree over the rows of one context frame."""

    def __init__(self, run: FrameRun, context: Question) -> None:
        self.run = run
        self.context = context
        self.frame = run.node_frame(context)
        self.n = run.size(self.frame)
        self._errors: list[list[np.ndarray | None]] = []

    def eval(self, expr: Expr) -> V | NodesV | SecNodes:
        """The value of ``expr`` per context row. Errors of sub-expressions (rows where
        the interpreter would raise) flow to the result in evaluation order; ``and``,
        ``or``, ``if`` and ``coalesce`` gate them as the interpreter short-circuits."""
        self._errors.append([])
        try:
            result = self._eval(expr)
        finally:
            children = self._errors.pop()
        lazy = (isinstance(expr, Binary) and expr.op in ("and", "or")) or (
            isinstance(expr, Call) and expr.name in _LAZY_CALLS
        )
        if not lazy and isinstance(result, V) and result.error is None:
            error = first_error(children)
            if error is not None:
                result = V(result.kind, result.data, result.empty, error)
        elif isinstance(result, NodesV) and first_error(children) is not None:
            raise CannotVectorize("a nodeset whose predicate cannot be evaluated everywhere")
        if self._errors:
            self._errors[-1].append(_error_of(result))
        return result

    def _eval(self, expr: Expr) -> V | NodesV | SecNodes:
        if isinstance(expr, Literal):
            if isinstance(expr.value, str):
                return full("str", expr.value, self.n)
            return full("num", expr.value, self.n)
        if isinstance(expr, Ref):
            target = self.run.form.get(expr.name)
            if target is None:
                raise CannotVectorize("unknown reference")
            return self.reference(target, self._absolute_pin(target))
        if isinstance(expr, Path):
            return self.path(expr)
        if isinstance(expr, Binary):
            return self.binary(expr)
        if isinstance(expr, Negate):
            return V("num", -to_num(self.value(expr.operand)))
        if isinstance(expr, Call):
            return self.call(expr)
        if isinstance(expr, Filter):
            return self.filtered(expr)
        raise CannotVectorize(type(expr).__name__)

    def value(self, expr: Expr) -> V:
        result = self.eval(expr)
        value = scalar(result, self.run)
        if isinstance(result, SecNodes) and value.error is not None and self._errors:
            self._errors[-1].append(value.error)  # several matches read as one value
        return value

    # -- references ------------------------------------------------------------------
    def _context_repeats(self) -> list[Question]:
        ctx = self.context
        repeats = [self.run.vl.elements[x] for x in ctx.repeats]
        if ctx.is_repeat:
            repeats.append(ctx)
        return repeats

    def _absolute_pin(self, target: Question) -> str | None:
        """The deepest repeat shared by the context and ``target`` paths (JavaRosa's
        contextualisation pins it); None for the main frame."""
        pinned = None
        target_path = target.xpath + "/"
        for repeat in self._context_repeats():
            if target_path.startswith(repeat.xpath + "/"):
                pinned = repeat.name
            else:
                break
        return pinned

    def reference(self, target: Question, pinned: str | None) -> V | NodesV:
        node_frame = self.run.node_frame(target)
        if node_frame in self.run.chain(pinned):
            return self.read(target, node_frame)
        return self.nodes(target, pinned)

    def read(self, target: Question, node_frame: str | None) -> V:
        """The value of ``target`` for each context row (one node per row), empty where
        the target is not relevant (cached per target and context frame)."""
        key = (target.xpath, self.frame)
        cached = self.run.reads.get(key)
        if cached is not None:
            return cached
        if not target.holds_data:
            value = full("str", "", self.n)
        else:
            rows = self.run.row_map(self.frame, node_frame)
            base = self.run.base_column(target)
            relevant = self.run.relevance(target)[rows]
            if base.kind == "str":
                value = V("str", np.where(relevant, base.data[rows], "").astype(object))
            else:
                assert base.empty is not None
                empty = base.empty[rows] | ~relevant
                value = V(base.kind, np.where(empty, np.nan, base.data[rows]), empty)
        self.run.reads[key] = value
        return value

    def nodes(self, target: Question, pinned: str | None) -> NodesV:
        """Every node of ``target`` under each row of ``pinned`` (a nodeset per row)."""
        node_frame = self.run.node_frame(target)
        if pinned not in self.run.chain(node_frame):
            raise CannotVectorize("nodeset outside the context's frames")
        owner = self.run.row_map(node_frame, pinned)
        return NodesV(target, np.arange(len(owner)), owner, pinned)

    def path(self, path: Path) -> V | NodesV:
        if isinstance(path.start, Call) and path.start.name == "instance":
            return self.secondary(path)
        last = path.steps[-1] if path.steps else None
        if last is not None and last.predicates and not any(s.predicates for s in path.steps[:-1]):
            bare = Path(path.absolute, (*path.steps[:-1], Step(last.axis, last.name)), path.start)
            base = self.path(bare)
            if not isinstance(base, NodesV) or len(last.predicates) != 1:
                raise CannotVectorize("predicate on a single node")
            return self._filter_nodes(base, last.predicates[0])
        if any(step.predicates for step in path.steps):
            raise CannotVectorize("predicates in a path")
        if isinstance(path.start, Call) and path.start.name == "instance":
            return self.secondary(path)
        if path.start is not None and not (
            isinstance(path.start, Call) and path.start.name == "current" and not path.start.args
        ):
            raise CannotVectorize("path from an expression")
        root = f"/{self.run.form.root}"
        if path.absolute and path.start is None:
            xpath = "/" + "/".join(step.name for step in path.steps)
            target = self.run.form.by_xpath(xpath)
            if target is None or any(s.axis != "child" for s in path.steps):
                raise CannotVectorize("absolute path to no element")
            return self.reference(target, self._absolute_pin(target))
        parts = self.context.xpath.split("/")[1:]
        lowest = len(parts)
        for step in path.steps:
            if step.axis == "self" and step.name == "node()":
                continue
            if step.axis == "parent" and step.name == "node()":
                parts.pop()
                lowest = min(lowest, len(parts))
            elif step.axis == "child" and step.name not in ("*", "node()"):
                parts.append(step.name)
            else:
                raise CannotVectorize(f"axis {step.axis}")
        xpath = "/" + "/".join(parts)
        if xpath == root or len(parts) < 1:
            raise CannotVectorize("path to the root")
        target = self.run.form.by_xpath(xpath)
        if target is None:
            raise CannotVectorize("relative path to no element")
        pinned = None
        for repeat in self._context_repeats():
            if len(repeat.xpath.split("/")) - 1 <= lowest:
                pinned = repeat.name
        return self.reference(target, pinned)

    # -- secondary instances ----------------------------------------------------------
    def secondary(self, path: Path) -> SecNodes:
        """``instance('x')/root/item[col = value and ...]/col`` as a join of each context
        row's values with the instance's items (JavaRosa's ``=`` per row: numbers when
        the value is a number, booleans when boolean, else text)."""
        start = path.start
        assert isinstance(start, Call)
        if (
            len(start.args) != 1
            or not isinstance(start.args[0], Literal)
            or not isinstance(start.args[0].value, str)
        ):
            raise CannotVectorize("instance() of a computed name")
        name = start.args[0].value
        steps = path.steps
        if (
            len(steps) not in (2, 3)
            or any(s.axis != "child" for s in steps)
            or steps[0].predicates
            or (len(steps) == 3 and steps[2].predicates)
            or any(s.name in ("*", "node()") for s in steps)
        ):
            raise CannotVectorize("a path into a secondary instance beyond root/item[...]/col")
        column = steps[2].name if len(steps) == 3 else None
        text = "/" + "/".join(s.name for s in steps)
        conjuncts = [c for p in steps[1].predicates for c in _conjuncts(p)]
        pairs = [self._join_pair(c) for c in conjuncts]  # checked before the lookup
        table = self.run.table(name)
        if table is None:
            from forms.xpath.interpreter import missing_instance_message

            error = np.full(self.n, missing_instance_message(name), dtype=object)
            return SecNodes(np.zeros(self.n, np.int64), full("str", "", self.n).data, text, error)
        values = [(item_column, self.value(expr)) for item_column, expr in pairs]
        if any(v.error is not None for _, v in values):
            raise CannotVectorize("a lookup value that cannot be evaluated everywhere")
        items = table["__item__"]
        shape_ok = table["__root__"][0] == steps[0].name and (
            len(items) == 0 or bool((items == steps[1].name).all())
        )
        if not shape_ok:
            raise CannotVectorize("a secondary instance that is not root/item")
        # lookups of several columns of the same item (``item[name = ${hh}]/psu``,
        # ``.../stratum``, ...) share one join per context frame
        memo = self.run.__dict__.setdefault("_matches", {})
        own = any(_reads_context(expr) for _, expr in pairs)
        key = (name, self.frame, self.context.xpath if own else None, tuple(pairs))
        if key not in memo:
            memo[key] = self._match(table, len(items), values)
        counts, first = memo[key]
        if column is None:
            data = full("str", "", self.n).data  # an item's own value is empty
        elif column not in table:
            counts = np.zeros(self.n, np.int64)
            data = full("str", "", self.n).data
        else:
            source = table[column]
            data = np.where(first >= 0, source[np.maximum(first, 0)] if len(source) else "", "")
            data = data.astype(object)
        return SecNodes(counts, data, text)

    def _join_pair(self, conjunct: Expr) -> tuple[str, Expr]:
        """(item column, context-side expression) of ``col = expr`` / ``expr = col``."""
        if not isinstance(conjunct, Binary) or conjunct.op != "=":
            raise CannotVectorize("a lookup predicate other than col = value [and ...]")
        for item_side, other in ((conjunct.left, conjunct.right), (conjunct.right, conjunct.left)):
            column = _item_column(item_side)
            if column is not None and _context_only(other):
                return column, other
        raise CannotVectorize("a lookup predicate other than col = value [and ...]")

    def _match(
        self, table: dict[str, np.ndarray], size: int, values: list[tuple[str, V]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per context row: how many items match every ``column = value`` and the first
        one's index (-1 when none)."""
        counts = np.zeros(self.n, np.int64)
        first = np.full(self.n, -1, np.int64)
        if size == 0 or self.n == 0:
            return counts, first
        if not values:
            return counts + size, first * 0
        blank = np.full(size, "", dtype=object)
        modes = []  # per conjunct: the comparison mode of each context row
        for _, value in values:
            if value.kind == "bool":
                mode = np.full(self.n, "b", dtype=object)
            elif value.kind == "num":
                mode = np.full(self.n, "n", dtype=object)
                if value.empty is not None:
                    mode[value.empty] = "s"  # an empty number is the empty string
            else:
                mode = np.full(self.n, "s", dtype=object)
            modes.append(mode)
        pattern = pd.Series(["".join(m) for m in zip(*modes, strict=True)]) if modes else None
        assert pattern is not None
        for key in pattern.unique():
            rows = np.flatnonzero((pattern == key).to_numpy())
            left: dict[str, Any] = {}
            right: dict[str, Any] = {"__index__": np.arange(size)}
            keep = np.ones(size, dtype=bool)
            for k, ((column, value), mode) in enumerate(zip(values, key, strict=True)):
                source = table.get(column, blank)
                if mode == "n":
                    numbers = map_unique(string_to_number, source, np.float64)
                    keep &= ~np.isnan(numbers)  # NaN equals nothing
                    right[f"k{k}"] = numbers
                    left[f"k{k}"] = _snap(to_num(value)[rows], numbers[~np.isnan(numbers)])
                elif mode == "b":
                    right[f"k{k}"] = source != ""
                    left[f"k{k}"] = to_bool(value)[rows]
                else:
                    right[f"k{k}"] = source
                    left[f"k{k}"] = to_str(value)[rows]
            keys = [f"k{k}" for k in range(len(values))]
            grouped = (
                pd.DataFrame(right)[keep]
                .groupby(keys, sort=False, dropna=True)["__index__"]
                .agg(["size", "min"])
            )
            joined = pd.DataFrame(left).merge(grouped, how="left", left_on=keys, right_index=True)
            counts[rows] = joined["size"].fillna(0).to_numpy(np.int64)
            first[rows] = joined["min"].fillna(-1).to_numpy(np.int64)
        return counts, first

    def filtered(self, expr: Filter) -> NodesV:
        base = self.eval(expr.primary)
        if not isinstance(base, NodesV) or len(expr.predicates) != 1:
            raise CannotVectorize("filter on a value")
        return self._filter_nodes(base, expr.predicates[0])

    def _filter_nodes(self, base: NodesV, predicate: Expr) -> NodesV:
        element = base.element
        if not element.is_repeat:
            raise CannotVectorize("predicate on a non-repeat")
        for node in _walk(predicate):
            if isinstance(node, Call) and node.name in ("current", "position", "last"):
                raise CannotVectorize("current()/position() in a predicate")
        inner = _Compiler(self.run, element)
        value = inner.value(predicate)
        if value.error is not None:
            raise CannotVectorize("a predicate that cannot be evaluated everywhere")
        if value.kind == "num":
            positions = self.run.frame(element.name)[POSITION].to_numpy().astype(np.float64)
            keep = to_num(value) == positions
        else:
            keep = to_bool(value)
        keep = keep[base.rows]
        return NodesV(element, base.rows[keep], base.owner[keep], base.pinned)

    def aggregate(self, nodes: NodesV, weights: np.ndarray | None) -> np.ndarray:
        """Per context row: the count (or weighted sum) of its nodes."""
        totals = np.bincount(nodes.owner, weights=weights, minlength=self.run.size(nodes.pinned))
        return totals.astype(np.float64)[self.run.row_map(self.frame, nodes.pinned)]

    def node_values(self, nodes: NodesV) -> V:
        """The value of each node of ``nodes`` (rows of its node frame)."""
        element = nodes.element
        node_frame = self.run.node_frame(element)
        inner = _Compiler(self.run, element)
        value = inner.read(element, node_frame) if element.holds_data else full("str", "", inner.n)
        take = nodes.rows
        return V(
            value.kind, value.data[take], value.empty[take] if value.empty is not None else None
        )

    # -- operators -------------------------------------------------------------------
    def binary(self, expr: Binary) -> V:
        op = expr.op
        if op in ("and", "or"):
            left, right = self.value(expr.left), self.value(expr.right)
            a, b = to_bool(left), to_bool(right)
            # the right side is evaluated only where the left does not decide
            decided = ~a if op == "and" else a
            if left.error is not None:
                decided = decided | pd.notna(left.error)
            error = first_error([left.error, gated(right.error, ~decided)])
            return V("bool", (a & b) if op == "and" else (a | b), error=error)
        if op == "|":
            raise CannotVectorize("union")
        a, b = self.value(expr.left), self.value(expr.right)
        if op in ("=", "!="):
            result = equal(a, b)
            return V("bool", result if op == "=" else ~result)
        x, y = to_num(a), to_num(b)
        with np.errstate(all="ignore"):
            if op == "<":
                return V("bool", x < y)
            if op == "<=":
                return V("bool", x <= y)
            if op == ">":
                return V("bool", x > y)
            if op == ">=":
                return V("bool", x >= y)
            if op == "+":
                return V("num", x + y)
            if op == "-":
                return V("num", x - y)
            if op == "*":
                return V("num", x * y)
            if op == "div":
                return V("num", x / y)
            if op == "mod":
                return V("num", np.fmod(x, y))
        raise CannotVectorize(op)

    # -- functions ---------------------------------------------------------------------
    def call(self, call: Call) -> V | NodesV:
        handler = getattr(self, "fn_" + call.name.replace("-", "_").replace(":", "_"), None)
        if handler is None:
            raise CannotVectorize(f"function {call.name}")
        return handler(*call.args)

    def fn_true(self) -> V:
        return full("bool", True, self.n)

    def fn_false(self) -> V:
        return full("bool", False, self.n)

    def fn_not(self, arg: Expr) -> V:
        return V("bool", ~to_bool(self.value(arg)))

    def fn_boolean(self, arg: Expr) -> V:
        return V("bool", to_bool(self.value(arg)))

    def fn_number(self, arg: Expr) -> V:
        return V("num", to_num(self.value(arg)))

    def fn_string(self, arg: Expr) -> V:
        return V("str", to_str(self.value(arg)))

    def fn_int(self, arg: Expr) -> V:
        data = to_num(self.value(arg))
        with np.errstate(invalid="ignore"):
            big = np.abs(data) >= 2**63
        return V("num", np.where(big | ~np.isfinite(data), data, np.trunc(data)))

    def fn_round(self, arg: Expr, places: Expr | None = None) -> V:
        data = to_num(self.value(arg))
        if places is None:
            return V("num", map_unique(fn_round, data, np.float64))
        if not isinstance(places, Literal):
            raise CannotVectorize("round() with computed places")
        digits = places.value
        return V("num", map_unique(lambda x: fn_round(x, digits), data, np.float64))

    def fn_today(self) -> V:
        return full("date", (self.run.today - EPOCH).days, self.n)

    def fn_date(self, arg: Expr) -> V:
        if not isinstance(arg, Literal) or not isinstance(arg.value, str):
            raise CannotVectorize("date() of a non-literal")
        from forms.xpath.values import to_date

        try:
            value = to_date(arg.value, False)
        except EvaluationError as err:
            raise CannotVectorize(str(err)) from None
        if not isinstance(value, date):
            raise CannotVectorize("date() of an empty literal")
        if isinstance(value, datetime):
            # text keeps its time (JavaRosa); as a number or text it is its own-zone day
            value = value.date()
        return full("date", (value - EPOCH).days, self.n)

    def _select_text(self, arg: Expr) -> np.ndarray:
        value = self.value(arg)
        if value.kind != "str":
            raise CannotVectorize("selected() on a non-text value")
        return value.data

    def fn_selected(self, answer: Expr, choice: Expr) -> V:
        if not isinstance(choice, Literal) or not isinstance(choice.value, str):
            raise CannotVectorize("selected() with a computed choice")
        needle = f" {choice.value.strip()} "
        return V("bool", map_unique(lambda s: needle in f" {s} ", self._select_text(answer), bool))

    fn_is_selected = fn_selected

    def fn_count_selected(self, answer: Expr) -> V:
        return V(
            "num",
            map_unique(
                lambda s: float(len([t for t in s.split(" ") if t])),
                self._select_text(answer),
                np.float64,
            ),
        )

    def fn_string_length(self, arg: Expr | None = None) -> V:
        if arg is None:
            raise CannotVectorize("string-length() of the context")
        return V(
            "num",
            map_unique(
                lambda s: float(len(s.encode("utf-16-le")) // 2),
                to_str(self.value(arg)),
                np.float64,
            ),
        )

    def _literal_text(self, expr: Expr) -> str:
        if not isinstance(expr, Literal) or not isinstance(expr.value, str):
            raise CannotVectorize("a computed pattern")
        return expr.value

    def fn_regex(self, value: Expr, pattern: Expr) -> V:
        try:
            compiled = compile_java_regex(self._literal_text(pattern))
        except EvaluationError as err:
            raise CannotVectorize(str(err)) from None
        return V(
            "bool",
            map_unique(
                lambda s: compiled.fullmatch(s) is not None, to_str(self.value(value)), bool
            ),
        )

    def fn_contains(self, value: Expr, part: Expr) -> V:
        needle = self._literal_text(part)
        return V("bool", map_unique(lambda s: needle in s, to_str(self.value(value)), bool))

    def fn_starts_with(self, value: Expr, part: Expr) -> V:
        needle = self._literal_text(part)
        return V(
            "bool", map_unique(lambda s: s.startswith(needle), to_str(self.value(value)), bool)
        )

    def fn_ends_with(self, value: Expr, part: Expr) -> V:
        needle = self._literal_text(part)
        return V("bool", map_unique(lambda s: s.endswith(needle), to_str(self.value(value)), bool))

    def fn_concat(self, *args: Expr) -> V:
        out = np.empty(self.n, dtype=object)
        out[:] = ""
        for arg in args:
            out = out + to_str(self.value(arg))
        return V("str", out.astype(object))

    def fn_if(self, test: Expr, yes: Expr, no: Expr) -> V:
        tested = self.value(test)
        condition = to_bool(tested)
        a, b = self.value(yes), self.value(no)
        chosen = self._choose(condition, a, b)
        error = first_error([tested.error, gated(a.error, condition), gated(b.error, ~condition)])
        return V(chosen.kind, chosen.data, chosen.empty, error)

    def fn_coalesce(self, first: Expr, second: Expr) -> V:
        a = self.value(first)
        if a.kind == "num":
            null = np.isnan(to_num(a))
        elif a.kind == "str":
            null = a.data == ""
        elif a.kind == "date":
            null = a.empty if a.empty is not None else np.zeros(self.n, dtype=bool)
        else:
            null = np.zeros(self.n, dtype=bool)
        b = self.value(second)
        chosen = self._choose(~null, a, b)
        return V(
            chosen.kind, chosen.data, chosen.empty, first_error([a.error, gated(b.error, null)])
        )

    def _choose(self, condition: np.ndarray, a: V, b: V) -> V:
        if a.kind != b.kind:
            raise CannotVectorize("branches of different types")
        data = np.where(condition, a.data, b.data)
        if a.kind == "str":
            data = data.astype(object)
        if a.empty is None and b.empty is None:
            return V(a.kind, data)
        ea = a.empty if a.empty is not None else np.zeros(self.n, dtype=bool)
        eb = b.empty if b.empty is not None else np.zeros(self.n, dtype=bool)
        return V(a.kind, data, np.where(condition, ea, eb))

    def fn_position(self, arg: Expr | None = None) -> V:
        if arg is None:
            if self.context.is_repeat:
                return V("num", self.run.frame(self.frame)[POSITION].to_numpy().astype(float))
            return full("num", 1.0, self.n)
        if isinstance(arg, Path) and arg.start is None and not arg.absolute:
            target = self.path(arg)
            element = self.run.form.by_xpath(self._relative_xpath(arg))
            if isinstance(target, V) and element is not None and element.is_repeat:
                rows = self.run.row_map(self.frame, element.name)
                positions = self.run.frame(element.name)[POSITION].to_numpy()
                return V("num", positions[rows].astype(np.float64))
        raise CannotVectorize("position() of this path")

    def _relative_xpath(self, path: Path) -> str:
        parts = self.context.xpath.split("/")[1:]
        for step in path.steps:
            if step.axis == "parent":
                parts.pop()
            elif step.axis == "child":
                parts.append(step.name)
        return "/" + "/".join(parts)

    def _nodeset(self, arg: Expr) -> NodesV:
        value = self.eval(arg)
        if not isinstance(value, NodesV):
            raise CannotVectorize("aggregate of a single node")
        return value

    def fn_count(self, arg: Expr) -> V:
        value = self.eval(arg)
        if isinstance(value, SecNodes):
            return V("num", value.counts.astype(np.float64))
        if not isinstance(value, NodesV):
            raise CannotVectorize("aggregate of a single node")
        return V("num", self.aggregate(value, None))

    def fn_current(self) -> V | NodesV:
        return self.path(Path(False, (Step("self", "node()"),)))

    def fn_sum(self, arg: Expr) -> V:
        nodes = self._nodeset(arg)
        numbers = to_num(self.node_values(nodes))
        return V("num", self.aggregate(nodes, np.where(np.isnan(numbers), 0.0, numbers)))

    def fn_count_non_empty(self, arg: Expr) -> V:
        nodes = self._nodeset(arg)
        text = to_str(self.node_values(nodes))
        return V("num", self.aggregate(nodes, (text != "").astype(np.float64)))

    def fn_indexed_repeat(self, *args: Expr) -> V:
        if (
            len(args) != 3
            or not isinstance(args[2], Literal)
            or not isinstance(args[2].value, float)
        ):
            raise CannotVectorize("indexed-repeat() beyond one literal index")
        target = self._static_element(args[0])
        repeat = self._static_element(args[1])
        if not (target.xpath + "/").startswith(repeat.xpath + "/") or not repeat.is_repeat:
            raise CannotVectorize("indexed-repeat() target outside the repeat")
        if self.run.node_frame(target) != repeat.name:
            raise CannotVectorize("indexed-repeat() into nested repeats")
        index = max(int(args[2].value) if math.isfinite(args[2].value) else 1, 1)
        parent = self.run.parent_frame(repeat.name)
        if parent not in self.run.chain(self.frame):
            raise CannotVectorize("indexed-repeat() from an unrelated repeat")
        rep_frame = self.run.frame(repeat.name)
        positions = rep_frame[POSITION].to_numpy()
        chosen = np.flatnonzero(positions == index)
        owners = self.run.row_map(repeat.name, parent)[chosen]
        lookup = np.full(self.run.size(parent), -1, dtype=np.int64)
        lookup[owners] = chosen
        ctx_rows = lookup[self.run.row_map(self.frame, parent)]
        inner = _Compiler(self.run, target)
        value = inner.read(target, repeat.name)
        missing = ctx_rows < 0
        take = np.where(missing, 0, ctx_rows)
        if value.kind == "str":
            data = value.data[take] if len(value.data) else np.full(self.n, "", object)
            data = np.where(missing, "", data).astype(object)
            return V("str", data)
        if len(value.data) == 0:
            data = np.full(self.n, np.nan)
            empty = np.ones(self.n, dtype=bool)
        else:
            data = value.data[take]
            empty = (
                value.empty[take] if value.empty is not None else np.zeros(self.n, dtype=bool)
            ) | missing
        return V(value.kind, np.where(empty, np.nan, data), empty)

    def _static_element(self, expr: Expr) -> Question:
        if isinstance(expr, Ref):
            element = self.run.form.get(expr.name)
            if element is not None:
                return element
        raise CannotVectorize("indexed-repeat() needs ${name} arguments")


def _snap(values: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """``values`` moved onto a key within 1e-12 (JavaRosa's numeric ``=`` tolerance), so
    that an exact join matches what ``abs(a - b) < 1e-12`` matches."""
    uniq = np.unique(keys)
    if len(uniq) == 0 or len(values) == 0:
        return values
    out = values.copy()
    at = np.clip(np.searchsorted(uniq, values), 0, len(uniq) - 1)
    for candidate in (uniq[at], uniq[np.maximum(at - 1, 0)]):
        with np.errstate(invalid="ignore"):
            close = np.abs(values - candidate) < 1e-12
        out = np.where(close, candidate, out)
    return out


def _conjuncts(expr: Expr) -> list[Expr]:
    """``a and b and c`` -> [a, b, c]."""
    if isinstance(expr, Binary) and expr.op == "and":
        return [*_conjuncts(expr.left), *_conjuncts(expr.right)]
    return [expr]


def _item_column(expr: Expr) -> str | None:
    """The item's column named by ``col`` or ``./col`` in a predicate, else None."""
    if not isinstance(expr, Path) or expr.absolute or expr.start is not None:
        return None
    steps = [s for s in expr.steps if not (s.axis == "self" and s.name == "node()")]
    if (
        len(steps) == 1
        and steps[0].axis == "child"
        and not steps[0].predicates
        and steps[0].name not in ("*", "node()")
    ):
        return steps[0].name
    return None


def _context_only(expr: Expr) -> bool:
    """True when ``expr`` does not read the predicate's own node (only current(),
    ${name}, absolute paths and literals), so it has one value per context row."""
    for node in _walk(expr):
        if isinstance(node, Path) and node.start is None and not node.absolute:
            return False
        if isinstance(node, Call) and node.name in ("position", "last", "once"):
            return False
        if (
            isinstance(node, Call)
            and node.name in ("string-length", "normalize-space")
            and not node.args
        ):
            return False
    return True


def _walk(expr: Expr) -> list[Expr]:
    from forms.xpath.ast import walk

    return list(walk(expr))


def per_record_results(
    logic: Any,
    submissions: list[Any],
    *,
    today: date,
    columns: tuple[str, ...] = ("relevant", "constraint", "required"),
) -> VectorResults:
    """The same arrays as :meth:`VectorLogic.evaluate`, computed by straightforward
    per-record interpretation of the parsed trees (the reference, and the benchmark's
    baseline)."""
    form = logic.form
    relevant: dict[str, list[bool]] = {e.name: [] for e in form.elements}
    constraint: dict[str, list[Any]] = {e.name: [] for e in form.elements if e.holds_data}
    required: dict[str, list[bool]] = {e.name: [] for e in form.elements if e.holds_data}
    answered: dict[str, list[bool]] = {e.name: [] for e in form.elements if e.holds_data}
    not_evaluated: dict[str, list[str | None]] = {e.name: [] for e in form.elements}
    for submission in submissions:
        run = logic.run(submission, today=today)
        for element in form.elements:
            for node in run.instance.nodes(element.xpath):
                is_relevant = run.relevant(node)
                own = run.relevance_errors.get(id(node)) if "relevant" in columns else None
                reasons: list[str] = [own] if own else []
                if "relevant" in columns:
                    relevant[element.name].append(is_relevant)
                if not element.holds_data:
                    not_evaluated[element.name].append("; ".join(reasons) or None)
                    continue
                answered[element.name].append(not is_relevant and not node.is_empty)
                result: dict[str, Any] = {}
                if is_relevant and "constraint" in columns:
                    run._constraint(element, node, result, reasons)
                if is_relevant and "required" in columns:
                    run._required(element, node, result, reasons)
                constraint[element.name].append(result.get("constraint_ok"))
                required[element.name].append(result.get("required_missing", False))
                not_evaluated[element.name].append("; ".join(reasons) or None)
    out = VectorResults()
    out.not_evaluated = {k: np.array(v, dtype=object) for k, v in not_evaluated.items()}
    if "relevant" in columns:
        out.relevant = {k: np.array(v, dtype=bool) for k, v in relevant.items()}
        out.answered_not_relevant = {k: np.array(v, dtype=bool) for k, v in answered.items()}
    if "constraint" in columns:
        out.constraint_ok = {k: np.array(v, dtype=object) for k, v in constraint.items()}
    if "required" in columns:
        out.required_missing = {k: np.array(v, dtype=bool) for k, v in required.items()}
    return out


def differences(a: VectorResults, b: VectorResults) -> list[str]:
    """Where two result sets differ ("question column: rows ..."), empty when identical."""
    problems = []
    for attribute in (
        "relevant",
        "constraint_ok",
        "required_missing",
        "answered_not_relevant",
        "not_evaluated",
    ):
        left, right = getattr(a, attribute), getattr(b, attribute)
        for name in sorted(set(left) | set(right)):
            x, y = left.get(name), right.get(name)
            if x is None or y is None:
                if (x is None) != (y is None) and len(x if x is not None else y):
                    problems.append(f"{name} {attribute}: missing on one side")
                continue
            if len(x) != len(y):
                problems.append(f"{name} {attribute}: {len(x)} vs {len(y)} rows")
                continue
            bad = [i for i in range(len(x)) if x[i] is not y[i] and x[i] != y[i]]
            if bad:
                problems.append(
                    f"{name} {attribute}: rows {bad[:5]} "
                    f"({[x[i] for i in bad[:3]]} vs {[y[i] for i in bad[:3]]})"
                )
    return problems
