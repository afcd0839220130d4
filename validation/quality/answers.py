"""The answers of each interview as a matrix of integer codes, for comparing interviews.

Comparable variables: questions outside repeats that an enumerator answers with a choice, a
number or a date (not text, names, phone numbers, GPS, metadata or calculations; not the
unit identifier). Each column's distinct values are numbered; a missing answer is -1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forms.model import Question
from validation.quality.inputs import QualityInputs

COMPARABLE_TYPES = frozenset(
    {"select_one", "select_multiple", "integer", "decimal", "range", "date", "rank"}
)


def comparable_questions(inputs: QualityInputs) -> list[Question]:
    """The questions whose answers are compared between interviews."""
    skip = {inputs.roles.unit_id}
    return [
        q
        for q in inputs.form.questions
        if q.holds_data
        and q.repeat is None
        and q.type in COMPARABLE_TYPES
        and not q.calculation
        and q.name not in skip
        and q.name in inputs.main.columns
    ]


def answer_matrix(inputs: QualityInputs) -> tuple[np.ndarray, list[str]]:
    """(n x k int32 codes, -1 = missing; the k variable names), cached on ``inputs``."""
    if "answer_matrix" not in inputs.cache:
        names = [q.name for q in comparable_questions(inputs)]
        matrix = np.full((len(inputs.main), len(names)), -1, dtype=np.int32)
        for j, name in enumerate(names):
            matrix[:, j] = encode(inputs.main[name])
        inputs.cache["answer_matrix"] = (matrix, names)
    return inputs.cache["answer_matrix"]


def encode(series: pd.Series) -> np.ndarray:
    """Integer codes of a column's values (equal values, equal codes); missing -> -1."""
    codes, _ = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.int32)


def differing_share(matrix: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """For pairs of rows (a[i], b[i]): share of the variables answered in either that
    differ (1 - the Kuriakose-Robbins share of identical answers)."""
    return 1.0 - identical_share(matrix, a, b)


NARROW_MAX = 253
"""Columns whose codes are all <= this are compared as bytes (see :class:`PairComparer`)."""


def identical_share(
    matrix: np.ndarray, a: np.ndarray, b: np.ndarray, chunk: int = 200_000
) -> np.ndarray:
    """For pairs of rows: identical answers over variables answered in at least one of the
    two (0 when neither answered anything)."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    if 2 * len(a) < len(matrix):  # a few pairs: prepare only the rows they need
        rows, inverse = np.unique(np.concatenate([a, b]), return_inverse=True)
        return PairComparer(matrix[rows]).shares(inverse[: len(a)], inverse[len(a) :], chunk)
    return PairComparer(matrix).shares(a, b, chunk)


class PairComparer:
    """:func:`identical_share` for many pairs of one matrix, with the matrix prepared once.

    Columns with at most 254 distinct codes are compared as bytes (a quarter of the memory
    traffic of int32 codes): a missing answer is 255 on the left of a pair and 254 on the
    right, so equal bytes are always an identical ANSWER, and ``left & right >= 254``
    exactly when both are missing (a code <= 253 ANDed with anything is <= 253). Wider
    columns (numbers with many values) are compared as they are."""

    def __init__(self, matrix: np.ndarray) -> None:
        matrix = np.asarray(matrix)
        narrow = (matrix.max(axis=0, initial=-1) <= NARROW_MAX) if matrix.size else []
        narrow = np.asarray(narrow, dtype=bool)
        codes = matrix[:, narrow]
        self.left = np.where(codes >= 0, codes, 255).astype(np.uint8)
        self.right = np.where(codes >= 0, codes, 254).astype(np.uint8)
        self.wide = np.ascontiguousarray(matrix[:, ~narrow])
        self.k = matrix.shape[1] if matrix.ndim == 2 else 0

    def shares(self, a: np.ndarray, b: np.ndarray, chunk: int = 200_000) -> np.ndarray:
        """Share of identical answers of each pair (a[i], b[i])."""
        out = np.zeros(len(a), dtype=float)
        for lo in range(0, len(a), chunk):
            i, j = a[lo : lo + chunk], b[lo : lo + chunk]
            x, y = self.left[i], self.right[j]
            same = np.count_nonzero(x == y, axis=1)
            neither = np.count_nonzero((x & y) >= 254, axis=1)
            if self.wide.shape[1]:
                u, v = self.wide[i], self.wide[j]
                same += np.count_nonzero((u == v) & (u >= 0), axis=1)
                neither += np.count_nonzero((u < 0) & (v < 0), axis=1)
            union = self.k - neither
            out[lo : lo + chunk] = np.where(union > 0, same / np.maximum(union, 1), 0.0)
        return out
