"""The codebook records: a FormModel described variable by variable, in one language.

Export names are those of the exported files (:mod:`forms.naming`, one scheme for both):
groups are dissolved and a variable keeps its question name; a select_multiple adds one 0/1
column ``name_code`` per choice (``other`` too for an ``or_other`` list), a geopoint becomes
``name_latitude``, ``name_longitude``, ``name_altitude`` and ``name_accuracy``, and an
``or_other`` select adds the text variable ``name_other`` (pyxform's "specify other"
question); names are cleaned, cut to Stata's 32 characters and SPSS's 64 bytes and made
unique. Each entry records its columns in the store's frames beside the exported names.
Each repeat is its own dataset.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from forms.codebook.words import Words, words_for
from forms.errors import UnknownLanguageError
from forms.model import DEFAULT_LANGUAGE, ChoiceList, FormModel, Question
from forms.naming import dataset_columns

OTHER_CODE = "other"
"""The choice pyxform adds to an ``or_other`` list (its label is always English "Other")."""

_TYPE_WORDS = {
    "text": "text",
    "integer": "type_integer",
    "decimal": "type_decimal",
    "range": "type_range",
    "note": "type_note",
    "acknowledge": "type_acknowledge",
    "trigger": "type_acknowledge",
    "calculate": "type_calculate",
    "hidden": "type_hidden",
    "geopoint": "type_geopoint",
    "geotrace": "type_geotrace",
    "geoshape": "type_geoshape",
    "date": "type_date",
    "dateTime": "type_datetime",
    "time": "type_time",
    "barcode": "type_barcode",
    "xml-external": "type_external",
    "csv-external": "type_external",
    "osm": "type_osm",
}
"""Key in :mod:`forms.codebook.words` of what a type's values are."""

_METADATA_WORDS = {
    "start": "type_datetime",
    "end": "type_datetime",
    "today": "type_date",
    "audit": "type_audit",
    "start-geopoint": "type_geopoint",
    "background-geopoint": "type_geopoint",
}
"""Metadata whose value is not plain text."""

_ATTACHMENTS = frozenset({"image", "audio", "video", "file", "background-audio"})

_NO_DATA = frozenset({"note", "xml-external", "csv-external"})
REFERENCE = re.compile(r"\$\{[^}\s]*\}")
"""A ``${name}`` reference in a label or expression."""
_LIST_REFERENCE = re.compile(r"^\$\{([^}\s]+)\}$")


# -- the records --------------------------------------------------------------------------
@dataclass(frozen=True)
class ValueLabel:
    """One code of a choice list with its label (and the language it was taken from)."""

    code: str
    label: str
    filters: tuple[tuple[str, str], ...] = ()
    """Extra (filter) columns of the choice as ``(column, value)``."""


@dataclass(frozen=True)
class Entry:
    """One variable of the codebook, every text already in the chosen language."""

    question: Question
    name: str
    export_columns: tuple[str, ...]
    store_columns: tuple[str, ...]
    """The same columns as named in the store's analysis frames, in the same order."""
    type_spec: str
    """The XLSForm type as a canonical spelling: ``select_one relation or_other``."""
    type_text: str
    """What the type means for the data: ``single choice``, ``GPS point ...``."""
    text: str
    hint: str | None
    guidance: str | None
    list_name: str | None
    choices_text: str | None
    """How the choices are given (a list, a file, the answers of a repeat, ...)."""
    value_labels: tuple[ValueLabel, ...]
    relevance: str | None
    inherited_relevance: tuple[tuple[str, str], ...]
    """``(group name, relevance)`` of the enclosing groups and repeats that have one."""
    constraint: str | None
    constraint_message: str | None
    required: str | None
    required_message: str | None
    calculation: str | None
    default: str | None
    read_only: str | None
    choice_filter: str | None
    appearance: str | None
    parameters: str | None
    trigger: str | None
    save_to: str | None
    group_path: str
    repeat: str | None
    repeat_text: str | None
    notes: tuple[str, ...]
    """Sentences for the statistician (select_multiple columns, or_other, ...)."""

    @property
    def pii(self) -> bool:
        """True when the question is marked as personally identifying."""
        return self.question.pii

    @property
    def metadata(self) -> bool:
        """True for ODK metadata (start, end, deviceid, audit, ...)."""
        return self.question.is_metadata


@dataclass(frozen=True)
class Section:
    """The form, a group or a repeat, with its variables and subsections in sheet order."""

    question: Question | None
    """The ``begin group`` / ``begin repeat`` row; None for the whole form."""
    title: str
    relevance: str | None
    repeat_text: str | None
    items: tuple[Entry | Section, ...]

    @property
    def name(self) -> str | None:
        """The group or repeat name (None for the form)."""
        return self.question.name if self.question else None

    @property
    def is_repeat(self) -> bool:
        """True for a repeat (its variables form a dataset of their own)."""
        return self.question is not None and self.question.is_repeat

    def entries(self) -> Iterator[Entry]:
        """Every variable of this section and its subsections, in sheet order."""
        for item in self.items:
            if isinstance(item, Section):
                yield from item.entries()
            else:
                yield item

    def sections(self) -> Iterator[Section]:
        """This section and every subsection, in sheet order."""
        yield self
        for item in self.items:
            if isinstance(item, Section):
                yield from item.sections()


@dataclass(frozen=True)
class Codebook:
    """Everything a codebook shows, in one language."""

    form: FormModel
    language: str | None
    words: Words
    """The codebook's own words, in the language of the codebook."""
    header: tuple[tuple[str, str, bool], ...]
    """``(field, value, is_code)`` lines of the form's description (is_code: an identifier
    or expression, shown in a code font)."""
    datasets: tuple[tuple[str, str], ...]
    """``(dataset, what one row is)``: the main dataset and one per repeat."""
    root: Section
    lists: tuple[tuple[ChoiceList, tuple[ValueLabel, ...], tuple[str, ...]], ...]
    """Every choice list used by a question: the list, its labels, the variables using it."""

    def entries(self) -> tuple[Entry, ...]:
        """Every variable, in sheet order."""
        return tuple(self.root.entries())


# -- building ---------------------------------------------------------------------------
def resolve_language(form: FormModel, language: str | None) -> str | None:
    """The form's language named by ``language`` (a name or a code such as ``zh``).

    None picks the form's default language. Raises :class:`UnknownLanguageError` naming the
    declared languages when the form has no such language.
    """
    resolved = form.language(language)
    if resolved is not None or language is None:
        return resolved
    if language.lower() == DEFAULT_LANGUAGE:
        return DEFAULT_LANGUAGE
    declared = ", ".join(form.languages) or "none"
    raise UnknownLanguageError(
        f"{form.source or form.form_id}: no language '{language}' in the form "
        f"(its languages: {declared})"
    )


def build_codebook(form: FormModel, language: str | None = None) -> Codebook:
    """The codebook records of ``form`` with texts in ``language`` (name or code)."""
    resolved = resolve_language(form, language)
    builder = _Builder(form, resolved)
    root = builder.section(None)
    return Codebook(
        form=form,
        language=resolved,
        words=builder.words,
        header=builder.header(),
        datasets=builder.datasets(),
        root=root,
        lists=builder.lists(root),
    )


def export_columns(form: FormModel, question: Question) -> tuple[str, ...]:
    """Variable names the question becomes in the exported files (:mod:`forms.naming`)."""
    return tuple(name for name, _ in _column_pairs(form, question))


def store_columns(form: FormModel, question: Question) -> tuple[str, ...]:
    """The question's columns in the store's analysis frames, as :func:`export_columns`."""
    return tuple(source for _, source in _column_pairs(form, question))


def _column_pairs(form: FormModel, question: Question) -> tuple[tuple[str, str], ...]:
    if question.type in _NO_DATA or question.is_structure:
        return ()
    cache = form.__dict__.get("_codebook_columns")
    if cache is None:
        cache = {}
        for dataset in [None, *(r.name for r in form.repeats)]:
            for column in dataset_columns(form, dataset):
                if column.question is not None:
                    pairs = cache.setdefault(column.question.xpath, [])
                    pairs.append((column.name, column.source))
        object.__setattr__(form, "_codebook_columns", cache)
    return tuple(cache.get(question.xpath, ()))


_HTML_TAG = re.compile(
    r"</?(?:span|font|b|i|u|s|em|strong|small|big|sub|sup|br|p|div|h[1-6]|a|mark|code)"
    r"(?:\s[^<>]*)?/?>",
    re.I,
)
"""The HTML tags ODK's labels use (formatting only); any other ``<...>`` is text."""


def plain_text(text: str | None) -> str | None:
    """A label without its HTML tags and Markdown emphasis, on one line.

    ``**Read:** <span style="color:red">Ask</span>`` -> ``Read: Ask``. ``${name}``
    references are kept as written.
    """
    if text is None:
        return None
    out = _HTML_TAG.sub(" ", text)  # only real tags: "aged <5 and >2" is text
    out = re.sub(r"\[([^\]]*)\]\(([^)\s]*)\)", r"\1", out)  # [text](url) -> text
    out = re.sub(r"(?m)^\s{0,3}#{1,6}\s+", "", out)  # headings
    out = re.sub(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1", r"\2", out)  # bold
    out = re.sub(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])", r"\1", out)  # italics
    out = html.unescape(out)
    return " ".join(out.split()) or None


class _Builder:
    def __init__(self, form: FormModel, language: str | None) -> None:
        self.form = form
        self.language = language
        self.words = words_for(language)

    # texts in the chosen language, marked when they come from another one
    def text(self, texts: Mapping[str, str]) -> str | None:
        if not texts:
            return None
        lang = self.language
        if lang is not None and lang in texts:
            return plain_text(texts[lang])
        if DEFAULT_LANGUAGE in texts:
            return plain_text(texts[DEFAULT_LANGUAGE])
        other, value = next(iter(texts.items()))
        shown = plain_text(value)
        return self.words("from_language", text=shown, language=other) if shown else None

    def header(self) -> tuple[tuple[str, str, bool], ...]:
        form, w = self.form, self.words
        lines = [
            (w("form_id"), form.form_id, True),
            (w("title"), form.title, False),
            (w("version"), form.version or w("not_set"), bool(form.version)),
        ]
        if form.languages and form.languages != (DEFAULT_LANGUAGE,):
            lines.append((w("languages"), ", ".join(self._language_names()), False))
        else:
            lines.append((w("languages"), w("no_languages"), False))
        if form.instance_name:
            lines.append((w("instance_name"), form.instance_name, True))
        if form.source:
            lines.append((w("source"), form.source, True))
        questions = [q for q in form.elements if export_columns(form, q)]
        lines.append((w("variables"), str(len(questions)), False))
        lines.append((w("repeats"), str(len(form.repeats)), False))
        pii = [q.name for q in questions if q.pii]
        if pii:
            lines.append((w("pii_variables"), ", ".join(pii), True))
        for entity in form.entities:
            lines.append((w("entity_list"), _entity_text(entity), True))
        return tuple(lines)

    def _language_names(self) -> Iterator[str]:
        default = self.form.default_language
        for name in self.form.languages:
            marks = []
            if name == default:
                marks.append(self.words("default_language"))
            if name == self.language:
                marks.append(self.words("used_here"))
            yield f"{name} ({', '.join(marks)})" if marks else name

    def datasets(self) -> tuple[tuple[str, str], ...]:
        rows = [(self.form.root, self.words("row_per_submission"))]
        for repeat in self.form.repeats:
            rows.append((repeat.name, self._repeat_text(repeat)))
        return tuple(rows)

    def _repeat_text(self, repeat: Question) -> str:
        w = self.words
        label = self.text(repeat.label)
        what = w("row_per_label", label=label) if label else w("row_per_entry")
        parent = repeat.repeats[-1].rsplit("/", 1)[1] if repeat.repeats else None
        where = (
            w("linked_to_repeat", parent=parent)
            if parent
            else w("linked_to_root", root=self.form.root)
        )
        count = w("row_count", count=repeat.repeat_count) if repeat.repeat_count else ""
        return f"{what}{where}{count}"

    def section(self, container: Question | None) -> Section:
        xpath = container.xpath if container else f"/{self.form.root}"
        items: list[Entry | Section] = []
        for child in self.form.children(xpath):
            if child.is_structure:
                items.append(self.section(child))
            else:
                items.append(self.entry(child))
        if container is None:
            title = self.form.title
        else:
            title = self.text(container.label) or container.name
        return Section(
            question=container,
            title=title,
            relevance=container.relevant if container else None,
            repeat_text=self._repeat_text(container) if container and container.is_repeat else None,
            items=tuple(items),
        )

    def entry(self, q: Question) -> Entry:
        form = self.form
        choices = form.choices_for(q)
        labels = self.value_labels(q, choices)
        repeat = q.repeat.rsplit("/", 1)[1] if q.repeat else None
        repeat_q = form.by_xpath(q.repeat) if q.repeat else None
        return Entry(
            question=q,
            name=q.name,
            export_columns=export_columns(form, q),
            store_columns=store_columns(form, q),
            type_spec=_type_spec(q),
            type_text=self.type_text(q),
            text=self.question_text(q),
            hint=self.text(q.hint),
            guidance=self.text(q.guidance_hint),
            list_name=q.list_name,
            choices_text=self.choices_text(q, choices),
            value_labels=labels,
            relevance=q.relevant,
            inherited_relevance=self.inherited_relevance(q),
            constraint=q.constraint,
            constraint_message=self.text(q.constraint_message),
            required=self.required_text(q.required),
            required_message=self.text(q.required_message),
            calculation=q.calculation,
            default=q.default,
            read_only=q.read_only,
            choice_filter=q.choice_filter,
            appearance=q.appearance,
            parameters=" ".join(f"{k}={v}" for k, v in q.parameters.items()) or None,
            trigger=q.trigger,
            save_to=q.extras.get("save_to"),
            group_path=" / ".join(e.rsplit("/", 1)[1] for e in q.enclosing),
            repeat=repeat,
            repeat_text=self._repeat_text(repeat_q) if repeat_q else None,
            notes=tuple(self.notes(q, choices)),
        )

    def question_text(self, q: Question) -> str:
        w = self.words
        label = self.text(q.label)
        if label:
            return label
        if q.is_metadata and w.get(f"meta_{q.type}"):
            return w(f"meta_{q.type}")
        if q.type in ("calculate", "hidden"):
            return w("calculated")
        if q.type in ("xml-external", "csv-external"):
            return w("external_data", name=q.name)
        return w("no_label")

    def type_text(self, q: Question) -> str:
        w = self.words
        if q.type in ("select_one", "select_one_from_file", "select_one_external"):
            return w("single_choice")
        if q.type in ("select_multiple", "select_multiple_from_file"):
            return w("several_choices")
        if q.type == "rank":
            return w("ranking")
        if q.type in _ATTACHMENTS:
            return w("type_attachment", kind=q.type.removeprefix("background-"))
        if q.is_metadata:
            return w(_METADATA_WORDS.get(q.type, "text"))
        key = _TYPE_WORDS.get(q.type)
        return w(key) if key else q.type

    def required_text(self, required: str | None) -> str | None:
        if required is None:
            return None
        lowered = required.strip().lower()
        if lowered in ("yes", "true", "true()", "1"):
            return self.words("required_yes")
        if lowered in ("no", "false", "false()", "0"):
            return None
        return self.words("required_when", expression=required)

    def choices_text(self, q: Question, choices: ChoiceList | None) -> str | None:
        w = self.words
        if not q.is_select:
            return None
        reference = _LIST_REFERENCE.match(q.list_name or "")
        if reference:
            source = self.form.get(reference.group(1))
            where = (
                w("from_repeat_where", repeat=source.repeat.rsplit("/", 1)[1])
                if source and source.repeat
                else ""
            )
            return w("from_repeat", name=reference.group(1), where=where)
        if q.file_name:
            geojson = q.file_name.lower().endswith(".geojson")
            value = q.parameters.get("value", "id" if geojson else "name")
            label = q.parameters.get("label", "title" if geojson else "label")
            return w("from_file", file=q.file_name, value=value, label=label)
        name = q.list_name or ""
        if choices is None:
            return w("list_undefined", name=name)
        listed = w("list_external" if choices.sheet != "choices" else "list", name=name)
        search = _search_source(q.appearance)
        if search:
            columns = ""
            if choices.choices:
                first = choices.choices[0]
                label = first.text(self.language) or ""
                columns = w("search_columns", value=first.name, label=label)
            return w("list_search", list=listed, file=search) + columns
        return listed

    def value_labels(self, q: Question, choices: ChoiceList | None) -> tuple[ValueLabel, ...]:
        if choices is None or _search_source(q.appearance):
            return ()
        labels = [
            ValueLabel(
                code=c.name,
                label=self.text(c.label) or "",
                filters=tuple(sorted(c.extras.items())),
            )
            for c in choices.choices
        ]
        if q.or_other and OTHER_CODE not in choices.codes:
            labels.append(ValueLabel(code=OTHER_CODE, label=self.words("other_label")))
        return tuple(labels)

    def inherited_relevance(self, q: Question) -> tuple[tuple[str, str], ...]:
        out = []
        for xpath in q.enclosing:
            container = self.form.by_xpath(xpath)
            if container is not None and container.relevant:
                out.append((container.name, container.relevant))
        return tuple(out)

    def notes(self, q: Question, choices: ChoiceList | None) -> Iterator[str]:
        w = self.words
        columns = export_columns(self.form, q)
        if q.type == "select_multiple":
            shown = ", ".join(columns[1:4]) + (", ..." if len(columns) > 4 else "")
            yield w("note_multiple", name=q.name, columns=shown)
        elif q.type in ("select_multiple_from_file", "rank"):
            yield w("note_string", name=q.name)
        if q.type in ("geopoint", "start-geopoint", "background-geopoint"):
            yield w("note_geo", columns=", ".join(columns))
        if q.or_other:
            multiple = q.type == "select_multiple"
            yield w("note_or_other_multiple" if multiple else "note_or_other", name=q.name)
        if q.is_metadata:
            yield w("note_metadata")
        if q.pii:
            yield w("note_pii")
        if q.type == "note":
            yield w("note_no_data")

    def lists(
        self, root: Section
    ) -> tuple[tuple[ChoiceList, tuple[ValueLabel, ...], tuple[str, ...]], ...]:
        used: dict[str, list[Entry]] = {}
        for entry in root.entries():
            if entry.value_labels and entry.list_name:
                used.setdefault(entry.list_name, []).append(entry)
        out = []
        for entries in used.values():
            choices = self.form.choices_for(entries[0].question)
            assert choices is not None  # value labels come from a known list
            labels = max((e.value_labels for e in entries), key=len)
            out.append((choices, labels, tuple(e.name for e in entries)))
        return tuple(out)


def _type_spec(q: Question) -> str:
    parts = [q.type]
    if q.file_name or q.list_name:
        parts.append(q.file_name or q.list_name or "")
    if q.or_other:
        parts.append("or_other")
    return " ".join(parts)


def _search_source(appearance: str | None) -> str | None:
    match = re.search(r"search\(\s*'([^']+)'", appearance or "")
    return match.group(1) if match else None


def _entity_text(entity: Mapping[str, str]) -> str:
    name = entity.get("list_name") or entity.get("dataset") or "?"
    parts = [
        f"{key} {value}" for key, value in entity.items() if key not in ("list_name", "dataset")
    ]
    return f"{name}: {'; '.join(parts)}" if parts else name


def detail_lines(entry: Entry, words: Words) -> list[tuple[str, str, bool]]:
    """``(field, value, is_expression)`` lines shown for a variable, in display order."""
    w = words
    in_repeat = w("in_repeat", name=entry.repeat, text=entry.repeat_text or "")
    rows: list[tuple[str, str | None, bool]] = [
        (w("export_columns"), ", ".join(entry.export_columns) or None, True),
        (
            w("store_columns"),
            ", ".join(entry.store_columns) if entry.store_columns != entry.export_columns else None,
            True,
        ),
        (w("type"), entry.type_spec, True),
        (w("values"), entry.type_text if entry.type_text != entry.type_spec else None, False),
        (w("hint"), entry.hint, False),
        (w("guidance"), entry.guidance, False),
        (w("choices"), entry.choices_text, False),
        (w("relevance"), entry.relevance, True),
        *((w("relevance_of", name=name), expr, True) for name, expr in entry.inherited_relevance),
        (w("constraint"), entry.constraint, True),
        (w("constraint_message"), entry.constraint_message, False),
        (w("required"), entry.required, False),
        (w("required_message"), entry.required_message, False),
        (w("calculation"), entry.calculation, True),
        (w("default"), entry.default, True),
        (w("read_only"), entry.read_only, False),
        (w("choice_filter"), entry.choice_filter, True),
        (w("appearance"), entry.appearance, True),
        (w("parameters"), entry.parameters, True),
        (w("trigger"), entry.trigger, True),
        (w("save_to"), entry.save_to, True),
        (w("inside"), entry.group_path or None, False),
        (w("repeat"), in_repeat if entry.repeat else None, False),
        (w("xpath"), entry.question.xpath, True),
    ]
    return [(k, v, e) for k, v, e in rows if v]


def anchor(entry: Entry) -> str:
    """A link target unique in the form (from the XPath without its root)."""
    path = entry.question.xpath.split("/", 2)[-1]
    return "var-" + re.sub(r"[^0-9A-Za-z_-]", "-", path).lower()
