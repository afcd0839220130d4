"""Flatten ODK Central OData submissions into pandas frames.

One **main frame** (one row per submission) holds every question outside repeats, group
names flattened away: a column is named after its question (names are unique in an
XLSForm; a name used twice gets the ``group.name`` path). One **repeat frame** per repeat
holds one row per repeat instance, keyed to its parent row and position:

- main frame: ``__id`` (the submission's ``__id``), then the question columns;
- repeat frame: ``__id``, ``__parent_row`` (row number in the parent frame: the main
  frame or the enclosing repeat's frame), ``__position`` (1-based instance number), then
  the columns of questions directly in that repeat (groups inside it flattened too).

Column types follow the question type: numbers ``float64`` (NaN when empty), dates
``datetime64[ns]``, other answers text (``None`` when empty; geopoints as ODK's
``"lat lon alt acc"``, select_multiple as the space-separated codes). A column whose
answers do not fit its type (``"abc"`` in an integer) stays ``object`` with the values kept.
With ``coded=True`` select_one and select_multiple answers are pandas ``Categorical``
columns instead (:func:`coded_column`: the same texts, held as small integer codes).
These frames are what :mod:`forms.xpath.vectorized` evaluates a form's logic over.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from forms.model import FormModel, Question
from forms.xpath.instance import geojson_to_text, repeat_rows
from forms.xpath.values import number_to_string, string_to_number

ID, PARENT_ROW, POSITION = "__id", "__parent_row", "__position"
KEY_COLUMNS = (ID, PARENT_ROW, POSITION)
NUMERIC = frozenset({"integer", "decimal", "range"})
DATE = frozenset({"date"})
GEO = frozenset({"geopoint", "geotrace", "geoshape", "start-geopoint"})
CODED = frozenset({"select_one", "select_multiple"})


@dataclass(frozen=True)
class SubmissionFrames:
    """The main frame and one frame per repeat (by repeat name)."""

    form: FormModel
    main: pd.DataFrame
    repeats: Mapping[str, pd.DataFrame] = field(default_factory=dict)

    def frame_of(self, element: Question) -> pd.DataFrame:
        """The frame that holds ``element`` (its innermost repeat's, or the main frame)."""
        if element.is_repeat:
            return self.repeats[element.name]
        repeat = element.repeat
        if repeat is None:
            return self.main
        owner = self.form.by_xpath(repeat)
        assert owner is not None
        return self.repeats[owner.name]

    def __len__(self) -> int:
        return len(self.main)


def column_names(form: FormModel) -> dict[str, str]:
    """Question xpath -> column name (the name, or ``group.name`` when names repeat)."""
    counts = Counter(e.name for e in form.elements)
    root = f"/{form.root}/"
    return {
        e.xpath: e.name if counts[e.name] == 1 else e.xpath.removeprefix(root).replace("/", ".")
        for e in form.elements
        if e.holds_data
    }


def frame_layout(form: FormModel) -> dict[str | None, list[Question]]:
    """Questions holding data per frame: None for the main frame, else the repeat name."""
    layout: dict[str | None, list[Question]] = {None: []}
    for repeat in form.repeats:
        layout[repeat.name] = []
    for element in form.elements:
        if not element.holds_data:
            continue
        owner = form.by_xpath(element.repeat) if element.repeat else None
        layout[owner.name if owner else None].append(element)
    return layout


def submission_frames(
    form: FormModel, submissions: Iterable[Mapping[str, Any]], *, coded: bool = False
) -> SubmissionFrames:
    """Flatten OData submissions (repeats inline, as ``$expand=*`` gives them);
    ``coded``: select columns as :func:`coded_column` categoricals."""
    names = column_names(form)
    layout = frame_layout(form)
    children: dict[str, list[Question]] = {}
    for element in form.elements:
        children.setdefault(element.parent, []).append(element)
    raw: dict[str | None, dict[str, list[Any]]] = {
        key: {ID: [], PARENT_ROW: [], POSITION: [], **{names[q.xpath]: [] for q in qs}}
        for key, qs in layout.items()
    }
    steps = _compile(f"/{form.root}", None, raw, children, names)
    main = raw[None]
    ids, parents, positions = main[ID], main[PARENT_ROW], main[POSITION]
    for submission in submissions:
        sub_id = submission.get(ID) or (submission.get("meta") or {}).get("instanceID")
        row = len(ids)
        ids.append(sub_id)
        parents.append(-1)
        positions.append(1)
        _collect(steps, submission, row, sub_id)
    for columns in raw.values():
        _pad(columns, len(columns[ID]))
    frames = {
        key: _typed_frame(form if coded else None, cols, layout[key], names, key is None)
        for key, cols in raw.items()
    }
    main_frame = frames.pop(None)
    return SubmissionFrames(form=form, main=main_frame, repeats=frames)  # type: ignore[arg-type]


_LEAF, _GROUP, _REPEAT = 0, 1, 2
Step = tuple[int, str, Any, list]  # (kind, name, target column or repeat frame, sub-steps)


def _compile(
    xpath: str,
    frame: str | None,
    raw: dict[str | None, dict[str, list[Any]]],
    children: Mapping[str, list[Question]],
    names: Mapping[str, str],
) -> list[Step]:
    """The walk of one group's answers, resolved once per form: each answer's target
    column, each group's and repeat's own walk (flattening then costs a lookup per answer,
    not a pass over the form's structure per submission)."""
    steps: list[Step] = []
    for element in children.get(xpath, ()):
        if element.is_repeat:
            inner = _compile(element.xpath, element.name, raw, children, names)
            steps.append((_REPEAT, element.name, raw[element.name], inner))
        elif element.is_group:
            steps.append(
                (_GROUP, element.name, None, _compile(element.xpath, frame, raw, children, names))
            )
        elif element.holds_data:
            steps.append((_LEAF, element.name, raw[frame][names[element.xpath]], []))
    return steps


def _collect(steps: list[Step], data: Any, row: int, sub_id: Any) -> None:
    get = data.get if isinstance(data, dict | Mapping) else _nothing
    for kind, name, target, inner in steps:
        value = get(name)
        if kind == _LEAF:
            if len(target) < row:  # an answer missing from earlier rows of its frame
                target.extend([None] * (row - len(target)))
            target.append(value)
        elif kind == _GROUP:
            _collect(inner, value, row, sub_id)
        else:
            ids, parents, positions = target[ID], target[PARENT_ROW], target[POSITION]
            for position, item in enumerate(repeat_rows(value), 1):
                child_row = len(ids)
                ids.append(sub_id)
                parents.append(row)
                positions.append(position)
                _collect(inner, item, child_row, sub_id)


def _nothing(name: str) -> None:
    return None


def _pad(columns: dict[str, list[Any]], length: int) -> None:
    for values in columns.values():
        if len(values) < length:
            values.extend([None] * (length - len(values)))


def _typed_frame(
    coded: FormModel | None,
    columns: dict[str, list[Any]],
    questions: list[Question],
    names: Mapping[str, str],
    is_main: bool,
) -> pd.DataFrame:
    data: dict[str, Any] = {ID: pd.Series(columns[ID], dtype=object)}
    if not is_main:
        data[PARENT_ROW] = np.asarray(columns[PARENT_ROW], dtype=np.int64)
        data[POSITION] = np.asarray(columns[POSITION], dtype=np.int64)
    for question in questions:
        name = names[question.xpath]
        if coded is not None and question.type in CODED:
            choices = coded.choices_for(question)
            codes = choices.codes if choices is not None and question.type == "select_one" else ()
            data[name] = coded_column(columns[name], codes)
        else:
            data[name] = typed_column(question, columns[name])
    return pd.DataFrame(data)


def typed_column(question: Question, values: list[Any]) -> pd.Series:
    """One column of answers typed by question type (see the module docstring)."""
    kind = question.type
    if kind in NUMERIC:
        nan = float("nan")
        numbers = [
            v
            if v.__class__ is float
            else (nan if v is None else (float(v) if v.__class__ is int else _number(v)))
            for v in values
        ]
        if all(n is not None for n in numbers):
            return pd.Series(np.asarray(numbers, dtype=np.float64))
        return pd.Series(_texts(values), dtype=object)
    if kind in DATE:
        texts = _texts(values)
        parsed = pd.to_datetime(pd.Series(texts, dtype=object), format="%Y-%m-%d", errors="coerce")
        bad = parsed.isna() & pd.Series([t is not None for t in texts])
        if bad.any():
            return pd.Series(texts, dtype=object)
        return parsed.astype("datetime64[ns]")
    if kind in GEO:
        return pd.Series(
            [geojson_to_text(v) if v not in (None, "") else None for v in values], dtype=object
        )
    return pd.Series(_texts(values), dtype=object)


def _texts(values: list[Any]) -> list[str | None]:
    """:func:`_text` of every value (strings and None, most answers, without a call)."""
    return [
        (v or None) if v.__class__ is str else (None if v is None else _text(v)) for v in values
    ]


def coded_column(values: Sequence[Any], codes: Sequence[str] = ()) -> pd.Series:
    """A select's answers as a pandas ``Categorical``: the texts :func:`typed_column`
    gives (missing for no answer), held as codes into the categories -- ``codes`` (the
    choice list's, in sheet order) first, then any other answer in order of first
    appearance. Consumers that compare, ``isin`` or ``to_numpy(dtype=object)`` see the same
    texts; exports read the integer codes without touching each text again."""
    index: dict[Any, int] = {None: -1, "": -1}
    for code in codes:
        index.setdefault(code, len(index) - 2)
    add = index.setdefault
    try:  # one dict look-up per answer, new answers numbered as they come
        numbers = np.fromiter((add(v, len(index) - 2) for v in values), np.int64, len(values))
    except TypeError:  # an unhashable answer (a list, a dict): as text
        return coded_column([_text(v) for v in values], codes)
    # answers that are not texts (a number sent for a code...) take their text's category
    categories: dict[str, int] = {}
    lookup = np.full(len(index) - 1, -1, dtype=np.int64)  # the last: no answer (-1)
    for key, number in index.items():
        if number >= 0:
            text = key if type(key) is str else _text(key)
            if text is not None:
                lookup[number] = categories.setdefault(text, len(categories))
    labels = pd.Index(list(categories), dtype=object)
    return pd.Series(pd.Categorical.from_codes(lookup[numbers], categories=labels))


def _number(value: Any) -> float | None:
    """A float for a numeric answer (NaN when empty); None when it is not a number."""
    if value is None or value == "":
        return float("nan")
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    number = string_to_number(str(value))
    return None if number != number else number


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number_to_string(value)
    return str(value)


def frames_to_submissions(frames: SubmissionFrames) -> list[dict[str, Any]]:
    """The inverse of :func:`submission_frames`: OData-shaped dicts (for tests and the
    per-record baseline of the benchmark). Geopoints come back as ODK text."""
    form = frames.form
    names = column_names(form)
    children: dict[str, list[Question]] = {}
    for element in form.elements:
        children.setdefault(element.parent, []).append(element)
    by_parent: dict[str, dict[int, list[int]]] = {}
    for name, frame in frames.repeats.items():
        groups: dict[int, list[int]] = {}
        for index, parent in enumerate(frame[PARENT_ROW].to_numpy()):
            groups.setdefault(int(parent), []).append(index)
        by_parent[name] = groups
    columns = {
        key: _plain_columns(frame) for key, frame in [(None, frames.main), *frames.repeats.items()]
    }
    out = []
    for row in range(len(frames.main)):
        submission: dict[str, Any] = {ID: columns[None][ID][row]}
        _rebuild(f"/{form.root}", None, row, submission, children, names, columns, by_parent)
        out.append(submission)
    return out


def _plain_columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    plain: dict[str, list[Any]] = {}
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            plain[name] = [None if pd.isna(v) else v.strftime("%Y-%m-%d") for v in series]
        elif series.dtype == np.float64:
            plain[name] = [
                None if v != v else (int(v) if v.is_integer() else v) for v in series.tolist()
            ]
        else:
            plain[name] = series.tolist()
    return plain


def _rebuild(
    xpath: str,
    frame: str | None,
    row: int,
    target: dict[str, Any],
    children: Mapping[str, list[Question]],
    names: Mapping[str, str],
    columns: Mapping[str | None, dict[str, list[Any]]],
    by_parent: Mapping[str, dict[int, list[int]]],
) -> None:
    for element in children.get(xpath, ()):
        if element.is_repeat:
            items = []
            for child_row in by_parent[element.name].get(row, []):
                item: dict[str, Any] = {}
                _rebuild(
                    element.xpath,
                    element.name,
                    child_row,
                    item,
                    children,
                    names,
                    columns,
                    by_parent,
                )
                items.append(item)
            target[element.name] = items
        elif element.is_group:
            group: dict[str, Any] = {}
            _rebuild(element.xpath, frame, row, group, children, names, columns, by_parent)
            target[element.name] = group
        elif element.holds_data:
            value = columns[frame][names[element.xpath]][row]
            target[element.name] = None if (isinstance(value, float) and value != value) else value


def random_frames(
    form: FormModel,
    n: int,
    *,
    seed: int = 0,
    max_repeat: int = 5,
    empty_rate: float = 0.1,
    text_pools: Mapping[str, Sequence[str]] | None = None,
    pool_rate: float = 0.9,
) -> SubmissionFrames:
    """Seeded random submissions of ``form`` as frames, column by column (for tests and
    benchmarks: plausible types and codes, no attempt at consistent answers).

    Numbers are drawn around the literal numbers of the question's constraint so that
    constraints both pass and fail; each repeat has 0..``max_repeat`` instances.
    ``text_pools`` gives plausible answers of text-like questions by name (enumerator
    codes, household keys of an attachment): a share ``pool_rate`` of the non-empty
    answers is drawn from the pool, the rest from a generic pool (mostly invalid codes).
    """
    rng = np.random.default_rng(seed)
    names = column_names(form)
    layout = frame_layout(form)
    sizes: dict[str | None, int] = {None: n}
    parents: dict[str | None, np.ndarray] = {None: np.full(n, -1, dtype=np.int64)}
    positions: dict[str | None, np.ndarray] = {None: np.ones(n, dtype=np.int64)}
    for repeat in form.repeats:  # sheet order: enclosing repeats come first
        owner = form.by_xpath(repeat.repeats[-1]) if repeat.repeats else None
        parent_key = owner.name if owner is not None else None
        counts = rng.integers(0, max_repeat + 1, size=sizes[parent_key])
        parents[repeat.name] = np.repeat(np.arange(sizes[parent_key]), counts)
        positions[repeat.name] = (
            np.concatenate([np.arange(1, c + 1) for c in counts])
            if counts.sum()
            else np.empty(0, np.int64)
        )
        sizes[repeat.name] = int(counts.sum())
    ids = np.array([f"uuid:{seed:04d}-{i:08d}" for i in range(n)], dtype=object)
    frames: dict[str | None, pd.DataFrame] = {}
    for key, questions in layout.items():
        size = sizes[key]
        data: dict[str, Any] = {ID: ids[_main_rows(key, parents, form)] if key else ids}
        if key is not None:
            data[PARENT_ROW] = parents[key]
            data[POSITION] = positions[key]
        for question in questions:
            column = _random_column(form, question, size, rng, empty_rate)
            pool = (text_pools or {}).get(question.name)
            if pool:
                column = _from_pool(column, pool, rng, pool_rate)
            data[names[question.xpath]] = column
        frames[key] = pd.DataFrame(data)
    main = frames.pop(None)
    return SubmissionFrames(form=form, main=main, repeats=frames)  # type: ignore[arg-type]


def _from_pool(
    column: pd.Series, pool: Sequence[str], rng: np.random.Generator, rate: float
) -> pd.Series:
    values = column.to_numpy(dtype=object).copy()
    candidates = np.array(list(pool), dtype=object)
    take = (rng.random(len(values)) < rate) & pd.notna(values)
    values[take] = candidates[rng.integers(0, len(candidates), int(take.sum()))]
    return pd.Series(values, dtype=object)


def _main_rows(
    key: str | None, parents: Mapping[str | None, np.ndarray], form: FormModel
) -> np.ndarray:
    rows = np.arange(len(parents[key]))
    while key is not None:
        rows = parents[key][rows]
        repeat = form[key]
        owner = form.by_xpath(repeat.repeats[-1]) if repeat.repeats else None
        key = owner.name if owner is not None else None
    return rows


_TEXT_POOL = np.array(
    ["abc", "Li Wei", "13812345678", "x_1", "王芳", "0123456789", "96"], dtype=object
)


def _random_column(
    form: FormModel, q: Question, size: int, rng: np.random.Generator, empty_rate: float
) -> pd.Series:
    empty = rng.random(size) < empty_rate
    choices = form.choices_for(q)
    if q.type in NUMERIC:
        import re

        numbers = [float(x) for x in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", q.constraint or "")]
        low, high = (min(numbers), max(numbers)) if numbers else (0.0, 100.0)
        span = max(high - low, 1.0)
        values = np.floor(rng.uniform(low - 0.05 * span - 1, high + 0.05 * span + 1, size))
        return pd.Series(np.where(empty, np.nan, values))
    if q.type in DATE:
        days = rng.integers(16000, 20500, size)
        stamps = (np.datetime64("1970-01-01") + days.astype("timedelta64[D]")).astype(
            "datetime64[ns]"
        )
        return pd.Series(np.where(empty, np.datetime64("NaT"), stamps)).astype("datetime64[ns]")
    if choices is not None and q.type in ("select_one", "rank", "select_one_external"):
        codes = np.array(choices.codes, dtype=object)
        values = codes[rng.integers(0, len(codes), size)]
    elif choices is not None and q.type == "select_multiple":
        codes = np.array(choices.codes, dtype=object)
        picks = rng.integers(0, len(codes), (size, 3))
        take = rng.integers(1, 4, size)
        values = np.array(
            [" ".join(dict.fromkeys(codes[p[:t]])) for p, t in zip(picks, take, strict=True)],
            dtype=object,
        )
    elif q.type in ("today", "start", "end", "dateTime", "time"):
        days = rng.integers(19000, 20500, size)
        seconds = rng.integers(0, 86400, size)
        moments = (
            np.datetime64("1970-01-01T00:00:00")
            + days.astype("timedelta64[D]")
            + seconds.astype("timedelta64[s]")
        )
        stamps = np.datetime_as_string(moments, unit="s").tolist()
        if q.type == "today":
            values = np.array([t[:10] for t in stamps], dtype=object)
        elif q.type == "time":
            values = np.array([t[11:] + ".000+08:00" for t in stamps], dtype=object)
        else:
            values = np.array([t + ".000+08:00" for t in stamps], dtype=object)
    elif q.type == "calculate":
        values = rng.integers(0, 4, size).astype(str).astype(object)
    elif q.type in GEO:
        lat = rng.uniform(18, 53, size)
        lon = rng.uniform(73, 135, size)
        values = np.array(
            [f"{a:.6f} {b:.6f} 0.0 5.0" for a, b in zip(lat, lon, strict=True)], dtype=object
        )
    else:
        values = _TEXT_POOL[rng.integers(0, len(_TEXT_POOL), size)]
    values = values.astype(object)
    values[empty] = None
    return pd.Series(values, dtype=object)
