"""Every check of :meth:`forms.logic.FormLogic.check` over whole frames: X101-X106 and X199.

:class:`forms.xpath.vectorized.VectorLogic` evaluates relevance, constraints and required
(X101-X103) column-wise; this module adds, over the same :class:`~forms.xpath.vectorized
.FrameRun`:

- X104 (stored calculation differs): the calculation compiled over the frame and compared
  with the stored text as :func:`forms.logic.stored_calculation_text` and Collect's
  equivalences (1/true, numbers within 1e-9, a date stored as midnight dateTime) say;
- X105 (answer not among the choices offered after choice_filter) and X104 for what the
  compiler cannot do (``format-date(${today}, '%Y')``, lookups by a calculated key):
  interpreted ONCE per distinct combination of the answers the expression reads (and the
  question's own answer) when they are all outside repeats, else record by record;
- X106 (number of repeat instances differs from repeat_count): the count expression over
  the parent's frame against the instances counted per parent row;
- X199 with the interpreter's reasons, including a failed relevance of an enclosing group
  and repeats the submission sends malformed or without their rows.

:func:`check_frames` returns the issues with the frame row of each, and they equal, as
sets of (code, instance, instance path), what ``FormLogic.check(...).violations()`` gives
record by record (tests/validation check this with Hypothesis).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from forms.frames import PARENT_ROW, POSITION, SubmissionFrames
from forms.issues import Issue, Severity
from forms.logic import _count_value, _same_moment, _same_text, stored_calculation_text
from forms.model import Question
from forms.xpath.ast import Call, Path, Ref, walk
from forms.xpath.values import unpack
from forms.xpath.vectorized import (
    CannotVectorize,
    FrameRun,
    V,
    VectorLogic,
    _empty_mask,
    instance_path,
    map_unique,
    scalar,
    to_num,
    to_str,
)

MISSING_ROWS = (
    "not evaluated: the submission does not include this repeat's rows (pull OData with $expand=*)"
)
_DEVICE_TIME = frozenset({"decimal-date-time", "format-date-time", "now", "decimal-time"})
_TIMED_TYPES = frozenset({"dateTime", "time", "start", "end"})


@dataclass
class RepeatShape:
    """Records (main-frame rows) whose repeat was sent malformed (not a list) or without its
    rows (a navigation link only), per repeat xpath: the interpreter reports the repeat
    once per record as "not evaluated" and checks nothing else of it there."""

    malformed: dict[str, dict[int, str]] = field(default_factory=dict)
    missing: dict[str, set[int]] = field(default_factory=dict)


@dataclass
class FrameIssue:
    """One issue and where it is: the frame row's record (main-frame row)."""

    record: int
    issue: Issue


def check_frames(
    vector_logic: VectorLogic,
    frames: SubmissionFrames,
    *,
    today: date,
    shapes: RepeatShape | None = None,
) -> tuple[list[FrameIssue], FrameRun]:
    """Every logic issue of every submission in ``frames`` (see the module docstring);
    ``variable`` is the instance path (``/data/member[2]/age``), ``instance_id`` and
    ``enumerator`` are left to the caller (who knows the records)."""
    checker = _Checker(vector_logic, frames, today, shapes or RepeatShape())
    return checker.run(), checker.run_


class _Checker:
    def __init__(self, vl: VectorLogic, frames: SubmissionFrames, today: date, shapes) -> None:
        self.vl = vl
        self.form = vl.form
        self.frames = frames
        self.today = today
        self.shapes = shapes
        self.run_ = vl.frame_run(frames, today)
        self.out: list[FrameIssue] = []
        self.count_reasons: dict[str, np.ndarray] = {}

    # -- driver -------------------------------------------------------------------------
    def run(self) -> list[FrameIssue]:
        run = self.run_
        for element in self.form.elements:
            relevant = run.relevance(element)
            if not element.holds_data:
                continue
            empty = run.own_empty(element)
            self._flags(
                "X103", Severity.WARNING, element, ~relevant & ~empty, "answered but not relevant"
            )
            constraint = run.constraint(element)
            self._flags(
                "X101",
                Severity.ERROR,
                element,
                np.array([v is False for v in constraint], bool),
                f"violates constraint {element.constraint}",
            )
            self._flags(
                "X102", Severity.ERROR, element, run.required(element), "required but empty"
            )
            if element.calculation and not element.trigger:
                self._calculation(element, relevant)
            if element.is_select:
                self._choices(element, relevant, empty)
        self.lists = self.run_.not_evaluated_lists()
        for repeat in self.form.repeats:
            self._repeat_count(repeat)
        self._not_evaluated()
        return self.out

    def _reasons(self, element: Question) -> dict[int, tuple[str, ...]]:
        """Row of ``element``'s node frame -> its "not evaluated" reasons as the
        interpreter lists them: those of the enclosing groups and repeats (outermost first,
        named: ``grp: relevant: ...``), then its own."""
        run = self.run_
        frame = run.node_frame(element)
        out: dict[int, tuple[str, ...]] = {}
        for xpath in element.enclosing:
            ancestor = self.vl.elements[xpath]
            theirs = self.lists.get(ancestor.name)
            if not theirs:
                continue
            mapping = run.row_map(frame, run.node_frame(ancestor))
            hit = np.isin(mapping, np.fromiter(theirs, np.int64, len(theirs)))
            for row in np.flatnonzero(hit).tolist():
                named = tuple(f"{ancestor.name}: {r}" for r in theirs[int(mapping[row])])
                out[row] = (*out.get(row, ()), *named)
        for row, reasons in self.lists.get(element.name, {}).items():
            out[row] = (*out.get(row, ()), *reasons)
        return out

    # -- issue helpers ------------------------------------------------------------------
    def _record(self, element: Question | None, rows: np.ndarray) -> np.ndarray:
        frame = self.run_.node_frame(element) if element is not None else None
        return self.run_.row_map(frame, None)[rows]

    def _add(self, code, severity, element, row, message, value=None, path=None) -> None:
        record = int(self._record(element, np.array([row]))[0])
        where = path or instance_path(self.frames, element, row)
        self.out.append(
            FrameIssue(
                record,
                Issue(
                    code=code,
                    severity=severity,
                    message=message,
                    variable=where,
                    value=value if value not in ("", None) else None,
                ),
            )
        )

    def _flags(self, code, severity, element, mask, message) -> None:
        rows = np.flatnonzero(mask)
        if not len(rows):
            return
        values = self._texts(element)
        for row in rows.tolist():
            self._add(code, severity, element, row, message, values[row])

    def _texts(self, element: Question) -> np.ndarray:
        frame = self.run_.frame(self.run_.node_frame(element))
        column = frame[self.vl.names[element.xpath]]
        if pd.api.types.is_datetime64_any_dtype(column):
            return np.array(
                [None if pd.isna(v) else v.strftime("%Y-%m-%d") for v in column], object
            )
        if column.dtype == np.float64:
            return to_str(V("num", column.to_numpy(), np.isnan(column.to_numpy())))
        return column.to_numpy(dtype=object)

    # -- X104 ---------------------------------------------------------------------------
    def _calculation(self, q: Question, relevant: np.ndarray) -> None:
        compiled = self.vl.logic.expressions.get((q.name, "calculation"))
        if compiled is None:
            return
        n = len(relevant)
        reasons = np.full(n, None, dtype=object)
        if not compiled.reproducible:
            reasons[relevant] = (
                "calculation: uses now(), today(), random() or uuid(), so it cannot be recomputed"
            )
            self.run_.note(q, 3, reasons)
            return
        stored = self._stored(q)
        mismatch = np.zeros(n, dtype=bool)
        recomputed = np.full(n, "", dtype=object)
        try:
            if not compiled.ok:
                raise CannotVectorize(compiled.problem or "not compiled")
            value = scalar(self.run_.evaluate_expression(compiled.tree, q), self.run_)
            if value.kind not in ("num", "str", "bool"):
                raise CannotVectorize("date results")
            texts = _calc_texts(value)
            errors = value.error
            failed = pd.notna(errors) if errors is not None else np.zeros(n, bool)
            same = _same_pairs(stored, texts)
            mismatch = relevant & ~failed & ~same
            recomputed = texts
            if errors is not None:
                reasons[relevant & failed] = [
                    f"calculation: {e}" for e in errors[relevant & failed]
                ]
        except CannotVectorize:
            mismatch, recomputed, reasons = self._interpreted(q, "calculation", relevant, stored)
        self.run_.note(q, 3, reasons)
        for row in np.flatnonzero(mismatch).tolist():
            self._add(
                "X104",
                Severity.WARNING,
                q,
                row,
                f"stored calculation '{stored[row]}' differs from recomputed '{recomputed[row]}'",
                stored[row],
            )

    def _stored(self, q: Question) -> np.ndarray:
        texts = self._texts(q)
        return np.array(["" if t is None else t for t in texts], dtype=object)

    # -- X105 ---------------------------------------------------------------------------
    def _choices(self, q: Question, relevant: np.ndarray, empty: np.ndarray) -> None:
        logic = self.vl.logic
        if q.file_name is not None:
            name = q.file_name.rsplit(".", 1)[0]
        elif q.list_name in self.form.choice_lists:
            name = q.list_name
        else:
            return
        secondary = self.run_.table(name)
        if secondary is None:
            return
        n = len(relevant)
        stored = self._stored(q)
        compiled = logic.expressions.get((q.name, "choice_filter"))
        if compiled is None:
            codes = set(secondary.get("name", np.full(len(secondary["__item__"]), "", object)))
            allowed = codes | ({"other"} if q.or_other else set())
            multiple = q.type in ("select_multiple", "rank")
            missing = _map_objects(
                lambda text: tuple(
                    c for c in (text.split() if multiple else [text]) if c not in allowed
                ),
                stored,
            )
            bad = relevant & ~empty & np.array([bool(m) for m in missing], bool)
            self._not_offered(q, bad, missing, stored)
            return
        if not compiled.ok:
            reasons = np.full(n, None, dtype=object)
            reasons[relevant] = f"choice_filter: {compiled.problem or 'not compiled'}"
            self.run_.note(q, 4, reasons)
            return
        offered = self._offered_by_key(q, compiled, secondary, relevant)
        if offered is not None:
            bad, missing, reasons = offered
        else:
            bad, missing, reasons = self._interpreted(q, "choice_filter", relevant, stored)
        self.run_.note(q, 4, reasons)
        self._not_offered(q, bad, missing, stored)

    def _offered_by_key(self, q, compiled, secondary, relevant):
        """A filter ``column = ${ref}`` (text answers outside repeats): the choices offered
        for each distinct answer of ``ref``, as one grouping of the list's items."""
        from forms.xpath.ast import Binary

        tree = compiled.tree
        if not (isinstance(tree, Binary) and tree.op == "="):
            return None
        sides = (tree.left, tree.right)
        ref = next((x for x in sides if isinstance(x, Ref)), None)
        path = next((x for x in sides if isinstance(x, Path)), None)
        if ref is None or path is None or path.absolute or path.start is not None:
            return None
        if len(path.steps) != 1 or path.steps[0].predicates or path.steps[0].axis != "child":
            return None
        target = self.form.get(ref.name)
        if target is None or target.repeat is not None or q.repeat is not None:
            return None
        if target.type in ("integer", "decimal", "range", "date") or target.is_group:
            return None
        column = path.steps[0].name
        cache = self.vl.__dict__.setdefault("_choice_groups", {})
        if (id(secondary), column) not in cache:
            cache[(id(secondary), column)] = _group_items(secondary, column)
        groups = cache[(id(secondary), column)]
        if groups is None:
            return None
        keys = self._read(target)
        stored = self._stored(q)
        empty = self.run_.own_empty(q)
        extra = {"other"} if q.or_other else set()
        allowed_by_key: dict[str, set[str]] = {}  # only the keys these rows hold
        multiple = q.type in ("select_multiple", "rank")
        n = len(relevant)
        bad = np.zeros(n, dtype=bool)
        missing = np.full(n, None, dtype=object)
        for row in np.flatnonzero(relevant & ~empty).tolist():
            key = keys[row]
            text_key = "" if key is None else _to_string(key)
            allowed = allowed_by_key.get(text_key)
            if allowed is None:
                allowed = allowed_by_key[text_key] = set(groups.get(text_key, ())) | extra
            text = stored[row]
            codes = tuple(c for c in (text.split() if multiple else [text]) if c not in allowed)
            if codes:
                bad[row] = True
                missing[row] = codes
        return bad, missing, np.full(n, None, dtype=object)

    def _not_offered(self, q, bad, missing, stored) -> None:
        for row in np.flatnonzero(bad).tolist():
            codes = " ".join(missing[row])
            self._add(
                "X105",
                Severity.ERROR,
                q,
                row,
                f"answer '{codes}' is not among the choices offered",
                stored[row],
            )

    # -- the interpreter, once per distinct input or per record ---------------------------
    def _interpreted(self, q: Question, column: str, relevant: np.ndarray, stored: np.ndarray):
        """(flag, detail, reasons) per row of ``q``'s frame from the interpreter's
        ``_calculation`` / ``_choices`` (detail: recomputed text / codes not offered)."""
        n = len(relevant)
        flag = np.zeros(n, dtype=bool)
        detail = np.full(n, None, dtype=object)
        reasons = np.full(n, None, dtype=object)
        compiled = self.vl.logic.expressions[(q.name, column)]
        refs = (
            _references(compiled.tree, item_paths=column == "choice_filter")
            if compiled.ok
            else None
        )
        rows = np.flatnonzero(relevant)
        if not len(rows):
            return flag, detail, reasons
        if refs is not None and q.repeat is None and all(self.form[r].repeat is None for r in refs):
            results = self._by_distinct_inputs(q, column, refs, rows, stored)
        else:
            results = self._per_record(q, column, rows)
        for row, (result, why) in zip(rows.tolist(), results, strict=True):
            if column == "calculation" and "calculation_mismatch" in result:
                flag[row] = True
                detail[row] = result["calculation_mismatch"][1]
            if column == "choice_filter" and result.get("answer_not_offered"):
                flag[row] = True
                detail[row] = result["answer_not_offered"]
            if why:
                reasons[row] = "; ".join(why)
        return flag, detail, reasons

    def _evaluate_node(self, session, q, node, column, stored_text):
        result: dict[str, Any] = {}
        why: list[str] = []
        if column == "calculation":
            session._calculation(q, node, stored_text, result, why)
        else:
            session._choices(q, node, result, why)
        return result, why

    def _by_distinct_inputs(self, q, column, refs, rows, stored):
        compiled = self.vl.logic.expressions[(q.name, column)]
        names = list(refs)
        if _device_time(compiled.tree, self.form):
            names += [e.name for e in self.form.elements if e.type in ("start", "end")]
        names = [r for r in dict.fromkeys(names) if r != q.name]
        columns = [self._read(self.form[r])[rows] for r in names]
        own = self._raw(q)[rows]
        keys = list(zip(*[c.tolist() for c in columns], own.tolist(), strict=True))
        # kept across batches (FrameRuns) of this VectorLogic: interview days recur
        caches = self.vl.__dict__.setdefault("_distinct_results", {})
        cache: dict[tuple, tuple[dict, list]] = caches.setdefault((q.name, column, self.today), {})
        out = []
        for key in keys:
            hit = cache.get(key)
            if hit is None:
                values = {self.form[r].xpath: v for r, v in zip(names, key[:-1], strict=True)}
                values[q.xpath] = key[-1]
                session = self.vl.logic.run(_nest(values), today=self.today, strict=False)
                session.instance.relevance = None  # answers are read as the frames hold them
                node = session.locate(q, ())
                stored_text = "" if node.is_empty else _to_string(node.value)
                hit = cache[key] = self._evaluate_node(session, q, node, column, stored_text)
            out.append(hit)
        return out

    def _per_record(self, q, column, rows):
        run = self.run_
        pairs = run._nodes(q)
        out = []
        for row in rows.tolist():
            session, node = pairs[row]
            stored_text = "" if node.is_empty else _to_string(node.value)
            out.append(self._evaluate_node(session, q, node, column, stored_text))
        return out

    def _read(self, element: Question) -> np.ndarray:
        """Answers of a question outside repeats as the interpreter reads them (None where
        not relevant), in their OData-like frame form."""
        values = self._raw(element)
        relevant = self.run_.relevance(element)
        values = values.copy()
        values[~relevant] = None
        return values

    def _raw(self, element: Question) -> np.ndarray:
        frame = self.run_.frame(self.run_.node_frame(element))
        column = frame[self.vl.names[element.xpath]]
        if pd.api.types.is_datetime64_any_dtype(column):
            return np.array(
                [None if pd.isna(v) else v.strftime("%Y-%m-%d") for v in column], object
            )
        if column.dtype == np.float64:
            return np.array([None if v != v else v for v in column.tolist()], dtype=object)
        return column.to_numpy(dtype=object)

    # -- X106 ---------------------------------------------------------------------------
    def _repeat_count(self, repeat: Question) -> None:
        compiled = self.vl.logic.expressions.get((repeat.name, "repeat_count"))
        skip = set(self.shapes.malformed.get(repeat.xpath, {})) | self.shapes.missing.get(
            repeat.xpath, set()
        )
        if compiled is None:
            return
        run = self.run_
        parent = self.vl.elements.get(repeat.parent)
        parent_frame = run.node_frame(parent) if parent is not None else None
        n = run.size(parent_frame)
        child = run.frame(repeat.name)
        counts = np.bincount(child[PARENT_ROW].to_numpy(), minlength=n)[:n]
        relevant = run.relevance(parent) if parent is not None else np.ones(n, dtype=bool)
        records = run.row_map(parent_frame, None)
        keep = ~np.isin(records, list(skip)) if skip else np.ones(n, bool)
        expected, reasons = self._count_values(repeat, parent, compiled, relevant)
        mismatch = relevant & keep & pd.isna(reasons) & (expected != counts)
        inherited = self._reasons(parent) if parent is not None else {}
        for row in range(n):
            path = self._node_path(parent, row)
            path = f"{path}/{repeat.name}"
            if mismatch[row]:
                self._add(
                    "X106",
                    Severity.WARNING,
                    parent,
                    row,
                    f"{counts[row]} repeat instances but repeat_count "
                    f"{repeat.repeat_count} gives {expected[row]}",
                    str(counts[row]),
                    path,
                )
            if not keep[row]:
                continue
            own = (reasons[row],) if relevant[row] and reasons[row] is not None else ()
            for reason in (*inherited.get(row, ()), *own):
                message = f"not evaluated: {reason}"
                self._add("X199", Severity.INFO, parent, row, message, None, path)

    def _node_path(self, element: Question | None, row: int) -> str:
        """Instance path of a group/repeat node (``/data/member[2]``), the root for None."""
        if element is None:
            return f"/{self.form.root}"
        path = instance_path(self.frames, element, row)
        if element.is_repeat:
            position = int(self.run_.frame(element.name)[POSITION].iat[row])
            path = f"{path}[{position}]"
        return path

    def _count_values(self, repeat, parent, compiled, relevant):
        run = self.run_
        n = len(relevant)
        reasons = np.full(n, None, dtype=object)
        context = parent
        if context is None:
            context = next(
                (e for e in self.form.elements if e.holds_data and e.repeat is None), None
            )
        try:
            if not compiled.ok or context is None:
                raise CannotVectorize("count")
            if parent is None and _has_paths(compiled.tree):
                raise CannotVectorize("relative paths from the root")
            value = scalar(run.evaluate_expression(compiled.tree, context), run)
            numbers = to_num(value) if value.kind != "date" else np.full(n, np.nan)
            if value.kind == "date":
                raise CannotVectorize("date count")
            truncated = np.trunc(numbers)
            expected = np.where(np.isnan(truncated) | (truncated < 0), 0, truncated).astype(
                np.int64
            )
            if value.error is not None:
                failed = pd.notna(value.error) & relevant
                reasons[failed] = [f"repeat_count: {e}" for e in value.error[failed]]
            return expected, reasons
        except (CannotVectorize, OverflowError):
            pass
        expected = np.zeros(n, dtype=np.int64)
        for row in np.flatnonzero(relevant).tolist():
            session, node = self._parent_node(repeat, parent, row)
            try:
                expected[row] = _count_value(session.value(compiled, node))
            except Exception as err:  # EvaluationError and the like, as the interpreter words it
                from forms.xpath.values import EvaluationError

                if not isinstance(err, EvaluationError):
                    raise
                reasons[row] = f"repeat_count: {err}"
        return expected, reasons

    def _parent_node(self, repeat, parent, row):
        run = self.run_
        record = int(run.row_map(run.node_frame(parent) if parent else None, None)[row])
        session = run.runs()[record]
        if parent is None:
            return session, session.instance.root
        return session, session.instance.nodes(parent.xpath)[_nth(run, parent, row)]

    # -- X199 -------------------------------------------------------------------------
    def _not_evaluated(self) -> None:
        run = self.run_
        for element in self.form.elements:
            if element.is_group or not (element.holds_data or element.is_repeat):
                continue
            found = self._reasons(element)
            if not found:
                continue
            skip: set[int] = set()
            if element.is_repeat:
                bad = self.shapes.malformed.get(element.xpath, {})
                gone = self.shapes.missing.get(element.xpath, set())
                skip = set(bad) | gone
            records = run.row_map(run.node_frame(element), None)
            for row in sorted(found):
                if skip and int(records[row]) in skip:
                    continue
                for reason in found[row]:
                    self._add("X199", Severity.INFO, element, row, f"not evaluated: {reason}")
        for xpath, records in self.shapes.malformed.items():
            for record, sent in records.items():
                self.out.append(
                    FrameIssue(
                        record,
                        Issue(
                            code="X199",
                            severity=Severity.INFO,
                            variable=xpath,
                            message=f"not evaluated: the submission sends a {sent} for this repeat "
                            "instead of a list of instances",
                        ),
                    )
                )
        for xpath, records in self.shapes.missing.items():
            for record in sorted(records - set(self.shapes.malformed.get(xpath, {}))):
                self.out.append(
                    FrameIssue(
                        record,
                        Issue(
                            code="X199",
                            severity=Severity.INFO,
                            variable=xpath,
                            message=MISSING_ROWS,
                        ),
                    )
                )


def _group_items(table: Mapping[str, np.ndarray], column: str) -> dict[str, list[str]] | None:
    """The codes of a list's items (its table) by their text in ``column``; None when a
    text might not compare as text in JavaRosa's ``=`` (numbers, booleans)."""
    n = len(table["__item__"])
    texts = table.get(column, np.full(n, "", dtype=object))
    codes = table.get("name", np.full(n, "", dtype=object))
    if any(_looks_boolean_or_number(t) for t in pd.unique(texts)):
        return None
    if not n:
        return {}
    keys, uniques = pd.factorize(texts, use_na_sentinel=False)
    order = np.argsort(keys, kind="stable")  # the list's order within each group
    bounds = np.cumsum(np.bincount(keys, minlength=len(uniques)))[:-1]
    parts = np.split(np.asarray(codes, dtype=object)[order], bounds)
    return {text: part.tolist() for text, part in zip(list(uniques), parts, strict=True)}


def _looks_boolean_or_number(text: str) -> bool:
    """Item texts JavaRosa's ``=`` might not compare as text."""
    from forms.xpath.values import string_to_number

    return text in ("true", "false") or string_to_number(text) == string_to_number(text)


def _map_objects(fn: Any, data: np.ndarray) -> np.ndarray:
    """``fn`` once per distinct value; results kept as objects (tuples stay tuples)."""
    codes, uniques = pd.factorize(data, use_na_sentinel=False)
    mapped = np.empty(len(uniques), dtype=object)
    for index, value in enumerate(uniques):
        mapped[index] = fn(value)
    return mapped[codes] if len(data) else np.empty(0, dtype=object)


def _nth(run: FrameRun, element: Question, row: int) -> int:
    """Index of ``row`` among the rows of ``element``'s frame with the same record."""
    frame = run.node_frame(element)
    records = run.row_map(frame, None)
    return int(np.sum(records[:row] == records[row]))


def _code(item: Any) -> str:
    code = item.child("name")
    return "" if code is None or code.value is None else str(code.value)


def _to_string(value: Any) -> str:
    from forms.xpath.values import to_string

    return to_string(value)


def _calc_texts(value: V) -> np.ndarray:
    if value.kind == "bool":
        return np.where(value.data, "1", "0").astype(object)
    if value.kind == "num":
        numbers = to_num(value)
        return map_unique(stored_calculation_text, numbers, object)
    return to_str(value)


def _same_pairs(stored: np.ndarray, texts: np.ndarray) -> np.ndarray:
    """Per row: is the stored text the same result as the recomputed one (equal texts at
    once, the others by :func:`forms.logic._same_text` once per distinct pair)."""
    left = np.fromiter(map(str, stored), dtype=object, count=len(stored))
    right = np.fromiter(map(str, texts), dtype=object, count=len(texts))
    same = np.asarray(left == right, dtype=bool)
    rest = np.flatnonzero(~same)
    if len(rest):
        # pairs as tuples, not joined strings: pandas' python-backed string dtype (no
        # pyarrow) cuts strings at a NUL, so a separator character is not safe
        pairs = np.empty(len(rest), dtype=object)
        pairs[:] = list(zip(left[rest].tolist(), right[rest].tolist(), strict=True))
        same[rest] = map_unique(lambda pair: _same_text(*pair), pairs, bool)
    return same


def _references(tree: Any, *, item_paths: bool = False) -> tuple[str, ...] | None:
    """The ``${name}`` references of an expression; None when it reads other paths
    (relative paths are allowed with ``item_paths``: in a choice filter they read the
    choice's columns) or current()."""
    refs: dict[str, None] = {}
    for node in walk(tree):
        if isinstance(node, Ref):
            refs.setdefault(node.name, None)
        elif isinstance(node, Call) and node.name in ("current", "position", "indexed-repeat"):
            return None
        elif isinstance(node, Path):
            start = node.start
            if isinstance(start, Call) and start.name == "instance":
                continue
            if item_paths and start is None and not node.absolute:
                continue
            return None
    return tuple(refs)


def _has_paths(tree: Any) -> bool:
    for node in walk(tree):
        if isinstance(node, Path):
            start = node.start
            if not (isinstance(start, Call) and start.name == "instance"):
                return True
    return False


def _device_time(tree: Any, form: Any) -> bool:
    for node in walk(tree):
        if isinstance(node, Call) and node.name in _DEVICE_TIME:
            return True
        if isinstance(node, Ref) and node.name in form and form[node.name].type in _TIMED_TYPES:
            return True
    return False


def _nest(values: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for xpath, value in values.items():
        parts = xpath.split("/")[2:]
        target = out
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return out


__all__ = ["FrameIssue", "RepeatShape", "_empty_mask", "_same_moment", "check_frames", "unpack"]
