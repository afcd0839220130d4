"""X104 compares each stored calculation with the recomputed one, pair by pair."""

from __future__ import annotations

import numpy as np

from forms.xpath.vector_checks import _same_pairs


def test_pairs_survive_any_text_and_repeat_per_distinct_pair():
    stored = np.array(["1", "2", "a\x00b", "1", "3.0"], dtype=object)
    texts = np.array(["1", "3", "a\x00b", "1", "3"], dtype=object)
    assert _same_pairs(stored, texts).tolist() == [True, False, True, True, True]
