"""Properties of calibration and raking on random samples (hypothesis, derandomized)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from weighting.design import SurveyDesign
from weighting.estimate import svy_total
from weighting.steps import calibrate, rake
from weighting.targets import Targets, margin


def sample(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "psu": rng.integers(0, max(2, n // 8), n),
            "sex": rng.choice(["F", "M"], n),
            "age": rng.choice(["young", "middle", "old"], n),
            "x": rng.uniform(1, 10, n),
            "w": rng.uniform(1, 5, n),
        }
    )


@given(seed=st.integers(0, 10_000), n=st.integers(40, 300), shift=st.floats(0.8, 1.25))
@settings(max_examples=25, deadline=None, derandomize=True)
def test_calibrated_weights_meet_their_totals(seed, n, shift):
    frame = sample(seed, n)
    if frame[["sex", "age"]].drop_duplicates().shape[0] < 6 or frame["psu"].nunique() < 2:
        return
    d = SurveyDesign.from_frame(frame, weights="w", ids="psu")
    total = d.weights.sum() * shift
    sex = margin("sex", {"F": 0.52 * total, "M": 0.48 * total})
    age = margin("age", {"young": 0.3 * total, "middle": 0.4 * total, "old": 0.3 * total})
    x_total = float(frame["x"] @ d.weights) * shift
    for distance, bounds in (("linear", (-np.inf, np.inf)), ("raking", (0.2, 5.0))):
        cal = calibrate(
            d, Targets((sex, age), {"x": x_total}), distance=distance, bounds=bounds, force=True
        )
        if not cal.history[-1].converged:
            continue
        got = {e.variable: e.estimate for e in svy_total(cal, ["sex", "age", "x"])}
        assert np.isclose(got["sex=F"], 0.52 * total, rtol=1e-6)
        assert np.isclose(got["age=old"], 0.3 * total, rtol=1e-6)
        assert np.isclose(got["x"], x_total, rtol=1e-6)
        # the Taylor SE of a calibrated total is (near) zero
        (se_x,) = [e.se for e in svy_total(cal, "x")]
        assert se_x <= 1e-6 * x_total
    raked = rake(d, [sex, age], epsilon=1e-10, maxit=200)
    got = {e.variable: e.estimate for e in svy_total(raked, ["sex", "age"])}
    assert np.isclose(got["sex=M"], 0.48 * total, rtol=1e-8)
    assert np.isclose(got["age=middle"], 0.4 * total, rtol=1e-8)
