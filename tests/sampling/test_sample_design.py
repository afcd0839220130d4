"""Drawing a whole design on the bundled Qingshan frame: probabilities, households, seeds."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from surveys.data import FRAME_CSV
from surveys.data.listing import synthetic_listing
from surveys.sampling import (
    HouseholdDesign,
    PersonDesign,
    SampleDesign,
    StageDesign,
    draw_sample,
    inclusion_probabilities,
    load_frame,
    read_sample,
    write_sample,
)
from surveys.sampling.households import select_households
from surveys.sampling.persons import (
    KISH_TABLES,
    assign_kish_tables,
    kish_member,
    kish_probability,
    random_member,
)

DESIGN = SampleDesign(
    frame=FRAME_CSV,
    strata="county_id",
    size="population",
    n=64,
    stages=(StageDesign("village_id", "systematic_pps", sort_by=("township_id", "village_id")),),
    seed=20270701,
    households=HouseholdDesign(per_psu=15, reserve=3),
    persons=PersonDesign("kish"),
)


@pytest.fixture(scope="module")
def frame():
    return load_frame(DESIGN)


@pytest.fixture(scope="module")
def drawn(frame):
    clusters = draw_sample(DESIGN, frame).clusters
    listing = synthetic_listing(clusters, seed=1)
    return draw_sample(DESIGN, frame, listing)


def test_probabilities_sum_to_n_in_every_stratum(drawn):
    sums = drawn.psu_probabilities.groupby("stratum")["pi"].sum()
    wanted = drawn.allocation.set_index("stratum")["n"]
    np.testing.assert_allclose(sums.loc[wanted.index], wanted, atol=1e-9)
    selected = drawn.psu_probabilities.groupby("stratum")["selected"].sum()
    assert (selected.loc[wanted.index] == wanted).all()
    assert drawn.allocation["n"].sum() == 64


def test_bundled_frame_has_certainty_selections(drawn):
    probs = drawn.psu_probabilities
    certain = probs[probs["certainty"]]
    assert len(certain) >= 2
    assert certain["selected"].all()
    assert (certain["size"] > 50_000).all()


def test_probabilities_match_an_independent_computation(frame, drawn):
    for stratum, rows in frame.data.groupby("county_id"):
        n = int(drawn.allocation.set_index("stratum").loc[stratum, "n"])
        expected = inclusion_probabilities(rows["population"].to_numpy(), n)
        got = drawn.psu_probabilities.query("stratum == @stratum").set_index("psu")["pi"]
        np.testing.assert_allclose(got.loc[rows["village_id"]].to_numpy(), expected)


def test_household_probabilities_and_reserves(drawn):
    hh = drawn.households
    main = hh[hh["role"] == "main"]
    assert (main.groupby("cluster").size() == 15).all()
    assert (hh[hh["role"] == "reserve"].groupby("cluster").size() == 3).all()
    assert not hh["hhid"].duplicated().any()
    np.testing.assert_allclose(main["pi_within"], 15 / main["listed"])
    np.testing.assert_allclose(main["pi_household"], main["pi_cluster"] * main["pi_within"])
    assert set(hh["kish_table"]) <= set(KISH_TABLES)


def test_random_person_selection_numbers(frame, drawn):
    design = dataclasses.replace(DESIGN, persons=PersonDesign("random"))
    hh = draw_sample(design, frame, synthetic_listing(drawn.clusters, seed=1)).households
    assert hh["random_number"].between(0, 1).all() and (hh["kish_table"] == "").all()
    assert hh["random_number"].nunique() > len(hh) * 0.9


def test_same_seed_same_sample_other_seed_other_sample(frame, drawn):
    again = draw_sample(DESIGN, frame, synthetic_listing(drawn.clusters, seed=1))
    pd.testing.assert_frame_equal(again.households, drawn.households)
    other = draw_sample(dataclasses.replace(DESIGN, seed=1), frame)
    assert set(other.clusters["cluster"]) != set(drawn.clusters["cluster"])


def test_joint_probabilities_of_selected_psus(drawn):
    joint = drawn.joint
    for stratum, rows in joint.groupby("stratum"):
        n = int(drawn.allocation.set_index("stratum").loc[stratum, "n"])
        assert len(rows) == n * n
        diagonal = rows[rows["psu_i"] == rows["psu_j"]]
        pi = drawn.psu_probabilities.set_index("psu").loc[diagonal["psu_i"], "pi"]
        np.testing.assert_allclose(diagonal["pi_ij"].to_numpy(), pi.to_numpy())


def test_two_area_stages_multiply_probabilities(frame):
    design = dataclasses.replace(
        DESIGN,
        n=16,
        stages=(
            StageDesign("township_id", "sampford"),
            StageDesign("village_id", "systematic_pps", per_unit=2),
        ),
    )
    drawn = draw_sample(design, frame)
    clusters = drawn.clusters
    assert (clusters.groupby("psu").size() == 2).all()
    assert len(clusters) == 32
    for psu, rows in clusters.groupby("psu"):
        villages = frame.data[frame.data["township_id"] == psu]
        pi = inclusion_probabilities(villages["population"].to_numpy(), 2)
        expected = dict(zip(villages["village_id"], pi, strict=True))
        np.testing.assert_allclose(rows["pi_stage2"], rows["cluster"].map(expected))
    np.testing.assert_allclose(
        clusters["pi_cluster"], clusters["pi_stage1"] * clusters["pi_stage2"]
    )


def test_write_and_read_back(tmp_path, drawn):
    target = write_sample(drawn, DESIGN, tmp_path / "sample")
    back, meta = read_sample(target)
    assert meta["design"]["seed"] == 20270701
    assert len(meta["frame_sha256"]) == 64
    assert back.households["hhid"].tolist() == drawn.households["hhid"].tolist()
    np.testing.assert_allclose(back.clusters["pi_cluster"], drawn.clusters["pi_cluster"])
    # Writing again replaces the old sample in place.
    write_sample(drawn, DESIGN, target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample"]


@pytest.mark.parametrize("method", ["systematic", "srs"])
def test_households_equal_probability_m_over_m(method):
    rng = np.random.default_rng(42)
    listed, take, reps = 23, 6, 10_000
    counts = np.zeros(listed)
    reserve_counts = np.zeros(listed)
    for _ in range(reps):
        main, spare = select_households(listed, take, 4, method, rng)
        assert len(set(main)) == take and not set(main) & set(spare) and len(spare) == 4
        counts[main] += 1
        reserve_counts[spare] += 1
    p = take / listed
    se = np.sqrt(p * (1 - p) / reps)
    assert np.all(np.abs(counts / reps - p) <= 3 * se)
    q = 4 / listed
    assert np.all(np.abs(reserve_counts / reps - q) <= 3 * np.sqrt(q * (1 - q) / reps))


def test_short_listing_takes_everyone():
    main, spare = select_households(5, 8, 2, "systematic", np.random.default_rng(0))
    assert main.tolist() == [0, 1, 2, 3, 4] and spare.size == 0


def test_kish_grid_probabilities():
    assert sum(share for share, _ in KISH_TABLES.values()) == pytest.approx(1)
    for eligible in range(1, 9):
        lines = range(1, eligible + 1)
        assert sum(kish_probability(k, eligible) for k in lines) == pytest.approx(1)
        if eligible in (1, 2, 3, 4, 6):
            for k in lines:
                assert kish_probability(k, eligible) == pytest.approx(1 / eligible)
    assert kish_member("F", 9) == 6 and kish_member("A", 4) == 1
    tables = assign_kish_tables(12_000, np.random.default_rng(1))
    share_a = tables.count("A") / len(tables)
    assert abs(share_a - 1 / 6) <= 3 * np.sqrt(1 / 6 * 5 / 6 / len(tables))


def test_random_member_is_uniform():
    u = np.random.default_rng(3).random(30_000)
    chosen = np.array([random_member(x, 4) for x in u])
    freq = np.bincount(chosen, minlength=5)[1:] / u.size
    assert np.all(np.abs(freq - 0.25) <= 3 * np.sqrt(0.25 * 0.75 / u.size))
