"""Selection methods: fixed size, certainty units, inclusion and joint probabilities.

Empirical frequencies over 10,000 seeded replicate draws (vectorised) are compared with the
computed probabilities within 3 standard errors; exact joint probabilities are compared with
R's sampling::UPsampfordpi2 / UPsystematicpi2 (fixtures) and, for Sampford, with an
independent implementation of Sampford's original rejective procedure.
"""

from __future__ import annotations

import numpy as np
import pytest

from surveys.sampling import METHODS, inclusion_probabilities, sampford, systematic

REPLICATES = 10_000
SIZES = np.array([5200, 40, 310, 95, 880, 60, 150, 2200, 75, 130, 410, 900], dtype=float)


def within_three_se(observed: np.ndarray, expected: np.ndarray, replicates: int) -> None:
    """Assert |observed - expected| <= 3 SE of a binomial proportion (SE floor for p≈0, 1)."""
    se = np.sqrt(np.clip(expected * (1 - expected), 1e-12, None) / replicates)
    excess = np.abs(observed - expected) - 3 * se
    assert np.all(excess <= 1e-12), (observed, expected, excess.max())


@pytest.mark.parametrize("method", ["systematic_pps", "sampford", "srs"])
@pytest.mark.parametrize("n", [2, 5])
def test_empirical_inclusion_frequencies(method, n):
    chosen_method = METHODS[method]
    pi = chosen_method.probabilities(SIZES, n)
    draws = chosen_method.draw_many(pi, np.random.default_rng(2027 + n), REPLICATES)
    assert np.all(draws.sum(axis=1) == n)
    assert pi.sum() == pytest.approx(n)
    within_three_se(draws.mean(axis=0), pi, REPLICATES)


@pytest.mark.parametrize("method", ["systematic_pps", "sampford"])
def test_certainty_units_always_selected(method):
    pi = inclusion_probabilities(SIZES, 5)
    certain = pi >= 1
    assert certain.sum() == 2  # 5200 and 2200 exceed the interval
    draws = METHODS[method].draw_many(pi, np.random.default_rng(7), REPLICATES)
    assert draws[:, certain].all()


@pytest.mark.parametrize("method", ["systematic_pps", "sampford", "srs"])
def test_empirical_joint_frequencies(method):
    chosen_method = METHODS[method]
    pi = chosen_method.probabilities(SIZES, 5)
    joint = chosen_method.joint(pi)
    draws = chosen_method.draw_many(pi, np.random.default_rng(99), REPLICATES)
    pairs = (draws[:, :, None] & draws[:, None, :]).mean(axis=0)
    within_three_se(pairs, joint, REPLICATES)


@pytest.mark.parametrize("method", ["systematic_pps", "sampford", "srs"])
def test_joint_rows_sum_to_n_minus_one_times_pi(method):
    chosen_method = METHODS[method]
    for n in (2, 3, 5):
        pi = chosen_method.probabilities(SIZES, n)
        joint = chosen_method.joint(pi)
        off_diagonal = joint.sum(axis=1) - np.diag(joint)
        np.testing.assert_allclose(off_diagonal, (n - 1) * pi, atol=1e-10)
        np.testing.assert_allclose(joint, joint.T, atol=1e-12)


def test_sampford_joint_matches_r_upsampfordpi2(r_joint):
    for case, (pik, expected) in r_joint("upsampfordpi2.csv").items():
        computed = sampford.joint_probabilities(pik)
        np.testing.assert_allclose(computed, expected, rtol=1e-9, atol=1e-12, err_msg=case)


def test_sampford_joint_for_a_subset_matches_the_full_matrix(r_joint):
    pik, expected = r_joint("upsampfordpi2.csv")["n4"]
    units = np.array([7, 1, 10, 4])
    sub = sampford.joint_probabilities(pik, units)
    np.testing.assert_allclose(sub, expected[np.ix_(units, units)], rtol=1e-9)


def test_systematic_joint_matches_r_upsystematicpi2(r_joint):
    for case, (pik, expected) in r_joint("upsystematicpi2.csv").items():
        computed = systematic.joint_probabilities(pik)
        np.testing.assert_allclose(computed, expected, atol=1e-12, err_msg=case)


def rejective_sampford(pi: np.ndarray, rng: np.random.Generator, replicates: int) -> np.ndarray:
    """Sampford's (1967) procedure as published: draw 1 unit with p = pi/n, then n-1 with
    replacement with p proportional to pi/(1-pi); start again unless all are distinct."""
    n = round(pi.sum())
    first = np.cumsum(pi / n)
    rest = np.cumsum(pi / (1 - pi))
    rest /= rest[-1]
    out = np.zeros((replicates, pi.size), dtype=bool)
    pending = np.arange(replicates)
    while pending.size:
        a = np.searchsorted(first, rng.random(pending.size) * first[-1], side="right")
        b = np.searchsorted(rest, rng.random((pending.size, n - 1)), side="right")
        units = np.column_stack([a, b])
        units = np.minimum(units, pi.size - 1)
        ordered = np.sort(units, axis=1)
        distinct = np.all(ordered[:, 1:] != ordered[:, :-1], axis=1)
        accepted = pending[distinct]
        rows = np.repeat(accepted, n)
        out[rows, units[distinct].ravel()] = True
        pending = pending[~distinct]
    return out


def test_exact_sampler_agrees_with_sampfords_rejective_procedure(r_joint):
    pik, joint = r_joint("upsampfordpi2.csv")["n3"]
    reference = rejective_sampford(pik, np.random.default_rng(11), REPLICATES)
    assert np.all(reference.sum(axis=1) == 3)
    pairs = (reference[:, :, None] & reference[:, None, :]).mean(axis=0)
    within_three_se(pairs, sampford.joint_probabilities(pik), REPLICATES)
    within_three_se(pairs, joint, REPLICATES)


def test_sampford_joint_is_stable_for_a_large_stratum():
    sizes = np.random.default_rng(3).lognormal(7, 0.6, size=400)
    pi = inclusion_probabilities(sizes, 40)
    chosen = np.flatnonzero(sampford.draw_many(pi, np.random.default_rng(4), 1)[0])
    joint = sampford.joint_probabilities(pi, chosen)
    assert np.all(np.isfinite(joint)) and np.all(joint > 0)
    off = joint - np.diag(np.diag(joint))
    # Sen-Yates-Grundy needs pi_i pi_j - pi_ij > 0 for stable variance estimates.
    pip = np.outer(pi[chosen], pi[chosen])
    assert np.all((pip - off)[~np.eye(chosen.size, dtype=bool)] > 0)


def test_same_seed_same_sample():
    pi = inclusion_probabilities(SIZES, 4)
    for method in METHODS.values():
        first = method.draw(pi, np.random.default_rng(5))
        again = method.draw(pi, np.random.default_rng(5))
        np.testing.assert_array_equal(first, again)
