"""Rules on numeric answers: ages, counts and years need a plausible range."""

from __future__ import annotations

import re
from collections.abc import Iterator

from forms.issues import Issue, Severity
from forms.lint.registry import LintContext, rule
from forms.lint.text import name_words
from forms.model import Question

_NAME_WORDS = {
    "age": "an age",
    "ages": "an age",
    "year": "a year",
    "years": "a year",
    "yr": "a year",
    "yob": "a year",
    "count": "a count",
    "cnt": "a count",
    "howmany": "a count",
    "members": "a count",
}
_COUNT_PREFIXES = frozenset({"n", "num", "number", "nr", "nb", "count", "cnt"})
"""First words that make a count (``n_children``, ``num_rooms``); elsewhere in a name
``number`` is as likely an identifier (``house_number``, ``phone_number``)."""
_LABEL_PATTERNS = (
    (
        re.compile(
            r"\bhow many\b|\bnumber of\b|人数|个数|次数|几个|几次|几人|几口|几名|"
            r"多少个|多少次|多少人|多少名|多少口",
            re.I,
        ),
        "a count",
    ),
    (re.compile(r"\bage\b|\bhow old\b|年龄|周岁|几岁|多大", re.I), "an age"),
    (re.compile(r"\bwhat year\b|\bwhich year\b|\byear of\b|哪一年|哪年|年份", re.I), "a year"),
)
_QUESTION_NUMBER = re.compile(r"^[A-Za-z]{0,2}\d+[_.-]")
"""Leading name words that number the question (``d03_n_live`` -> ``n live``)."""
# `. < 50`, `. >= 15`, and the mirrored `50 > .`; a bare `.` that is not part of `..` or a number
_DOT = r"(?<![\w.\])])\.(?![\w.(/])"
_UPPER = re.compile(rf"{_DOT}\s*<=?|>=?\s*{_DOT}")
_LOWER = re.compile(rf"{_DOT}\s*>=?|<=?\s*{_DOT}")


_EXAMPLES = {
    "an age": ". >= 15 and . <= 60",
    "a count": ". >= 0 and . <= 20",
    "a year": ". >= 1950 and . <= 2030",
}


def what_it_measures(question: Question) -> str | None:
    """``"an age"``, ``"a count"`` or ``"a year"`` when the name or label says so."""
    words = name_words(_QUESTION_NUMBER.sub("", question.name))
    if len(words) > 1 and words[0] in _COUNT_PREFIXES:
        return "a count"
    for word in words:
        if word in _NAME_WORDS:
            return _NAME_WORDS[word]
    for text in question.label.values():
        for pattern, meaning in _LABEL_PATTERNS:
            if pattern.search(text):
                return meaning
    return None


def bounds(constraint: str | None) -> tuple[bool, bool]:
    """Whether ``constraint`` bounds ``.`` from below and from above."""
    if not constraint:
        return False, False
    text = constraint.replace("&lt;", "<").replace("&gt;", ">")
    return bool(_LOWER.search(text)), bool(_UPPER.search(text))


@rule("L115", Severity.WARNING, "age, count or year without a range")
def integer_without_range(ctx: LintContext) -> Iterator[Issue]:
    """An integer question about an age, a count or a year whose constraint does not bound
    the answer from both sides (ODK Central accepts age=150)."""
    for question in ctx.form.questions:
        if question.type != "integer":
            continue
        meaning = what_it_measures(question)
        if meaning is None:
            continue
        lower, upper = bounds(question.constraint)
        if lower and upper:
            continue
        missing = (
            "no range constraint"
            if not (lower or upper)
            else ("no lower bound" if upper else "no upper bound")
        )
        yield ctx.issue(
            "L115",
            f"'{question.name}' looks like {meaning} but has {missing}; add one, e.g. "
            f"`{_EXAMPLES[meaning]}`, so typing slips are caught on the tablet",
            row=question.row,
            variable=question.name,
        )
