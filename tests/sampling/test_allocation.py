"""Allocation to strata: the formulas on hand-computed cases, bounds, rounding, errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys.sampling import AllocationError, StratumTotals, allocate

STRATA = [
    StratumTotals("A", units=40, size=600_000.0),
    StratumTotals("B", units=30, size=300_000.0),
    StratumTotals("C", units=20, size=100_000.0),
]


def test_proportional_to_total_size():
    assert allocate(STRATA, 20, "proportional", minimum=0) == {"A": 12, "B": 6, "C": 2}


def test_equal():
    assert allocate(STRATA, 21, "equal") == {"A": 7, "B": 7, "C": 7}


def test_neyman_uses_size_times_sd():
    # weights 600k*1, 300k*2, 100k*3 = 6:6:3 of 15
    alloc = allocate(STRATA, 15, "neyman", minimum=0, sd={"A": 1.0, "B": 2.0, "C": 3.0})
    assert alloc == {"A": 6, "B": 6, "C": 3}


def test_power_allocation_exponent():
    # q = 0.5: sqrt sizes 774.6, 547.7, 316.2 -> 9.455, 6.685, 3.860 -> floors 9, 6, 3 and
    # the two largest remainders (C, B) get the missing units
    assert allocate(STRATA, 20, "power", exponent=0.5, minimum=0) == {"A": 9, "B": 7, "C": 4}
    assert allocate(STRATA, 20, "power", exponent=1.0, minimum=0) == allocate(
        STRATA, 20, "proportional", minimum=0
    )
    assert allocate(STRATA, 21, "power", exponent=0.0) == allocate(STRATA, 21, "equal")


def test_minimum_per_stratum_takes_from_the_others():
    alloc = allocate(STRATA, 20, "proportional", minimum=4)
    assert alloc["C"] == 4
    assert sum(alloc.values()) == 20
    assert alloc["A"] > alloc["B"] > alloc["C"] - 1


def test_capped_at_the_number_of_units():
    small = [StratumTotals("big", 100, 1e6), StratumTotals("tiny", 3, 9e6)]
    assert allocate(small, 10, "proportional") == {"big": 7, "tiny": 3}


def test_fixed_allocation():
    fixed = {"A": 5, "B": 4, "C": 2}
    assert allocate(STRATA, 0, "fixed", fixed=fixed) == fixed


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 91}, "sample of 91 units is larger than the frame (90 units)"),
        ({"n": 5, "minimum": 2}, "cannot give 2 to each of 3 strata"),
        (
            {"n": 5, "method": "fixed", "fixed": {"A": 1, "B": 1, "C": 1, "Z": 2}},
            "unknown stratum 'Z'",
        ),
        ({"n": 5, "method": "fixed", "fixed": {"A": 1, "B": 1}}, "no sample size for stratum 'C'"),
        (
            {"n": 5, "method": "fixed", "fixed": {"A": 1, "B": 1, "C": 21}},
            "stratum 'C': sample of 21",
        ),
        (
            {"n": 9, "method": "neyman", "sd": {"A": 1, "B": 1}},
            "standard deviation for stratum 'C'",
        ),
        (
            {"n": 9, "method": "neyman", "sd": {"A": 1, "B": 1, "C": 1, "Q": 1}},
            "unknown stratum 'Q'",
        ),
        ({"n": 9, "method": "optimal"}, "unknown allocation 'optimal'"),
    ],
)
def test_errors_name_the_problem(kwargs, message):
    n = kwargs.pop("n")
    method = kwargs.pop("method", "proportional")
    with pytest.raises(AllocationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        allocate(STRATA, n, method, **kwargs)


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(
        st.tuples(st.integers(1, 60), st.floats(1, 1e7, allow_nan=False)), min_size=1, max_size=12
    ),
    method=st.sampled_from(["proportional", "equal", "power"]),
    minimum=st.integers(0, 3),
    data=st.data(),
)
def test_total_and_bounds_always_hold(sizes, method, minimum, data):
    strata = [StratumTotals(f"s{k}", u, x) for k, (u, x) in enumerate(sizes)]
    floor = sum(min(minimum, s.units) for s in strata)
    n = data.draw(st.integers(floor, sum(s.units for s in strata)))
    alloc = allocate(strata, n, method, minimum=minimum)
    assert sum(alloc.values()) == n
    for s in strata:
        assert min(minimum, s.units) <= alloc[s.name] <= s.units
