"""Rules on choice codes: integers for Stata, one coding convention, don't-know/refusal."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from forms.issues import Issue, Severity
from forms.lint.registry import LintContext, rule
from forms.lint.text import name_words, normalise_label, plural, quoted_list, references
from forms.model import Choice, ChoiceList, FormModel, Question

_INTEGER = re.compile(r"^-?\d+$")

YES_LABELS = frozenset({"yes", "y", "是", "是的", "有", "对"})
NO_LABELS = frozenset({"no", "n", "否", "不是", "没有", "无", "不"})
DONT_KNOW_LABELS = frozenset(
    {"dk", "dontknow", "donotknow", "dontknownotsure", "notsure", "dontremember", "unknown"}
    | {"不知道", "不清楚", "说不清", "说不清楚", "不记得", "记不清", "不知道不清楚"}
)
REFUSAL_LABELS = frozenset(
    {"refused", "refuse", "refusal", "refusedtoanswer", "refusetoanswer", "declined"}
    | {"prefernottosay", "prefernottoanswer", "declinedtoanswer", "norefused"}
    | {"拒绝回答", "拒答", "不愿回答", "不愿意回答", "拒绝透露", "不愿透露"}
)
SEX_LABELS = frozenset(
    {"male", "female", "man", "woman", "men", "women", "男", "女", "男性", "女性"}
)
MISSING_CODE_SPAN = 3
"""Don't-know and refusal options sit among the last choices of a list; a 'Refused' in the
middle of a list (an interview-result list, say) is a substantive answer, not a missing code."""


def is_integer_code(code: str) -> bool:
    """True for codes Stata can use as value-label values (``1``, ``-98``)."""
    return bool(_INTEGER.match(code))


def labels_match(choice: Choice, vocabulary: frozenset[str]) -> bool:
    """True when a label of ``choice`` in any language is a word of ``vocabulary``."""
    return any(normalise_label(text) in vocabulary for text in choice.label.values())


def _trailing_matches(choice_list: ChoiceList, vocabulary: frozenset[str]) -> list[Choice]:
    tail = choice_list.choices[-MISSING_CODE_SPAN:]
    return [c for c in tail if labels_match(c, vocabulary)]


def dont_know_choices(choice_list: ChoiceList) -> list[Choice]:
    """The don't-know options of a list (by label, among its last choices)."""
    return _trailing_matches(choice_list, DONT_KNOW_LABELS)


def refusal_choices(choice_list: ChoiceList) -> list[Choice]:
    """The refusal options of a list (by label, among its last choices)."""
    return _trailing_matches(choice_list, REFUSAL_LABELS)


def questions_by_list(form: FormModel, types: tuple[str, ...]) -> dict[str, list[Question]]:
    """Questions of ``types`` by the name of the choices-sheet list they select from."""
    users: dict[str, list[Question]] = {}
    for question in form.questions:
        if question.type in types and question.list_name in form.choice_lists:
            users.setdefault(question.list_name, []).append(question)
    return users


# -- L110 ------------------------------------------------------------------------------
@rule("L110", Severity.WARNING, "choice codes that are not integers")
def non_integer_codes(ctx: LintContext) -> Iterator[Issue]:
    """select_one lists whose codes are not integers, and or_other (adds code 'other')."""
    users = questions_by_list(ctx.form, ("select_one",))
    for list_name in users:
        if all(_uses_search(q) for q in users[list_name]):
            continue  # the list names the columns of a CSV attachment, not codes
        choice_list = ctx.form.choice_lists[list_name]
        bad = [c for c in choice_list.choices if not is_integer_code(c.name)]
        if bad:
            yield ctx.issue(
                "L110",
                f"list '{list_name}' (used by '{users[list_name][0].name}') has codes that are "
                f"not integers: {quoted_list(c.name for c in bad)}; Stata value labels need "
                "integer codes (e.g. 1=yes, 2=no)",
                sheet=choice_list.sheet,
                row=bad[0].row,
            )
    for question in ctx.form.questions:
        if question.or_other and question.type == "select_one":
            yield ctx.issue(
                "L110",
                f"'{question.name}' uses or_other, which adds the code 'other' (not an "
                "integer); add an integer-coded 'other' choice and a text question relevant "
                "when it is chosen",
                row=question.row,
                variable=question.name,
            )


# -- L111 ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Coding:
    """How one list codes one concept (yes/no, don't know, refusal)."""

    choice_list: ChoiceList
    key: str
    shown: str
    row: int


def _convention_key(code: str) -> str:
    """Codes in one convention share a key: 8, 98 and 998 all end in 8; -98 is negative."""
    if is_integer_code(code):
        return f"{'-' if code.startswith('-') else '+'}{code[-1]}"
    return code


def _yes_no_coding(choice_list: ChoiceList) -> _Coding | None:
    if len(choice_list.choices) > 5:
        return None
    yes = [c for c in choice_list.choices if labels_match(c, YES_LABELS)]
    no = [c for c in choice_list.choices if labels_match(c, NO_LABELS)]
    if len(yes) != 1 or len(no) != 1:
        return None
    shown = f"yes={yes[0].name}, no={no[0].name}"
    return _Coding(choice_list, shown, shown, yes[0].row)


def _missing_coding(
    finder: Callable[[ChoiceList], list[Choice]],
) -> Callable[[ChoiceList], _Coding | None]:
    def coding(choice_list: ChoiceList) -> _Coding | None:
        """How ``choice_list`` codes the concept ``finder`` looks for, or None."""
        found = finder(choice_list)
        if not found:
            return None
        return _Coding(choice_list, _convention_key(found[0].name), found[0].name, found[0].row)

    return coding


def _declared_mismatches(
    ctx: LintContext, codings: list[_Coding], declared: tuple[str, ...], concept: str
) -> Iterator[Issue]:
    for coding in codings:
        if coding.shown not in declared:
            yield ctx.issue(
                "L111",
                f"list '{coding.choice_list.name}' codes {concept} as {coding.shown}, but the "
                f"survey declares {'/'.join(declared)}",
                sheet=coding.choice_list.sheet,
                row=coding.row,
            )


def _majority_mismatches(ctx: LintContext, codings: list[_Coding], concept: str) -> Iterator[Issue]:
    if len(codings) < 2:
        return
    counts = Counter(c.key for c in codings)
    majority, count = counts.most_common(1)[0]
    if count == len(codings):
        return
    usual = [c for c in codings if c.key == majority]
    usual_codes = "/".join(dict.fromkeys(c.shown for c in usual))
    for coding in codings:
        if coding.key != majority:
            yield ctx.issue(
                "L111",
                f"list '{coding.choice_list.name}' codes {concept} as {coding.shown}, while "
                f"{len(usual)} other list(s) use {usual_codes} (e.g. '{usual[0].choice_list.name}'"
                "); use one convention in the whole form",
                sheet=coding.choice_list.sheet,
                row=coding.row,
            )


@rule("L111", Severity.WARNING, "choice codes that mix conventions")
def mixed_conventions(ctx: LintContext) -> Iterator[Issue]:
    """Yes/no, don't-know or refusal coded differently in different lists (or differently
    from the codes the survey declares)."""
    lists = [ctx.form.choice_lists[name] for name in questions_by_list(ctx.form, _SELECTS)]
    yes_no = [c for c in map(_yes_no_coding, lists) if c]
    yield from _majority_mismatches(ctx, yes_no, "yes/no")
    for concept, finder, declared in (
        ("don't know", dont_know_choices, ctx.options.dont_know_codes),
        ("refusal", refusal_choices, ctx.options.refusal_codes),
    ):
        codings = [c for c in map(_missing_coding(finder), lists) if c]
        if declared:
            yield from _declared_mismatches(ctx, codings, declared, concept)
        else:
            yield from _majority_mismatches(ctx, codings, concept)


_SELECTS = ("select_one", "select_multiple", "rank")


# -- L112 ------------------------------------------------------------------------------
def _is_sex_list(choice_list: ChoiceList) -> bool:
    substantive = [
        c
        for c in choice_list.choices
        if c not in dont_know_choices(choice_list) and c not in refusal_choices(choice_list)
    ]
    return bool(substantive) and all(labels_match(c, SEX_LABELS) for c in substantive)


_NO_MISSING_CODES_WORDS = frozenset({"consent", "result", "outcome"})
_NO_MISSING_CODES_LABELS = ("consent", "interview result", "同意", "访问结果", "调查结果")


def _cascade_parents(form: FormModel) -> set[str]:
    """Names used in some choice_filter: the upper levels of cascading selects."""
    return {name for q in form.questions for name in references(q.choice_filter)}


def _needs_missing_codes(question: Question, cascade_parents: set[str]) -> bool:
    """False for selects where don't know / refusal make no sense: dynamic lists (cascades,
    search()), consent and interview-result questions."""
    if question.choice_filter or _uses_search(question) or question.name in cascade_parents:
        return False
    if _NO_MISSING_CODES_WORDS & set(name_words(question.name)):
        return False
    labels = " ".join(question.label.values()).lower()
    return not any(word in labels for word in _NO_MISSING_CODES_LABELS)


def _uses_search(question: Question) -> bool:
    return "search(" in (question.appearance or "")


@rule("L112", Severity.WARNING, "no don't-know or refusal option")
def missing_dont_know_or_refusal(ctx: LintContext) -> Iterator[Issue]:
    """When the survey declares don't-know / refusal codes: a warning when no select list of
    the form offers the option at all, else an info line per list that lacks it (only the
    questionnaire's author knows which questions need it).

    Not checked: sex lists, one-choice lists, cascading (choice_filter) selects and their
    parents, search() lists, consent and interview-result questions.
    """
    lists = _lists_needing_missing_codes(ctx)
    per_list: dict[str, list[str]] = {}
    for concept, codes, finder in (
        ("don't know", ctx.options.dont_know_codes, dont_know_choices),
        ("refusal", ctx.options.refusal_codes, refusal_choices),
    ):
        if not codes or not lists:
            continue
        option = f"{concept} ({'/'.join(codes)})"
        lacking = [
            choice_list
            for choice_list, _ in lists
            if not (set(codes) & set(choice_list.codes) or finder(choice_list))
        ]
        if len(lacking) < len(lists):
            for choice_list in lacking:
                per_list.setdefault(choice_list.name, []).append(option)
            continue
        first = lists[0][0]
        yield ctx.issue(
            "L112",
            f"the survey declares the {option} code but no select list of this form offers "
            f"a {concept} option ({plural(len(lists), 'list')} checked, e.g. '{first.name}'); "
            "add it where respondents may not know or refuse",
            sheet=first.sheet,
            row=first.choices[-1].row,
        )
    for choice_list, users in lists:
        if choice_list.name in per_list:
            yield ctx.issue(
                "L112",
                f"list '{choice_list.name}' (used by {quoted_list([q.name for q in users], 3)}) "
                f"has no {' or '.join(per_list[choice_list.name])} option, unlike other lists: "
                "add it if these questions need it",
                severity=Severity.INFO,
                sheet=choice_list.sheet,
                row=choice_list.choices[-1].row,
            )


def _lists_needing_missing_codes(ctx: LintContext) -> list[tuple[ChoiceList, list[Question]]]:
    parents = _cascade_parents(ctx.form)
    found = []
    for list_name, users in questions_by_list(ctx.form, ("select_one", "select_multiple")).items():
        choice_list = ctx.form.choice_lists[list_name]
        applicable = [q for q in users if _needs_missing_codes(q, parents)]
        if applicable and len(choice_list.choices) >= 2 and not _is_sex_list(choice_list):
            found.append((choice_list, applicable))
    return found
