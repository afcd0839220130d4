"""Which answers are "not applicable": the form's relevance evaluated over the frames by the
vectorised logic engine (:mod:`forms.xpath.vectorized`), groups' relevance inherited.

The store's analysis frames are turned back into the engine's layout first (``__parent_row``
from ``__parent_key``; geopoint text from its four parts) -- the values are not copied.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

import numpy as np
import pandas as pd

from exports.errors import ExportDataError
from exports.keys import key_rows
from forms.frames import ID, PARENT_ROW, POSITION, SubmissionFrames
from forms.issues import Issue, Severity
from forms.model import FormModel
from forms.naming import GEO_PARTS, GEO_TYPES, dataset_of, store_column_names


def relevance_masks(
    form: FormModel,
    main: pd.DataFrame,
    repeats: Mapping[str, pd.DataFrame],
    questions: list[str],
    today: date | None = None,
) -> tuple[dict[str, np.ndarray], list[Issue]]:
    """Question name -> bool array (True: relevant) over the rows of its dataset, for the
    questions named; and the issues of expressions the engine could not evaluate (those
    rows count as relevant, as in the interpreter)."""
    if not questions:
        return {}, []
    from forms.xpath.vectorized import VectorLogic

    frames = engine_frames(form, main, repeats)
    run = VectorLogic(form).frame_run(frames, today)
    masks: dict[str, np.ndarray] = {}
    issues: list[Issue] = []
    # siblings with the same relevance expression are relevant on the same rows: one
    # evaluation for all of them (forms often repeat a filter question's condition)
    shared: dict[tuple[str | None, str], np.ndarray] = {}
    for name in questions:
        question = form[name]
        key = (question.relevant, question.parent)
        if key in shared and not _refers_to_itself(question.relevant):
            masks[name] = shared[key]
            continue
        try:
            masks[name] = shared[key] = np.asarray(run.relevance(question), dtype=bool)
        except Exception as err:  # the engine's own errors on odd data: keep the answers
            issues.append(
                Issue(
                    "E110",
                    Severity.WARNING,
                    f"relevance of {name} could not be evaluated ({err}); its empty answers "
                    "are written as item missing, not as not applicable",
                    variable=name,
                )
            )
    return masks, issues


_SELF = re.compile(r"current\(\)|(?<![\w.}])\.(?![\w.])")


def _refers_to_itself(expression: str | None) -> bool:
    """True when the expression reads the node it belongs to (``.``, ``current()``): its
    value then differs between siblings even when the text is the same."""
    return bool(expression and _SELF.search(expression))


def engine_frames(
    form: FormModel, main: pd.DataFrame, repeats: Mapping[str, pd.DataFrame]
) -> SubmissionFrames:
    """The analysis frames in :mod:`forms.frames`' layout (what the logic engine reads)."""
    sources = store_column_names(form)
    geo: dict[str | None, list[str]] = {None: []}
    for question in form.elements:
        if question.holds_data and question.type in GEO_TYPES:
            geo.setdefault(dataset_of(form, question), []).append(sources[question.xpath])
    out: dict[str | None, pd.DataFrame] = {}
    keys: dict[str | None, pd.Index] = {None: pd.Index(main[ID].astype(str))}
    for repeat in [None, *form.repeats]:
        name = repeat.name if repeat is not None else None
        frame = main if repeat is None else repeats.get(name)
        if frame is None:
            raise ExportDataError(f"no frame for repeat {name}")
        # a shallow copy (copy-on-write): the engine reads the frame's own columns by their
        # store names; only the engine's keys and geopoint texts are added
        view = frame.copy(deep=False)
        if not isinstance(view.index, pd.RangeIndex) or view.index.start != 0:
            view = view.reset_index(drop=True)
        if repeat is not None:
            parent = form.by_xpath(repeat.repeats[-1]) if repeat.repeats else None
            parent_name = parent.name if parent is not None else None
            view[PARENT_ROW] = _parent_rows(frame, keys[parent_name], name)
            view[POSITION] = frame["__position"].to_numpy()
            keys[name] = pd.Index(frame["__key"].astype(str))
        for column in geo.get(name, []):
            if column not in view.columns:
                view[column] = _geo_text(view, column)
        out[name] = view
    main_frame = out.pop(None)
    return SubmissionFrames(form=form, main=main_frame, repeats=out)  # type: ignore[arg-type]


def _parent_rows(frame: pd.DataFrame, parent_keys: pd.Index, name: str) -> np.ndarray:
    rows = key_rows(parent_keys, frame["__parent_key"].astype(str))
    if (rows < 0).any():
        key = frame["__parent_key"].iloc[int(np.argmax(rows < 0))]
        raise ExportDataError(f"repeat {name}: row with parent key {key} has no parent row")
    return rows.astype(np.int64)


def _geo_text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column in frame.columns:
        return frame[column]
    parts = [f"{column}_{part}" for part in GEO_PARTS]
    if not all(p in frame.columns for p in parts):
        return pd.Series([None] * len(frame), dtype=object, index=frame.index)
    lat = frame[parts[0]]
    text = lat.astype(str).str.cat([frame[p].astype(str) for p in parts[1:]], sep=" ")
    return text.where(lat.notna(), None)
