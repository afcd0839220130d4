"""The metadata of an export, decided from the form alone: each dataset's variables (names
from :mod:`forms.naming`), their labels, storage kind, value label sets and missing codes.

Storage kinds: ``code`` (a select_one as a number with a value label set), ``dummy`` (0/1 of
a select_multiple choice), ``number``, ``date``, ``datetime``, ``time`` and ``string``.

Choice codes become numbers: a list whose codes are all integers keeps them; any other list
is numbered 1, 2, ... in sheet order and the codebook gives each number's original code
(Stata labels numbers only). One value label set per choice list, shared by every variable
using it; the 0/1 dummies share one yes/no set.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace

from exports.options import MissingCodes
from exports.words import words_for
from forms.codebook import plain_text
from forms.codebook.words import words_for as codebook_words
from forms.model import FormModel, Question
from forms.naming import (
    OTHER_CODE,
    ExportColumn,
    NameRegistry,
    choice_codes,
    dataset_columns,
)

DATE_KINDS = frozenset({"date", "datetime", "time"})
_INTEGER = re.compile(r"^-?\d{1,9}$")
_DATETIME_TYPES = frozenset({"dateTime", "start", "end"})
_DATE_TYPES = frozenset({"date", "today"})
_NUMBER_TYPES = frozenset({"integer", "decimal", "range"})
_CODED_TYPES = frozenset({"select_one", "select_one_external"})
_META_KINDS = {"submission_date": "datetime", "edits": "number"}


@dataclass
class LabelSet:
    """Value labels of one choice list (or the yes/no of dummies): number -> label, and the
    original choice code of each number."""

    name: str
    labels: dict[float, str]
    code_of: dict[str, float]
    """Choice code (as in the data) -> number written."""
    numbered: bool
    """True when codes were numbered 1, 2, ... (not integers themselves)."""
    dont_know: set[float] = field(default_factory=set)
    refused: set[float] = field(default_factory=set)
    source_labels: dict[float, str] = field(default_factory=dict)
    """The labels as the choice list gives them (``labels`` may gain codes found in the
    data); two versions' lists of one name share a set when these are equal."""


@dataclass
class Variable:
    """One exported variable: its column, label, kind, value labels and missing codes."""

    column: ExportColumn
    label: str
    kind: str
    label_set: LabelSet | None = None
    can_skip: bool = False
    """The question (or an enclosing group) has a relevance: skipped rows get .a / -97."""
    relevance: str | None = None
    """The relevance of the question and its groups and repeats, joined with ``and``."""
    form_version: str | None = None
    """The form version the question comes from when the newest version lacks it."""

    @property
    def name(self) -> str:
        """The exported name."""
        return self.column.name

    @property
    def question(self) -> Question | None:
        """The question the values come from (None for keys, metadata and design)."""
        return self.column.question


@dataclass
class DatasetPlan:
    """The variables of one dataset (the main one, or a repeat's) in file order."""

    name: str | None
    """None for the main dataset, else the repeat's name."""
    variables: list[Variable]
    label_sets: dict[str, LabelSet]


def choice_numbers(codes: tuple[str, ...]) -> tuple[dict[str, float], bool]:
    """Code -> number for a choice list: the codes themselves when all are integers (an
    or_other's ``other`` then takes the next free number), else 1, 2, ... in order (second
    value True)."""
    plain = [c for c in codes if c != OTHER_CODE]
    if plain and all(_INTEGER.match(c.strip()) for c in plain):
        numbers = {c: float(int(c)) for c in plain}
        if len(plain) < len(codes):  # or_other's "other": the next free number
            numbers[OTHER_CODE] = max(numbers.values()) + 1
        return numbers, False
    return {c: float(i) for i, c in enumerate(codes, 1)}, True


def plan_dataset(
    form: FormModel,
    dataset: str | None,
    language: str | None,
    codes: MissingCodes,
    design: dict[str, str] | None = None,
    sets: dict[str, LabelSet] | None = None,
    older: Sequence[FormModel] = (),
    present: Collection[str] | None = None,
) -> DatasetPlan:
    """The plan of one dataset. ``design``: design column -> its label (appended at the
    end); ``sets`` shares label sets between datasets (by choice list).

    ``older``: earlier versions of the form, newest first; the frame columns (``present``)
    of their questions that the newest version lacks are exported too, after the newest
    version's questions, labelled from the newest version that has them."""
    word = words_for(language)
    sets = {} if sets is None else sets
    registry = _SetNames(sets)
    design = design or {}
    columns = dataset_columns(form, dataset, tuple(design))
    own = [c for c in columns if c.role != "design"]
    variables = [_variable(form, column, language, codes, design, registry, word) for column in own]
    for old_form, column in older_columns(own, older, dataset, present or ()):
        variable = _variable(old_form, column, language, codes, design, registry, word)
        variable.can_skip = False  # rows of other versions never saw the question
        variable.form_version = old_form.version
        variables.append(variable)
    variables += [
        _variable(form, column, language, codes, design, registry, word)
        for column in columns
        if column.role == "design"
    ]
    return DatasetPlan(dataset, variables, sets)


def older_columns(
    columns: list[ExportColumn],
    older: Sequence[FormModel],
    dataset: str | None,
    present: Collection[str],
) -> list[tuple[FormModel, ExportColumn]]:
    """The columns of questions only older versions have (and the frame holds), each with
    the newest older version that has it, named after every name of ``columns``."""
    names = NameRegistry()
    for column in columns:
        names.claim(column.name)
    sources = {c.source for c in columns}
    out: list[tuple[FormModel, ExportColumn]] = []
    for old in older:
        if dataset is not None and old.get(dataset) is None:
            continue
        for column in dataset_columns(old, dataset):
            if column.role in ("key", "meta", "design") or column.source in sources:
                continue
            if not _in_frame(column, present):
                continue
            sources.add(column.source)
            out.append((old, replace(column, name=names.claim(column.name))))
    return out


def _in_frame(column: ExportColumn, present: Collection[str]) -> bool:
    """Whether the frame holds the variable's values (dummies are made from their question's
    own column; geopoint parts from their own columns or the geopoint text)."""
    if column.role == "choice":
        return column.source.rsplit("/", 1)[0] in present
    if column.role == "geo":
        return column.source in present or column.source.rsplit("_", 1)[0] in present
    return column.source in present


def _variable(
    form: FormModel,
    column: ExportColumn,
    language: str | None,
    codes: MissingCodes,
    design: dict[str, str],
    registry: _SetNames,
    word,
) -> Variable:
    question = column.question
    if question is None:
        label = design.get(column.source) or word(column.source)
        kind = _META_KINDS.get(column.source, "number" if column.role == "design" else "")
        if column.source == "__position":
            kind = "number"
        return Variable(column, label, kind or "string")
    text = question_label(question, language)
    skip = can_skip(form, question)
    if column.role == "choice":
        choices = form.choices_for(question)
        choice = choices.get(column.code or "") if choices else None
        choice_text = (choice.text(language) if choice else None) or column.code or ""
        label = f"{text}: {plain_text(choice_text) or choice_text}"
        variable = Variable(column, label, "dummy", registry.yes_no(word), skip)
    elif column.role == "geo":
        label = word("geo", label=text, part=word(column.code or ""))
        variable = Variable(column, label, "number", None, skip)
    elif column.role == "other":
        variable = Variable(column, word("other_text", label=text), "string")
    else:
        kind = question_kind(question)
        label_set = registry.for_list(form, question, language, codes) if kind == "code" else None
        if kind == "code" and label_set is None:
            kind = "string"
        numeric = kind in ("code", "number", "dummy")
        variable = Variable(column, text, kind, label_set, skip and numeric)
    variable.relevance = relevance_text(form, question)
    return variable


def question_label(question: Question, language: str | None) -> str:
    """The question's label as plain one-line text in ``language`` (its name when unlabelled)."""
    return plain_text(question.text("label", language)) or question.name


def question_kind(question: Question) -> str:
    """Storage kind of a question's own column (module docstring)."""
    if question.type in _CODED_TYPES:
        return "code"
    if question.type in _NUMBER_TYPES:
        return "number"
    if question.type in _DATE_TYPES:
        return "date"
    if question.type in _DATETIME_TYPES:
        return "datetime"
    if question.type == "time":
        return "time"
    return "string"


def relevance_text(form: FormModel, question: Question) -> str | None:
    """The question's effective relevance: its groups' and its own, joined with ``and``."""
    parts = []
    for xpath in question.enclosing:
        container = form.by_xpath(xpath)
        if container is not None and container.relevant:
            parts.append(container.relevant)
    if question.relevant:
        parts.append(question.relevant)
    if len(parts) <= 1:
        return parts[0] if parts else None
    return " and ".join(f"({p})" for p in parts)


def can_skip(form: FormModel, question: Question) -> bool:
    """True when the question or one of its groups/repeats has a relevance expression."""
    if question.relevant:
        return True
    for xpath in question.enclosing:
        container = form.by_xpath(xpath)
        if container is not None and container.relevant:
            return True
    return False


class _SetNames:
    """Label sets by choice list, named by the naming scheme (unique ignoring case)."""

    def __init__(self, sets: dict[str, LabelSet]) -> None:
        self.sets = sets
        self.seen: dict[tuple[int, bool], LabelSet] = {}
        """The set of each (choice list object, or_other) already asked for."""
        self.registry = NameRegistry()
        for existing in sets.values():
            self.registry.claim(existing.name)

    def yes_no(self, word) -> LabelSet:
        key = "\0yes_no"
        if key not in self.sets:
            name = self.registry.claim("dummy_01")
            self.sets[key] = LabelSet(name, {0.0: word("no"), 1.0: word("yes")}, {}, False)
        return self.sets[key]

    def for_list(
        self, form: FormModel, question: Question, language: str | None, codes: MissingCodes
    ) -> LabelSet | None:
        choices = form.choices_for(question)
        if choices is None:
            return None
        seen = (id(choices), bool(question.or_other))
        if seen not in self.seen:
            self.seen[seen] = self._for_list(form, question, choices, language, codes)
        return self.seen[seen]

    def _for_list(self, form, question, choices, language, codes) -> LabelSet:
        key = question.list_name or ""
        if question.or_other:
            key += "\0or_other"
        all_codes = choice_codes(form, question) if question.or_other else choices.codes
        numbers, numbered = choice_numbers(tuple(all_codes))
        labels = {}
        for code, number in numbers.items():
            choice = choices.get(code)
            text = plain_text(choice.text(language)) if choice else None
            if text is None and code == OTHER_CODE:
                text = codebook_words(language)("other_label")
            labels[number] = text or code
        # an older form version's list of the same name with other choices: a set of its own
        version = 0
        while key in self.sets and self.sets[key].source_labels != labels:
            version += 1
            key = f"{key.split(chr(1))[0]}\1{version}"
        if key in self.sets:
            return self.sets[key]
        name = self.registry.claim(question.list_name or question.name)
        label_set = LabelSet(name, labels, numbers, numbered, source_labels=dict(labels))
        missing = {str(c) for c in codes.dont_know}, {str(c) for c in codes.refused}
        label_set.dont_know = {n for c, n in numbers.items() if c in missing[0]}
        label_set.refused = {n for c, n in numbers.items() if c in missing[1]}
        self.sets[key] = label_set
        return label_set
