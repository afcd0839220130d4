"""Analysis frames from the store: what a statistician loads into pandas, SPSS or Stata.

Built on :func:`forms.frames.submission_frames` (which flattens OData submissions for form
logic), with what analysis needs on top:

- the main frame: one row per live submission, groups flattened (column = question name, or
  ``group.name`` when a name repeats), led by ``__id``, ``instance_id``, ``form_version``,
  ``submitter_id``, ``submitter_name``, ``device_id``, ``submission_date``, ``review_state``,
  ``edits``;
- one frame per repeat, each row keyed ``__key`` (``<parent key>/<repeat>[<n>]``) and linked
  to its parent by ``__parent_key`` (the submission's ``__id`` for top-level repeats) and to
  its submission by ``__id``;
- select_multiple: the raw space-separated string plus ``<name>/<choice>`` 0/1 for EVERY
  choice of the list (nullable: missing when the question has no answer);
- geopoints: ``<name>_latitude``, ``_longitude``, ``_altitude``, ``_accuracy``;
- an ``or_other`` select: its "specify other" text ``<name>_other`` right after it.

Each submission is flattened with the FormModel of ITS form version; frames of several
versions are stacked (columns of all versions, newest version's order first).

``coded=True`` (what exports ask for) gives select_one columns as pandas categoricals of the
same texts (:func:`forms.frames.coded_column`): built in the same pass over the answers, no
slower than text columns, and an export reads their integer codes instead of hashing every
answer again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import sqlalchemy as sa

from forms.frames import PARENT_ROW, POSITION, column_names, submission_frames
from forms.model import FormModel, Question
from forms.naming import with_specify_other
from surveys.store import writer
from surveys.store.engine import Store
from surveys.store.errors import StoreError

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
GEO_SUFFIXES = ("latitude", "longitude", "altitude", "accuracy")


@dataclass
class AnalysisFrames:
    """The main frame and one frame per repeat (by repeat name)."""

    main: pd.DataFrame
    repeats: dict[str, pd.DataFrame] = field(default_factory=dict)


def analysis_frames(
    store: Store, form_id: str, *, include_deleted: bool = False, coded: bool = False
) -> AnalysisFrames:
    """The analysis frames of a form's stored submissions (see the module doc)."""
    with store.engine.connect() as conn:
        form_pk = conn.execute(
            sa.select(writer.FORMS.c.id).where(writer.FORMS.c.xml_form_id == form_id)
        ).scalar()
        if form_pk is None:
            raise StoreError(f"form {form_id} is not in the store")
        models = writer.form_models(conn, form_pk)
        table = writer.SUBMISSIONS
        columns = dict.fromkeys(("form_version", "raw_json", *META_COLUMNS))
        query = (  # only what the frames show: the other timestamps cost a parse per row
            sa.select(*(table.c[c] for c in columns))
            .where(table.c.form_id == form_pk)
            .order_by(table.c.id)
        )
        if not include_deleted:
            query = query.where(table.c.deleted.is_(False))
        rows = conn.execute(query).all()
    if not models:
        raise StoreError(f"no FormModel stored for form {form_id}: pull or import with --form")
    by_version: dict[str, list] = {}
    for row in rows:
        by_version.setdefault(row.form_version or "", []).append(row)
    newest = max(models, key=_version_key)
    parts = [
        _version_frames(models.get(v) or models[newest], group, coded=coded)
        for v, group in sorted(by_version.items(), key=lambda kv: _version_key(kv[0]))
    ]
    if not parts:
        parts = [_version_frames(models[newest], [], coded=coded)]
    return _stack(parts, models[newest])


def records_frames(model: FormModel, records: list[dict], *, coded: bool = False) -> AnalysisFrames:
    """Analysis frames of OData records held in memory rather than in a store (a
    simulation, pages read from files), flattened with ``model``; the metadata columns come
    from each record's ``__system`` block as the store would keep them."""
    from types import SimpleNamespace

    rows = []
    for record in records:
        values = writer._submission_row(0, record, "memory", text="")
        rows.append(SimpleNamespace(**{c: values[c] for c in META_COLUMNS}))
    return _version_frames(model, rows, records, coded=coded)


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), version) if version.isdigit() else (0, version)


def _version_frames(
    model: FormModel, rows: list, records: list | None = None, *, coded: bool = False
) -> AnalysisFrames:
    model = with_specify_other(model)  # keep the "specify other" text of or_other selects
    if records is None:
        records = [json.loads(r.raw_json) for r in rows]
    flat = submission_frames(model, records, coded=coded)
    names = column_names(model)
    main = _expand_columns(flat.main, model, names)
    for column in reversed(META_COLUMNS):
        main.insert(1, column, [getattr(r, column) for r in rows])
    repeats = {}
    keys: dict[str | None, list[str]] = {None: list(main["__id"])}
    for repeat in model.repeats:  # sheet order: parents before children
        frame = flat.repeats[repeat.name]
        parent = model.by_xpath(repeat.repeats[-1]) if repeat.repeats else None
        parent_keys = keys[parent.name if parent else None]
        parent_key = [parent_keys[i] for i in frame[PARENT_ROW]]
        key = [f"{p}/{repeat.name}[{n}]" for p, n in zip(parent_key, frame[POSITION], strict=True)]
        keys[repeat.name] = key
        frame = frame.drop(columns=[PARENT_ROW])
        frame.insert(1, "__key", key)
        frame.insert(2, "__parent_key", parent_key)
        repeats[repeat.name] = _expand_columns(frame, model, names)
    return AnalysisFrames(main, repeats)


def _expand_columns(frame: pd.DataFrame, model: FormModel, names: dict[str, str]) -> pd.DataFrame:
    """Add select_multiple dummies and split geopoints, in place of/after their column."""
    by_column = _questions_by_column(model, names)
    pieces: dict[str, pd.Series] = {}
    for column in frame.columns:
        question = by_column.get(column)
        series = frame[column]
        if question is not None and question.type == "select_multiple":
            pieces[column] = series
            pieces.update(_dummies(column, series, model, question))
        elif question is not None and question.type in ("geopoint", "start-geopoint"):
            pieces.update(_geo_columns(column, series))
        else:
            pieces[column] = series
    return pd.DataFrame(pieces, index=frame.index)


def _questions_by_column(model: FormModel, names: dict[str, str]) -> dict[str, Question]:
    """Column name -> question, whether ``column_names`` is keyed by xpath or by name."""
    out: dict[str, Question] = {}
    for element in model.elements:
        column = names.get(element.xpath) or names.get(element.name)
        if column is not None and element.holds_data:
            out[column] = element
    return out


def _dummies(
    column: str, series: pd.Series, model: FormModel, question: Question
) -> dict[str, pd.Series]:
    choices = model.choices_for(question)
    codes = choices.codes if choices else ()
    # once per distinct answer: a coded column's categories, else the texts factorized
    if isinstance(series.dtype, pd.CategoricalDtype):
        rows, answers = series.cat.codes.to_numpy(), series.cat.categories
    else:
        rows, answers = pd.factorize(series)
    picked = [set(str(answer).split()) for answer in answers]
    unanswered = rows < 0
    return {
        f"{column}/{code}": pd.arrays.IntegerArray(
            np.array([code in p for p in picked] + [False], dtype=np.int8)[rows],
            unanswered.copy(),
        )
        for code in codes
    }


def _geo_columns(column: str, series: pd.Series) -> dict[str, pd.Series]:
    values: list[list[float | None]] = []
    for text in series:
        parts = str(text).split() if isinstance(text, str) else []
        numbers = [float(p) for p in parts[:4]] + [None] * (4 - min(len(parts), 4))
        values.append(numbers)
    return {
        f"{column}_{suffix}": pd.Series([v[i] for v in values], index=series.index, dtype="float64")
        for i, suffix in enumerate(GEO_SUFFIXES)
    }


def _stack(parts: list[AnalysisFrames], newest: FormModel) -> AnalysisFrames:
    main = _concat([p.main for p in parts])
    names = {n for p in parts for n in p.repeats}
    repeats = {
        name: _concat([p.repeats[name] for p in parts if name in p.repeats]) for name in names
    }
    return AnalysisFrames(main, repeats)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames stacked; a column categorical in every frame stays categorical (the union of
    the versions' categories), where a plain concat would turn it into text."""
    if len(frames) == 1:
        return frames[0]
    shared = set.intersection(*(set(f.columns) for f in frames))
    coded = [c for c in shared if all(isinstance(f[c].dtype, pd.CategoricalDtype) for f in frames)]
    if coded:
        frames = [f.copy(deep=False) for f in frames]
        for column in coded:
            categories = pd.Index(
                list(dict.fromkeys(c for f in frames for c in f[column].cat.categories)),
                dtype=object,
            )
            for frame in frames:
                frame[column] = frame[column].cat.set_categories(categories)
    return pd.concat(frames, ignore_index=True)
