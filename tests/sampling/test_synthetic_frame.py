"""The bundled Qingshan frame and roster are what the committed script writes, and usable."""

from __future__ import annotations

import numpy as np
import pandas as pd

from surveys.data import FRAME_CSV, ROSTER_CSV, make_frame
from surveys.data.listing import synthetic_listing
from surveys.sampling import inclusion_probabilities


def test_committed_csvs_match_the_script(tmp_path):
    make_frame.main(tmp_path)
    assert (tmp_path / FRAME_CSV.name).read_bytes() == FRAME_CSV.read_bytes()
    assert (tmp_path / ROSTER_CSV.name).read_bytes() == ROSTER_CSV.read_bytes()


def test_frame_shape_is_realistic():
    frame = pd.read_csv(FRAME_CSV, dtype={"village_id": str, "county_id": str})
    assert frame["county_id"].nunique() == 8
    assert not frame["village_id"].duplicated().any()
    assert frame["village_id"].str.len().eq(12).all()
    assert set(frame["urban"]) == {1, 2}
    pop = frame["population"]
    assert pop.min() > 100 and pop.median() < 3000 and pop.max() > 50_000
    assert pop.skew() > 3  # lognormal-ish with a long tail
    # Each county's very large unit becomes a certainty selection at 8 PSUs per county.
    certain = 0
    for _, rows in frame.groupby("county_id"):
        certain += int((inclusion_probabilities(rows["population"], 8) >= 1).sum())
    assert certain >= 3


def test_roster_covers_every_county():
    roster = pd.read_csv(ROSTER_CSV, dtype=str)
    frame = pd.read_csv(FRAME_CSV, dtype=str)
    assert set(roster["area"]) == set(frame["county_id"])
    assert not roster["id"].duplicated().any()
    assert roster["id"].str.fullmatch(r"[A-Za-z0-9_.-]+").all()


def test_synthetic_listing_matches_household_counts():
    frame = pd.read_csv(FRAME_CSV, dtype=str).head(3).rename(columns={"village_id": "cluster"})
    listing = synthetic_listing(frame, seed=5)
    counts = listing.groupby("village_id").size()
    np.testing.assert_array_equal(counts.loc[frame["cluster"]], frame["households"].astype(int))
    assert not listing["hhid"].duplicated().any()
    again = synthetic_listing(frame, seed=5)
    pd.testing.assert_frame_equal(listing, again)
