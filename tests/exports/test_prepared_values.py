"""The prepared values' shortcuts give what the plain per-row operations give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exports.values import (
    DONT_KNOW,
    REFUSED,
    SKIPPED,
    Column,
    _mark_skipped,
    _text,
    take_sparse,
)


@pytest.mark.parametrize("dtype", [np.int8, np.int16])
@pytest.mark.parametrize("hits", [[], [3], [0, 5, 11], list(range(12))])
def test_sparse_take_is_a_take(dtype, hits):
    rng = np.random.default_rng(7)
    codes = rng.integers(-1, 11, 5000).astype(dtype)  # -1: no answer, the table's last entry
    reasons = np.zeros(12, dtype=np.int8)
    reasons[hits] = rng.integers(1, 4, len(hits))
    flags = reasons > 0
    assert np.array_equal(take_sparse(reasons, codes), reasons.take(codes))
    assert take_sparse(reasons, codes).dtype == np.int8
    assert np.array_equal(take_sparse(flags, codes), flags.take(codes))


def test_text_missing_is_none_and_numbers_text():
    values = pd.Series(["a", None, pd.NA, np.nan, pd.NaT, 3, 2.5, ""], dtype=object)
    assert _text(values).tolist() == ["a", None, None, None, None, "3", "2.5", ""]
    assert _text(pd.Series(["x", None, "王芳"], dtype=object)).tolist() == ["x", None, "王芳"]
    assert _text(pd.Series(["x", None], dtype="string")).tolist() == ["x", None]


def test_skipped_marks_join_the_reasons():
    codes = np.array([0, 1, -1, -1, 2, 0], dtype=np.int8)
    table = np.array([1.0, 98.0, 99.0, np.nan])
    reasons = np.array([0, DONT_KNOW, REFUSED, 0], dtype=np.int8)
    column = Column(None, None, take_sparse(reasons, codes), codes=codes, table=table)  # type: ignore[arg-type]
    not_relevant = np.array([False, True, True, False, True, True])
    _mark_skipped(column, not_relevant)
    # a skipped row is one with no answer where the question was not asked
    assert column.missing.tolist() == [0, DONT_KNOW, SKIPPED, 0, REFUSED, 0]
