"""One naming scheme for exported variables: SPSS, Stata, CSV, Parquet and the codebook.

Every dataset (the main one, one per repeat) gets its variable names from
:func:`dataset_columns`, and the codebook's export columns come from the same function, so
the files and their documentation always agree. The scheme, applied in this order:

1. **Candidates.** A question keeps its name; a select_multiple adds ``name_code`` per choice
   (every choice of the list, plus ``other`` for an ``or_other`` list); a geopoint becomes
   ``name_latitude``, ``name_longitude``, ``name_altitude``, ``name_accuracy``; an ``or_other``
   select adds pyxform's text question ``name_other``. Keys are ``submission_id`` (Central's
   ``__id``), and in a repeat ``row_key``, ``parent_key``, ``position``.
2. **Cleaning.** Every character that is not a letter (Chinese included), digit or ``_``
   becomes ``_`` (``/`` and ``.`` of the store's frames, ``-`` of choice codes); a name not
   starting with a letter gets a ``v`` in front (SPSS refuses a leading ``_`` or digit).
3. **Length.** A name is cut to 32 characters (Stata) and 64 UTF-8 bytes (SPSS: 21 Chinese
   characters), never inside a character.
4. **Uniqueness.** Names are unique ignoring case (SPSS ignores case) and avoid the reserved
   words of both (``if``, ``in``, ``by``, ``to``, ``with``, ``_n``, ``str12``, ...). A name
   already taken gets ``_2``, ``_3``... (cut before the suffix so that it still fits). Keys
   claim their names first, then the form's own names (questions, ``name_other``), then
   the derived ones (choices, geopoint parts), each in sheet order: a derived column never
   takes a name the questionnaire uses.

The result depends on the form only, so an export of the same form version always has the
same names.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from forms.model import FormModel, Question

STATA_MAX_CHARS = 32
SPSS_MAX_BYTES = 64
GEO_PARTS = ("latitude", "longitude", "altitude", "accuracy")
GEO_TYPES = frozenset({"geopoint", "start-geopoint", "background-geopoint"})
OTHER_CODE = "other"
NO_DATA_TYPES = frozenset({"note", "xml-external", "csv-external"})

_SPSS_RESERVED = {"all", "and", "by", "eq", "ge", "gt", "le", "lt", "ne", "not", "or", "to"}
_STATA_RESERVED = {
    "_all",
    "_b",
    "byte",
    "_coef",
    "_cons",
    "double",
    "float",
    "if",
    "in",
    "int",
    "long",
    "_n",
    "_pi",
    "_pred",
    "_rc",
    "_skip",
    "strl",
    "using",
    "with",
}
RESERVED = frozenset(_SPSS_RESERVED | _STATA_RESERVED)
_STR_TYPE = re.compile(r"^str\d+$", re.IGNORECASE)

META_COLUMNS = (
    "instance_id",
    "form_version",
    "submitter_id",
    "submitter_name",
    "device_id",
    "submission_date",
    "review_state",
    "edits",
)
"""Submission metadata leading the main dataset (as in the store's analysis frames)."""

KEY_SOURCES = {
    "__id": "submission_id",
    "__key": "row_key",
    "__parent_key": "parent_key",
    "__position": "position",
}
"""Key columns of the store's analysis frames and their exported names."""


@dataclass(frozen=True)
class ExportColumn:
    """One variable of an exported dataset and where its values come from.

    ``role``: ``key``, ``meta`` (submission metadata), ``answer`` (a question's own value),
    ``choice`` (a select_multiple 0/1 dummy), ``geo`` (a geopoint part), ``other`` (the
    "specify other" text) or ``design`` (weights, strata, PSU, fpc).
    """

    name: str
    source: str
    """Column of the store's analysis frame (``q/code`` for dummies, ``grp.q`` for names
    used twice, ``q_latitude`` for geopoint parts, ``q_other``)."""
    role: str
    question: Question | None = None
    code: str | None = None
    """The choice (``choice``) or geopoint part (``geo``)."""


def clean_name(text: str) -> str:
    """``text`` as a valid SPSS and Stata name before the uniqueness step (rules 2 and 3)."""
    cleaned = "".join(ch if (ch.isalnum() or ch == "_") else "_" for ch in text)
    if not cleaned or not cleaned[0].isalpha():
        cleaned = "v" + cleaned
    return fit_name(cleaned)


def fit_name(name: str, reserve: int = 0) -> str:
    """``name`` cut to the limits, leaving ``reserve`` characters (ASCII) for a suffix."""
    out = name[: STATA_MAX_CHARS - reserve]
    while len(out.encode("utf-8")) > SPSS_MAX_BYTES - reserve:
        out = out[:-1]
    return out


def is_reserved(name: str) -> bool:
    """True for a reserved word of SPSS or Stata (any case)."""
    return name.lower() in RESERVED or bool(_STR_TYPE.match(name))


class NameRegistry:
    """Hands out unique names in one dataset (rule 4)."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, candidate: str) -> str:
        """A unique valid name close to ``candidate`` (now taken)."""
        name = clean_name(candidate)
        number = 1
        while name.lower() in self._taken or is_reserved(name):
            number += 1
            suffix = f"_{number}"
            name = fit_name(clean_name(candidate), len(suffix)) + suffix
        self._taken.add(name.lower())
        return name


def dataset_of(form: FormModel, question: Question) -> str | None:
    """The dataset holding ``question``: None for the main one, else its repeat's name."""
    if not question.repeats:
        return None
    owner = form.by_xpath(question.repeats[-1])
    return owner.name if owner is not None else None


def store_column_names(form: FormModel) -> dict[str, str]:
    """Question xpath -> its column in the store's frames (``forms.frames.column_names``:
    the name, or ``group.name`` when a name repeats in the form)."""
    counts = Counter(e.name for e in form.elements)
    root = f"/{form.root}/"
    return {
        e.xpath: e.name if counts[e.name] == 1 else e.xpath.removeprefix(root).replace("/", ".")
        for e in form.elements
        if e.holds_data
    }


def choice_codes(form: FormModel, question: Question) -> tuple[str, ...]:
    """The codes a select_multiple gets a dummy for: every choice, plus ``other`` for an
    ``or_other`` list that lacks it."""
    choices = form.choices_for(question)
    codes = list(choices.codes if choices else ())
    if question.or_other and OTHER_CODE not in codes:
        codes.append(OTHER_CODE)
    return tuple(codes)


def dataset_columns(
    form: FormModel, dataset: str | None, design: Iterable[str] = ()
) -> list[ExportColumn]:
    """The variables of one dataset in file order, named by the scheme (module docstring).

    The main dataset carries :data:`META_COLUMNS` after its key; ``design``: design columns
    appended at the end (weights, strata, PSU, fpc, replicate weights).
    """
    meta = META_COLUMNS if dataset is None else ()
    registry = NameRegistry()
    keys = ["__id"] if dataset is None else ["__id", "__key", "__parent_key", "__position"]
    first = [ExportColumn(registry.claim(KEY_SOURCES[k]), k, "key") for k in keys]
    first += [ExportColumn(registry.claim(m), m, "meta") for m in meta]
    sources = store_column_names(form)
    questions = [
        q
        for q in form.elements
        if q.holds_data and q.type not in NO_DATA_TYPES and dataset_of(form, q) == dataset
    ]
    # pass 1: the questionnaire's own names; pass 2: derived columns
    own: dict[tuple[str, str | None], str] = {}
    for q in questions:
        if q.type not in GEO_TYPES:
            own[(q.xpath, None)] = registry.claim(q.name)
        if q.or_other:
            own[(q.xpath, OTHER_CODE + "_text")] = registry.claim(f"{q.name}_{OTHER_CODE}")
    columns = list(first)
    for q in questions:
        source = sources[q.xpath]
        if q.type in GEO_TYPES:
            for part in GEO_PARTS:
                name = registry.claim(f"{q.name}_{part}")
                columns.append(ExportColumn(name, f"{source}_{part}", "geo", q, part))
        else:
            columns.append(ExportColumn(own[(q.xpath, None)], source, "answer", q))
        if q.type == "select_multiple":
            for code in choice_codes(form, q):
                name = registry.claim(f"{q.name}_{code}")
                columns.append(ExportColumn(name, f"{source}/{code}", "choice", q, code))
        if q.or_other:
            name = own[(q.xpath, OTHER_CODE + "_text")]
            columns.append(ExportColumn(name, other_source(form, q), "other", q))
    columns += [ExportColumn(registry.claim(d), d, "design") for d in design]
    return columns


def question_columns(form: FormModel) -> dict[str, tuple[str, ...]]:
    """Question xpath -> its exported names, over every dataset (cached on the form)."""
    cached = form.__dict__.get("_export_names")
    if cached is None:
        cached = {}
        for dataset in [None, *(r.name for r in form.repeats)]:
            for column in dataset_columns(form, dataset):
                if column.question is not None:
                    key = column.question.xpath
                    cached[key] = (*cached.get(key, ()), column.name)
        object.__setattr__(form, "_export_names", cached)
    return cached


def candidate_names(form: FormModel, question: Question) -> tuple[str, ...]:
    """The names the question asks for before cleaning, cutting and de-duplication (rule 1):
    what the lint checks, since a name changed by the scheme surprises the statistician."""
    if not question.holds_data or question.type in NO_DATA_TYPES:
        return ()
    if question.type in GEO_TYPES:
        names = [f"{question.name}_{part}" for part in GEO_PARTS]
    else:
        names = [question.name]
    if question.type == "select_multiple":
        names += [f"{question.name}_{code}" for code in choice_codes(form, question)]
    if question.or_other:
        names.append(f"{question.name}_{OTHER_CODE}")
    return tuple(dict.fromkeys(names))


def with_specify_other(form: FormModel) -> FormModel:
    """``form`` with pyxform's "specify other" text question (``name_other``, right after
    its select, relevant when ``other`` is chosen) made explicit for every ``or_other``
    select, so that frames built from it keep the text. Unchanged when there is none."""
    import dataclasses

    names = {e.name for e in form.elements}
    elements: list[Question] = []
    added = False
    for element in form.elements:
        elements.append(element)
        other = f"{element.name}_{OTHER_CODE}"
        if element.or_other and element.is_select and other not in names:
            elements.append(
                Question(
                    name=other,
                    xpath=f"{element.parent}/{other}",
                    type="text",
                    raw_type="text",
                    row=element.row,
                    enclosing=element.enclosing,
                    repeats=element.repeats,
                    relevant=f"selected(${{{element.name}}}, '{OTHER_CODE}')",
                )
            )
            added = True
    return dataclasses.replace(form, elements=tuple(elements)) if added else form


def other_source(form: FormModel, question: Question) -> str:
    """The store frame column of an ``or_other`` question's text."""
    explicit = with_specify_other(form)
    xpath = f"{question.parent}/{question.name}_{OTHER_CODE}"
    return store_column_names(explicit).get(xpath, f"{question.name}_{OTHER_CODE}")
