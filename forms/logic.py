"""A form's own logic, evaluated in Python with ODK Collect's (JavaRosa's) semantics.

ODK Central does not enforce constraints and edits bypass them, so popsurvey re-evaluates
every relevance, constraint, required flag, calculation, choice filter and repeat count of
the XLSForm against each submission.

Checking a submission (shaped like Central's OData JSON: groups as nested objects, repeats
as lists, select_multiple as one space-separated string, geopoints as GeoJSON)::

    from forms.logic import check_submission
    check = check_submission(form, submission, today=date(2025, 7, 1))
    for issue in check.violations():      # forms.issues.Issue records, codes X101...
        print(issue.one_line())
    check.result("age")                   # QuestionResult of a question outside repeats
    check.result("kname", (2,))           # ... of the 2nd instance of its repeat

Issue codes: X101 constraint violated, X102 required but empty, X103 answered but not
relevant, X104 stored calculation differs from the recomputed one, X105 answer not among
the choices offered (after choice_filter), X106 number of repeat instances differs from
repeat_count, X199 not evaluated (an expression that cannot be evaluated: a function
popsurvey does not implement, a type error JavaRosa would raise, ...; never a silent pass).

The lower-level evaluator, for the fieldwork simulator filling a submission question by
question (compile once, call many times; ``submission`` is the partial OData JSON,
``repeat_indices`` the 1-based instance numbers of the enclosing repeats, outermost first;
missing repeat instances are treated as present and empty)::

    logic = FormLogic(form)
    logic.is_relevant(question, submission, (2,))        # bool, enclosing groups included
    logic.is_required(question, submission, (2,))        # bool
    logic.calculate(question, submission, (2,))          # recomputed text, or None
    logic.constraint_ok(question, value, submission, (2,))  # bool, None when value empty
    logic.choices(question, submission, (2,))            # codes offered, or None
    logic.repeat_count(repeat, submission, ())           # int, or None without repeat_count

For many submissions at once, flatten them with :func:`forms.frames.submission_frames`
and use :class:`forms.xpath.vectorized.VectorLogic`: the same relevance, constraint and
required results (and X101-X103 issues) computed column-wise over the frames.

Semantics follow JavaRosa's source: an empty answer is "" (NaN as a number); ``=`` compares
as booleans if either side is one, else as numbers if either side is one, else as text;
``< <= > >=`` and arithmetic convert to numbers; dates and dateTimes convert to whole days
since 1970-01-01 (in the value's own time zone), so ``${d2} - ${d1}`` counts days and
``decimal-date-time()`` gives fractional days; non-relevant answers read as empty;
expressions in a repeat see their own repeat instance (``${x}`` is contextualised).
``date('2024-01-31T10:00:00+08:00')`` keeps its time as JavaRosa's ``toDate`` does for
text (only a date/dateTime *value* is rounded to its day).

Time zone: Collect evaluates on the device, in the device's zone; popsurvey takes the
device's UTC offset from the submission's ``start`` (else ``end``) answer and falls back
to UTC (:func:`device_offset`). It matters where a value has no offset of its own: a date
is midnight on the device, so ``decimal-date-time(date('2024-01-31'))`` of a submission
started at +08:00 is 19752.6667 (19753 at UTC); a text time without an offset is device
time. Answers with an offset (dateTime, start, end) keep it: their day and time of day
are read in their own offset, which is the device's when the device recorded them.
The same convention holds compiled (VectorLogic falls back to this interpreter for
``decimal-date-time``).

Lookups into attachments (``instance('households')/root/item[name = ${hh}]/psu``) need
the file's rows: ``FormLogic(form, attachments={"households.csv": rows})``; without them
the expressions that read the instance are "not evaluated" (short-circuits of ``and``,
``or``, ``if`` and ``coalesce`` respected). Several matching items read as one value are
an error, as in JavaRosa ("a repeated field was used where one value is expected").

To fill a whole submission question by question, keep one :class:`FormSession` (no
instance is rebuilt between calls)::

    session = logic.session(today=date(2025, 7, 1))
    session.set("hhsize", 3)
    session.is_relevant("member_age", (2,)); session.set("member_age", 41, (2,))
    session.choices_of("city"); session.calculate("nadults"); session.to_odata()

``question`` is a :class:`forms.model.Question` or its name. Those methods raise
:class:`forms.xpath.values.EvaluationError` (a FormsError) when JavaRosa would refuse the
expression; :func:`check_submission` records such cases as "not evaluated" instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from forms.errors import ExpressionError
from forms.issues import Issue, Severity
from forms.model import METADATA_TYPES, FormModel, Question
from forms.xpath.ast import Call, Expr, Ref, walk
from forms.xpath.functions import FUNCTIONS, NONDETERMINISTIC, check_call
from forms.xpath.instance import (
    Instance,
    Node,
    build_instance,
    choice_instance,
    convert_answer,
    rows_instance,
)
from forms.xpath.interpreter import (
    Context,
    Environment,
    evaluate,
    evaluate_boolean,
    indexed_children,
)
from forms.xpath.parser import parse
from forms.xpath.values import (
    EvaluationError,
    NotImplementedFunction,
    java_double_string,
    parse_date_time,
    string_to_number,
    to_int,
    to_string,
    unpack,
)

EXPRESSION_COLUMNS = (
    "relevant",
    "required",
    "constraint",
    "calculation",
    "choice_filter",
    "repeat_count",
    "trigger",
    "read_only",
    "default",
)
"""Columns of the survey sheet that hold XPath (``default`` only when dynamic)."""
CHECKED_COLUMNS = (
    "relevant",
    "required",
    "constraint",
    "calculation",
    "choice_filter",
    "repeat_count",
)
_YES = {"yes", "true", "true()", "1", "y"}
_NO = {"no", "false", "false()", "0", "n"}
_NOT_INPUT = METADATA_TYPES | {"calculate", "csv-external", "hidden", "note", "xml-external"}


# -- compiled expressions -------------------------------------------------------------
@dataclass(frozen=True)
class CompiledExpression:
    """One expression of the form, parsed and checked once.

    ``problem`` says why it cannot be evaluated (malformed, unknown function, ...); the
    checks then report "not evaluated" with it.
    """

    question: str
    column: str
    text: str
    tree: Expr | None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when the expression can be evaluated."""
        return self.tree is not None and self.problem is None

    @property
    def reproducible(self) -> bool:
        """False when it calls now(), today(), random() or uuid() outside once()."""
        return self.tree is None or not _nondeterministic(self.tree)


def _nondeterministic(expr: Expr) -> bool:
    if isinstance(expr, Call):
        if expr.name == "once":
            return False
        if expr.name in NONDETERMINISTIC:
            return True
    return any(_nondeterministic(child) for child in expr.children())


def compile_expression(
    text: str, question: str, column: str, ref_names: Mapping[str, Any] | None = None
) -> CompiledExpression:
    """Parse and check ``text``: raises ExpressionError when malformed (bad syntax, wrong
    number of arguments, ``${x}`` naming no question); an unknown function gives a
    compiled expression whose ``problem`` says "not implemented"."""
    try:
        tree = parse(text)
    except ExpressionError as err:
        raise ExpressionError(f"{question}: {column}: {err}") from None
    problem = None
    for node in walk(tree):
        if isinstance(node, Call):
            if node.name not in FUNCTIONS:
                problem = problem or f"function '{node.name}()' is not implemented"
                continue
            try:
                check_call(node.name, len(node.args))
            except ExpressionError as err:
                raise ExpressionError(f"{question}: {column}: {err} in '{text}'") from None
        elif isinstance(node, Ref) and ref_names is not None and node.name not in ref_names:
            raise ExpressionError(
                f"{question}: {column}: ${{{node.name}}} refers to no question in '{text}'"
            )
    return CompiledExpression(question, column, text, tree, problem)


def _column_text(question: Question, column: str) -> str | None:
    text = getattr(question, column, None)
    if not text:
        return None
    if column in ("required", "read_only"):
        lowered = text.strip().lower()
        if lowered in _YES:
            return "true()"
        if lowered in _NO:
            return None
    if column == "default" and "${" not in text and "(" not in text:
        return None
    return text


# -- results --------------------------------------------------------------------------
@dataclass(frozen=True)
class QuestionResult:
    """The checks of one question in one submission (one repeat instance).

    ``constraint_ok`` is None when there is no constraint or the answer is empty or not
    relevant; ``calculation_mismatch`` is ``(stored, recomputed)``; for a repeat's own
    count row (``instance_path`` without an index) it is ``(instances, repeat_count)``.
    """

    name: str
    xpath: str
    instance_path: str
    relevant: bool
    required_missing: bool = False
    constraint_ok: bool | None = None
    calculation_mismatch: tuple[str, str] | None = None
    choices_offered: tuple[str, ...] | None = None
    not_evaluated: tuple[str, ...] = ()
    value: str = ""
    """The stored answer as text ("" when empty)."""
    repeat_indices: tuple[int, ...] = ()
    answer_not_offered: tuple[str, ...] = ()
    """Selected codes that are not among ``choices_offered``."""


@dataclass(frozen=True)
class SubmissionCheck:
    """Every question's results for one submission."""

    form_id: str
    instance_id: str | None
    enumerator: str | None
    results: tuple[QuestionResult, ...]
    messages: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Question name -> {"constraint": text, "constraint_message": text, ...} for issues."""

    def result(self, name: str, index: int | tuple[int, ...] | None = None) -> QuestionResult:
        """The result of question ``name``; ``index`` picks the repeat instance (an int for
        the innermost repeat, or the full tuple of indices). Raises KeyError if absent."""
        for item in self.results:
            if item.name != name:
                continue
            if index is None and (not item.repeat_indices or item.instance_path.endswith(name)):
                return item
            if isinstance(index, int) and item.repeat_indices[-1:] == (index,):
                return item
            if isinstance(index, tuple) and item.repeat_indices == index:
                return item
        raise KeyError(f"{name}{'' if index is None else f' {index}'}")

    def violations(self) -> list[Issue]:
        """The problems found, as Issue records (X101 ... X199, see the module docstring)."""
        issues: list[Issue] = []
        for item in self.results:
            issues.extend(self._issues_of(item))
        return issues

    def _issue(
        self, code: str, severity: Severity, item: QuestionResult, msg: str, value: str | None
    ) -> Issue:
        return Issue(
            code=code,
            severity=severity,
            message=f"{item.instance_path}: {msg}",
            variable=item.name,
            instance_id=self.instance_id,
            enumerator=self.enumerator,
            value=value or None,
        )

    def _issues_of(self, item: QuestionResult) -> list[Issue]:
        texts = self.messages.get(item.name, {})
        out = []
        if item.constraint_ok is False:
            extra = texts.get("constraint_message")
            out.append(
                self._issue(
                    "X101",
                    Severity.ERROR,
                    item,
                    f"value '{item.value}' violates constraint {texts.get('constraint', '')}"
                    + (f" ({extra})" if extra else ""),
                    item.value,
                )
            )
        if item.required_missing:
            out.append(self._issue("X102", Severity.ERROR, item, "required but empty", None))
        if not item.relevant and item.value != "" and texts.get("kind") != "repeat":
            out.append(
                self._issue(
                    "X103",
                    Severity.WARNING,
                    item,
                    f"answered ('{item.value}') but not relevant ({texts.get('relevant', '')})",
                    item.value,
                )
            )
        if item.calculation_mismatch is not None:
            stored, recomputed = item.calculation_mismatch
            if texts.get("kind") == "repeat":
                out.append(
                    self._issue(
                        "X106",
                        Severity.WARNING,
                        item,
                        f"{stored} repeat instances but repeat_count "
                        f"{texts.get('repeat_count', '')} gives {recomputed}",
                        stored,
                    )
                )
            else:
                out.append(
                    self._issue(
                        "X104",
                        Severity.WARNING,
                        item,
                        f"stored calculation '{stored}' differs from recomputed '{recomputed}'",
                        stored,
                    )
                )
        if item.answer_not_offered:
            codes = " ".join(item.answer_not_offered)
            out.append(
                self._issue(
                    "X105",
                    Severity.ERROR,
                    item,
                    f"answer '{codes}' is not among the choices offered",
                    item.value,
                )
            )
        for reason in item.not_evaluated:
            out.append(self._issue("X199", Severity.INFO, item, f"not evaluated: {reason}", None))
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "form_id": self.form_id,
            "instance_id": self.instance_id,
            "enumerator": self.enumerator,
            "results": [
                {
                    "name": r.name,
                    "xpath": r.xpath,
                    "instance_path": r.instance_path,
                    "value": r.value,
                    "relevant": r.relevant,
                    "required_missing": r.required_missing,
                    "constraint_ok": r.constraint_ok,
                    "calculation_mismatch": list(r.calculation_mismatch)
                    if r.calculation_mismatch
                    else None,
                    "choices_offered": list(r.choices_offered)
                    if r.choices_offered is not None
                    else None,
                    "not_evaluated": list(r.not_evaluated),
                }
                for r in self.results
            ],
            "violations": [i.to_dict() for i in self.violations()],
        }


# -- the evaluator --------------------------------------------------------------------
class FormLogic:
    """A form's expressions compiled once; evaluates them against submissions."""

    def __init__(
        self,
        form: FormModel,
        *,
        language: str | None = None,
        attachments: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    ) -> None:
        """Compile ``form``'s expressions. ``attachments`` gives the rows of secondary
        instances that are files (``select_one_from_file households.csv``, entity lists):
        instance name (file name without extension) -> rows of column -> value."""
        self.form = form
        self.attachments = {
            name.rsplit(".", 1)[0]: rows for name, rows in (attachments or {}).items()
        }
        self.language = form.language(language)
        self.ref_paths: dict[str, tuple[str, ...]] = {
            e.name: tuple(e.xpath.split("/")[1:]) for e in form.elements
        }
        self.expressions: dict[tuple[str, str], CompiledExpression] = {}
        self.errors: list[ExpressionError] = []
        """Malformed expressions (they are reported "not evaluated" by the checks)."""
        for element in form.elements:
            for column in EXPRESSION_COLUMNS:
                text = _column_text(element, column)
                if text is None:
                    continue
                try:
                    compiled = compile_expression(text, element.name, column, self.ref_paths)
                except ExpressionError as err:
                    self.errors.append(err)
                    compiled = CompiledExpression(element.name, column, text, None, str(err))
                self.expressions[(element.name, column)] = compiled
        self._secondary: dict[str, Instance | None] = {}

    # -- public per-question API ------------------------------------------------------
    def expression(self, question: Question | str, column: str) -> CompiledExpression | None:
        """The compiled ``column`` expression of ``question``, or None."""
        return self.expressions.get((self._question(question).name, column))

    def session(
        self, submission: Mapping[str, Any] | None = None, *, today: date | None = None
    ) -> FormSession:
        """A :class:`FormSession` over ``submission`` (empty by default): evaluate and
        :meth:`FormSession.set` answers one by one without rebuilding the instance."""
        return FormSession(self, submission or {}, today or date.today(), strict=True)

    def is_relevant(
        self,
        question: Question | str,
        submission: Mapping[str, Any],
        repeat_indices: tuple[int, ...] = (),
        *,
        today: date | None = None,
    ) -> bool:
        """Is ``question`` relevant (its own relevance and its groups' and repeats')?"""
        return self.session(submission, today=today).is_relevant(question, repeat_indices)

    def is_required(
        self,
        question: Question | str,
        submission: Mapping[str, Any],
        repeat_indices: tuple[int, ...] = (),
        *,
        today: date | None = None,
    ) -> bool:
        """Is an answer required (evaluating a dynamic ``required`` expression)?"""
        return self.session(submission, today=today).is_required(question, repeat_indices)

    def calculate(
        self,
        question: Question | str,
        submission: Mapping[str, Any],
        repeat_indices: tuple[int, ...] = (),
        *,
        today: date | None = None,
    ) -> str | None:
        """The recomputed calculation as text (as Central stores it); None if none."""
        return self.session(submission, today=today).calculate(question, repeat_indices)

    def constraint_ok(
        self,
        question: Question | str,
        value: Any,
        submission: Mapping[str, Any],
        repeat_indices: tuple[int, ...] = (),
        *,
        today: date | None = None,
    ) -> bool | None:
        """Would ``value`` (OData form) satisfy the constraint? None when empty or no
        constraint."""
        session = self.session(submission, today=today)
        return session.constraint_ok(question, value, repeat_indices)

    def choices(
        self,
        question: Question | str,
        submission: Mapping[str, Any],
        repeat_indices: tuple[int, ...] = (),
        *,
        today: date | None = None,
    ) -> tuple[str, ...] | None:
        """The choice codes offered after choice_filter; None for lists popsurvey cannot
        see (select_one_from_file without its attachment)."""
        return self.session(submission, today=today).choices_of(question, repeat_indices)

    def repeat_count(
        self,
        question: Question | str,
        submission: Mapping[str, Any],
        repeat_indices: tuple[int, ...] = (),
        *,
        today: date | None = None,
    ) -> int | None:
        """The number of instances ``repeat_count`` asks for (``repeat_indices`` are those
        of the repeat's enclosing repeats); None without repeat_count."""
        return self.session(submission, today=today).repeat_count(question, repeat_indices)

    # -- whole-submission check ---------------------------------------------------------
    def check(self, submission: Mapping[str, Any], *, today: date | None = None) -> SubmissionCheck:
        """Every check of every question of ``submission``."""
        run = self.run(submission, today=today, strict=False)
        results: list[QuestionResult] = []
        for element in self.form.elements:
            if element.is_group:
                continue
            if element.is_repeat:
                results.extend(run.repeat_results(element))
                continue
            if not element.holds_data:
                continue
            for node in run.instance.nodes(element.xpath):
                results.append(run.question_result(element, node))
        system = submission.get("__system") if isinstance(submission, Mapping) else None
        enumerator = None
        if isinstance(system, Mapping):
            enumerator = system.get("submitterName") or system.get("submitterId")
        return SubmissionCheck(
            form_id=self.form.form_id,
            instance_id=_instance_id(submission),
            enumerator=str(enumerator) if enumerator is not None else None,
            results=tuple(results),
            messages=self._messages(),
        )

    def run(
        self, submission: Mapping[str, Any], *, today: date | None = None, strict: bool = False
    ) -> FormSession:
        """A session over one submission; ``strict=False`` records evaluation errors as
        "not evaluated" instead of raising them (what :meth:`check` does)."""
        return FormSession(self, submission, today or date.today(), strict)

    # -- helpers --------------------------------------------------------------------
    def _question(self, question: Question | str) -> Question:
        if isinstance(question, Question):
            return question
        found = self.form.get(question)
        if found is None:
            raise KeyError(f"no question named '{question}' in form {self.form.form_id}")
        return found

    def secondary(self, name: str) -> Instance | None:
        """The secondary instance ``instance(name)`` (a choice list), cached."""
        if name not in self._secondary:
            lst = self.form.choice_lists.get(name) or self.form.external_choice_lists.get(name)
            if lst is not None:
                self._secondary[name] = choice_instance(lst, self.language)
            elif name in self.attachments:
                self._secondary[name] = rows_instance(self.attachments[name])
            else:
                self._secondary[name] = None
        return self._secondary[name]

    def choice_label(self, where: str, value: str) -> str:
        """jr:choice-name: the label of ``value`` in the list of the question at ``where``."""
        name = where.strip()
        if name.startswith("${") and name.endswith("}"):
            name = name[2:-1].strip()
        else:
            name = name.rstrip("/").rsplit("/", 1)[-1]
        question = self.form.get(name)
        lst = self.form.choices_for(question) if question is not None else None
        if lst is None:
            raise EvaluationError(f"jr:choice-name(): '{where}' is not a select question")
        choice = lst.get(value)
        return (choice.text(self.language) or "") if choice is not None else ""

    def _messages(self) -> dict[str, dict[str, str]]:
        cache = self.__dict__.get("_message_cache")
        if cache is None:
            cache = {}
            for e in self.form.elements:
                texts = {"kind": "repeat" if e.is_repeat else "question"}
                for column in ("constraint", "relevant", "repeat_count"):
                    if getattr(e, column):
                        texts[column] = getattr(e, column)
                message = e.text("constraint_message", self.language)
                if message:
                    texts["constraint_message"] = message
                cache[e.name] = texts
            self.__dict__["_message_cache"] = cache
        return cache


def device_offset(form: FormModel, instance: Instance) -> timedelta:
    """The UTC offset of the device that filled the submission: that of its ``start``
    (else ``end``) answer, which Collect records with the device's offset; UTC when the
    form has neither or they carry no offset. popsurvey evaluates dates in this zone:
    a date is midnight on the device (``decimal-date-time(date('2024-01-31'))`` on a
    +08:00 device is 19752.6667, not 19753); answers with their own offset keep it."""
    for kind in ("start", "end"):
        for question in form.elements:
            if question.type != kind:
                continue
            for node in instance.nodes(question.xpath):
                value = node.value
                if isinstance(value, datetime) and value.utcoffset() is not None:
                    return value.utcoffset()  # type: ignore[return-value]
    return timedelta(0)


def _instance_id(submission: Mapping[str, Any]) -> str | None:
    meta = submission.get("meta") if isinstance(submission, Mapping) else None
    if isinstance(meta, Mapping) and meta.get("instanceID"):
        return str(meta["instanceID"])
    value = submission.get("__id") if isinstance(submission, Mapping) else None
    return str(value) if value else None


def _count_value(value: Any) -> int:
    number = to_int(unpack(value))
    if math.isnan(number) or number < 0:
        return 0
    return int(number)


def stored_calculation_text(value: Any) -> str:
    """The text ODK Collect stores for a calculation's result (JavaRosa's
    ``IAnswerData.wrapData`` then ``XFormAnswerDataSerializer``): NaN and "" are stored
    empty, a boolean as ``1``/``0``, a number within 1e-9 of a whole one as that whole
    number (``5000000000``, not ``5.0E9``), any other number as Java's ``Double.toString``.
    """
    value = unpack(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if not math.isinf(value) and abs(value) < 2.0**63:
            whole = int(value)  # Java's (long) cast truncates towards zero
            if abs(value - whole) < 1e-9:
                return str(whole)
        return java_double_string(value)
    return to_string(value)


_BOOLEAN_TEXTS = ({"1", "true"}, {"0", "false"})
"""Collect stores a boolean result as 1/0, Enketo (web forms) as true/false."""


def _same_moment(stored: str, value: Any) -> bool:
    """A date or dateTime result, which Collect stores as a full dateTime (JavaRosa wraps a
    Date as DateTimeData: ``2024-02-01T00:00:00.000+08:00``) where XPath's string() gives
    only the date."""
    if not isinstance(value, date):
        return False
    parsed = parse_date_time(stored)
    if isinstance(value, datetime):
        return isinstance(parsed, datetime) and parsed == value
    if isinstance(parsed, datetime):
        return parsed.date() == value and parsed.time() == datetime.min.time()
    return parsed == value


def _same_text(stored: str, recomputed: str) -> bool:
    if stored == recomputed:
        return True
    if any({stored, recomputed} <= pair for pair in _BOOLEAN_TEXTS):
        return True
    a, b = string_to_number(stored), string_to_number(recomputed)
    if math.isnan(a) or math.isnan(b):
        return False
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


class FormSession:
    """One submission's evaluation state: its instance tree and a relevance memo.

    The simulator's incremental API: :meth:`set` an answer, then ask
    :meth:`is_relevant`, :meth:`is_required`, :meth:`calculate`, :meth:`constraint_ok`,
    :meth:`choices_of` or :meth:`repeat_count` for the next question, without rebuilding
    anything; :meth:`to_odata` gives the submission back in Central's OData shape.
    Repeat instances are created (empty) when first addressed.
    """

    def __init__(
        self, logic: FormLogic, submission: Mapping[str, Any], today: date, strict: bool
    ) -> None:
        self.logic = logic
        self.strict = strict
        self.instance = build_instance(logic.form, submission, self.relevant)
        self.env = Environment(
            instance=self.instance,
            ref_paths=logic.ref_paths,
            today=today,
            secondary=logic.secondary,
            choice_label=logic.choice_label,
            device_offset=device_offset(logic.form, self.instance),
        )
        self._relevance: dict[int, bool] = {}
        self._in_progress: set[int] = set()
        self.relevance_errors: dict[int, str] = {}

    # -- the incremental API -----------------------------------------------------------
    def set(
        self, question: Question | str, value: Any, repeat_indices: tuple[int, ...] = ()
    ) -> None:
        """Store ``value`` (OData form: number, text, GeoJSON, None) as the answer."""
        q = self.logic._question(question)
        self.locate(q, repeat_indices).value = convert_answer(q, value)
        self.forget()

    def forget(self) -> None:
        """Drop memoised relevance (after answers changed)."""
        self._relevance.clear()
        self.relevance_errors.clear()

    def is_relevant(self, question: Question | str, repeat_indices: tuple[int, ...] = ()) -> bool:
        """Is ``question`` relevant, enclosing groups and repeats included?"""
        return self.relevant(self.locate(self.logic._question(question), repeat_indices))

    def is_required(self, question: Question | str, repeat_indices: tuple[int, ...] = ()) -> bool:
        """Is an answer required (a dynamic ``required`` expression evaluated)?"""
        q = self.logic._question(question)
        compiled = self.logic.expressions.get((q.name, "required"))
        if compiled is None:
            return False
        return self.boolean(compiled, self.locate(q, repeat_indices))

    def calculate(
        self, question: Question | str, repeat_indices: tuple[int, ...] = ()
    ) -> str | None:
        """The calculation's result as text; None when the question has none."""
        q = self.logic._question(question)
        compiled = self.logic.expressions.get((q.name, "calculation"))
        if compiled is None:
            return None
        return stored_calculation_text(self.value(compiled, self.locate(q, repeat_indices)))

    def constraint_ok(
        self, question: Question | str, value: Any, repeat_indices: tuple[int, ...] = ()
    ) -> bool | None:
        """Would ``value`` satisfy the constraint? None when empty or no constraint.
        The stored answer is left as it was."""
        q = self.logic._question(question)
        compiled = self.logic.expressions.get((q.name, "constraint"))
        candidate = convert_answer(q, value)
        if compiled is None or candidate is None:
            return None
        node = self.locate(q, repeat_indices)
        previous, node.value = node.value, candidate
        self.forget()
        try:
            return self.boolean(compiled, node)
        finally:
            node.value = previous
            self.forget()

    def choices_of(
        self, question: Question | str, repeat_indices: tuple[int, ...] = ()
    ) -> tuple[str, ...] | None:
        """The choice codes offered after choice_filter (None: list not available)."""
        q = self.logic._question(question)
        return self.choices(q, self.locate(q, repeat_indices))

    def repeat_count(
        self, question: Question | str, repeat_indices: tuple[int, ...] = ()
    ) -> int | None:
        """The instance count ``repeat_count`` asks for; None without repeat_count."""
        q = self.logic._question(question)
        compiled = self.logic.expressions.get((q.name, "repeat_count"))
        if compiled is None:
            return None
        return _count_value(self.value(compiled, self.locate_parent(q, repeat_indices)))

    def to_odata(self) -> dict[str, Any]:
        """The answers as a Central OData submission (groups nested, repeats as lists)."""
        return _odata_of(self.instance.root)

    # -- evaluation primitives --------------------------------------------------------
    def value(self, compiled: CompiledExpression, node: Node) -> Any:
        """Evaluate ``compiled`` with ``node`` as context (raises EvaluationError)."""
        if compiled.tree is None or compiled.problem is not None:
            cls = NotImplementedFunction if compiled.tree is not None else EvaluationError
            raise cls(compiled.problem or "not compiled")
        return evaluate(compiled.tree, Context(node, node), self.env)

    def boolean(self, compiled: CompiledExpression, node: Node) -> bool:
        """``boolean()`` of ``compiled`` at ``node``."""
        if compiled.tree is None or compiled.problem is not None:
            cls = NotImplementedFunction if compiled.tree is not None else EvaluationError
            raise cls(compiled.problem or "not compiled")
        return evaluate_boolean(compiled.tree, Context(node, node), self.env)

    def relevant(self, node: Node) -> bool:
        """Relevance of ``node``: its own expression and every ancestor's (memoised)."""
        key = id(node)
        known = self._relevance.get(key)
        if known is not None:
            return known
        if node.question is None:
            return True
        if key in self._in_progress:  # a relevance cycle: JavaRosa rejects such forms
            return True
        self._in_progress.add(key)
        try:
            result = node.parent is None or self.relevant(node.parent)
            compiled = self.logic.expressions.get((node.question.name, "relevant"))
            if result and compiled is not None:
                try:
                    result = self.boolean(compiled, node)
                except EvaluationError as err:
                    if self.strict:
                        raise
                    self.relevance_errors[key] = f"relevant: {err}"
                    result = True
        finally:
            self._in_progress.discard(key)
        self._relevance[key] = result
        return result

    def choices(self, question: Question, node: Node) -> tuple[str, ...] | None:
        """Codes offered at ``node`` after the choice filter (None when the list is a file
        that was not given to FormLogic)."""
        if question.is_repeat or not question.list_name:
            return None
        if question.file_name is not None:
            secondary = self.logic.secondary(question.file_name.rsplit(".", 1)[0])
        elif question.list_name in self.logic.form.choice_lists:
            secondary = self.logic.secondary(question.list_name)
        else:
            return None
        if secondary is None:
            return None
        items = secondary.root.children
        compiled = self.logic.expressions.get((question.name, "choice_filter"))
        if compiled is None:
            return tuple(_item_code(item) for item in items)
        if compiled.tree is None or compiled.problem is not None:
            raise EvaluationError(compiled.problem or "not compiled")
        indexed = indexed_children(secondary.root, None, compiled.tree, node, self.env)
        if indexed is not None:  # a filter "column = ${ref}": looked up, not walked
            return tuple(_item_code(item) for item in indexed)
        offered = []
        for position, item in enumerate(items, start=1):
            ctx = Context(item, node, position, len(items))
            value = unpack(evaluate(compiled.tree, ctx, self.env))
            keep = value == position if isinstance(value, float) else _truthy(value)
            if keep:
                offered.append(_item_code(item))
        return tuple(offered)

    # -- locating nodes ---------------------------------------------------------------
    def locate(self, question: Question, repeat_indices: tuple[int, ...]) -> Node:
        """The node of ``question`` in the given repeat instances (created empty when the
        submission does not have them yet)."""
        parent = self.locate_parent(question, repeat_indices)
        if question.is_repeat:
            index = repeat_indices[len(question.repeats) - 1] if repeat_indices else 1
            return self._repeat_instance(parent, question, index)
        for child in parent.children:
            if child.name == question.name:
                return child
        raise EvaluationError(f"{question.name}: not found in the instance")

    def locate_parent(self, question: Question, repeat_indices: tuple[int, ...]) -> Node:
        """The node of the group/repeat instance that holds ``question``."""
        node = self.instance.root
        depth = 0
        for xpath in question.enclosing:
            element = self.logic.form.by_xpath(xpath)
            assert element is not None
            if element.is_repeat:
                if depth >= len(repeat_indices):
                    raise EvaluationError(
                        f"{question.name}: give the instance number of repeat '{element.name}'"
                    )
                node = self._repeat_instance(node, element, repeat_indices[depth])
                depth += 1
            else:
                found = node.child(element.name)
                if found is None:
                    raise EvaluationError(f"{element.name}: not found in the instance")
                node = found
        return node

    def _repeat_instance(self, parent: Node, repeat: Question, index: int) -> Node:
        existing = [c for c in parent.children if c.name == repeat.name]
        if index < 1:
            raise EvaluationError(f"repeat '{repeat.name}' instance numbers start at 1")
        from forms.xpath.instance import _fill

        children: dict[str, list[Question]] = {}
        for element in self.logic.form.elements:
            children.setdefault(element.parent, []).append(element)
        while len(existing) < index:
            node = Node(
                repeat.name, parent, self.instance, question=repeat, index=len(existing) + 1
            )
            self.instance.by_xpath.setdefault(repeat.xpath, []).append(node)
            _fill(self.instance, node, repeat.xpath, {}, children)
            existing.append(node)
        return existing[index - 1]

    # -- results ------------------------------------------------------------------------
    def question_result(self, question: Question, node: Node) -> QuestionResult:
        """All checks of one question node."""
        reasons: list[str] = []
        relevant = self._safe_relevant(node, reasons)
        stored = "" if node.is_empty else to_string(node.value)
        value_text = answer_text(question, node.value) if stored else ""
        result: dict[str, Any] = {}
        if relevant:
            self._required(question, node, result, reasons)
            self._constraint(question, node, result, reasons)
            self._calculation(question, node, stored, result, reasons)
            self._choices(question, node, result, reasons)
        return QuestionResult(
            name=question.name,
            xpath=question.xpath,
            instance_path=node.path_text(),
            relevant=relevant,
            not_evaluated=tuple(reasons),
            value=value_text,
            repeat_indices=node.repeat_indices(),
            **result,
        )

    def _safe_relevant(self, node: Node, reasons: list[str]) -> bool:
        relevant = self.relevant(node)
        for ancestor in node.ancestors_or_self():
            reason = self.relevance_errors.get(id(ancestor))
            if reason is not None:
                reasons.append(reason if ancestor is node else f"{ancestor.name}: {reason}")
        return relevant

    def _attempt(
        self, compiled: CompiledExpression, node: Node, reasons: list[str], boolean: bool
    ) -> Any:
        try:
            return self.boolean(compiled, node) if boolean else self.value(compiled, node)
        except EvaluationError as err:
            reasons.append(f"{compiled.column}: {err}")
            return None

    def _required(
        self, q: Question, node: Node, result: dict[str, Any], reasons: list[str]
    ) -> None:
        compiled = self.logic.expressions.get((q.name, "required"))
        if compiled is None or q.type in _NOT_INPUT or not node.is_empty:
            return
        required = self._attempt(compiled, node, reasons, boolean=True)
        if required:
            result["required_missing"] = True

    def _constraint(
        self, q: Question, node: Node, result: dict[str, Any], reasons: list[str]
    ) -> None:
        compiled = self.logic.expressions.get((q.name, "constraint"))
        if compiled is None or node.is_empty:
            return
        ok = self._attempt(compiled, node, reasons, boolean=True)
        if ok is not None:
            result["constraint_ok"] = ok

    def _calculation(
        self, q: Question, node: Node, stored: str, result: dict[str, Any], reasons: list[str]
    ) -> None:
        compiled = self.logic.expressions.get((q.name, "calculation"))
        if compiled is None or q.trigger:
            return
        if not compiled.reproducible:
            reasons.append(
                "calculation: uses now(), today(), random() or uuid(), so it cannot be recomputed"
            )
            return
        value = self._attempt(compiled, node, reasons, boolean=False)
        if value is None:
            return
        try:
            recomputed = stored_calculation_text(value)
        except EvaluationError as err:
            reasons.append(f"calculation: {err}")
            return
        if not _same_text(stored, recomputed) and not _same_moment(stored, unpack(value)):
            result["calculation_mismatch"] = (stored, recomputed)

    def _choices(self, q: Question, node: Node, result: dict[str, Any], reasons: list[str]) -> None:
        if not q.is_select:
            return
        try:
            offered = self.choices(q, node)
        except EvaluationError as err:
            reasons.append(f"choice_filter: {err}")
            return
        result["choices_offered"] = offered
        if offered is None or node.is_empty:
            return
        selected = (
            to_string(node.value).split()
            if q.type in ("select_multiple", "rank")
            else [to_string(node.value)]
        )
        allowed = set(offered) | ({"other"} if q.or_other else set())
        missing = tuple(code for code in selected if code not in allowed)
        if missing:
            result["answer_not_offered"] = missing

    def repeat_results(self, repeat: Question) -> list[QuestionResult]:
        """Per instance: relevance; per enclosing node: the repeat_count check."""
        results: list[QuestionResult] = []
        if repeat.xpath in self.instance.malformed_repeats:
            sent = self.instance.malformed_repeats[repeat.xpath]
            return [
                QuestionResult(
                    name=repeat.name,
                    xpath=repeat.xpath,
                    instance_path=repeat.xpath,
                    relevant=True,
                    not_evaluated=(
                        f"the submission sends a {sent} for this repeat instead of a list of "
                        "instances",
                    ),
                )
            ]
        if repeat.xpath in self.instance.missing_repeats:
            parent = self.instance.root
            return (
                [
                    QuestionResult(
                        name=repeat.name,
                        xpath=repeat.xpath,
                        instance_path=repeat.xpath,
                        relevant=True,
                        not_evaluated=(
                            "the submission does not include this repeat's rows "
                            "(pull OData with $expand=*)",
                        ),
                    )
                ]
                if parent is not None
                else []
            )
        for node in self.instance.nodes(repeat.xpath):
            reasons: list[str] = []
            relevant = self._safe_relevant(node, reasons)
            results.append(
                QuestionResult(
                    name=repeat.name,
                    xpath=repeat.xpath,
                    instance_path=node.path_text(),
                    relevant=relevant,
                    not_evaluated=tuple(reasons),
                    repeat_indices=node.repeat_indices(),
                )
            )
        compiled = self.logic.expressions.get((repeat.name, "repeat_count"))
        if compiled is None:
            return results
        for parent in self._parents_of(repeat):
            reasons = []
            relevant = self._safe_relevant(parent, reasons) if parent.question else True
            count = sum(1 for c in parent.children if c.name == repeat.name)
            mismatch = None
            if relevant:
                value = self._attempt(compiled, parent, reasons, boolean=False)
                if value is not None:
                    try:
                        expected = _count_value(value)
                    except EvaluationError as err:
                        reasons.append(f"repeat_count: {err}")
                    else:
                        if expected != count:
                            mismatch = (str(count), str(expected))
            results.append(
                QuestionResult(
                    name=repeat.name,
                    xpath=repeat.xpath,
                    instance_path=f"{parent.path_text()}/{repeat.name}",
                    relevant=relevant,
                    calculation_mismatch=mismatch,
                    not_evaluated=tuple(reasons),
                    value=str(count),
                    repeat_indices=parent.repeat_indices(),
                )
            )
        return results

    def _parents_of(self, element: Question) -> list[Node]:
        if element.parent == f"/{self.logic.form.root}":
            return [self.instance.root]
        return self.instance.nodes(element.parent)


_Run = FormSession  # the name used before FormSession was public


def _odata_of(node: Node) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in node.children:
        q = child.question
        if q is None:
            if child.children:
                out[child.name] = _odata_of(child)
            else:
                out[child.name] = None if child.is_empty else to_string(child.value)
        elif q.is_repeat:
            out.setdefault(child.name, []).append(_odata_of(child))
        elif q.is_group:
            out[child.name] = _odata_of(child)
        else:
            out[child.name] = odata_value(q, child.value)
    return out


def odata_value(question: Question, value: Any) -> Any:
    """An XPath value back in OData form (numbers, ISO dates, GeoJSON points)."""
    if value is None or value == "":
        return None
    if question.type == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, float):
        return value
    if isinstance(value, datetime):
        if question.type == "time":
            return value.timetz().isoformat(timespec="milliseconds")
        return value.isoformat(timespec="milliseconds")
    if isinstance(value, date):
        return value.isoformat()
    if question.type in ("geopoint", "start-geopoint") and isinstance(value, str):
        parts = value.split()
        try:
            lat, lon, *rest = (float(p) for p in parts)
        except ValueError:
            return value
        coordinates = [lon, lat, *rest[:1]]
        point: dict[str, Any] = {"type": "Point", "coordinates": coordinates}
        if len(rest) > 1:
            point["properties"] = {"accuracy": rest[1]}
        return point
    return value


def answer_text(question: Question, value: Any) -> str:
    """An answer as the user sent it, for messages: times and dateTimes in full
    (``10:30:00.000+08:00``, not the XPath string ``1970-01-01``)."""
    if isinstance(value, datetime):
        return str(odata_value(question, value))
    return to_string(value)


def _item_code(item: Node) -> str:
    code = item.child("name")
    return "" if code is None or code.value is None else str(code.value)


def _truthy(value: Any) -> bool:
    from forms.xpath.values import to_boolean

    return to_boolean(value)


def check_submission(
    form: FormModel, submission: Mapping[str, Any], *, today: date | None = None
) -> SubmissionCheck:
    """Check one OData submission against ``form``'s own logic (see the module docstring).

    For many submissions build one :class:`FormLogic` and call :meth:`FormLogic.check`.
    """
    return _logic_for(form).check(submission, today=today)


_CACHE: dict[int, tuple[FormModel, FormLogic]] = {}


def _logic_for(form: FormModel) -> FormLogic:
    cached = _CACHE.get(id(form))
    if cached is not None and cached[0] is form:
        return cached[1]
    logic = FormLogic(form)
    if len(_CACHE) > 32:
        _CACHE.clear()
    _CACHE[id(form)] = (form, logic)
    return logic


__all__ = [
    "CompiledExpression",
    "FormLogic",
    "FormSession",
    "QuestionResult",
    "SubmissionCheck",
    "check_submission",
    "compile_expression",
]
