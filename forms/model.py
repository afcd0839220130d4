"""The FormModel: one immutable description of an XLSForm that flows through every stage.

A FormModel is built by :func:`forms.reader.read_form` and serialises losslessly to JSON
(:meth:`FormModel.to_json` / :meth:`FormModel.from_json`) so that the store can keep one per
form version.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

MODEL_FORMAT = 1
"""Version of the JSON layout written by :meth:`FormModel.to_dict`."""

DEFAULT_LANGUAGE = "default"
"""Language key used for translatable columns written without ``::language``."""


class FrozenDict(dict):
    """A read-only dict: equal to and serialisable like a dict, but never mutated."""

    def _readonly(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("FrozenDict is immutable")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _readonly  # type: ignore[assignment]
    __ior__ = _readonly  # type: ignore[assignment]

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(sorted(self.items(), key=lambda kv: str(kv[0]))))

    def __reduce__(self) -> tuple[Any, ...]:
        return (FrozenDict, (dict(self),))


def freeze(mapping: Mapping[str, Any] | None) -> FrozenDict:
    """Return a FrozenDict copy of ``mapping`` (empty for None)."""
    return FrozenDict(mapping or {})


STRUCTURE_TYPES = frozenset({"begin_group", "begin_repeat"})
SELECT_TYPES = frozenset(
    {
        "select_one",
        "select_multiple",
        "select_one_from_file",
        "select_multiple_from_file",
        "select_one_external",
        "rank",
    }
)
METADATA_TYPES = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "username",
        "phonenumber",
        "subscriberid",
        "simserial",
        "email",
        "audit",
        "start-geopoint",
        "background-audio",
        "background-geopoint",
    }
)
NUMERIC_TYPES = frozenset({"integer", "decimal", "range"})
DATE_TYPES = frozenset({"date", "dateTime", "time", "start", "end", "today"})
GEO_TYPES = frozenset({"geopoint", "geotrace", "geoshape", "start-geopoint"})
MEDIA_TYPES = frozenset({"image", "audio", "video", "file", "background-audio"})
NO_DATA_TYPES = frozenset({"note"})


@dataclass(frozen=True)
class Question:
    """One row of the survey sheet: a question, a calculation, metadata, a group or a repeat.

    Translatable texts (``label``, ``hint``, ...) map a language name (as written after
    ``::`` in the column header, or ``"default"``) to the text. Expressions are kept as
    written in the XLSForm (``${name}`` references and all).
    """

    name: str
    xpath: str
    type: str
    raw_type: str
    row: int
    enclosing: tuple[str, ...] = ()
    """XPaths of the enclosing groups and repeats, outermost first."""
    list_name: str | None = None
    or_other: bool = False
    file_name: str | None = None
    label: Mapping[str, str] = field(default_factory=FrozenDict)
    hint: Mapping[str, str] = field(default_factory=FrozenDict)
    guidance_hint: Mapping[str, str] = field(default_factory=FrozenDict)
    constraint_message: Mapping[str, str] = field(default_factory=FrozenDict)
    required_message: Mapping[str, str] = field(default_factory=FrozenDict)
    media: Mapping[str, str] = field(default_factory=FrozenDict)
    """Media columns as ``"image::lang"`` (or ``"image"``) to file name."""
    required: str | None = None
    constraint: str | None = None
    relevant: str | None = None
    calculation: str | None = None
    trigger: str | None = None
    choice_filter: str | None = None
    appearance: str | None = None
    parameters: Mapping[str, str] = field(default_factory=FrozenDict)
    default: str | None = None
    read_only: str | None = None
    repeat_count: str | None = None
    pii: bool = False
    extras: Mapping[str, str] = field(default_factory=FrozenDict)
    """Every other non-empty column of the row, by header."""
    repeats: tuple[str, ...] = ()
    """XPaths of the enclosing repeats, outermost first (a subset of ``enclosing``)."""

    @property
    def is_group(self) -> bool:
        """True for ``begin group`` rows."""
        return self.type == "begin_group"

    @property
    def is_repeat(self) -> bool:
        """True for ``begin repeat`` rows."""
        return self.type == "begin_repeat"

    @property
    def is_structure(self) -> bool:
        """True for groups and repeats (rows that hold other rows, not data)."""
        return self.type in STRUCTURE_TYPES

    @property
    def is_select(self) -> bool:
        """True for every select type (internal lists, files, external, rank)."""
        return self.type in SELECT_TYPES

    @property
    def is_metadata(self) -> bool:
        """True for ODK metadata (start, end, deviceid, audit, ...)."""
        return self.type in METADATA_TYPES

    @property
    def holds_data(self) -> bool:
        """True when the question stores a value in the submission."""
        return not self.is_structure and self.type not in NO_DATA_TYPES

    @property
    def repeat(self) -> str | None:
        """XPath of the innermost enclosing repeat, or None outside repeats."""
        return self.repeats[-1] if self.repeats else None

    @property
    def parent(self) -> str:
        """XPath of the enclosing group, repeat or the form root."""
        return self.xpath.rsplit("/", 1)[0]

    def text(self, column: str, language: str | None = None) -> str | None:
        """A translatable text (``label``, ``hint``, ...) in ``language``, falling back to
        the untranslated column and then to any language."""
        texts: Mapping[str, str] = getattr(self, column)
        if language is not None and language in texts:
            return texts[language]
        if DEFAULT_LANGUAGE in texts:
            return texts[DEFAULT_LANGUAGE]
        return next(iter(texts.values()), None)


@dataclass(frozen=True)
class Choice:
    """One row of the choices sheet."""

    name: str
    row: int
    label: Mapping[str, str] = field(default_factory=FrozenDict)
    media: Mapping[str, str] = field(default_factory=FrozenDict)
    extras: Mapping[str, str] = field(default_factory=FrozenDict)
    """Other columns (filter columns for choice_filter, and the like)."""

    def text(self, language: str | None = None) -> str | None:
        """The label in ``language`` with the same fallbacks as :meth:`Question.text`."""
        if language is not None and language in self.label:
            return self.label[language]
        if DEFAULT_LANGUAGE in self.label:
            return self.label[DEFAULT_LANGUAGE]
        return next(iter(self.label.values()), None)


@dataclass(frozen=True)
class ChoiceList:
    """A named list of choices (one ``list_name`` of the choices sheet)."""

    name: str
    choices: tuple[Choice, ...]
    sheet: str = "choices"

    @property
    def codes(self) -> tuple[str, ...]:
        """The choice names (codes) in sheet order."""
        return tuple(c.name for c in self.choices)

    @property
    def filter_columns(self) -> tuple[str, ...]:
        """Extra columns used by at least one choice (candidates for choice_filter)."""
        seen: dict[str, None] = {}
        for choice in self.choices:
            for key in choice.extras:
                seen.setdefault(key, None)
        return tuple(seen)

    def get(self, code: str) -> Choice | None:
        """The choice with name ``code``, or None."""
        return next((c for c in self.choices if c.name == code), None)


@dataclass(frozen=True)
class FormModel:
    """An XLSForm as one immutable object: settings, questions in sheet order, choice lists."""

    form_id: str
    title: str
    version: str | None
    root: str
    """Name of the instance root node (``data`` unless settings ``name`` says otherwise)."""
    languages: tuple[str, ...]
    default_language: str | None
    instance_name: str | None
    settings: Mapping[str, str]
    elements: tuple[Question, ...]
    choice_lists: Mapping[str, ChoiceList]
    external_choice_lists: Mapping[str, ChoiceList] = field(default_factory=FrozenDict)
    entities: tuple[Mapping[str, str], ...] = ()
    source: str | None = None
    """File name the form was read from (no directory)."""

    # -- lookups -----------------------------------------------------------------------
    @property
    def questions(self) -> tuple[Question, ...]:
        """Every row that is not a group or repeat, in sheet order."""
        return tuple(e for e in self.elements if not e.is_structure)

    @property
    def repeats(self) -> tuple[Question, ...]:
        """The ``begin repeat`` rows, in sheet order."""
        return tuple(e for e in self.elements if e.is_repeat)

    @property
    def groups(self) -> tuple[Question, ...]:
        """The ``begin group`` rows, in sheet order."""
        return tuple(e for e in self.elements if e.is_group)

    def __iter__(self) -> Iterator[Question]:
        return iter(self.elements)

    def get(self, name: str) -> Question | None:
        """The element named ``name`` (names are unique in a form), or None."""
        return self._by_name().get(name)

    def __getitem__(self, name: str) -> Question:
        element = self.get(name)
        if element is None:
            raise KeyError(name)
        return element

    def __contains__(self, name: object) -> bool:
        return name in self._by_name()

    def by_xpath(self, xpath: str) -> Question | None:
        """The element at ``xpath`` (``/data/grp/q``), or None."""
        return next((e for e in self.elements if e.xpath == xpath), None)

    def children(self, xpath: str) -> tuple[Question, ...]:
        """Direct children of the group, repeat or root at ``xpath``."""
        return tuple(e for e in self.elements if e.parent == xpath)

    def choices_for(self, question: Question) -> ChoiceList | None:
        """The choice list a select question uses (internal or external), or None."""
        if question.list_name is None:
            return None
        return self.choice_lists.get(question.list_name) or self.external_choice_lists.get(
            question.list_name
        )

    def language(self, code: str | None) -> str | None:
        """Resolve a language given as a name (``中文 (zh)``) or code (``zh``) to its name."""
        if code is None:
            return self.default_language or (self.languages[0] if self.languages else None)
        for name in self.languages:
            short = language_code(name)
            if name.lower() == code.lower() or (short and short.lower() == code.lower()):
                return name
        return None

    def _by_name(self) -> dict[str, Question]:
        cache = self.__dict__.get("_name_index")
        if cache is None:
            cache = {e.name: e for e in self.elements}
            object.__setattr__(self, "_name_index", cache)
        return cache

    # -- serialisation -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A plain-JSON dict that :meth:`from_dict` turns back into an equal FormModel."""
        return {"format": MODEL_FORMAT, **_dataclass_to_dict(self)}

    def to_json(self, indent: int | None = None) -> str:
        """JSON text of :meth:`to_dict` (UTF-8 characters kept as they are)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FormModel:
        """Rebuild a FormModel from :meth:`to_dict` output."""
        fmt = data.get("format", MODEL_FORMAT)
        if fmt != MODEL_FORMAT:
            raise ValueError(f"FormModel JSON format {fmt} is not supported")
        return cls(
            form_id=data["form_id"],
            title=data["title"],
            version=data.get("version"),
            root=data["root"],
            languages=tuple(data["languages"]),
            default_language=data.get("default_language"),
            instance_name=data.get("instance_name"),
            settings=freeze(data.get("settings")),
            elements=tuple(_question_from_dict(q) for q in data["elements"]),
            choice_lists=_lists_from_dict(data.get("choice_lists", {})),
            external_choice_lists=_lists_from_dict(data.get("external_choice_lists", {})),
            entities=tuple(freeze(e) for e in data.get("entities", ())),
            source=data.get("source"),
        )

    @classmethod
    def from_json(cls, text: str) -> FormModel:
        """Rebuild a FormModel from :meth:`to_json` output."""
        return cls.from_dict(json.loads(text))


def language_code(language: str) -> str | None:
    """The code in parentheses of an ODK language name: ``"English (en)"`` -> ``"en"``."""
    if language.endswith(")") and "(" in language:
        return language[language.rindex("(") + 1 : -1].strip() or None
    return None


def _dataclass_to_dict(obj: Any) -> Any:
    if hasattr(obj, "__dataclass_fields__"):
        return {f.name: _dataclass_to_dict(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, Mapping):
        return {k: _dataclass_to_dict(v) for k, v in obj.items()}
    if isinstance(obj, tuple | list):
        return [_dataclass_to_dict(v) for v in obj]
    return obj


_QUESTION_MAPPINGS = {
    "label",
    "hint",
    "guidance_hint",
    "constraint_message",
    "required_message",
    "media",
    "parameters",
    "extras",
}


def _question_from_dict(data: Mapping[str, Any]) -> Question:
    kwargs: dict[str, Any] = {}
    for f in fields(Question):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name in _QUESTION_MAPPINGS:
            value = freeze(value)
        elif f.name in ("enclosing", "repeats"):
            value = tuple(value)
        kwargs[f.name] = value
    return Question(**kwargs)


def _lists_from_dict(data: Mapping[str, Any]) -> FrozenDict:
    return freeze(
        {
            name: ChoiceList(
                name=lst["name"],
                sheet=lst.get("sheet", "choices"),
                choices=tuple(
                    Choice(
                        name=c["name"],
                        row=c["row"],
                        label=freeze(c.get("label")),
                        media=freeze(c.get("media")),
                        extras=freeze(c.get("extras")),
                    )
                    for c in lst["choices"]
                ),
            )
            for name, lst in data.items()
        }
    )
