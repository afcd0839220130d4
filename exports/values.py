"""The values of each exported variable, prepared once for every format.

Numbers are float64 arrays (choice numbers, 0/1, answers); dates are days since 1970-01-01,
datetimes milliseconds since 1970-01-01 on the device's clock (ODK's ``+08:00`` offset is
dropped: the time the enumerator saw), times milliseconds since midnight; text is an object
array of ``str`` or None. Beside the values, a ``missing`` array tells why a value is
missing: :data:`DONT_KNOW`, :data:`REFUSED` (the answer was a don't-know/refused code; the
value keeps that code) or :data:`SKIPPED` (empty because the question was not relevant).
An empty answer to a relevant question is item missing (NaN, no reason).

Nothing is lost: a code outside its choice list gets a number and a label of its own, and a
column whose answers do not fit its type (text in an integer question) is exported as text,
each with a warning.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from exports.errors import ExportDataError
from exports.plan import DatasetPlan, LabelSet, Variable
from forms.issues import Issue, Severity

NOT_MISSING, DONT_KNOW, REFUSED, SKIPPED = 0, 1, 2, 3
_MS_PER_DAY = 86_400_000


class Column:
    """Prepared values of one variable (module docstring).

    A coded variable (a choice, a select_multiple dummy) may be held compactly as
    ``codes`` (per row, -1 for no answer) into a small ``table`` of numbers whose last
    entry is the value of -1: :attr:`values` then builds the numbers on each use, so the
    prepared dataset holds a byte or so per row instead of eight until a writer needs them.
    """

    __slots__ = ("_values", "codes", "missing", "table", "variable")

    def __init__(
        self,
        variable: Variable,
        values: np.ndarray | None = None,
        missing: np.ndarray | None = None,
        *,
        codes: np.ndarray | None = None,
        table: np.ndarray | None = None,
    ) -> None:
        if (values is None) == (codes is None or table is None):
            raise ValueError("a Column needs its values, or codes and a table")
        self.variable = variable
        self._values = values
        self.missing = missing
        self.codes = codes
        self.table = table

    @property
    def values(self) -> np.ndarray:
        """The values, one per row (built from ``codes`` and ``table`` when held so)."""
        if self._values is not None:
            return self._values
        assert self.codes is not None and self.table is not None
        return self.table.take(self.codes)

    @values.setter
    def values(self, values: np.ndarray) -> None:
        self._values, self.codes, self.table = values, None, None

    @property
    def numeric(self) -> bool:
        """True when the values are numbers (dates included)."""
        held = self._values if self._values is not None else self.table
        assert held is not None
        return held.dtype.kind == "f"

    def __len__(self) -> int:
        held = self._values if self._values is not None else self.codes
        assert held is not None
        return len(held)


@dataclass
class PreparedDataset:
    """One dataset ready to be written: its plan and its columns in file order."""

    plan: DatasetPlan
    columns: list[Column]
    rows: int
    issues: list[Issue] = field(default_factory=list)

    @property
    def name(self) -> str | None:
        """None for the main dataset, else the repeat's name."""
        return self.plan.name


def normalise_repeats(
    main: pd.DataFrame, repeats: dict[str, pd.DataFrame], form
) -> dict[str, pd.DataFrame]:
    """Repeat frames with ``__key``/``__parent_key`` (the store's layout), made from
    ``__parent_row`` when given :mod:`forms.frames`' layout instead."""
    if "__id" not in main.columns:
        raise ExportDataError("the main frame has no __id column")
    out: dict[str, pd.DataFrame] = {}
    if not form.repeats:  # no keys to make (the main keys as text: 10 ms per 200,000)
        return out
    keys: dict[str | None, np.ndarray] = {None: main["__id"].astype(str).to_numpy(object)}
    for repeat in form.repeats:
        frame = repeats.get(repeat.name)
        if frame is None:
            frame = pd.DataFrame({"__id": [], "__key": [], "__parent_key": [], "__position": []})
        parent = form.by_xpath(repeat.repeats[-1]) if repeat.repeats else None
        parent_keys = keys[parent.name if parent else None]
        if "__key" not in frame.columns:
            if "__parent_row" not in frame.columns:
                raise ExportDataError(f"repeat {repeat.name} has neither __key nor __parent_row")
            parent_key = parent_keys[frame["__parent_row"].to_numpy(np.int64)]
            position = frame["__position"].astype(np.int64).astype(str).to_numpy(object)
            key = parent_key + f"/{repeat.name}[" + position + "]"
            frame = frame.drop(columns=["__parent_row"])
            frame.insert(1, "__key", key)
            frame.insert(2, "__parent_key", parent_key)
        keys[repeat.name] = frame["__key"].astype(str).to_numpy(object)
        out[repeat.name] = frame
    return out


def prepare_dataset(
    plan: DatasetPlan,
    frame: pd.DataFrame,
    relevant: dict[str, np.ndarray],
    tick: Callable[[int], None] | None = None,
) -> PreparedDataset:
    """Prepare every variable of ``plan`` from ``frame`` (the store's analysis frame);
    ``tick(k)`` is told every 16 variables how many are done."""
    issues: list[Issue] = []
    columns: list[Column] = []
    dummies: dict[str, tuple[np.ndarray, np.ndarray, list[str]]] = {}
    # questions with the same relevance share one mask: negated once for all of them
    not_relevant: dict[int, np.ndarray] = {}
    n = len(frame)
    for k, variable in enumerate(plan.variables):
        if tick is not None and k % 16 == 0:
            tick(k)
        column = _prepare(variable, frame, n, dummies, issues)
        if column is None:
            continue
        question = variable.question
        if variable.can_skip and question is not None and question.name in relevant:
            mask = relevant[question.name]
            if id(mask) not in not_relevant:
                not_relevant[id(mask)] = ~np.asarray(mask, dtype=bool)
            _mark_skipped(column, not_relevant[id(mask)])
        columns.append(column)
    return PreparedDataset(plan, columns, n, issues)


def _prepare(
    variable: Variable,
    frame: pd.DataFrame,
    n: int,
    dummies: dict[str, tuple[np.ndarray, np.ndarray, list[str]]],
    issues: list[Issue],
) -> Column | None:
    column = variable.column
    source = column.source
    kind = variable.kind
    if column.role == "choice":
        question = variable.question
        assert question is not None
        raw_source = source.rsplit("/", 1)[0]
        if raw_source not in frame.columns:
            return None
        if raw_source not in dummies:
            dummies[raw_source] = _dummy_table(frame[raw_source])
        codes, table, names = dummies[raw_source]
        # a choice nobody picked: the last column (0, or NaN with no answer)
        picked = table[:, names.index(column.code) if column.code in names else -1]
        return Column(variable, codes=codes, table=picked.copy())
    if column.role == "geo" and source not in frame.columns:
        base = source.rsplit("_", 1)[0]
        if base not in frame.columns:
            return None
        return Column(variable, _geo_part(frame[base], column.code or ""))
    if source not in frame.columns:
        if column.role in ("meta", "design"):
            return None
        return Column(variable, np.full(n, None, dtype=object))
    series = frame[source]
    if column.role == "design" and series.dtype.kind not in "fiub":
        numbers = pd.to_numeric(series, errors="coerce")
        if (numbers.isna() & series.notna()).any() or _changed_codes(series, numbers):
            variable.kind = "string"  # text strata or PSU codes stay text, as drawn
            return Column(variable, _text(series))
        return Column(variable, numbers.to_numpy(np.float64, copy=True))
    if kind == "code":
        return _coded(variable, series, issues)
    if kind in ("number", "dummy"):
        return _number(variable, series, issues)
    if kind == "date":
        return _dates(variable, series, issues)
    if kind == "datetime":
        return _datetimes(variable, series, issues)
    if kind == "time":
        return _times(variable, series, issues)
    return Column(variable, _text(series))


def _empty(series: pd.Series) -> np.ndarray:
    values = series.to_numpy(dtype=object)
    return pd.isna(values) | (values == "")


def _text(series: pd.Series) -> np.ndarray:
    if isinstance(series.dtype, pd.CategoricalDtype):  # coded: once per distinct answer
        texts = [_unique_text(u) for u in series.cat.categories]
        return np.array([*texts, None], dtype=object).take(series.cat.codes.to_numpy())
    if series.dtype.kind in "fiu":
        codes, uniques = pd.factorize(series.to_numpy(), use_na_sentinel=True)
        texts = [_number_text(u) for u in uniques]  # once per distinct number
        return np.array([*texts, None], dtype=object).take(codes)
    if isinstance(series.dtype, pd.StringDtype):  # str or missing: no value to check
        return series.to_numpy(dtype=object, na_value=None)
    values = series.to_numpy(dtype=object)
    # the frame's own array when it needs no change: only str and None (half the time of
    # pandas.isna and a check of the rest)
    if pd.api.types.infer_dtype(values[~np.equal(values, None)], skipna=False) in (
        "string",
        "empty",
    ):
        return values
    missing = pd.isna(values)
    values = values.copy()
    values[missing] = None
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        odd = ~missing & np.array([not isinstance(v, str) for v in values], dtype=bool)
        values[odd] = [str(v) for v in values[odd]]
    return values


def _factorized(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes (-1 for missing) and the distinct answers as text: per-value work is done once
    per distinct answer, not once per row. A categorical column (the store's select_one
    columns, ``coded=True``) already holds them: nothing is hashed again."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        # the categorical's own codes (read-only): ``.cat.codes`` would copy them
        return series.array.codes, [_unique_text(u) for u in series.cat.categories]
    codes, uniques = pd.factorize(series.to_numpy(), use_na_sentinel=True)
    return codes, [_unique_text(u) for u in uniques]


def _unique_text(value: object) -> str:
    if isinstance(value, str):
        return value
    return _number_text(value) if isinstance(value, int | float) else str(value)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _changed_codes(series: pd.Series, numbers: pd.Series) -> bool:
    """Whether text codes would not read back the same as numbers ("007", "1.50", 2**53+1)."""
    known = series.notna().to_numpy()
    # once per distinct code, not per row
    pairs = pd.DataFrame(
        {"code": series[known].to_numpy(object), "number": numbers.to_numpy()[known]}
    )
    pairs = pairs.drop_duplicates("code")
    if not len(pairs) or not all(isinstance(v, str) for v in pairs["code"]):
        return False
    return any(
        code.strip() != _shown(number)
        for code, number in zip(pairs["code"], pairs["number"], strict=True)
    )


def _shown(number: float) -> str:
    whole = float(number).is_integer() and abs(number) < 2**53
    return str(int(number)) if whole else repr(float(number))


def _coded(variable: Variable, series: pd.Series, issues: list[Issue]) -> Column:
    label_set = variable.label_set
    assert label_set is not None
    codes, uniques = _factorized(series)
    texts = [u.strip() for u in uniques]
    numbers = np.array([label_set.code_of.get(t, np.nan) for t in texts], dtype=np.float64)
    unknown = [i for i, t in enumerate(texts) if np.isnan(numbers[i]) and t != ""]
    # a category may have no row left (rows filtered out): no number, no warning for it
    used = _used_codes(codes, len(texts)) if unknown else np.zeros(len(texts), dtype=bool)
    for i in unknown:
        text = texts[i]
        if used[i]:
            numbers[i] = label_set.code_of.get(text, np.nan)
            if np.isnan(numbers[i]):
                numbers[i] = _new_number(label_set, text)
                issues.append(
                    Issue(
                        "E102",
                        Severity.WARNING,
                        f"{variable.name}: code '{text}' is not in choice list "
                        f"{label_set.name}; written as {numbers[i]:g} labelled '{text}'",
                        variable=variable.name,
                    )
                )
    table = np.append(numbers, np.nan)  # code -1 (missing) picks the NaN
    return Column(variable, None, _reasons(numbers, codes, label_set), codes=codes, table=table)


def _used_codes(codes: np.ndarray, count: int) -> np.ndarray:
    """Whether each of the ``count`` codes occurs in ``codes`` (-1: no answer)."""
    return np.bincount(codes.astype(np.intp) + 1, minlength=count + 1)[1:] > 0


def _new_number(label_set: LabelSet, code: str) -> float:
    code = str(code)
    if not label_set.numbered and code.lstrip("-").isdigit() and len(code) < 10:
        number = float(int(code))
    else:
        number = max([0.0, *label_set.labels]) + 1
    label_set.code_of[code] = number
    label_set.labels.setdefault(number, code)
    return number


def _reasons(numbers: np.ndarray, codes: np.ndarray, label_set: LabelSet) -> np.ndarray | None:
    """Why each row is missing (don't know, refused), decided once per distinct answer."""
    if not (label_set.dont_know or label_set.refused):
        return None
    why = np.zeros(len(numbers) + 1, dtype=np.int8)  # the last: no answer (code -1)
    why[:-1][np.isin(numbers, list(label_set.dont_know))] = DONT_KNOW
    why[:-1][np.isin(numbers, list(label_set.refused))] = REFUSED
    return take_sparse(why, codes) if why.any() else None


def take_sparse(table: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``table.take(codes)`` (code -1: the table's last entry) for a table of few non-zero
    entries: one comparison of the codes per such entry, several times faster than a take
    over the rows (an int8 take: 0.35 ms, two comparisons: 0.05 ms per 200,000 rows)."""
    hits = np.flatnonzero(table)
    if len(hits) > 8:
        return table.take(codes)
    out = np.zeros(len(codes), dtype=table.dtype)
    last = len(table) - 1
    for i in hits:
        # a Python int: a numpy int64 would widen the codes before comparing
        at = codes == (-1 if i == last else int(i))
        if table.dtype == bool:
            out |= at
        else:
            out += at.view(np.int8).astype(table.dtype, copy=False) * table[i]
    return out


def _number(variable: Variable, series: pd.Series, issues: list[Issue]) -> Column:
    if series.dtype.kind in "fiub":
        return Column(variable, series.to_numpy(np.float64, na_value=np.nan))
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(np.float64)
    bad = np.isnan(numbers) & ~_empty(series)
    if bad.any():
        return _as_text(variable, series, bad, issues, "numbers")
    return Column(variable, numbers)


def _as_text(
    variable: Variable, series: pd.Series, bad: np.ndarray, issues: list[Issue], what: str
) -> Column:
    example = series[bad].iloc[0]
    issues.append(
        Issue(
            "E103",
            Severity.WARNING,
            f"{variable.name}: {int(bad.sum())} answers are not {what} (e.g. '{example}'); "
            "the variable is exported as text so that nothing is lost",
            variable=variable.name,
        )
    )
    variable.kind = "string"
    variable.label_set = None
    variable.can_skip = False
    return Column(variable, _text(series))


def _dates(variable: Variable, series: pd.Series, issues: list[Issue]) -> Column:
    return _moments(variable, series, issues, chars=10, fmt="%Y-%m-%d", unit="D", what="dates")


def _datetimes(variable: Variable, series: pd.Series, issues: list[Issue]) -> Column:
    # the device's clock: drop the +08:00 offset rather than convert to UTC
    return _moments(variable, series, issues, chars=23, fmt="ISO8601", unit="ms", what="date-times")


def _moments(
    variable: Variable,
    series: pd.Series,
    issues: list[Issue],
    *,
    chars: int,
    fmt: str,
    unit: str,
    what: str,
) -> Column:
    """Dates or date-times as numbers of ``unit`` since 1970 (text cut to ``chars`` and read
    with ``fmt``); a column with unreadable values is kept as text with a warning."""
    if series.dtype.kind == "M":
        stamps = series.dt.tz_localize(None) if series.dt.tz is not None else series
    else:
        text = pd.Series(_text(series), dtype=object).str.slice(0, chars)
        stamps = pd.to_datetime(text, format=fmt, errors="coerce")
        bad = stamps.isna().to_numpy() & ~_empty(series)
        if bad.any():
            return _as_text(variable, series, bad, issues, what)
    moments = stamps.to_numpy(f"datetime64[{unit}]")
    values = moments.astype(np.int64).astype(np.float64)
    values[np.isnat(moments)] = np.nan
    return Column(variable, values)


def _times(variable: Variable, series: pd.Series, issues: list[Issue]) -> Column:
    text = pd.Series(_text(series), dtype=object).str.slice(0, 12)
    stamps = pd.to_datetime("1970-01-01T" + text, format="ISO8601", errors="coerce")
    bad = stamps.isna().to_numpy() & ~_empty(series)
    if bad.any():
        return _as_text(variable, series, bad, issues, "times")
    moments = stamps.to_numpy("datetime64[ms]")
    values = (moments.astype(np.int64) % _MS_PER_DAY).astype(np.float64)
    values[np.isnat(moments)] = np.nan
    return Column(variable, values)


def _dummy_table(raw: pd.Series) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """A select_multiple's 0/1 per choice, once per distinct answer: the rows' answer numbers
    (-1 for no answer), a table of answers x choices (its last row, for -1, all NaN; its
    last column 0, or NaN for no answer) and the choices in table order."""
    codes, uniques = _factorized(raw)
    chosen = [set(u.split()) for u in uniques]
    names = sorted({c for s in chosen for c in s})
    position = {name: i for i, name in enumerate(names)}
    table = np.zeros((len(uniques) + 1, len(names) + 1), dtype=np.float64)
    for row, picked in enumerate(chosen):
        for code in picked:
            table[row, position[code]] = 1.0
        if not picked:  # only spaces: no answer
            table[row, :] = np.nan
    table[-1, :] = np.nan  # code -1: no answer
    return codes, table, names


def _geo_part(text: pd.Series, part: str) -> np.ndarray:
    from forms.naming import GEO_PARTS

    index = GEO_PARTS.index(part)
    pieces = pd.Series(_text(text), dtype=object).str.split(expand=True)
    if index >= pieces.shape[1]:
        return np.full(len(text), np.nan)
    return pd.to_numeric(pieces[index], errors="coerce").to_numpy(np.float64)


def _mark_skipped(column: Column, not_relevant: np.ndarray) -> None:
    if not column.numeric or len(not_relevant) != len(column):
        return
    if column.codes is not None and column.table is not None:
        skipped = not_relevant & take_sparse(np.isnan(column.table), column.codes)
    else:
        skipped = not_relevant & np.isnan(column.values)
    if not skipped.any():
        return
    marks = skipped.view(np.int8) * np.int8(SKIPPED)
    if column.missing is None:
        column.missing = marks
    else:  # a don't-know or refused row has its code, never NaN: no row gets both
        column.missing += marks


def hash_values(values: np.ndarray, salt: str) -> np.ndarray:
    """Salted SHA-256 of each non-empty value (first 16 hex digits); None stays None."""
    key = salt.encode("utf-8")
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
    hashed = [
        hashlib.sha256(
            key + (_number_text(u) if isinstance(u, float) else str(u)).encode("utf-8")
        ).hexdigest()[:16]
        for u in uniques
    ]  # once per distinct value
    return np.array([*hashed, None], dtype=object).take(codes)


def new_salt() -> str:
    """A random salt for one export's PII hashes."""
    return secrets.token_hex(16)
