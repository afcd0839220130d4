"""The survey-wide near-duplicate scan finds exactly the pairs an all-pairs scan finds."""

from __future__ import annotations

import numpy as np
import pytest

from validation.quality.answers import identical_share
from validation.quality.near_duplicates import block_plan, exact_scan, scan


def _survey(n=3000, k=60, copies=300, seed=7):
    """Answers of ``n`` interviews (some skipped questions), plus copies of random
    interviews with 0-12 answers changed (near-duplicates on both sides of 85%)."""
    rng = np.random.default_rng(seed)
    levels = rng.integers(2, 7, k)
    matrix = (rng.random((n, k)) * levels).astype(np.int32)
    matrix[rng.random((n, k)) < 0.15] = -1  # skipped
    source = rng.integers(0, n, copies)
    copied = matrix[source].copy()
    for row in range(copies):
        changed = rng.choice(k, int(rng.integers(0, 13)), replace=False)
        copied[row, changed] = (copied[row, changed] + 1) % levels[changed]
    return np.concatenate([matrix, copied])


@pytest.mark.parametrize("threshold", [0.85, 0.9, 0.75])
def test_recall_is_one_against_all_pairs(threshold):
    matrix = _survey()
    expected = {tuple(p) for p in exact_scan(matrix, threshold).tolist()}
    found = scan(matrix, threshold)
    assert {tuple(p) for p in found.pairs.tolist()} == expected
    assert len(expected) > 50  # the fixture has pairs on both sides of the threshold
    assert found.candidates < len(matrix) * (len(matrix) - 1) / 2 / 20  # far below all pairs


def test_worst_case_pair_differing_in_the_most_variables_allowed():
    """D = floor((1 - t) K) differences placed anywhere are still found."""
    rng = np.random.default_rng(3)
    k, threshold = 50, 0.85
    d, _ = block_plan(k, threshold)
    base = (rng.random((400, k)) * 5).astype(np.int32)
    for trial in range(20):
        twin = base[trial].copy()
        spots = rng.choice(k, d, replace=False)
        twin[spots] = (twin[spots] + 1) % 5
        matrix = np.concatenate([base, twin[None, :]])
        share = identical_share(matrix, np.array([trial]), np.array([400]))[0]
        assert share >= threshold
        pairs = {tuple(p) for p in scan(matrix, threshold, seed=trial).pairs.tolist()}
        assert (trial, 400) in pairs


def test_best_match_is_exact_above_the_threshold():
    matrix = _survey(n=500, copies=50)
    found = scan(matrix, 0.85)
    pairs = exact_scan(matrix, 0.85)
    for a, b in pairs.tolist():
        share = identical_share(matrix, np.array([a]), np.array([b]))[0]
        assert found.best_share[a] >= share - 1e-12 and found.best_share[b] >= share - 1e-12


def test_mostly_empty_records_are_not_compared_by_the_check():
    from qc_support import inputs, interviews

    from validation.quality.near_duplicates import near_duplicates

    # two refusals with nothing but consent: identical, but not interviews
    frame = interviews([{"a07_consent": "2"}, {"a07_consent": "2"}])
    assert not near_duplicates(inputs(frame)).flags


@pytest.mark.parametrize("threshold", [0.85, 0.75])
def test_focus_scan_finds_every_pair_with_a_new_interview(threshold):
    """An incremental scan (the new interviews against all) finds exactly the all-pairs
    scan's pairs that have a new interview in them, with their exact best matches."""
    matrix = _survey(n=1500, copies=200)
    rng = np.random.default_rng(3)
    focus = rng.random(len(matrix)) < 0.1
    expected = {
        tuple(p) for p in exact_scan(matrix, threshold).tolist() if focus[p[0]] or focus[p[1]]
    }
    found = scan(matrix, threshold, focus=focus)
    assert expected and {tuple(p) for p in found.pairs.tolist()} == expected
    assert len(found.pairs) == len(expected)  # each pair once
    for a, b in expected:
        share = identical_share(matrix, np.array([a]), np.array([b]))[0]
        assert found.best_share[a] >= share - 1e-12 and found.best_share[b] >= share - 1e-12


def test_no_candidate_pair_at_all():
    """Interviews that share no block (all different) give no pair and no best match."""
    matrix = np.arange(8 * 40, dtype=np.int32).reshape(8, 40)
    found = scan(matrix, 0.85)
    assert len(found.pairs) == 0 and (found.best_match == -1).all()
