"""First-order inclusion probabilities against R's sampling::inclusionprobabilities()."""

from __future__ import annotations

import numpy as np
import pytest

from surveys.sampling import DesignError, inclusion_probabilities
from surveys.sampling.probabilities import certainty_mask


@pytest.mark.parametrize("case", ["flat", "skewed", "two_rounds"])
def test_matches_r_inclusionprobabilities(r_inclusion, case):
    rows = r_inclusion[r_inclusion["case"] == case]
    n = int(rows["n"].iloc[0])
    pi = inclusion_probabilities(rows["size"].to_numpy(), n)
    np.testing.assert_allclose(pi, rows["pik"].to_numpy(), rtol=0, atol=1e-12)
    assert pi.sum() == pytest.approx(n, abs=1e-9)


def test_certainty_units_are_removed_repeatedly():
    sizes = [1000, 900, 50, 40, 30, 20, 20, 15, 10, 5, 5, 5]
    pi = inclusion_probabilities(sizes, 4)
    # Removing the first unit raises the second's share above 1: two rounds.
    assert list(certainty_mask(pi)) == [True, True] + [False] * 10
    rest = np.array(sizes[2:], dtype=float)
    np.testing.assert_allclose(pi[2:], 2 * rest / rest.sum())


@pytest.mark.parametrize(
    ("sizes", "n"), [([1, 0, 2], 1), ([1, -1, 2], 1), ([1, 2], 3), ([1, float("nan")], 1)]
)
def test_bad_sizes_are_refused(sizes, n):
    with pytest.raises(DesignError):
        inclusion_probabilities(sizes, n)
