"""The codebook as one self-contained HTML page (inline CSS, UTF-8, every text escaped)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from forms.codebook.build import Codebook, Entry, Section, ValueLabel, anchor, detail_lines
from forms.codebook.words import Words
from forms.model import language_code

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC",
  "Microsoft YaHei", sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem;
  color: #1d2125; line-height: 1.45; }
h1 { border-bottom: 2px solid #2a5d9f; padding-bottom: .3rem; }
section.group, section.repeat { border-left: 3px solid #c8d3e0; padding-left: 1rem;
  margin: 1.2rem 0; }
section.repeat { border-left-color: #d08a2c; }
article.var { border: 1px solid #dde3ea; border-radius: 6px; padding: .6rem 1rem;
  margin: .8rem 0; background: #fbfcfd; }
article.var h3, article.var h4, article.var h5, article.var h6 { margin: 0 0 .3rem 0; }
p.question { font-size: 1.05rem; margin: .2rem 0 .6rem 0; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: 0; }
dt { font-weight: 600; color: #4a5560; }
dd { margin: 0; }
code { background: #eef1f4; padding: 0 .25rem; border-radius: 3px; font-size: .92em; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #d5dbe1; padding: .2rem .6rem; text-align: left;
  vertical-align: top; }
th { background: #eef1f4; }
td.code { text-align: right; font-family: monospace; }
.flag { font-size: .75rem; padding: .05rem .4rem; border-radius: 3px; margin-left: .4rem;
  color: #fff; background: #6c757d; vertical-align: middle; }
.flag.pii { background: #b02a37; }
.flag.repeat { background: #d08a2c; }
ul.notes { margin: .4rem 0 0 0; }
""".strip()


def _h(text: str | None) -> str:
    return html.escape(text or "", quote=True)


def _html_code(text: str) -> str:
    return f"<code>{_h(text)}</code>"


def render_html(book: Codebook) -> bytes:
    """The codebook as one self-contained UTF-8 HTML page."""
    form, w = book.form, book.words
    lang = language_code(book.language or "") or "und"
    title = f"{w('codebook')}: {form.title}"
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{_h(lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_h(title)}</title>",
        f"<style>\n{_CSS}\n</style>",
        "</head>",
        "<body>",
        f"<h1>{_h(title)}</h1>",
        '<table class="header">',
    ]
    parts += [
        f"<tr><th>{_h(k)}</th><td>{_html_code(v) if is_code else _h(v)}</td></tr>"
        for k, v, is_code in book.header
    ]
    parts += ["</table>", f"<h2>{_h(w('datasets'))}</h2>", "<table>"]
    parts.append(_row("th", w("dataset"), w("one_row_is")))
    parts += [f"<tr><td>{_html_code(n)}</td><td>{_h(t)}</td></tr>" for n, t in book.datasets]
    parts += ["</table>", f"<h2>{_h(w('variables_heading'))}</h2>", "<table>"]
    parts.append(_row("th", w("variable"), w("type"), w("question"), w("repeat")))
    for entry in book.entries():
        parts.append(
            f'<tr><td><a href="#{anchor(entry)}">{_html_code(entry.name)}</a>'
            f"{_html_flags(entry, w, repeat=False)}</td>"
            f"<td>{_html_code(entry.type_spec)}</td><td>{_h(entry.text)}</td>"
            f"<td>{_h(entry.repeat)}</td></tr>"
        )
    parts += ["</table>", f"<h2>{_h(w('questionnaire'))}</h2>"]
    for item in book.root.items:
        _html_item(item, 3, parts, w)
    parts += ["</body>", "</html>"]
    return ("\n".join(parts) + "\n").encode("utf-8")


def _row(cell: str, *texts: str) -> str:
    return "<tr>" + "".join(f"<{cell}>{_h(t)}</{cell}>" for t in texts) + "</tr>"


def _html_flags(entry: Entry, w: Words, *, repeat: bool = True) -> str:
    out = ""
    if entry.pii:
        out += f'<span class="flag pii">{_h(w("flag_pii"))}</span>'
    if entry.metadata:
        out += f'<span class="flag">{_h(w("flag_metadata"))}</span>'
    if repeat and entry.repeat:
        out += f'<span class="flag repeat">{_h(w("flag_repeat", name=entry.repeat))}</span>'
    return out


def _html_item(item: Entry | Section, depth: int, parts: list[str], w: Words) -> None:
    level = min(depth, 6)
    if isinstance(item, Section):
        kind = "repeat" if item.is_repeat else "group"
        word = w(f"{kind}_kind")
        parts.append(f'<section class="{kind}" id="{kind}-{_h(item.name)}">')
        parts.append(
            f"<h{level}>{_h(word)} {_html_code(item.name or '')}: {_h(item.title)}</h{level}>"
        )
        if item.repeat_text:
            parts.append(
                f"<p><strong>{_h(word)} {_h(item.name)}:</strong> {_h(item.repeat_text)}</p>"
            )
        if item.relevance:
            parts.append(
                f"<p><strong>{_h(w('asked_only_if'))}:</strong> {_html_code(item.relevance)}</p>"
            )
        for child in item.items:
            _html_item(child, depth + 1, parts, w)
        parts.append("</section>")
        return
    entry = item
    parts += [
        f'<article class="var" id="{anchor(entry)}">',
        f"<h{min(level, 6)}>{_html_code(entry.name)}{_html_flags(entry, w)}</h{min(level, 6)}>",
        f'<p class="question">{_h(entry.text)}</p>',
        "<dl>",
    ]
    for key, value, is_expression in detail_lines(entry, w):
        shown = _html_code(value) if is_expression else _h(value)
        parts.append(f"<dt>{_h(key)}</dt><dd>{shown}</dd>")
    parts.append("</dl>")
    if entry.notes:
        parts.append('<ul class="notes">')
        parts += [f"<li>{_h(note)}</li>" for note in entry.notes]
        parts.append("</ul>")
    if entry.value_labels:
        parts += _html_value_table(entry.value_labels, w)
    parts.append("</article>")


def _html_value_table(labels: Sequence[ValueLabel], w: Words) -> list[str]:
    rows = ["<table>", _row("th", w("code"), w("label"))]
    rows += [f'<tr><td class="code">{_h(v.code)}</td><td>{_h(v.label)}</td></tr>' for v in labels]
    return [*rows, "</table>"]
