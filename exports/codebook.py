"""The export's codebook (XLSX and Markdown), made from the very datasets written, so that it
matches the files exactly: every variable with its label, type, value label set, missing
codes per format, source column in the store and question."""

from __future__ import annotations

from io import BytesIO

from exports.values import PreparedDataset
from exports.writers import STATA_FORMATS, skip_coded

VARIABLE_HEADER = (
    "dataset",
    "file",
    "variable",
    "label",
    "kind",
    "value_labels",
    "spss_missing",
    "stata_missing",
    "store_column",
    "question",
    "relevance",
    "xpath",
)
VALUE_HEADER = ("value_labels", "value", "label", "choice_code", "missing")


def codebook_rows(
    datasets: list[tuple[PreparedDataset, str]],
    skip_code: float,
    origins: dict[str, str] | None = None,
) -> tuple[list[list[object]], list[list[object]]]:
    """Rows of the ``variables`` and ``value_labels`` sheets (datasets with file stems);
    ``origins`` gives the source shown for design variables (store column otherwise)."""
    origins = origins or {}
    variables: list[list[object]] = []
    values: dict[str, list[list[object]]] = {}
    for dataset, stem in datasets:
        for column in dataset.columns:
            variable = column.variable
            label_set = variable.label_set if column.numeric else None
            spss, stata = [], []
            if label_set is not None:
                spss += [_num(n) for n in sorted(label_set.dont_know | label_set.refused)]
                stata += [".d"] if label_set.dont_know else []
                stata += [".r"] if label_set.refused else []
            if skip_coded(column):
                spss.append(_num(skip_code))
            if variable.can_skip and column.numeric:
                stata.append(".a")
            question = variable.question
            kind = variable.kind
            if kind in STATA_FORMATS and not column.numeric:
                kind = "string"
            variables.append(
                [
                    dataset.name or "main",
                    stem,
                    variable.name,
                    variable.label,
                    kind,
                    label_set.name if label_set else "",
                    ", ".join(spss),
                    ", ".join(stata),
                    origins.get(variable.column.source, variable.column.source)
                    if variable.column.role == "design"
                    else variable.column.source,
                    _question_name(variable),
                    variable.relevance or "",
                    question.xpath if question is not None else "",
                ]
            )
            if label_set is not None and label_set.name not in values:
                code_of = {n: c for c, n in label_set.code_of.items()}
                rows = []
                for number, text in label_set.labels.items():
                    missing = (
                        "don't know"
                        if number in label_set.dont_know
                        else "refused"
                        if number in label_set.refused
                        else ""
                    )
                    rows.append(
                        [label_set.name, _num(number), text, code_of.get(number, ""), missing]
                    )
                values[label_set.name] = rows
    return variables, [row for rows in values.values() for row in rows]


def _question_name(variable) -> str:
    question = variable.question
    if question is None:
        return ""
    if variable.form_version:
        return f"{question.name} (form version {variable.form_version} only)"
    return question.name


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def codebook_xlsx(
    datasets: list[tuple[PreparedDataset, str]],
    skip_code: float,
    title: str,
    origins: dict[str, str] | None = None,
) -> bytes:
    """The codebook workbook: sheets ``datasets``, ``variables``, ``value_labels``
    (xlsxwriter: texts stay texts, never formulas or links)."""
    import xlsxwriter

    variables, values = codebook_rows(datasets, skip_code, origins)
    buffer = BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": True,
        },
    )
    book.set_properties({"author": "popsurvey"})
    summary = [
        [dataset.name or "main", stem, dataset.rows, len(dataset.columns), title]
        for dataset, stem in datasets
    ]
    for name, header, rows, freeze in (
        ("datasets", ("dataset", "file", "rows", "variables", "title"), summary, False),
        ("variables", VARIABLE_HEADER, variables, True),
        ("value_labels", VALUE_HEADER, values, True),
    ):
        sheet = book.add_worksheet(name)
        sheet.write_row(0, 0, list(header))
        for number, row in enumerate(rows, 1):
            sheet.write_row(number, 0, row)
        if freeze:
            sheet.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()


def codebook_markdown(
    datasets: list[tuple[PreparedDataset, str]],
    skip_code: float,
    title: str,
    notes: list[str],
    origins: dict[str, str] | None = None,
) -> bytes:
    """The codebook as Markdown: one table of variables per dataset, then the label sets."""
    variables, values = codebook_rows(datasets, skip_code, origins)
    lines = [f"# {_md(title)}: exported datasets", ""]
    lines += [f"- {_md(n)}" for n in notes]
    lines.append("")
    for dataset, stem in datasets:
        lines += [
            f"## {dataset.name or 'main'} (`{stem}`): {dataset.rows} rows, "
            f"{len(dataset.columns)} variables",
            "",
            "| variable | label | kind | value labels | SPSS missing | Stata missing | "
            "store column | question | relevance |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for row in variables:
            if row[1] != stem:
                continue
            cells = [row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9], row[10]]
            lines.append("| " + " | ".join(_md(str(c)) for c in cells) + " |")
        lines.append("")
    lines += ["## Value label sets", "", "| set | value | label | choice code | missing |"]
    lines.append("|---|---|---|---|---|")
    for row in values:
        lines.append("| " + " | ".join(_md(str(c)) for c in row) + " |")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _md(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())
