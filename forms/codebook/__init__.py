"""The codebook: a FormModel described for the statistician, as Markdown, HTML or Excel.

:func:`build_codebook` turns a :class:`FormModel` into plain records (one :class:`Entry` per
variable, grouped in :class:`Section` trees that follow the form's groups and repeats);
:func:`render_codebook` writes them in one of three formats (modules ``markdown``,
``page`` for HTML, ``workbook`` for Excel). A codebook in a Chinese language is written
wholly in Chinese (``words``). The output depends on the form and the language only (no
dates, no random order), so a checked-in codebook can be tested to be current.

Export names are the exported files' (:mod:`forms.naming`): groups are dissolved and a
variable keeps its question name; a select_multiple adds one 0/1 column ``name_code`` per
choice, a geopoint becomes ``name_latitude``, ``name_longitude``, ``name_altitude`` and
``name_accuracy``, and an ``or_other`` select adds the text variable ``name_other``
(pyxform's "specify other" question). Each repeat is its own dataset.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from forms.codebook.build import (
    OTHER_CODE,
    Codebook,
    Entry,
    Section,
    ValueLabel,
    build_codebook,
    export_columns,
    plain_text,
    resolve_language,
    store_columns,
)
from forms.codebook.markdown import render_markdown
from forms.codebook.page import render_html
from forms.codebook.workbook import VARIABLE_COLUMNS, render_xlsx
from forms.model import FormModel

Format = Literal["md", "xlsx", "html"]
FORMATS: tuple[str, ...] = ("md", "xlsx", "html")

_RENDERERS: dict[str, Callable[[Codebook], bytes]] = {
    "md": render_markdown,
    "html": render_html,
    "xlsx": render_xlsx,
}

__all__ = [
    "FORMATS",
    "OTHER_CODE",
    "VARIABLE_COLUMNS",
    "Codebook",
    "Entry",
    "Format",
    "Section",
    "ValueLabel",
    "build_codebook",
    "export_columns",
    "plain_text",
    "render_codebook",
    "resolve_language",
    "store_columns",
]


def render_codebook(form: FormModel, *, language: str | None = None, fmt: Format = "md") -> bytes:
    """The codebook of ``form`` in ``language`` (name or code; None: the default language)
    as ``md`` (GitHub Markdown), ``html`` (one self-contained page) or ``xlsx`` bytes.

    Raises :class:`forms.errors.UnknownLanguageError` for a language the form lacks and
    ValueError for an unknown format.
    """
    if fmt not in _RENDERERS:
        raise ValueError(f"unknown codebook format '{fmt}' (use one of {', '.join(FORMATS)})")
    return _RENDERERS[fmt](build_codebook(form, language))
