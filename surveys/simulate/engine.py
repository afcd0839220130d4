"""Fill many submissions of a form at once, question by question, through the form logic.

The :class:`BatchFiller` walks the form in sheet order like ODK Collect does for one
interview, but over a whole batch of interviews: each question's relevance, constraint,
calculation, choice filter and repeat count is evaluated column-wise by the form logic
engine's vectorised compiler (:mod:`forms.xpath.vectorized`, the same results as the
per-record interpreter), answers are drawn by answer models for the relevant rows only,
and rows whose draw breaks a constraint are re-drawn (a bounded number of times).

Expressions the vectorised compiler cannot handle are evaluated by the interpreter
(:mod:`forms.logic`): once per distinct combination of the values they reference when
they only reference questions outside repeats (``format-date(${today}, '%Y')``), through a
lookup for ``instance('list')/root/item[name = ${x}]/column``, and record by record (on
the partial submission) otherwise.

Answers are kept in frame form (:mod:`forms.frames`: numbers as float64 with NaN, text as
objects with None, geopoints as ``"lat lon alt acc"``); :mod:`surveys.simulate.odata`
turns them into Central's OData JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from forms.frames import ID, PARENT_ROW, POSITION, column_names
from forms.issues import Issue, Severity
from forms.logic import FormLogic, odata_value
from forms.model import FormModel, Question
from forms.xpath.ast import Binary, Call, Literal, Path, Ref, walk
from forms.xpath.values import EvaluationError, to_string, unpack
from forms.xpath.vectorized import (
    CannotVectorize,
    FrameRun,
    V,
    VectorLogic,
    scalar,
    to_num,
    to_str,
)

MAX_REDRAWS = 12
"""Draws of one answer before a constraint failure is recorded (the first 6 from the
answer model, then from the generic model of the question's type)."""
NUMERIC = frozenset({"integer", "decimal", "range"})
METADATA = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "username",
        "audit",
        "phonenumber",
        "email",
        "subscriberid",
        "simserial",
        "start-geopoint",
        "background-audio",
        "background-geopoint",
    }
)


class FrameColumns:
    """One frame (main or a repeat) as numpy columns, readable as pandas by the compiler."""

    def __init__(self, n: int, parent: np.ndarray, position: np.ndarray, record: np.ndarray):
        self.n = n
        self.parent = parent
        self.position = position
        self.record = record
        """Row in the main frame of every row (the submission it belongs to)."""
        self.columns: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, name: str) -> pd.Series:
        if name == PARENT_ROW:
            data = self.parent
        elif name == POSITION:
            data = self.position
        elif name == ID:
            data = self.record
        else:
            data = self.columns[name]
        return pd.Series(data, dtype=data.dtype, copy=False)


@dataclass
class BatchFrames:
    """The frames the vectorised compiler reads (duck-typed SubmissionFrames)."""

    form: FormModel
    main: FrameColumns
    repeats: dict[str, FrameColumns] = field(default_factory=dict)

    def frame(self, key: str | None) -> FrameColumns:
        """The main frame (None) or a repeat's frame."""
        return self.main if key is None else self.repeats[key]

    def __len__(self) -> int:
        return self.main.n


@dataclass
class Draw:
    """What an answer model sees when asked for answers of one question."""

    question: Question
    rows: np.ndarray
    """Rows of the question's frame to answer."""
    records: np.ndarray
    """Main-frame row (the submission) of each of ``rows``."""
    positions: np.ndarray
    """Instance number of the innermost repeat (1 outside repeats)."""
    offered: list[tuple[str, ...]] | tuple[str, ...] | None
    """Choice codes offered: one tuple for every row, or a list of tuples per row."""
    bounds: tuple[np.ndarray, np.ndarray] | None
    """Lower and upper bounds read from the constraint (NaN when unknown)."""
    attempt: int
    rng: np.random.Generator
    filler: BatchFiller

    def value(self, name: str) -> np.ndarray:
        """Answers of question ``name`` for these rows (its own frame or an enclosing one)."""
        return self.filler.values_for(name, self.question, self.rows)

    def number(self, name: str) -> np.ndarray:
        """Answers of ``name`` as numbers (NaN when empty or not a number)."""
        values = self.value(name)
        if values.dtype == np.float64:
            return values
        return to_num(V("str", np.where(pd.isna(values), "", values).astype(object)))

    def codes(self, index: int = 0) -> tuple[str, ...]:
        """The codes offered to the ``index``-th row."""
        if isinstance(self.offered, list):
            return self.offered[index]
        return self.offered or ()

    def __len__(self) -> int:
        return len(self.rows)

    def remember(self, key: str, values: np.ndarray) -> None:
        """Keep ``values`` for these rows (read back by another question's model)."""
        frame = self.filler.frames.frame(self.filler.frame_key(self.question))
        store = self.filler.state.setdefault(key, np.full(frame.n, np.nan))
        store[self.rows] = values

    def recall(self, key: str) -> np.ndarray | None:
        """Values kept with :meth:`remember` for these rows (NaN where none)."""
        store = self.filler.state.get(key)
        return None if store is None else store[self.rows]


AnswerFn = Callable[[Draw], np.ndarray | None]
"""An answer model: answers (frame form) for ``draw.rows``; None hands over to the next."""


@dataclass
class FillReport:
    """What filling found: values that still broke a constraint, expressions interpreted."""

    issues: list[Issue] = field(default_factory=list)
    interpreted: dict[str, int] = field(default_factory=dict)
    """``question column`` -> rows evaluated by the interpreter instead of vectorised."""


class BatchFiller:
    """Fill ``n`` submissions of ``form``; see the module docstring."""

    def __init__(
        self,
        form: FormModel,
        n: int,
        *,
        answer: Callable[[Draw], np.ndarray],
        generic: Callable[[Draw], np.ndarray],
        metadata: Mapping[str, np.ndarray],
        today: date,
        rng: np.random.Generator,
        attachments: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
        repeat_counts: Callable[[Question, np.ndarray, BatchFiller], np.ndarray] | None = None,
        instance_ids: Sequence[str] | None = None,
    ) -> None:
        self.form = form
        self.n = n
        self.answer = answer
        self.generic = generic
        self.metadata = metadata
        self.today = today
        self.rng = rng
        self.attachments = {k.rsplit(".", 1)[0]: list(v) for k, v in (attachments or {}).items()}
        self.logic = FormLogic(form, attachments=attachments)
        self.vector = VectorLogic(form, self.logic)
        self.names = column_names(form)
        self.repeat_counts = repeat_counts
        self.instance_ids = list(instance_ids) if instance_ids is not None else None
        arange = np.arange(n)
        self.frames = BatchFrames(
            form, FrameColumns(n, np.full(n, -1), np.ones(n, dtype=np.int64), arange)
        )
        self.report = FillReport()
        self._run: FrameRun | None = None
        self._xpaths = {e.xpath: e for e in form.elements}
        self.state: dict[str, Any] = {}
        """Scratch space answer models share (see :meth:`Draw.remember`)."""
        self._cannot: set[tuple[str, str]] = set()
        self._lookups: dict[tuple[str, str], dict[str, Any]] = {}
        for element in form.elements:
            if element.holds_data and element.repeat is None:
                self.frames.main.columns[self.names[element.xpath]] = _empty_column(element, n)

    # -- structure ---------------------------------------------------------------------
    def frame_key(self, element: Question) -> str | None:
        """The frame holding ``element``'s nodes (a repeat's own frame for a repeat)."""
        if element.is_repeat:
            return element.name
        if element.repeat is None:
            return None
        return self._xpaths[element.repeat].name

    def parent_key(self, repeat: Question) -> str | None:
        """The frame of the rows a repeat's instances belong to."""
        if len(repeat.repeats) < 2:
            return None
        return self._xpaths[repeat.repeats[-2]].name

    def run(self) -> FrameRun:
        """The vectorised evaluation over the current answers (its caches are dropped
        where answers change, see :meth:`written`)."""
        if self._run is None:
            self._run = self.vector.frame_run(self.frames, self.today)  # type: ignore[arg-type]
        return self._run

    def written(self, q: Question) -> None:
        """Answers of ``q`` changed: forget what the evaluation cached from them."""
        if self._run is not None:
            self._run.forget(q.xpath)

    # -- reading answers -------------------------------------------------------------
    def values_for(self, name: str, context: Question, rows: np.ndarray) -> np.ndarray:
        """Answers of ``name`` at ``rows`` of ``context``'s frame (same or enclosing frame)."""
        target = self.form[name]
        key = self.frame_key(target)
        ctx_key = self.frame_key(context)
        column = self.frames.frame(key).columns[self.names[target.xpath]]
        mapped = self.map_rows(ctx_key, key, rows)
        return column[mapped]

    def map_rows(self, source: str | None, target: str | None, rows: np.ndarray) -> np.ndarray:
        """Rows of frame ``source`` mapped to their ancestor-or-self rows in ``target``."""
        key = source
        while key != target:
            if key is None:
                raise EvaluationError(f"frame {target} does not enclose {source}")
            rows = self.frames.frame(key).parent[rows]
            key = self.parent_key(self.form[key])
        return rows

    # -- the walk ----------------------------------------------------------------------
    def fill(self) -> BatchFrames:
        """Answer every question of every submission, in form order.

        Inside a repeat (without nested repeats) instances are filled one position at a
        time, as an enumerator completes row 1 before row 2: a row's checks may read the
        rows before it (``indexed-repeat(${x}, ${rep}, 1)``, ``count(../../rep[...])``).
        """
        elements = list(self.form.elements)
        index = 0
        while index < len(elements):
            element = elements[index]
            index += 1
            if not element.is_repeat:
                self._step(element, None)
                continue
            self._open_repeat(element)
            inner = [e for e in elements if e.xpath.startswith(element.xpath + "/")]
            index += len(inner)
            if any(e.is_repeat for e in inner):
                for e in inner:
                    if e.is_repeat:
                        self._open_repeat(e)
                    else:
                        self._step(e, None)
                continue
            frame = self.frames.repeats[element.name]
            for position in range(1, int(frame.position.max(initial=0)) + 1):
                subset = np.flatnonzero(frame.position == position)
                for e in inner:
                    self._step(e, subset)
            # calculations are live in Collect: recompute them once every row is filled
            for e in inner:
                if (
                    e.holds_data
                    and e.calculation
                    and not _is_random(self.logic.expressions[(e.name, "calculation")].tree)
                ):
                    self._calculate(e, None)
        return self.frames

    def _step(self, element: Question, subset: np.ndarray | None) -> None:
        if element.is_group or not element.holds_data:
            return
        if element.type in METADATA:
            self._metadata(element)
        elif element.calculation and not element.trigger:
            self._calculate(element, subset)
        else:
            self._ask(element, subset)

    def _metadata(self, q: Question) -> None:
        frame = self.frames.frame(self.frame_key(q))
        given = self.metadata.get(q.name)
        if given is None:
            given = self.metadata.get(q.type)
        if given is not None and q.repeat is None:
            frame.columns[self.names[q.xpath]] = np.asarray(given, dtype=object)
            self.written(q)

    def relevant_rows(self, q: Question, subset: np.ndarray | None = None) -> np.ndarray:
        """Rows of ``q``'s frame where it is relevant (enclosing groups included)."""
        relevant = self.run().relevance(q)
        if subset is None:
            return np.flatnonzero(relevant)
        return subset[relevant[subset]]

    def _calculate(self, q: Question, subset: np.ndarray | None = None) -> None:
        key = self.frame_key(q)
        frame = self.frames.frame(key)
        rows = self.relevant_rows(q, subset)
        column = frame.columns[self.names[q.xpath]]
        column[subset if subset is not None else slice(None)] = (
            np.nan if q.type in NUMERIC else None
        )
        if len(rows):
            text = self.evaluate_text(q, "calculation", rows)
            if q.type in NUMERIC:
                column[rows] = to_num(V("str", text))
            else:
                column[rows] = np.where(text == "", None, text)
        frame.columns[self.names[q.xpath]] = column
        self.written(q)

    def _ask(self, q: Question, subset: np.ndarray | None = None) -> None:
        key = self.frame_key(q)
        frame = self.frames.frame(key)
        name = self.names[q.xpath]
        rows = self.relevant_rows(q, subset)
        if not len(rows):
            return
        offered = self.offered(q, rows) if q.is_select else None
        bounds = self.bounds(q, rows) if q.type in NUMERIC else None
        todo = rows
        todo_offered = offered
        todo_bounds = bounds
        for attempt in range(MAX_REDRAWS):
            draw = Draw(
                q,
                todo,
                frame.record[todo],
                frame.position[todo],
                todo_offered,
                todo_bounds,
                attempt,
                self.rng,
                self,
            )
            model = self.answer if attempt < MAX_REDRAWS // 2 else self.generic
            values = model(draw)
            _store(frame.columns[name], todo, values, q)
            self.written(q)
            bad = self._constraint_failures(q, todo)
            if not len(bad):
                return
            keep = np.isin(todo, bad)
            if isinstance(todo_offered, list):
                todo_offered = [o for o, k in zip(todo_offered, keep, strict=True) if k]
            if todo_bounds is not None:
                todo_bounds = (todo_bounds[0][keep], todo_bounds[1][keep])
            todo = bad
        for row in todo:
            record = int(frame.record[row])
            self.report.issues.append(
                Issue(
                    code="S101",
                    severity=Severity.WARNING,
                    message=(
                        f"{q.name}: no answer satisfying the constraint after {MAX_REDRAWS} "
                        f"draws (kept '{frame.columns[name][row]}')"
                    ),
                    variable=q.name,
                    instance_id=self.instance_ids[record] if self.instance_ids else None,
                )
            )

    def _constraint_failures(self, q: Question, rows: np.ndarray) -> np.ndarray:
        compiled = self.logic.expressions.get((q.name, "constraint"))
        if compiled is None:
            return rows[:0]
        frame = self.frames.frame(self.frame_key(q))
        present = ~_empty_mask(frame.columns[self.names[q.xpath]][rows])
        rows = rows[present]
        if not len(rows):
            return rows
        ok = self.evaluate_bool(q, "constraint", rows)
        return rows[~ok]

    # -- repeats -------------------------------------------------------------------------
    def _open_repeat(self, repeat: Question) -> None:
        parent_key = self.parent_key(repeat)
        parent = self.frames.frame(parent_key)
        counts = np.zeros(parent.n, dtype=np.int64)
        context = self._context_in(parent_key, repeat)
        run = self.run()
        if context is not None:
            live = np.ones(parent.n, dtype=bool)
            enclosing = self._xpaths.get(repeat.parent)
            if enclosing is not None and enclosing.xpath != f"/{self.form.root}":
                live &= run.relevance(enclosing)
            if repeat.relevant:
                live &= self._bool_in(context, repeat, "relevant", np.arange(parent.n))
            rows = np.flatnonzero(live)
            if len(rows):
                if repeat.repeat_count:
                    text = self._text_in(context, repeat, "repeat_count", rows)
                    numbers = to_num(V("str", text))
                    counts[rows] = np.where(np.isnan(numbers) | (numbers < 0), 0, numbers)
                elif self.repeat_counts is not None:
                    counts[rows] = self.repeat_counts(repeat, rows, self)
                else:
                    counts[rows] = self.rng.integers(1, 4, len(rows))
        parent_rows = np.repeat(np.arange(parent.n), counts)
        starts = np.cumsum(counts) - counts
        positions = np.arange(len(parent_rows)) - np.repeat(starts, counts) + 1
        frame = FrameColumns(
            len(parent_rows), parent_rows, positions.astype(np.int64), parent.record[parent_rows]
        )
        for element in self.form.elements:
            if element.holds_data and self.frame_key(element) == repeat.name:
                frame.columns[self.names[element.xpath]] = _empty_column(element, frame.n)
        self.frames.repeats[repeat.name] = frame
        self._run = None  # new frame: new row maps

    def _context_in(self, key: str | None, repeat: Question) -> Question | None:
        """A question whose nodes are the rows of frame ``key`` (to evaluate in)."""
        for element in self.form.elements:
            if element.holds_data and self.frame_key(element) == key and element is not repeat:
                return element
        return None

    def _bool_in(self, context: Question, owner: Question, column: str, rows: np.ndarray):
        compiled = self.logic.expressions[(owner.name, column)]
        try:
            value = self.run().evaluate_expression(compiled.tree, context)
            return _as_bool(scalar(value, None))[rows]  # type: ignore[arg-type]
        except CannotVectorize:
            return np.array(
                [bool(self._interpret(context, compiled, r, boolean=True)) for r in rows]
            )

    def _text_in(self, context: Question, owner: Question, column: str, rows: np.ndarray):
        compiled = self.logic.expressions[(owner.name, column)]
        try:
            value = self.run().evaluate_expression(compiled.tree, context)
            return to_str(scalar(value, None))[rows]  # type: ignore[arg-type]
        except CannotVectorize:
            return np.array(
                [self._interpret(context, compiled, r, boolean=False) for r in rows], dtype=object
            )

    # -- evaluation with fallbacks -----------------------------------------------------
    def evaluate_bool(self, q: Question, column: str, rows: np.ndarray) -> np.ndarray:
        """``boolean()`` of ``q``'s ``column`` expression at ``rows`` of its frame."""
        compiled = self.logic.expressions[(q.name, column)]
        if (q.name, column) not in self._cannot:
            try:
                value = self.run().evaluate_expression(compiled.tree, q)
                return _as_bool(scalar(value, None))[rows]  # type: ignore[arg-type]
            except CannotVectorize:
                self._cannot.add((q.name, column))
        texts = self._fallback(q, column, rows, boolean=True)
        return np.asarray(texts, dtype=bool)

    def evaluate_text(self, q: Question, column: str, rows: np.ndarray) -> np.ndarray:
        """The ``column`` expression of ``q`` as text at ``rows`` (how Central stores it)."""
        compiled = self.logic.expressions[(q.name, column)]
        tree = compiled.tree
        if _is_random(tree):
            return np.array([repr(float(x)) for x in self.rng.random(len(rows))], dtype=object)
        if (q.name, column) not in self._cannot:
            try:
                value = self.run().evaluate_expression(tree, q)
                return to_str(scalar(value, None))[rows]  # type: ignore[arg-type]
            except CannotVectorize:
                self._cannot.add((q.name, column))
        looked_up = self._lookup(q, tree, rows)
        if looked_up is not None:
            return looked_up
        return np.asarray(self._fallback(q, column, rows, boolean=False), dtype=object)

    def _lookup(self, q: Question, tree: Any, rows: np.ndarray) -> np.ndarray | None:
        """``instance('x')/root/item[name = ${ref}]/column`` as a dictionary lookup."""
        pattern = _lookup_pattern(tree)
        if pattern is None or pattern[0] not in self.attachments:
            return None
        instance, key_column, ref, column = pattern
        table = self._lookups.get((instance, column))
        if table is None:
            table = {}
            for item in self.attachments[instance]:
                code = str(item.get(key_column, ""))
                table.setdefault(code, "" if item.get(column) is None else str(item[column]))
            self._lookups[(instance, column)] = table
        keys = self.values_for(ref, q, rows)
        return np.array(
            [table.get(str(k), "") if k is not None else "" for k in keys], dtype=object
        )

    def _fallback(self, q: Question, column: str, rows: np.ndarray, boolean: bool) -> list[Any]:
        compiled = self.logic.expressions[(q.name, column)]
        label = f"{q.name} {column}"
        self.report.interpreted[label] = self.report.interpreted.get(label, 0) + len(rows)
        refs = _references(compiled.tree)
        if q.repeat is None and refs is not None and all(self.form[r].repeat is None for r in refs):
            return self._by_distinct_inputs(q, compiled, refs, rows, boolean)
        return [self._interpret(q, compiled, int(r), boolean) for r in rows]

    def _by_distinct_inputs(self, q, compiled, refs, rows, boolean) -> list[Any]:
        """Interpret once per distinct combination of the referenced answers."""
        columns = [self.values_for(r, q, rows) for r in refs]
        keys = list(zip(*[c.tolist() for c in columns], strict=True)) if refs else [()] * len(rows)
        results: dict[tuple, Any] = {}
        out = []
        for key in keys:
            if key not in results:
                values = {
                    self.form[r].xpath: _odata(self.form[r], v)
                    for r, v in zip(refs, key, strict=True)
                }
                submission = nest(self.form, values)
                session = self.logic.run(submission, today=self.today, strict=True)
                # the batch holds answers only where they were relevant: read them as they are
                session.instance.relevance = None
                results[key] = self._evaluate_in(session, q, compiled, (), boolean)
            out.append(results[key])
        return out

    def _interpret(self, q: Question, compiled: Any, row: int, boolean: bool) -> Any:
        """Interpret one expression for one row, on the row's partial submission."""
        key = self.frame_key(q)
        frame = self.frames.frame(key)
        record = int(frame.record[row])
        indices = self.repeat_indices(key, row)
        submission = record_answers(self, record, odata=True)
        session = self.logic.run(submission, today=self.today, strict=True)
        return self._evaluate_in(session, q, compiled, indices, boolean)

    def _evaluate_in(self, session, q, compiled, indices, boolean) -> Any:
        node = session.locate(q, indices) if not q.is_repeat else session.locate_parent(q, indices)
        try:
            if boolean:
                return session.boolean(compiled, node)
            return to_string(unpack(session.value(compiled, node)))
        except EvaluationError:
            return False if boolean else ""

    def repeat_indices(self, key: str | None, row: int) -> tuple[int, ...]:
        """Instance numbers of the enclosing repeats of ``row`` of frame ``key``."""
        indices: list[int] = []
        while key is not None:
            frame = self.frames.frame(key)
            indices.append(int(frame.position[row]))
            row = int(frame.parent[row])
            key = self.parent_key(self.form[key])
        return tuple(reversed(indices))

    # -- choices and bounds ---------------------------------------------------------------
    def offered(self, q: Question, rows: np.ndarray) -> list[tuple[str, ...]] | tuple[str, ...]:
        """Choice codes offered at each row (one tuple when there is no choice filter)."""
        if q.file_name is not None:
            items = self.attachments.get(q.file_name.rsplit(".", 1)[0], [])
            codes = tuple(str(item.get("name", "")) for item in items)
        else:
            choices = self.form.choices_for(q)
            codes = choices.codes if choices is not None else ()
        if not q.choice_filter or q.file_name is not None:
            return codes
        compiled = self.logic.expressions[(q.name, "choice_filter")]
        refs = _references(compiled.tree, item_paths=True)
        key = self.frame_key(q)
        if refs is None or q.repeat is not None or any(self.form[r].repeat for r in refs):
            # the filter reads current()/... or repeats: interpret on the partial submission
            out = []
            for row in rows.tolist():
                record = int(self.frames.frame(key).record[row])
                session = self.logic.run(record_answers(self, record, odata=True), today=self.today)
                out.append(session.choices_of(q, self.repeat_indices(key, row)) or ())
            return out
        columns = [self.values_for(r, q, rows).tolist() for r in refs]
        keys = list(zip(*columns, strict=True)) if refs else [()] * len(rows)
        cache: dict[tuple, tuple[str, ...]] = {}
        for values in set(keys):
            answers = {
                self.form[r].xpath: _odata(self.form[r], v)
                for r, v in zip(refs, values, strict=True)
            }
            session = self.logic.run(nest(self.form, answers), today=self.today)
            session.instance.relevance = None  # the batch holds only relevant answers
            cache[values] = session.choices_of(q) or ()
        return [cache[k] for k in keys]

    def bounds(self, q: Question, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Lower/upper bounds of ``.`` read from ``. >= A`` / ``. <= B`` in the constraint."""
        compiled = self.logic.expressions.get((q.name, "constraint"))
        low = np.full(len(rows), np.nan)
        high = np.full(len(rows), np.nan)
        if compiled is None or compiled.tree is None:
            return low, high
        for node in walk(compiled.tree):
            if not isinstance(node, Binary) or node.op not in (">=", "<=", ">", "<"):
                continue
            if _is_self(node.left):
                other, op = node.right, node.op
            elif _is_self(node.right):
                other, op = node.left, {">=": "<=", "<=": ">=", ">": "<", "<": ">"}[node.op]
            else:
                continue
            try:
                value = to_num(scalar(self.run().evaluate_expression(other, q), None))[rows]  # type: ignore[arg-type]
            except CannotVectorize:
                continue
            if op in (">=", ">"):
                value = value + (1 if op == ">" else 0)
                low = np.where(np.isnan(low), value, np.fmax(low, value))
            else:
                value = value - (1 if op == "<" else 0)
                high = np.where(np.isnan(high), value, np.fmin(high, value))
        return low, high


# -- helpers --------------------------------------------------------------------------
def _empty_column(q: Question, n: int) -> np.ndarray:
    if q.type in NUMERIC:
        return np.full(n, np.nan)
    return np.full(n, None, dtype=object)


def _empty_mask(values: np.ndarray) -> np.ndarray:
    if values.dtype == np.float64:
        return np.isnan(values)
    return pd.isna(values) | (values == "")


def _store(column: np.ndarray, rows: np.ndarray, values: Any, q: Question) -> None:
    if q.type in NUMERIC:
        column[rows] = np.asarray(values, dtype=np.float64)
    else:
        data = np.asarray(values, dtype=object)
        column[rows] = data


def _as_bool(value: V) -> np.ndarray:
    from forms.xpath.vectorized import to_bool

    return to_bool(value)


def _is_self(expr: Any) -> bool:
    return (
        isinstance(expr, Path)
        and not expr.absolute
        and expr.start is None
        and len(expr.steps) == 1
        and expr.steps[0].axis == "self"
    )


def _is_random(tree: Any) -> bool:
    if isinstance(tree, Call) and tree.name == "once" and len(tree.args) == 1:
        tree = tree.args[0]
    return isinstance(tree, Call) and tree.name == "random" and not tree.args


def _references(tree: Any, *, item_paths: bool = False) -> tuple[str, ...] | None:
    """The ``${name}`` references of an expression; None when it also reads paths
    (relative paths are allowed with ``item_paths``: in a choice filter they read the
    choice's columns)."""
    refs: dict[str, None] = {}
    for node in walk(tree):
        if isinstance(node, Ref):
            refs.setdefault(node.name, None)
        elif isinstance(node, Path):
            start = node.start
            if isinstance(start, Call) and start.name == "instance":
                continue
            if item_paths and start is None and not node.absolute:
                continue
            return None
    return tuple(refs)


def _lookup_pattern(tree: Any) -> tuple[str, str, str, str] | None:
    """(instance, key column, ref, column) of ``instance('x')/root/item[key = ${ref}]/column``."""
    if not isinstance(tree, Path) or not isinstance(tree.start, Call):
        return None
    start = tree.start
    if start.name != "instance" or len(start.args) != 1 or not isinstance(start.args[0], Literal):
        return None
    steps = tree.steps
    if len(steps) != 3 or [s.name for s in steps[:2]] != ["root", "item"]:
        return None
    if steps[0].predicates or steps[2].predicates or len(steps[1].predicates) != 1:
        return None
    test = steps[1].predicates[0]
    if not (isinstance(test, Binary) and test.op == "=" and isinstance(test.right, Ref)):
        return None
    left = test.left
    if not (isinstance(left, Path) and not left.absolute and len(left.steps) == 1):
        return None
    return str(start.args[0].value), left.steps[0].name, test.right.name, steps[2].name


def _odata(q: Question, value: Any) -> Any:
    """A frame value as the OData JSON value of question ``q``."""
    if value is None:
        return None
    if isinstance(value, float):
        if value != value:
            return None
        if q.type == "integer" and value.is_integer():
            return int(value)
        if q.type not in NUMERIC:
            return to_string(value)
        return value
    if q.type in ("geopoint", "start-geopoint"):
        return odata_value(q, value)
    return value


def nest(form: FormModel, values: Mapping[str, Any]) -> dict[str, Any]:
    """An OData submission holding ``values`` (xpath -> value) outside repeats."""
    out: dict[str, Any] = {}
    for xpath, value in values.items():
        parts = xpath.split("/")[2:]
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return out


def record_answers(filler: BatchFiller, record: int, *, odata: bool) -> dict[str, Any]:
    """The answers so far of one submission as an OData dict (groups and repeats nested)."""
    from surveys.simulate.odata import RecordBuilder

    return RecordBuilder(filler.form, filler.frames, filler.names).build_one(record)
