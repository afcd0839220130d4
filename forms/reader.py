"""Read an XLSForm (.xlsx, .xls, .csv or markdown tables) into a :class:`FormModel`.

pyxform reads the workbook (so every format it accepts is accepted here); popsurvey then
builds its own model from the raw sheet rows, which keeps the sheet row numbers that lint
messages need. Anything that is not a readable XLSForm raises :class:`XLSFormError` with
one line naming the file, sheet, row and column.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from os import PathLike
from pathlib import Path
from typing import Any

from forms.archives import check_zip_file
from forms.errors import XLSFormError
from forms.model import (
    DEFAULT_LANGUAGE,
    Choice,
    ChoiceList,
    FormModel,
    FrozenDict,
    Question,
    freeze,
)

# openpyxl warns about workbook features it drops on reading (data validation lists,
# conditional formatting and other extensions Excel and WPS write): noise on the user's
# terminal about nothing an XLSForm depends on, whichever module reads the workbook.
warnings.filterwarnings("ignore", message=r".*extension is not supported", module="openpyxl")

SURVEY, CHOICES, SETTINGS = "survey", "choices", "settings"
EXTERNAL_CHOICES, ENTITIES = "external_choices", "entities"

TRANSLATABLE = ("label", "hint", "guidance_hint", "constraint_message", "required_message")
MEDIA = ("image", "big-image", "audio", "video")

_COLUMN_ALIASES = {
    "caption": "label",
    "relevance": "relevant",
    "calculate": "calculation",
    "readonly": "read_only",
    "constraining_message": "constraint_message",
    "jr:constraintmsg": "constraint_message",
    "requiredmsg": "required_message",
    "jr:requiredmsg": "required_message",
    "count": "repeat_count",
    "jr:count": "repeat_count",
    "guidance": "guidance_hint",
    "list name": "list_name",
    "value": "name",
    "tag": "name",
    "command": "type",
    "big_image": "big-image",
}

_NAMESPACED_COLUMNS = {
    ("bind", "relevant"): "relevant",
    ("bind", "required"): "required",
    ("bind", "constraint"): "constraint",
    ("bind", "calculate"): "calculation",
    ("bind", "readonly"): "read_only",
    ("bind", "jr:constraintmsg"): "constraint_message",
    ("bind", "jr:requiredmsg"): "required_message",
    ("control", "appearance"): "appearance",
    ("control", "jr:count"): "repeat_count",
    ("body", "appearance"): "appearance",
    ("body", "jr:count"): "repeat_count",
}
"""pyxform's namespaced spellings (``bind::relevant``) of columns with a plain name."""

_TYPE_ALIASES = {
    "string": "text",
    "int": "integer",
    "gps": "geopoint",
    "location": "geopoint",
    "photo": "image",
    "picture": "image",
    "datetime": "dateTime",
    "date time": "dateTime",
    "date_time": "dateTime",
    "imei": "deviceid",
    "device id": "deviceid",
    "uri:deviceid": "deviceid",
    "phone number": "phonenumber",
    "uri:phonenumber": "phonenumber",
    "uri:username": "username",
    "uri:email": "email",
    "uri:subscriberid": "subscriberid",
    "subscriber id": "subscriberid",
    "uri:simserial": "simserial",
    "sim id": "simserial",
    "start time": "start",
    "end time": "end",
    "get start time": "start",
    "get end time": "end",
    "get today": "today",
    "get device id": "deviceid",
    "get phone number": "phonenumber",
    "get subscriber id": "subscriberid",
    "get sim id": "simserial",
}

_PLAIN_TYPES = frozenset(
    {
        "text",
        "integer",
        "decimal",
        "range",
        "note",
        "acknowledge",
        "trigger",
        "calculate",
        "hidden",
        "geopoint",
        "geotrace",
        "geoshape",
        "date",
        "dateTime",
        "time",
        "image",
        "audio",
        "background-audio",
        "video",
        "file",
        "barcode",
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
        "background-geopoint",
        "xml-external",
        "csv-external",
        "osm",
    }
)

_SELECT_WORDS = {
    "select_one": "select_one",
    "select one": "select_one",
    "select1": "select_one",
    "select_multiple": "select_multiple",
    "select multiple": "select_multiple",
    "select all that apply": "select_multiple",
    "select_one_external": "select_one_external",
    "select one external": "select_one_external",
    "rank": "rank",
    # older spellings pyxform still accepts
    "select one from": "select_one",
    "select all that apply from": "select_multiple",
    "add select one prompt using": "select_one",
    "add select multiple prompt using": "select_multiple",
}
_OR_OTHER_WORDS = ("or_other", "or other", "or specify other")
_FROM_FILE_WORDS = {
    "select_one_from_file": "select_one_from_file",
    "select one from file": "select_one_from_file",
    "select_multiple_from_file": "select_multiple_from_file",
    "select multiple from file": "select_multiple_from_file",
}
_BEGIN_END = re.compile(r"^(begin|end)[ _](group|repeat|loop)\b(?:\s+over\s+(\S+))?\s*$", re.I)
_YES = {"yes", "true", "true()", "1", "y"}
_REFERENCE = re.compile(r"\$\{([^}\s]+)\}")


@dataclass(frozen=True)
class ParsedType:
    """An XLSForm ``type`` cell split into its parts."""

    type: str
    list_name: str | None = None
    or_other: bool = False
    file_name: str | None = None
    end: bool = False


def parse_type(raw: str) -> ParsedType | None:
    """Split a survey ``type`` cell; None when it is not a type popsurvey knows.

    ``select_one yes_no or_other`` -> ``ParsedType("select_one", "yes_no", True)``;
    ``begin group`` -> ``ParsedType("begin_group")``; ``end repeat`` -> ``end=True``.
    """
    text = " ".join(raw.split())
    match = _BEGIN_END.match(text)
    if match:
        word, kind, over = match.group(1).lower(), match.group(2).lower(), match.group(3)
        kind = "group" if kind == "loop" and over is None else kind
        if word == "end":
            return ParsedType(f"end_{'repeat' if kind == 'loop' else kind}", end=True)
        if kind == "loop":
            return ParsedType("begin_repeat", list_name=over)
        return ParsedType(f"begin_{kind}")
    lowered = text.lower()
    for words, canonical in sorted(_FROM_FILE_WORDS.items(), key=lambda kv: -len(kv[0])):
        if lowered.startswith(words + " "):
            rest = text[len(words) :].split()
            if len(rest) != 1:
                return None
            return ParsedType(canonical, list_name=rest[0], file_name=rest[0])
    for words, canonical in sorted(_SELECT_WORDS.items(), key=lambda kv: -len(kv[0])):
        if lowered.startswith(words + " "):
            rest = text[len(words) :].split()
            suffix = " ".join(rest[1:]).lower()
            or_other = suffix in _OR_OTHER_WORDS
            if not rest or (suffix and not or_other):
                return None
            return ParsedType(canonical, list_name=rest[0], or_other=or_other)
    if lowered in _PLAIN_TYPES:
        return ParsedType(lowered)
    if text in _PLAIN_TYPES:
        return ParsedType(text)
    if lowered in _TYPE_ALIASES:
        return ParsedType(_TYPE_ALIASES[lowered])
    return None


def read_form(source: str | PathLike[str] | bytes, *, name: str | None = None) -> FormModel:
    """Read an XLSForm file (or its bytes / markdown text) into a :class:`FormModel`.

    ``name`` is the file name used in messages and as the fallback form id when
    ``source`` is not a path.
    """
    file_label, stem, data = _load(source, name)
    try:
        return _FormBuilder(data, file_label, stem).build()
    except XLSFormError:
        raise
    except Exception as err:  # a malformed workbook must never surface as a traceback
        raise XLSFormError(f"cannot read as an XLSForm ({err})", file=file_label) from err


def read_markdown(markdown: str, *, name: str = "form.md") -> FormModel:
    """Read an XLSForm written as markdown tables (pyxform's test idiom)."""
    return read_form(markdown.encode("utf-8"), name=name)


def load_workbook_rows(
    source: str | PathLike[str] | bytes, *, name: str | None = None
) -> tuple[str, dict[str, Any]]:
    """The raw sheets of an XLSForm as pyxform reads them: ``(file label, sheets)``.

    ``sheets`` maps a lower-case sheet name to a list of row dicts (empty rows kept, so
    sheet row = index + 2), plus ``sheet_names`` as written.
    """
    file_label, _, data = _load(source, name)
    return file_label, data


def _load(source: str | PathLike[str] | bytes, name: str | None) -> tuple[str, str, dict[str, Any]]:
    from pyxform.errors import PyXFormError
    from pyxform.xls2json_backends import get_xlsform

    if isinstance(source, bytes):
        file_label = name or "form"
        payload: Any = BytesIO(source)
        suffix = Path(file_label).suffix.lower() or None
    else:
        path = Path(source)
        file_label = name or path.name
        if not path.is_file():
            raise XLSFormError("no such file", file=str(source))
        payload = path
        suffix = path.suffix.lower()
    file_type = suffix if suffix in (".xlsx", ".xlsm", ".xls", ".csv", ".md") else None
    check_zip_file(payload, file_label)  # an .xlsx is a zip: refuse a bomb before reading
    if file_type == ".csv":
        _check_csv_sheets(payload, file_label)
    try:
        workbook = get_xlsform(payload, file_type=file_type)
    except PyXFormError as err:
        duplicate = re.match(r"Duplicate column header: (.*)", str(err))
        if duplicate:
            raise _duplicate_header_error(
                payload, file_type, duplicate.group(1), file_label
            ) from err
        raise XLSFormError(_pyxform_message(err), file=file_label) from err
    except TypeError as err:
        unknown = re.search(r"unexpected keyword argument '([^']*)'", str(err))
        if unknown is None:
            raise XLSFormError(
                f"not a readable XLSForm (TypeError: {err})", file=file_label
            ) from err
        raise XLSFormError(
            f"not an XLSForm: unknown sheet '{unknown.group(1)}' (an XLSForm has the sheets "
            "survey, choices, settings, external_choices and entities)",
            file=file_label,
        ) from err
    except Exception as err:
        detail = " ".join(str(err).split())
        detail = detail if len(detail) <= 120 else detail[:117] + "..."
        raise XLSFormError(
            f"not a readable XLSForm ({type(err).__name__}: {detail})", file=file_label
        ) from err
    data = {
        key: getattr(workbook, key)
        for key in (SURVEY, CHOICES, SETTINGS, EXTERNAL_CHOICES, ENTITIES, "sheet_names")
    }
    stem = Path(file_label).stem
    return file_label, stem, data


def _duplicate_header_error(
    payload: Any, file_type: str | None, header: str, file_label: str
) -> XLSFormError:
    """pyxform's "Duplicate column header" with the sheet, row and columns named."""
    try:
        found = _find_duplicate_header(payload, file_type, header)
    except Exception:  # naming the place is a courtesy: never fail while doing it
        found = None
    if found is None:
        return XLSFormError(f"duplicate column header '{header}'", file=file_label, row=1)
    sheet, row, columns = found
    return XLSFormError(
        f"duplicate column header '{header}' (columns {' and '.join(columns)}): each column "
        "may appear once",
        file=file_label,
        sheet=sheet,
        row=row,
    )


def _find_duplicate_header(
    payload: Any, file_type: str | None, header: str
) -> tuple[str, int, list[str]] | None:
    """(sheet, header row, column letters) of the first sheet whose header repeats ``header``."""
    for sheet, row, cells in _header_rows(payload, file_type):
        columns = [_column_letter(i) for i, c in enumerate(cells) if str(c or "").strip() == header]
        if len(columns) > 1:
            return sheet, row, columns
    return None


def _header_rows(payload: Any, file_type: str | None) -> list[tuple[str, int, list[Any]]]:
    """(lower-case sheet name, row number, header cells) of each sheet of the workbook."""
    if hasattr(payload, "seek"):
        payload.seek(0)
    if file_type in (".xlsx", ".xlsm"):
        import openpyxl

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(payload, read_only=True)
        try:
            return [
                (ws.title.lower(), 1, list(next(ws.iter_rows(max_row=1, values_only=True), ())))
                for ws in book.worksheets
            ]
        finally:
            book.close()
    if file_type == ".xls":
        import xlrd

        data = payload.read() if hasattr(payload, "read") else Path(payload).read_bytes()
        book = xlrd.open_workbook(file_contents=data)
        return [(ws.name.lower(), 1, ws.row_values(0) if ws.nrows else []) for ws in book.sheets()]
    raw = payload.getvalue() if hasattr(payload, "getvalue") else Path(payload).read_bytes()
    return _text_header_rows(raw.decode("utf-8-sig"), markdown=file_type != ".csv")


def _text_header_rows(text: str, *, markdown: bool) -> list[tuple[str, int, list[Any]]]:
    """Header rows of a markdown or CSV XLSForm: the first row after each sheet name."""
    import csv

    if markdown:
        lines = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("|")]
        rows = [[c.strip() for c in re.split(r"(?<!\\)\|", ln)[1:-1]] for ln in lines]
    else:
        rows = list(csv.reader(text.splitlines()))
    out, sheet = [], None
    for row in rows:
        if row and row[0].strip():
            sheet = row[0].strip().lower()
            rest = row[1:]
            if any(c.strip() for c in rest):
                out.append((sheet, 1, rest))
                sheet = None
        elif sheet is not None and any(c.strip() for c in row[1:]):
            out.append((sheet, 1, row[1:]))
            sheet = None
    return out


def _column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _check_csv_sheets(payload: Any, file_label: str) -> None:
    """A CSV XLSForm names its sheets in the first column (``survey`` on a row of its
    own, the sheet's rows below with that cell empty): say so when there is no survey."""
    import csv

    try:
        raw = payload.getvalue() if isinstance(payload, BytesIO) else Path(payload).read_bytes()
        text = raw.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return  # pyxform reports unreadable files
    sheets = [row[0].strip() for row in csv.reader(text.splitlines()) if row and row[0].strip()]
    if not any(name.lower() == SURVEY for name in sheets):
        found = f"; its first column starts with {sheets[0]!r}" if sheets else ""
        raise XLSFormError(
            "not an XLSForm: no 'survey' sheet found (a CSV XLSForm has sheet names in its "
            f"first column{found})",
            file=file_label,
        )


def _pyxform_message(err: Exception) -> str:
    text = str(err)
    if "not recognized as a supported type" in text or "does not appear" in text:
        return "not a readable XLSForm (.xlsx, .xls, .csv or markdown tables)"
    return text


def split_header(header: str) -> tuple[str, str | None]:
    """``"label::English (en)"`` -> ``("label", "English (en)")``, with aliases resolved.

    Namespaced columns that pyxform maps to a plain one (``bind::relevant``,
    ``control::appearance``, ``bind::jr:constraintMsg::French``, ...) get the plain name;
    other namespaced columns (``bind::``, ``body::``, ``instance::``) are returned whole.
    """
    base, _, language = header.partition("::")
    key = base.strip().lower()
    if key == "media" and language:  # "media::image::English (en)" is "image::English (en)"
        return split_header(language)
    if key in ("bind", "body", "instance", "control"):
        attribute, _, translated = language.partition("::")
        plain = _NAMESPACED_COLUMNS.get((key, attribute.strip().lower()))
        if plain is not None:
            return plain, (translated.strip() or None)
        return header.strip(), None
    key = _COLUMN_ALIASES.get(key, key).replace(" ", "_")
    return _COLUMN_ALIASES.get(key, key), (language.strip() or None)


def media_key(kind: str, language: str | None) -> str:
    """The key of a media column in :attr:`Question.media`: ``image::English (en)``."""
    return f"{kind}::{language}" if language else kind


def parse_parameters(text: str | None) -> FrozenDict:
    """``"start=0 end=10 step=1"`` -> ``{"start": "0", "end": "10", "step": "1"}``."""
    if not text:
        return FrozenDict()
    pairs = re.findall(r"([\w.:-]+)\s*=\s*('[^']*'|\"[^\"]*\"|[^\s,;]+)", text)
    return freeze({k: v.strip("'\"") for k, v in pairs})


def repeat_select_source(question: Question) -> str | None:
    """The question name of ``select_one ${name}`` (choices from a repeat), else None."""
    match = _REFERENCE.fullmatch(question.list_name or "")
    return match.group(1) if match and question.is_select else None


def _is_yes(value: str | None) -> bool:
    return value is not None and value.strip().lower() in _YES


class _FormBuilder:
    """Builds one FormModel from raw sheets; raises XLSFormError at the first fatal problem."""

    def __init__(self, sheets: Mapping[str, Any], file_label: str, stem: str) -> None:
        self.sheets = sheets
        self.file = file_label
        self.stem = stem
        self.languages: dict[str, None] = {}
        self.settings = self._settings()

    def error(
        self,
        message: str,
        *,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> XLSFormError:
        return XLSFormError(message, file=self.file, sheet=sheet, row=row, column=column)

    def build(self) -> FormModel:
        survey_rows = self.sheets.get(SURVEY)
        if not survey_rows or not any(survey_rows):
            raise self.error("no 'survey' sheet (or it is empty)", sheet=SURVEY)
        settings = self.settings
        choice_lists = self._choice_lists(CHOICES)
        external_lists = self._choice_lists(EXTERNAL_CHOICES)
        root = settings.get("name") or "data"
        elements = self._elements(survey_rows, root, choice_lists, external_lists)
        languages = tuple(self.languages)
        default_language = settings.get("default_language")
        if default_language is None and languages:
            default_language = languages[0]
        form_id = settings.get("form_id") or settings.get("id_string") or self.stem
        return FormModel(
            form_id=form_id,
            title=settings.get("form_title") or settings.get("title") or form_id,
            version=settings.get("version"),
            root=root,
            languages=languages,
            default_language=default_language,
            instance_name=settings.get("instance_name"),
            settings=freeze(settings),
            elements=tuple(elements),
            choice_lists=choice_lists,
            external_choice_lists=external_lists,
            entities=tuple(freeze(_clean(r)) for r in self.sheets.get(ENTITIES) or () if r),
            source=self.file,
        )

    def _settings(self) -> dict[str, str]:
        rows = [r for r in self.sheets.get(SETTINGS) or () if r]
        if not rows:
            return {}
        return {split_header(k)[0]: str(v).strip() for k, v in rows[0].items() if str(v).strip()}

    def _note_language(self, language: str | None) -> str:
        language = language or DEFAULT_LANGUAGE
        self.languages.setdefault(language, None)
        return language

    def _choice_lists(self, sheet: str) -> FrozenDict:
        lists: dict[str, list[Choice]] = {}
        seen: dict[tuple[str, str], int] = {}
        for index, raw in enumerate(self.sheets.get(sheet) or ()):
            row_number = index + 2
            if not raw:
                continue
            row = _clean(raw)
            label: dict[str, str] = {}
            media: dict[str, str] = {}
            extras: dict[str, str] = {}
            list_name = name = None
            for header, value in row.items():
                key, language = split_header(header)
                if key == "list_name":
                    list_name = value
                elif key == "name":
                    name = value
                elif key == "label":
                    label[self._note_language(language)] = value
                elif key in MEDIA:
                    if language:  # a language with only media is a translation too
                        self._note_language(language)
                    media[media_key(key, language)] = value
                else:
                    extras[header] = value
            if list_name is None and name is None:
                continue
            if list_name is None:
                raise self.error("choice has no list_name", sheet=sheet, row=row_number)
            if name is None:
                raise self.error(
                    f"choice in list '{list_name}' has no name",
                    sheet=sheet,
                    row=row_number,
                    column="name",
                )
            first = seen.get((list_name, name))
            allow_dupes = _is_yes(self.settings.get("allow_choice_duplicates"))
            if first is not None and not allow_dupes:
                raise self.error(
                    f"choice name '{name}' appears twice in list '{list_name}' "
                    f"(first at row {first})",
                    sheet=sheet,
                    row=row_number,
                    column="name",
                )
            seen[(list_name, name)] = row_number
            lists.setdefault(list_name, []).append(
                Choice(
                    name=name,
                    row=row_number,
                    label=freeze(label),
                    media=freeze(media),
                    extras=freeze(extras),
                )
            )
        return freeze(
            {n: ChoiceList(name=n, choices=tuple(c), sheet=sheet) for n, c in lists.items()}
        )

    def _elements(
        self,
        rows: Sequence[Mapping[str, Any]],
        root: str,
        choice_lists: Mapping[str, ChoiceList],
        external_lists: Mapping[str, ChoiceList],
    ) -> list[Question]:
        elements: list[Question] = []
        # the stack holds (kind, xpath, row) of open groups/repeats; root first
        stack: list[tuple[str, str, int]] = [("root", f"/{root}", 1)]
        siblings: dict[str, dict[str, int]] = {f"/{root}": {}}
        for row_number, raw in self._expand_loops(rows, choice_lists):
            row = _clean(raw)
            if not row:
                continue
            raw_type = row.get("type")
            if raw_type is None:
                if any(split_header(h)[0] in ("name", "label") for h in row):
                    raise self.error(
                        "question has no type", sheet=SURVEY, row=row_number, column="type"
                    )
                continue
            parsed = parse_type(raw_type)
            if parsed is None:
                raise self.error(
                    f"unknown question type '{raw_type}'",
                    sheet=SURVEY,
                    row=row_number,
                    column="type",
                )
            if parsed.end:
                kind = parsed.type.removeprefix("end_")
                if stack[-1][0] != kind:
                    opened = stack[-1][0] if len(stack) > 1 else "nothing"
                    raise self.error(
                        f"'{raw_type}' closes {opened}, not a {kind}",
                        sheet=SURVEY,
                        row=row_number,
                        column="type",
                    )
                stack.pop()
                continue
            element = self._element(row, row_number, raw_type, parsed, stack, siblings)
            self._check_list(element, choice_lists, external_lists)
            elements.append(element)
            if element.is_structure:
                kind = "repeat" if element.is_repeat else "group"
                stack.append((kind, element.xpath, row_number))
                siblings[element.xpath] = {}
        if len(stack) > 1:
            kind, xpath, opened_at = stack[-1]
            raise self.error(
                f"begin {kind} '{xpath.rsplit('/', 1)[1]}' is never closed",
                sheet=SURVEY,
                row=opened_at,
            )
        self._check_repeat_selects(elements)
        return elements

    def _expand_loops(
        self, rows: Sequence[Mapping[str, Any]], choice_lists: Mapping[str, ChoiceList]
    ) -> list[tuple[int, Mapping[str, Any]]]:
        """(sheet row, row) with every ``begin loop over LIST`` ... ``end loop`` written out
        as pyxform builds it: a group named by the loop holding one group per choice of LIST
        (but ``none``), each with the loop's rows, ``%(name)s`` and ``%(label)s`` replaced
        by the choice's name and label."""
        return self._expanded([(i + 2, r) for i, r in enumerate(rows)], choice_lists)

    def _expanded(
        self, numbered: list[tuple[int, Mapping[str, Any]]], choice_lists: Mapping[str, ChoiceList]
    ) -> list[tuple[int, Mapping[str, Any]]]:
        out: list[tuple[int, Mapping[str, Any]]] = []
        index = 0
        while index < len(numbered):
            number, raw = numbered[index]
            row = _clean(raw)
            loop = _LOOP_BEGIN.match(" ".join(row.get("type", "").split()))
            if loop is None:
                out.append((number, raw))
                index += 1
                continue
            end = self._loop_end(numbered, index, row.get("name", ""))
            choices = choice_lists.get(loop.group(1))
            if choices is None:
                raise self.error(
                    f"'{row.get('name')}' loops over list '{loop.group(1)}', which is not "
                    "defined in the choices sheet",
                    sheet=SURVEY,
                    row=number,
                    column="type",
                )
            body = self._expanded(numbered[index + 1 : end], choice_lists)
            out.append((number, {**row, "type": "begin group"}))
            for choice in choices.choices:
                if choice.name == "none":  # as pyxform: no group for a "none" option
                    continue
                labels = {_label_column(lang): text for lang, text in choice.label.items()}
                out.append((number, {"type": "begin group", "name": choice.name, **labels}))
                out += [(n, _substitute_choice(_clean(r), choice)) for n, r in body]
                out.append((number, {"type": "end group"}))
            out.append((numbered[end][0], {"type": "end group"}))
            index = end + 1
        return out

    def _loop_end(
        self, numbered: list[tuple[int, Mapping[str, Any]]], start: int, name: str
    ) -> int:
        """Index of the ``end loop`` closing the loop that begins at ``start``."""
        depth = 0
        for index in range(start, len(numbered)):
            raw_type = " ".join(_clean(numbered[index][1]).get("type", "").split())
            if _LOOP_BEGIN.match(raw_type):
                depth += 1
            elif _LOOP_END.match(raw_type):
                depth -= 1
                if depth == 0:
                    return index
        raise self.error(
            f"begin loop '{name}' is never closed", sheet=SURVEY, row=numbered[start][0]
        )

    def _check_repeat_selects(self, elements: Sequence[Question]) -> None:
        """``select_one ${name}`` takes its choices from the answers to ``name`` in a repeat."""
        in_repeats = {e.name for e in elements if e.repeats and not e.is_structure}
        for element in elements:
            referenced = repeat_select_source(element)
            if referenced is not None and referenced not in in_repeats:
                raise self.error(
                    f"'{element.name}' selects from ${{{referenced}}}, which is not a "
                    "question inside a repeat",
                    sheet=SURVEY,
                    row=element.row,
                    column="type",
                )

    def _element(
        self,
        row: Mapping[str, str],
        row_number: int,
        raw_type: str,
        parsed: ParsedType,
        stack: list[tuple[str, str, int]],
        siblings: dict[str, dict[str, int]],
    ) -> Question:
        texts: dict[str, dict[str, str]] = {k: {} for k in TRANSLATABLE}
        media: dict[str, str] = {}
        plain: dict[str, str] = {}
        extras: dict[str, str] = {}
        for header, value in row.items():
            key, language = split_header(header)
            if key in TRANSLATABLE:
                texts[key][self._note_language(language)] = value
            elif key in MEDIA:
                if language:  # a language with only media is a translation too
                    self._note_language(language)
                media[media_key(key, language)] = value
            elif key in _PLAIN_COLUMNS and language is None:
                plain[key] = value
            elif key != "type":
                extras[header] = value
        name = plain.get("name")
        if name is None:
            if parsed.type == "note" and texts["label"]:
                name = f"generated_note_name_{row_number}"
            else:
                raise self.error(
                    f"'{raw_type}' row has no name", sheet=SURVEY, row=row_number, column="name"
                )
        if not _XML_NAME.match(name):
            raise self.error(
                f"'{name}' is not a valid name (letters, digits, _ - . only, "
                "not starting with a digit)",
                sheet=SURVEY,
                row=row_number,
                column="name",
            )
        parent = stack[-1][1]
        first = siblings[parent].get(name.lower())
        if first is not None:
            raise self.error(
                f"duplicate name '{name}' (first at row {first})",
                sheet=SURVEY,
                row=row_number,
                column="name",
            )
        siblings[parent][name.lower()] = row_number
        enclosing = tuple(xpath for _, xpath, _ in stack[1:])
        repeats = tuple(xpath for kind, xpath, _ in stack[1:] if kind == "repeat")
        return Question(
            name=name,
            xpath=f"{parent}/{name}",
            type=parsed.type,
            raw_type=raw_type,
            row=row_number,
            enclosing=enclosing,
            repeats=repeats,
            list_name=parsed.list_name,
            or_other=parsed.or_other,
            file_name=parsed.file_name,
            label=freeze(texts["label"]),
            hint=freeze(texts["hint"]),
            guidance_hint=freeze(texts["guidance_hint"]),
            constraint_message=freeze(texts["constraint_message"]),
            required_message=freeze(texts["required_message"]),
            media=freeze(media),
            required=plain.get("required"),
            constraint=plain.get("constraint"),
            relevant=plain.get("relevant"),
            calculation=plain.get("calculation"),
            trigger=plain.get("trigger"),
            choice_filter=plain.get("choice_filter"),
            appearance=plain.get("appearance"),
            parameters=parse_parameters(plain.get("parameters")),
            default=plain.get("default"),
            read_only=plain.get("read_only"),
            repeat_count=plain.get("repeat_count"),
            pii=_is_yes(plain.get("pii")),
            extras=freeze(extras),
        )

    def _check_list(
        self,
        element: Question,
        choice_lists: Mapping[str, ChoiceList],
        external_lists: Mapping[str, ChoiceList],
    ) -> None:
        if element.list_name is None or element.file_name is not None or element.is_repeat:
            return
        if repeat_select_source(element) is not None:
            return  # checked once every element is known
        lists = external_lists if element.type == "select_one_external" else choice_lists
        if element.list_name not in lists:
            sheet = EXTERNAL_CHOICES if element.type == "select_one_external" else CHOICES
            raise self.error(
                f"'{element.name}' selects from list '{element.list_name}', which is not "
                f"defined in the {sheet} sheet",
                sheet=SURVEY,
                row=element.row,
                column="type",
            )


_PLAIN_COLUMNS = frozenset(
    {
        "name",
        "required",
        "constraint",
        "relevant",
        "calculation",
        "trigger",
        "choice_filter",
        "appearance",
        "parameters",
        "default",
        "read_only",
        "repeat_count",
        "pii",
    }
)
_XML_NAME = re.compile(r"^[A-Za-z_\u00C0-\uFFFF][A-Za-z0-9_.\-\u00B7\u00C0-\uFFFF]*$")


_LOOP_BEGIN = re.compile(r"^begin[ _]loop\s+(?:over\s+)?(\S+)$", re.I)
_LOOP_END = re.compile(r"^end[ _]loop$", re.I)


def _label_column(language: str) -> str:
    """The survey column of a label in ``language`` (``label`` for the default one)."""
    return "label" if language == DEFAULT_LANGUAGE else f"label::{language}"


def _substitute_choice(row: Mapping[str, str], choice: Choice) -> dict[str, str]:
    """A loop row for one choice: ``%(name)s`` and ``%(label)s`` (in each column's language)
    replaced, as pyxform does."""
    out = {}
    for header, value in row.items():
        language = split_header(header)[1] or DEFAULT_LANGUAGE
        label = choice.label.get(language) or next(iter(choice.label.values()), choice.name)
        out[header] = value.replace("%(name)s", choice.name).replace("%(label)s", label)
    return out


def _clean(row: Mapping[str, Any] | None) -> dict[str, str]:
    """Strip cell values, drop empty cells and headerless columns; column names are read
    case-insensitively as pyxform does (``TYPE`` is ``type``; ``LABEL::English (en)`` is
    ``label::English (en)``, the language kept as written)."""
    out: dict[str, str] = {}
    for key, value in (row or {}).items():
        if key is None or value is None:
            continue
        text = str(value).strip()
        if text:
            out[_header_key(str(key))] = text
    return out


def _header_key(header: str) -> str:
    base, separator, rest = header.strip().partition("::")
    return base.lower() + separator + rest
