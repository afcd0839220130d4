"""Which questions were APPLICABLE to each interview, from the form's own relevance logic
(:mod:`forms.xpath.vectorized`), and per interview the counts that rates are made of.

A question skipped by its relevance is not applicable, so it is not missing (IPA's
ipacheckmissing counts skipped questions as missing: a known flaw). Don't know, refusal
and "other" are counted over the applicable questions that OFFER that answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from forms.frames import PARENT_ROW, POSITION, SubmissionFrames
from forms.model import FormModel, Question
from forms.xpath.vectorized import VectorLogic
from validation.quality.inputs import QualityInputs, numeric_special_codes, text

ASKED_TYPES = frozenset(
    {
        "text",
        "integer",
        "decimal",
        "range",
        "date",
        "time",
        "datetime",
        "select_one",
        "select_multiple",
        "select_one_from_file",
        "select_multiple_from_file",
        "rank",
        "geopoint",
        "barcode",
    }
)
COUNTS = (
    "applicable",
    "missing",
    "dont_know",
    "dont_know_offered",
    "refused",
    "refused_offered",
    "other",
    "other_offered",
)


@dataclass
class AnswerCounts:
    """Per submission (rows of the main frame), counts over its applicable questions."""

    counts: pd.DataFrame
    """Columns :data:`COUNTS`."""
    per_question: dict[str, dict[str, np.ndarray]]
    """Question -> {applicable, missing, dont_know, refused, other} per submission."""


def asked_questions(form: FormModel) -> list[Question]:
    """Questions the enumerator asks (not metadata, calculations, notes or read-only)."""
    return [
        q
        for q in form.questions
        if q.holds_data
        and q.type in ASKED_TYPES
        and not q.calculation
        and not q.is_metadata
        and (q.read_only or "").strip().lower() not in ("true", "true()", "yes")
    ]


def to_submission_frames(
    form: FormModel, main: pd.DataFrame, repeats: dict[str, pd.DataFrame]
) -> SubmissionFrames:
    """Analysis frames back in the layout the logic engine reads: geopoints joined again
    into ODK's ``"lat lon alt acc"`` text, repeat rows linked by ``__parent_row``."""
    main = main.copy()
    for q in form.questions:
        if q.type in ("geopoint", "start-geopoint") and q.name not in main.columns:
            parts = [f"{q.name}_{s}" for s in ("latitude", "longitude", "altitude", "accuracy")]
            if all(p in main.columns for p in parts):
                values = np.nan_to_num(main[parts].to_numpy(dtype=float))
                ok = main[parts[:2]].notna().all(axis=1).to_numpy()
                text_ = values.astype(str)
                joined = np.char.add(np.char.add(text_[:, 0], " "), text_[:, 1])
                for k in (2, 3):
                    joined = np.char.add(np.char.add(joined, " "), text_[:, k])
                main[q.name] = np.where(ok, joined.astype(object), None)
    keys = {None: pd.Index(main["__id"].astype(str))}
    out: dict[str, pd.DataFrame] = {}
    for repeat in form.repeats:
        frame = repeats.get(repeat.name)
        if frame is None:
            continue
        parent = form.by_xpath(repeat.repeats[-1]) if repeat.repeats else None
        parent_keys = keys.get(parent.name if parent else None)
        if parent_keys is None:
            continue
        frame = frame.copy()
        frame[PARENT_ROW] = parent_keys.get_indexer(frame["__parent_key"].astype(str))
        frame = frame[frame[PARENT_ROW] >= 0]
        if POSITION not in frame.columns:
            frame[POSITION] = frame.groupby("__parent_key").cumcount() + 1
        keys[repeat.name] = pd.Index(frame["__key"].astype(str))
        out[repeat.name] = frame.reset_index(drop=True)
    return SubmissionFrames(form, main, out)


def answer_counts(inputs: QualityInputs) -> AnswerCounts:
    """The per-submission counts (cached on ``inputs``), each form version evaluated with
    its own FormModel."""
    if "answer_counts" in inputs.cache:
        return inputs.cache["answer_counts"]
    n = len(inputs.main)
    totals = {c: np.zeros(n, dtype=np.int64) for c in COUNTS}
    per_question: dict[str, dict[str, np.ndarray]] = {}
    versions = inputs.main.get(inputs.roles.form_version)
    groups = (
        {"": np.arange(n)}
        if versions is None or not inputs.forms_by_version
        else {
            str(v): np.flatnonzero(versions.fillna("").astype(str).to_numpy() == v)
            for v in versions.fillna("").astype(str).unique()
        }
    )
    for version, rows in groups.items():
        form = inputs.forms_by_version.get(version, inputs.form)
        _count_version(inputs, form, rows, totals, per_question)
    result = AnswerCounts(pd.DataFrame(totals), per_question)
    inputs.cache["answer_counts"] = result
    return result


def _count_version(inputs, form, rows, totals, per_question) -> None:
    main = inputs.main.iloc[rows].reset_index(drop=True)
    ids = set(main["__id"].astype(str))
    repeats = {
        name: frame[frame["__id"].astype(str).isin(ids)].reset_index(drop=True)
        for name, frame in inputs.repeats.items()
    }
    frames = to_submission_frames(form, main, repeats)
    run = VectorLogic(form).frame_run(
        frames, today=inputs.fieldwork[0] if inputs.fieldwork else None
    )
    submission_of = {None: np.arange(len(main))}
    for name, frame in frames.repeats.items():
        submission_of[name] = pd.Index(main["__id"].astype(str)).get_indexer(
            frame["__id"].astype(str)
        )
    for q in asked_questions(form):
        node_frame = run.node_frame(q)
        frame = frames.main if node_frame is None else frames.repeats.get(node_frame)
        column_name = run.vl.names.get(q.xpath)
        if frame is None or column_name not in frame.columns:
            continue
        applicable = run.relevance(q)
        column = frame[column_name]
        missing = applicable & column.isna().to_numpy()
        dk, refused, other, offers = _special(form, q, column, inputs)
        parts = {
            "applicable": applicable,
            "missing": missing,
            "dont_know": applicable & dk,
            "refused": applicable & refused,
            "other": applicable & other,
        }
        owner = submission_of[node_frame]
        per_sub = {
            key: np.bincount(owner, weights=value, minlength=len(main)).astype(np.int64)
            for key, value in parts.items()
        }
        slot = per_question.setdefault(
            q.name, {k: np.zeros(len(inputs.main), np.int64) for k in parts}
        )
        for key, value in per_sub.items():
            slot[key][rows] += value
            totals[key][rows] += value
        for key, offered in zip(("dont_know", "refused", "other"), offers, strict=True):
            if offered:
                totals[f"{key}_offered"][rows] += per_sub["applicable"]


def _special(form: FormModel, q: Question, column: pd.Series, inputs: QualityInputs):
    """(dk, refused, other) boolean arrays over the column, and whether each is offered."""
    n = len(column)
    codes = inputs.codes
    none = np.zeros(n, dtype=bool)
    if q.is_select:
        choices = form.choices_for(q)
        names = set(choices.codes) if choices else set()
        offered = [bool(names & set(c)) for c in (codes.dont_know, codes.refused, codes.other)]
        values = text(column)
        if q.type.startswith("select_multiple"):
            flags = [np.zeros(n, dtype=bool)] * 3
            if any(offered):
                tokens = values.fillna("").astype(str).str.split()
                flags = [
                    tokens.map(lambda t, s=set(c): bool(s.intersection(t))).to_numpy(dtype=bool)
                    if is_offered
                    else np.zeros(n, dtype=bool)
                    for c, is_offered in zip(
                        (codes.dont_know, codes.refused, codes.other), offered, strict=True
                    )
                ]
        else:
            flags = [
                values.isin(c).fillna(False).to_numpy(dtype=bool)
                for c in (codes.dont_know, codes.refused, codes.other)
            ]
        if q.or_other:
            flags[2] = flags[2] | values.eq("other").fillna(False).to_numpy(dtype=bool)
            offered[2] = True
        return flags[0], flags[1], flags[2], offered
    if q.type in ("integer", "decimal", "range"):
        dk_codes, ref_codes = numeric_special_codes(q, codes)
        values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
        return (
            np.isin(values, list(dk_codes)),
            np.isin(values, list(ref_codes)),
            none,
            [bool(dk_codes), bool(ref_codes), False],
        )
    return none, none, none, [False, False, False]
