"""A small kit for writing the bundled bilingual XLSForms in Python.

The questionnaires are authored in ``fertility.py`` and ``migrants.py`` with :class:`FormSpec`;
``build.py`` writes them to ``.xlsx``. The kit applies the conventions of
``CONVENTIONS.md`` once, so that every question gets them the same way:

- every text is bilingual (:class:`T`: simplified Chinese, English); Chinese is the default;
- every number gets a plausible-range constraint and a message in both languages; numbers that
  accept "don't know" / "refused" take the sentinels of :func:`sentinels` (all nines, as wide as
  the field, ending in 8 for don't know and 9 for refused);
- choice lists use integer codes; 96 = other, 98 = don't know, 99 = refused, 0 = none;
  in a select_multiple, 0, 98 and 99 exclude every other answer;
- every required question has a required message in both languages;
- names are short (<= 32 characters) and unique in the whole form.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

ZH = "中文 (zh)"
EN = "English (en)"
LANGUAGES = (ZH, EN)

OTHER, DONT_KNOW, REFUSED, NONE = "96", "98", "99", "0"
EXCLUSIVE_CODES = (NONE, DONT_KNOW, REFUSED)
MAX_NAME_LENGTH = 32

SURVEY_COLUMNS = (
    "type",
    "name",
    f"label::{ZH}",
    f"label::{EN}",
    f"hint::{ZH}",
    f"hint::{EN}",
    "required",
    f"required_message::{ZH}",
    f"required_message::{EN}",
    "relevant",
    "constraint",
    f"constraint_message::{ZH}",
    f"constraint_message::{EN}",
    "calculation",
    "choice_filter",
    "appearance",
    "parameters",
    "repeat_count",
    "read_only",
    "pii",
)
CHOICES_COLUMNS = ("list_name", "name", f"label::{ZH}", f"label::{EN}")

REQUIRED_TEXT_ZH = "此题必须回答。如访问中断无法继续，请跳到最后的“访问结果”选择“部分完成”。"
REQUIRED_TEXT_EN = (
    "An answer is required. If the interview breaks off, go to the final "
    '"Interview result" question and choose "partly completed".'
)


@dataclass(frozen=True)
class T:
    """A bilingual text: simplified Chinese first, then English."""

    zh: str
    en: str

    def __add__(self, other: T) -> T:
        return T(self.zh + other.zh, self.en + other.en)


def sentinels(width: int) -> tuple[int, int]:
    """The (don't know, refused) values of a number ``width`` digits wide: 98/99, 9998/9999."""
    top = 10**width
    return top - 2, top - 1


class SpecError(ValueError):
    """A questionnaire source that breaks the authoring conventions (a bug in the source)."""


class FormSpec:
    """Rows of the survey, choices and settings sheets of one bilingual XLSForm."""

    def __init__(
        self,
        form_id: str,
        title: T,
        version: str,
        instance_name: str,
        *,
        partial_switch: str | None = None,
    ) -> None:
        self.form_id = form_id
        self.title = title
        self.version = version
        self.instance_name = instance_name
        self.survey: list[dict[str, str]] = []
        self.choices: list[dict[str, str]] = []
        self._lists: dict[str, tuple[str, ...]] = {}
        self._names: set[str] = set()
        self._stack: list[str] = []
        self.partial_switch = partial_switch
        """Name of the final 'interview result' question; once :meth:`interview_started`
        is called, required questions stop being required when it says partly completed."""
        self._partial = False

    # -- settings ------------------------------------------------------------------------
    @property
    def settings(self) -> dict[str, str]:
        """The settings sheet as one row."""
        return {
            "form_id": self.form_id,
            "form_title": self.title.zh + " / " + self.title.en,
            "version": self.version,
            "default_language": ZH,
            "instance_name": self.instance_name,
            "style": "pages",
        }

    def interview_started(self) -> None:
        """From here on, 'required' means required unless the interview was partly completed."""
        if self.partial_switch is None:
            raise SpecError(f"{self.form_id}: no partial_switch question was named")
        self._partial = True

    # -- choices -------------------------------------------------------------------------
    def choice_list(
        self,
        list_name: str,
        items: Iterable[tuple[int, str, str]],
        *,
        other: bool = False,
        dont_know: bool = False,
        refused: bool = False,
        missing: bool = False,
    ) -> str:
        """Add a choice list of ``(code, Chinese, English)`` items; returns its name.

        ``missing`` adds both 98 (don't know) and 99 (refused)."""
        dont_know, refused = dont_know or missing, refused or missing
        if list_name in self._lists:
            raise SpecError(f"choice list {list_name} is defined twice")
        rows = [(str(code), zh, en) for code, zh, en in items]
        if other:
            rows.append((OTHER, "其他", "Other"))
        if dont_know:
            rows.append((DONT_KNOW, "不知道", "Don't know"))
        if refused:
            rows.append((REFUSED, "拒绝回答", "Refused"))
        codes = [code for code, _, _ in rows]
        if len(set(codes)) != len(codes):
            raise SpecError(f"choice list {list_name} repeats a code")
        for code, zh, en in rows:
            if not code.isdigit():
                raise SpecError(f"choice list {list_name}: code {code!r} is not an integer")
            self.choices.append(
                {"list_name": list_name, "name": code, f"label::{ZH}": zh, f"label::{EN}": en}
            )
        self._lists[list_name] = tuple(codes)
        return list_name

    def codes(self, list_name: str) -> tuple[str, ...]:
        """The codes of a defined choice list."""
        return self._lists[list_name]

    # -- survey rows ---------------------------------------------------------------------
    def row(self, type_: str, name: str, label: T | None = None, **columns: str | T | None) -> None:
        """Add one survey row; ``T`` values fill both language columns of their column."""
        structure = type_.split(" ")[0] in ("begin", "end") and " " in type_
        if not structure:
            self._claim(name)
        row: dict[str, str] = {"type": type_}
        if not type_.startswith("end "):
            row["name"] = name
        if label is not None:
            row[f"label::{ZH}"], row[f"label::{EN}"] = label.zh, label.en
        for column, value in columns.items():
            if value is None or value == "":
                continue
            if isinstance(value, T):
                row[f"{column}::{ZH}"], row[f"{column}::{EN}"] = value.zh, value.en
            else:
                row[column] = value
        unknown = set(row) - set(SURVEY_COLUMNS)
        if unknown:
            raise SpecError(f"{name}: unknown columns {sorted(unknown)}")
        self.survey.append(row)

    def _claim(self, name: str) -> None:
        if len(name) > MAX_NAME_LENGTH:
            raise SpecError(f"name {name} is longer than {MAX_NAME_LENGTH} characters")
        if name in self._names:
            raise SpecError(f"name {name} is used twice")
        self._names.add(name)

    def _required(self, required: bool | str) -> dict[str, str | T | None]:
        if required is False:
            return {}
        if isinstance(required, str):
            expression = required
        elif self._partial:
            expression = f"${{{self.partial_switch}}} != 2"
        else:
            expression = "yes"
        return {"required": expression, "required_message": T(REQUIRED_TEXT_ZH, REQUIRED_TEXT_EN)}

    def metadata(self, type_: str, name: str | None = None, parameters: str | None = None) -> None:
        """An ODK metadata row (start, end, today, deviceid, username, audit)."""
        self.row(type_, name or type_, parameters=parameters)

    def calculate(
        self, name: str, expression: str, *, label: T | None = None, pii: bool = False
    ) -> None:
        """A calculate row (labels only help the codebook)."""
        self.row("calculate", name, label, calculation=expression, pii="yes" if pii else None)

    def note(self, name: str, label: T, *, relevant: str | None = None) -> None:
        """A note shown to the enumerator."""
        self.row("note", name, label, relevant=relevant)

    def integer(
        self,
        name: str,
        label: T,
        low: int | str,
        high: int | str,
        *,
        hint: T | None = None,
        unit: T = T("", ""),
        range_text: T | None = None,
        dont_know: bool = False,
        refused: bool = False,
        sentinels_if: str | None = None,
        width: int | None = None,
        check: str | None = None,
        check_message: T | None = None,
        relevant: str | None = None,
        required: bool | str = True,
        appearance: str | None = None,
    ) -> None:
        """An integer with a plausible range ``low``..``high`` (numbers or expressions).

        ``check`` is a further consistency condition, tested only on real values (never on the
        don't know / refused sentinels); ``check_message`` says what it means.
        ``sentinels_if`` limits the sentinels to answers where the condition holds.
        """
        if (check is None) != (check_message is None):
            raise SpecError(f"{name}: a check needs a message and a message needs a check")
        if dont_know or refused:
            if width is None:
                if not isinstance(high, int):
                    raise SpecError(f"{name}: give the width of an expression-bounded number")
                width = len(str(high))
            dk, rf = sentinels(width)
            if isinstance(high, int) and high >= dk:
                raise SpecError(f"{name}: range {low}-{high} overlaps the sentinels {dk}/{rf}")
        in_range = f". >= {low} and . <= {high}"
        real = f"({in_range})" if check is None else f"({in_range}) and ({check})"
        extras = []
        sentinel_text = T("", "")
        if dont_know:
            extras.append(f". = {dk}")
            sentinel_text += T(f"；不知道请填{dk}", f"; don't know = {dk}")
        if refused:
            extras.append(f". = {rf}")
            sentinel_text += T(f"；拒绝回答请填{rf}", f"; refused = {rf}")
        if sentinels_if and extras:
            extras = [f"(({' or '.join(extras)}) and ({sentinels_if}))"]
        constraint = " or ".join([f"({real})", *extras]) if extras else real
        bounds = range_text or T(f"{low}至{high}", f"{low} to {high}")
        message = T(f"请输入{bounds.zh}之间的数值", f"Enter a value from {bounds.en}")
        message += T(f"（单位：{unit.zh}）" if unit.zh else "", "")
        message += T("", f" {unit.en}" if unit.en else "") + sentinel_text
        if check_message is not None:
            message += T("。", ". ") + check_message
        message += T("。", "." if not message.en.endswith(".") else "")
        self.row(
            "integer",
            name,
            label,
            hint=hint,
            relevant=relevant,
            constraint=constraint,
            constraint_message=message,
            appearance=appearance,
            **self._required(required),
        )

    def select_one(
        self,
        name: str,
        list_name: str,
        label: T,
        *,
        hint: T | None = None,
        relevant: str | None = None,
        check: str | None = None,
        check_message: T | None = None,
        required: bool | str = True,
        appearance: str | None = None,
        choice_filter: str | None = None,
    ) -> None:
        """A select_one from a defined list; ``check`` is a consistency constraint."""
        self._select(
            "select_one",
            name,
            list_name,
            label,
            hint,
            relevant,
            check,
            check_message,
            required,
            appearance,
            choice_filter,
        )

    def select_multiple(
        self,
        name: str,
        list_name: str,
        label: T,
        *,
        hint: T | None = None,
        relevant: str | None = None,
        check: str | None = None,
        check_message: T | None = None,
        required: bool | str = True,
        appearance: str | None = None,
    ) -> None:
        """A select_multiple; 0 (none), 98 and 99 are made exclusive automatically."""
        exclusive = [c for c in EXCLUSIVE_CODES if c in self._lists.get(list_name, ())]
        if exclusive:
            alone = " and ".join(
                f"not(selected(., '{c}') and count-selected(.) > 1)" for c in exclusive
            )
            words = {
                NONE: ("“没有”", '"none"'),
                DONT_KNOW: ("“不知道”", '"don\'t know"'),
                REFUSED: ("“拒绝回答”", '"refused"'),
            }
            zh = "、".join(words[c][0] for c in exclusive)
            en = ", ".join(words[c][1] for c in exclusive)
            base = T(f"{zh}不能与其他选项同时选择", f"{en} cannot be combined with other answers")
            if check is None:
                check, check_message = alone, base
            else:
                check = f"({alone}) and ({check})"
                check_message = base + T("；", "; ") + (check_message or T("", ""))
        self._select(
            "select_multiple",
            name,
            list_name,
            label,
            hint,
            relevant,
            check,
            check_message,
            required,
            appearance,
            None,
        )

    def _select(
        self,
        kind: str,
        name: str,
        list_name: str,
        label: T,
        hint: T | None,
        relevant: str | None,
        check: str | None,
        check_message: T | None,
        required: bool | str,
        appearance: str | None,
        choice_filter: str | None,
    ) -> None:
        if list_name not in self._lists:
            raise SpecError(f"{name}: choice list {list_name} is not defined (define it first)")
        if (check is None) != (check_message is None):
            raise SpecError(f"{name}: a check needs a message and a message needs a check")
        if check_message is not None and not check_message.zh.endswith("。"):
            check_message += T("。", ".")
        self.row(
            f"{kind} {list_name}",
            name,
            label,
            hint=hint,
            relevant=relevant,
            constraint=check,
            constraint_message=check_message,
            appearance=appearance,
            choice_filter=choice_filter,
            **self._required(required),
        )

    def text(
        self,
        name: str,
        label: T,
        *,
        hint: T | None = None,
        relevant: str | None = None,
        check: str | None = None,
        check_message: T | None = None,
        required: bool | str = True,
        pii: bool = False,
    ) -> None:
        """A free-text question (names, 'other, specify', remarks)."""
        self.row(
            "text",
            name,
            label,
            hint=hint,
            relevant=relevant,
            constraint=check,
            constraint_message=check_message,
            pii="yes" if pii else None,
            **self._required(required),
        )

    def other_specify(self, name: str, of: str, *, multiple: bool = False) -> None:
        """'Other, specify' text shown when question ``of`` is answered 96 (other)."""
        test = f"selected(${{{of}}}, '{OTHER}')" if multiple else f"${{{of}}} = {OTHER}"
        self.text(name, T("请注明其他情况", "Please specify 'other'"), relevant=test)

    @contextmanager
    def group(
        self,
        name: str,
        label: T | None = None,
        *,
        relevant: str | None = None,
        field_list: bool = False,
        appearance: str | None = None,
    ) -> Iterator[None]:
        """``begin group`` ... ``end group``; ``field_list`` shows it as one page."""
        self._claim(name)
        look = "field-list" if field_list else None
        if appearance:
            look = f"{look} {appearance}" if look else appearance
        self.row("begin group", name, label, relevant=relevant, appearance=look)
        self._stack.append(name)
        yield
        self._stack.pop()
        self.row("end group", name)

    @contextmanager
    def repeat(
        self,
        name: str,
        label: T,
        *,
        count: str,
        relevant: str | None = None,
        field_list: bool = True,
    ) -> Iterator[None]:
        """``begin repeat`` with a fixed ``count`` (rows are never added by hand)."""
        self._claim(name)
        self.row(
            "begin repeat",
            name,
            label,
            relevant=relevant,
            repeat_count=count,
            appearance="field-list" if field_list else None,
        )
        self._stack.append(name)
        yield
        self._stack.pop()
        self.row("end repeat", name)

    def check_closed(self) -> None:
        """Raise when a group or repeat was left open."""
        if self._stack:
            raise SpecError(f"{self.form_id}: {self._stack[-1]} is never closed")
