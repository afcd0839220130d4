"""Rows by key: pyarrow's look-up gives pandas' answers, and pandas' errors where it has them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from exports.keys import arrow_key_rows, key_rows

KEYS = ["uuid:1", "uuid:2", "uuid:3", "王芳"]


@pytest.mark.parametrize(
    "keys, wanted",
    [
        (pd.Index(KEYS, dtype=object), pd.Series(["uuid:3", "nope", "王芳", None, "uuid:1"])),
        (pd.Index(KEYS, dtype="str"), pd.Series(["uuid:3", np.nan], dtype="str")),
        (pd.Index(KEYS, dtype=object), np.array(["uuid:2", "uuid:2"], dtype=object)),
        (pd.Index(KEYS, dtype=object), pd.Series([], dtype=object)),
        (pd.Index([1, 2, 3]), pd.Series([3, 1, 5])),  # numbers: pandas
        (pd.Index(KEYS, dtype=object), pd.Series([1, "uuid:1"], dtype=object)),
        (pd.Index([], dtype=object), pd.Series(["a"], dtype=object)),
    ],
)
def test_rows_are_pandas_rows(keys, wanted):
    expected = keys.get_indexer(wanted)
    found = key_rows(keys, wanted)
    assert found.dtype == expected.dtype
    assert found.tolist() == expected.tolist()


def test_text_keys_go_through_pyarrow():
    keys = pd.Index([f"k{i}" for i in range(1000)], dtype=object)
    rows = arrow_key_rows(keys, pd.Series(["k999", "k0", "x"]))
    assert rows is not None and rows.tolist() == [999, 0, -1]


def test_duplicate_keys_keep_pandas_error():
    keys = pd.Index(["a", "b", "a"], dtype=object)
    assert arrow_key_rows(keys, pd.Series(["a"])) is None
    with pytest.raises(pd.errors.InvalidIndexError):
        key_rows(keys, pd.Series(["a"]))
