"""The codebook as GitHub Markdown: a header, the datasets, an index, then every variable."""

from __future__ import annotations

import re
from collections.abc import Sequence

from forms.codebook.build import (
    REFERENCE,
    Codebook,
    Entry,
    Section,
    ValueLabel,
    anchor,
    detail_lines,
)
from forms.codebook.words import Words

_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|#]|(?<![0-9A-Za-z])_|_(?![0-9A-Za-z]))")


def _md_text(text: str) -> str:
    """Escape Markdown in free text; ``${name}`` references become code spans."""
    out = []
    last = 0
    for match in REFERENCE.finditer(text):
        out.append(_MD_SPECIAL.sub(r"\\\1", text[last : match.start()]))
        out.append(f"`{match.group(0)}`")
        last = match.end()
    out.append(_MD_SPECIAL.sub(r"\\\1", text[last:]))
    return "".join(out)


def _md_line(text: str) -> str:
    """:func:`_md_text` for the start of a line: ``1. Age`` must not become a list."""
    escaped = _md_text(text)
    escaped = re.sub(r"^(\d+)([.)])", r"\1\\\2", escaped)
    return re.sub(r"^([-+])(\s)", r"\\\1\2", escaped)


def _md_code(text: str) -> str:
    """An expression as a code span (longer fences when it holds backticks)."""
    text = " ".join(text.split()).replace("|", "\\|")
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def render_markdown(book: Codebook) -> bytes:
    """The codebook as UTF-8 GitHub Markdown."""
    form, w = book.form, book.words
    lines = [f"# {w('codebook')}: {_md_text(form.title)}", ""]
    for key, value, is_code in book.header:
        lines.append(f"- **{key}:** {_md_code(value) if is_code else _md_text(value)}")
    lines += ["", f"## {w('datasets')}", "", f"| {w('dataset')} | {w('one_row_is')} |", "|---|---|"]
    for name, text in book.datasets:
        lines.append(f"| `{name}` | {_md_text(text)} |")
    lines += ["", f"## {w('variables_heading')}", ""]
    columns = (w("variable"), w("type"), w("question"), w("repeat"))
    lines += ["| " + " | ".join(columns) + " |", "|---|---|---|---|"]
    for entry in book.entries():
        lines.append(
            f"| [`{entry.name}`](#{anchor(entry)}){_flags(entry, w)} "
            f"| {_md_code(entry.type_spec)} | {_md_text(entry.text)} | {entry.repeat or ''} |"
        )
    lines += ["", f"## {w('questionnaire')}", ""]
    for item in book.root.items:
        _md_item(item, 3, lines, w)
    return ("\n".join(lines).rstrip("\n") + "\n").encode("utf-8")


def _flags(entry: Entry, w: Words) -> str:
    flags = []
    if entry.pii:
        flags.append(w("flag_pii"))
    if entry.metadata:
        flags.append(w("flag_metadata"))
    return f" ({', '.join(flags)})" if flags else ""


def _md_item(item: Entry | Section, depth: int, lines: list[str], w: Words) -> None:
    heading = "#" * min(depth, 6)
    if isinstance(item, Section):
        kind = w("repeat_kind") if item.is_repeat else w("group_kind")
        lines += [f"{heading} {kind} `{item.name}`: {_md_text(item.title)}", ""]
        if item.repeat_text:
            lines += [f"**{w('repeat_kind')} `{item.name}`:** {_md_text(item.repeat_text)}", ""]
        if item.relevance:
            lines += [f"**{w('asked_only_if')}:** {_md_code(item.relevance)}", ""]
        for child in item.items:
            _md_item(child, depth + 1, lines, w)
        return
    entry = item
    lines += [
        f'<a id="{anchor(entry)}"></a>',
        f"{heading} `{entry.name}`{_flags(entry, w)}",
        "",
        f"> {_md_line(entry.text)}",
        "",
    ]
    for key, value, is_expression in detail_lines(entry, w):
        shown = _md_code(value) if is_expression else _md_text(value)
        lines.append(f"- **{key}:** {shown}")
    for note in entry.notes:
        lines.append(f"- {_md_text(note)}")
    lines.append("")
    if entry.value_labels:
        lines += _md_value_table(entry.value_labels, w)


def _md_value_table(labels: Sequence[ValueLabel], w: Words) -> list[str]:
    out = [f"| {w('code')} | {w('label')} |", "|---:|---|"]
    out += [f"| {_md_code(v.code)} | {_md_text(v.label)} |" for v in labels]
    return [*out, ""]
