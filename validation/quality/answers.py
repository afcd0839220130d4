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


def identical_share(
    matrix: np.ndarray, a: np.ndarray, b: np.ndarray, chunk: int = 200_000
) -> np.ndarray:
    """For pairs of rows: identical answers over variables answered in at least one of the
    two (0 when neither answered anything)."""
    out = np.zeros(len(a), dtype=float)
    for lo in range(0, len(a), chunk):
        x, y = matrix[a[lo : lo + chunk]], matrix[b[lo : lo + chunk]]
        either = (x >= 0) | (y >= 0)
        same = (x == y) & (x >= 0)
        union = either.sum(axis=1)
        out[lo : lo + chunk] = np.where(union > 0, same.sum(axis=1) / np.maximum(union, 1), 0.0)
    return out
