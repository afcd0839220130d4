"""Syntax files beside the data: a Stata do-file (labels, notes, characteristics, svyset),
SPSS syntax (labels, missing values, attributes; runs in PSPP too) and the SPSS complex
samples plan (CSPLAN, which PSPP lacks, so in a file of its own)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from exports.dta import LABEL_MISSING
from exports.options import DesignColumns
from exports.values import PreparedDataset
from exports.writers import (
    STATA_VARIABLE_LABEL_CHARS,
    cut_bytes,
    spss_labels,
    spss_missing,
    stata_value_labels,
)


@dataclass(frozen=True)
class DesignNames:
    """The exported names of the design variables (None when absent)."""

    weight: str | None = None
    strata: str | None = None
    psu: str | None = None
    fpc: str | None = None
    replicates: tuple[str, ...] = ()
    replicate_type: str | None = None
    replicate_scale: float | None = None
    replicate_strata: tuple[int, ...] = ()
    """JKn: the stratum (1, 2, ... in order of appearance) whose PSU each replicate drops."""
    replicate_multipliers: tuple[float, ...] = ()
    """JKn: each replicate's multiplier ``(1 - n_h/N_h) (n_h - 1)/n_h`` (R's ``rscales``)."""

    @classmethod
    def of(cls, design: DesignColumns | None, names: dict[str, str]) -> DesignNames:
        """Exported names of ``design``'s columns (``names``: source -> exported)."""
        if design is None:
            return cls()

        def name(column: str | None) -> str | None:
            return names.get(column) if column else None

        return cls(
            weight=name(design.weight),
            strata=name(design.strata),
            psu=name(design.psu),
            fpc=name(design.fpc),
            replicates=tuple(names[c] for c in design.replicates if c in names),
            replicate_type=design.replicate_type,
            replicate_scale=design.replicate_scale,
        )


# -- Stata --------------------------------------------------------------------------------
def stata_text(text: str) -> str:
    """Text inside Stata compound quotes: no macro expansion, no comment markers."""
    out = text.replace("\\", "\\\\").replace("$", "\\$").replace("`", "\\`")
    out = out.replace("//", "/ /").replace("/*", "/ *").replace("*/", "* /")
    return " ".join(out.split())


def stata_do(
    dataset: PreparedDataset,
    data_file: str,
    design: DesignNames,
    texts: dict[int, str],
    file_label: str | None = None,
) -> str:
    """A do-file that opens ``data_file``, (re)declares the shared value label sets, adds
    notes and characteristics (question text, relevance, XPath, store column) and svysets
    the design."""
    lines = [
        "* popsurvey export: labels, notes and survey design (Stata 14 or later)",
        "version 14",
        f'use `"{stata_text(data_file)}"\', clear',
        *([f'label data `"{stata_text(file_label[:80])}"\''] if file_label else []),
        "",
        "* value labels: one set per choice list, shared by the variables that use it",
    ]
    sets, users = stata_value_labels(dataset, texts)
    for name, labels in sets.items():
        parts = [f'{_label_value(v)} `"{stata_text(t)}"\'' for v, t in labels.items()]
        lines.append(f"label define {name} " + " ".join(parts) + ", replace")
        members = [dataset.columns[i].variable.name for i, used in users.items() if used == name]
        lines.append(f"label values {' '.join(members)} {name}")
    lines += ["", "* variable labels, notes and characteristics"]
    for column in dataset.columns:
        variable = column.variable
        name = variable.name
        label = variable.label[:STATA_VARIABLE_LABEL_CHARS]
        lines.append(f'label variable {name} `"{stata_text(label)}"\'')
        question = variable.question
        if question is None:
            continue
        if len(variable.label) > STATA_VARIABLE_LABEL_CHARS:
            lines.append(f"notes {name}: {stata_text(variable.label)}")
        if variable.form_version:
            lines.append(f"notes {name}: only in form version {stata_text(variable.form_version)}")
        relevance = variable.relevance
        if relevance:
            lines.append(f"notes {name}: relevant if {stata_text(relevance)}")
            lines.append(f'char {name}[relevance] `"{stata_text(relevance)}"\'')
        lines.append(f'char {name}[question] `"{stata_text(variable.label)}"\'')
        lines.append(f'char {name}[xpath] `"{question.xpath}"\'')
        lines.append(f'char {name}[store_column] `"{stata_text(variable.column.source)}"\'')
    lines += ["", *stata_svyset(design), ""]
    return "\n".join(lines)


def stata_svyset(design: DesignNames) -> list[str]:
    """The ``svyset`` line(s) declaring the design (a comment when there is no weight)."""
    if design.weight is None:
        return ["* no weights in this export: run popsurvey weight, then export again"]
    lines = []
    if design.fpc:
        lines += [
            f"* fpc({design.fpc}): first-stage units in the stratum's frame (N_h), as R's",
            "* svydesign(fpc=) takes it; stored only for PSUs drawn by simple random sampling",
            "* (a PPS first stage is declared with replacement: docs/EXPORTS.md). Leave fpc()",
            "* out for the with-replacement (conservative) variance.",
        ]
    options = []
    unit = design.psu or "_n"
    if design.strata:
        options.append(f"strata({design.strata})")
    if design.fpc:
        options.append(f"fpc({design.fpc})")
    if design.replicates:
        first, last = design.replicates[0], design.replicates[-1]
        span = f"{first}-{last}"
        kind = (design.replicate_type or "bootstrap").lower()
        if kind == "bootstrap":
            options += [f"bsrweight({span})", "vce(bootstrap)", "mse"]
        elif kind in ("brr", "fay"):
            fay = f" fay({1 - (design.replicate_scale or 1):g})" if kind == "fay" else ""
            options += [f"brrweight({span})", f"vce(brr){fay}", "mse"]
        elif kind == "jkn" and design.replicate_strata:
            lines += _jkn_locals(design)
            options += [
                f"jkrweight({span}, stratum(`jk_stratum') multiplier(`jk_multiplier'))",
                "vce(jackknife)",
                "mse",
            ]
        else:
            options += [f"jkrweight({span})", "vce(jackknife)", "mse"]
        if not (design.psu or design.strata or design.fpc):
            return [*lines, f"svyset [pweight={design.weight}], {' '.join(options)}"]
    else:
        options.append("singleunit(certainty)")
    return [*lines, f"svyset {unit} [pweight={design.weight}], {' '.join(options)}"]


def _jkn_locals(design: DesignNames) -> list[str]:
    """Locals holding JKn's per-replicate strata and multipliers (built 50 at a time, so
    that no line grows past what Stata reads)."""
    lines = [
        "* JKn: each replicate weight drops one PSU of one stratum; svyset has no per-stratum",
        "* scale of its own, so each replicate gets its stratum and R's multiplier",
        "* (1 - n_h/N_h) (n_h - 1)/n_h: with mse, Stata's jackknife variance is then",
        "* sum_r m_r (theta_r - theta)^2, R's svrepdesign(type='JKn', mse=TRUE).",
        'local jk_stratum ""',
        'local jk_multiplier ""',
    ]
    step = 50
    for at in range(0, len(design.replicate_strata), step):
        strata = " ".join(str(s) for s in design.replicate_strata[at : at + step])
        multipliers = " ".join(f"{m:.17g}" for m in design.replicate_multipliers[at : at + step])
        lines.append(f'local jk_stratum "`jk_stratum\' {strata}"')
        lines.append(f'local jk_multiplier "`jk_multiplier\' {multipliers}"')
    return lines


def jkn_replicates(
    weight: np.ndarray,
    strata: np.ndarray,
    psu: np.ndarray,
    fpc: np.ndarray | None,
    replicates: list[np.ndarray],
) -> tuple[tuple[int, ...], tuple[float, ...]] | None:
    """Each JKn replicate's stratum (1, 2, ... in order of appearance) and multiplier, read
    from the replicate weights themselves: the rows a replicate sets to 0 are the dropped
    PSU's, in one stratum h with n_h PSUs (and N_h in the frame when ``fpc`` is given).
    None when a replicate does not drop rows of exactly one stratum."""
    weighted = ~np.isnan(weight) & (weight > 0)
    codes, uniques = pd.factorize(pd.Series(strata[weighted]))
    if len(uniques) == 0:
        return None
    psus = pd.Series(psu[weighted]).groupby(codes).nunique().to_numpy()
    frame_units = None
    if fpc is not None:
        frame_units = pd.Series(fpc[weighted]).groupby(codes).max().to_numpy()
    out_strata, multipliers = [], []
    for values in replicates:
        dropped = np.unique(codes[values[weighted] == 0])
        if len(dropped) != 1:
            return None
        h = int(dropped[0])
        n = int(psus[h])
        if n == 1:  # a lonely PSU's stratum dropped whole ("adjust"): R's (H - 1)/H
            multiplier = (len(uniques) - 1) / len(uniques)
        else:
            multiplier = (n - 1) / n
            if frame_units is not None and np.isfinite(frame_units[h]) and frame_units[h] > 0:
                multiplier *= (frame_units[h] - n) / frame_units[h]
        out_strata.append(h + 1)
        multipliers.append(float(multiplier))
    return tuple(out_strata), tuple(multipliers)


def _label_value(value: int) -> str:
    """A value label table's number as Stata syntax (``.a`` for the extended missing)."""
    if value > LABEL_MISSING:
        return "." + chr(ord("a") + value - LABEL_MISSING - 1)
    return str(value)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# -- SPSS ---------------------------------------------------------------------------------
def spss_text(text: str) -> str:
    """A quoted SPSS string (single quotes doubled, one line)."""
    return "'" + " ".join(text.replace("'", "''").split()) + "'"


def spss_syntax(
    dataset: PreparedDataset,
    data_file: str,
    design: DesignNames,
    skipped_text: str,
    skip_code: float,
    plan_file: str | None,
) -> str:
    """SPSS syntax (PSPP runs it too): open the file, variable and value labels, missing
    values, question text and relevance as variable attributes."""
    labels = spss_labels(dataset, skipped_text, skip_code)
    missing, _ = spss_missing(dataset, skip_code)
    lines = [
        "* Encoding: UTF-8.",
        "* popsurvey export: labels, missing values and question texts.",
        f"GET FILE={spss_text(data_file)}.",
        "",
    ]
    lines.append("VARIABLE LABELS")
    entries = [f"  {name} {spss_text(text)}" for name, text in labels.variable.items()]
    lines.append("\n  /".join(entries) + ".")
    if labels.values:
        lines.append("VALUE LABELS")
        blocks = []
        for name, values in labels.values.items():
            pairs = " ".join(
                f"{_number(float(v))} {spss_text(cut_bytes(t, 120))}" for v, t in values.items()
            )
            blocks.append(f"  {name} {pairs}")
        lines.append("\n  /".join(blocks) + ".")
    if missing:
        lines.append("MISSING VALUES")
        lines.append(
            "\n  /".join(
                f"  {name} ({', '.join(_number(c) for c in codes)})"
                for name, codes in missing.items()
            )
            + "."
        )
    attributes = []
    for column in dataset.columns:
        question = column.variable.question
        if question is None:
            continue
        parts = [f"question({spss_text(cut_bytes(column.variable.label, 250))})"]
        if column.variable.relevance:
            parts.append(f"relevance({spss_text(cut_bytes(column.variable.relevance, 250))})")
        parts.append(f"xpath({spss_text(question.xpath)})")
        attributes.append(f"  VARIABLES={column.variable.name} ATTRIBUTE={' '.join(parts)}")
    if attributes:
        lines.append("VARIABLE ATTRIBUTE")
        lines.append("\n  /".join(attributes) + ".")
    lines.append("")
    if design.weight:
        lines += [
            f"* Design: weight {design.weight}"
            + (f", strata {design.strata}" if design.strata else "")
            + (f", PSU {design.psu}" if design.psu else "")
            + (f", fpc {design.fpc}" if design.fpc else "")
            + ".",
            f"* Complex Samples plan: run {plan_file} (SPSS; PSPP has no CSPLAN)."
            if plan_file
            else "* (no complex samples plan)",
            f"* Weighted point estimates outside Complex Samples: WEIGHT BY {design.weight}.",
        ]
    lines.append("EXECUTE.")
    return "\n".join(lines) + "\n"


def spss_csplan(data_file: str, plan_name: str, design: DesignNames) -> str | None:
    """The CSPLAN ANALYSIS syntax declaring the design for SPSS Complex Samples."""
    if design.weight is None:
        return None
    lines = [
        "* Encoding: UTF-8.",
        "* popsurvey export: the complex samples plan (SPSS Complex Samples; not in PSPP).",
        f"GET FILE={spss_text(data_file)}.",
        "CSPLAN ANALYSIS",
        f"  /PLAN FILE={spss_text(plan_name)}",
        f"  /PLANVARS ANALYSISWEIGHT={design.weight}",
    ]
    design_parts = []
    if design.strata:
        design_parts.append(f"STRATA={design.strata}")
    if design.psu:
        design_parts.append(f"CLUSTER={design.psu}")
    lines.append(f"  /DESIGN {' '.join(design_parts)}".rstrip())
    if design.fpc:
        lines.append("  /ESTIMATOR TYPE=EQUAL_WOR")
        lines.append(f"  /POPSIZE VARIABLE={design.fpc}.")
        lines += [
            f"* {design.fpc}: first-stage units in the stratum's frame, stored only for PSUs",
            "* drawn by simple random sampling (a PPS first stage is declared TYPE=WR:",
            "* docs/EXPORTS.md); /ESTIMATOR TYPE=WR without /POPSIZE gives the",
            "* with-replacement (conservative) variance.",
        ]
    else:
        lines.append("  /ESTIMATOR TYPE=WR.")
    if design.replicates:
        lines.append(
            "* Replicate weights ("
            + ", ".join(design.replicates[:3])
            + ", ...) are in the file; SPSS Complex Samples does not use them."
        )
    return "\n".join(lines) + "\n"
