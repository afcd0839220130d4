"""Estimates from stored raked weights: the raking recorded again (``as_raked``) gives R's
SEs of the raked design, with and without the first-stage fpc.

R's reference: tests/fixtures/r/weighting/stored_calibration.R (the synthetic stratified
cluster sample raked to sex, age group and urban margins; its raked weights are what a
weighting run stores). Treating the stored weights as fixed design weights gives R's SEs of
``svydesign(weights = ~raked)`` instead, which differ (a total's SE by a factor of about 3).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from wsupport import FIXTURES, assert_close, load

from weighting.design import RakingRecord, SurveyDesign
from weighting.estimate import svy_mean, svy_proportion, svy_ratio, svy_total
from weighting.steps import as_raked, rake, trim_weights
from weighting.targets import margin

N = 60000
MARGINS = [
    margin("sex", {"F": 0.51 * N, "M": 0.49 * N}),
    margin("agegrp", {"15-29": 0.3 * N, "30-44": 0.28 * N, "45-59": 0.24 * N, "60+": 0.18 * N}),
    margin("urban", {0: 0.45 * N, 1: 0.55 * N}),
]


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "stored_calibration.csv", keep_default_na=False)


def stored(fpc: bool) -> SurveyDesign:
    """The synthetic sample with R's raked weights as a weighting run stores them."""
    data = load("synth")
    data["final"] = pd.read_csv(FIXTURES / "stored_calibration_weights.csv")[
        "raked_fpc" if fpc else "raked_nofpc"
    ]
    return SurveyDesign.from_frame(
        data,
        weights="final",
        ids="psu",
        strata="stratum",
        fpc="N_psu" if fpc else None,
        lonely_psu="adjust",
    )


def estimates(design: SurveyDesign) -> dict[str, list]:
    return {
        "mean_y": svy_mean(design, "y"),
        "total_x": svy_total(design, "x"),
        "mean_use": svy_mean(design, "use"),
        "ratio_y_x": svy_ratio(design, "y", "x"),
        "by_stratum_mean_y": svy_mean(design, "y", by="stratum"),
        "by_sex_mean_y": svy_mean(design, "y", by="sex"),
    }


def check(design: SurveyDesign, expected: pd.DataFrame, rel: float) -> None:
    for statistic, found in estimates(design).items():
        ref = expected[expected["statistic"] == statistic]
        assert len(found) == len(ref), statistic
        assert_close([e.estimate for e in found], ref["estimate"], 1e-10)
        # atol: stratum S10's single PSU (lonely, "adjust") gives a domain SE of ~1e-15
        np.testing.assert_allclose([e.se for e in found], ref["se"], rtol=rel, atol=1e-12)


@pytest.mark.parametrize("fpc", [False, True], ids=["nofpc", "fpc"])
def test_stored_raked_weights_with_the_raking_recorded_give_r_raked_ses(fpc, reference):
    design = as_raked(stored(fpc), MARGINS)
    expected = reference[
        (reference["design"] == ("fpc" if fpc else "nofpc")) & (reference["weights"] == "raked")
    ]
    check(design, expected, 1e-8)
    assert design.history[-1].method == "rake (recorded)"
    assert design.history[-1].details["largest_margin_gap"] < 1e-10
    np.testing.assert_array_equal(design.weights, stored(fpc).weights)  # weights kept


@pytest.mark.parametrize("fpc", [False, True], ids=["nofpc", "fpc"])
def test_stored_weights_taken_as_fixed_give_r_fixed_weight_ses(fpc, reference):
    expected = reference[
        (reference["design"] == ("fpc" if fpc else "nofpc")) & (reference["weights"] == "fixed")
    ]
    check(stored(fpc), expected, 1e-10)


def test_recorded_raking_equals_the_raking_done_here():
    data = load("synth")
    base = SurveyDesign.from_frame(
        data, weights="wt", ids="psu", strata="stratum", lonely_psu="adjust"
    )
    raked = rake(base, MARGINS, epsilon=1e-12, maxit=200)
    again = SurveyDesign.from_frame(
        data.assign(final=raked.weights),
        weights="final",
        ids="psu",
        strata="stratum",
        lonely_psu="adjust",
    )
    recorded = as_raked(again, MARGINS)
    for a, b in zip(estimates(raked).values(), estimates(recorded).values(), strict=True):
        assert_close([e.se for e in a], [e.se for e in b], 1e-9)
    assert isinstance(recorded.adjustments[-1], RakingRecord)


def test_trimmed_weights_report_their_gap_to_the_margins():
    data = load("synth")
    base = SurveyDesign.from_frame(
        data, weights="wt", ids="psu", strata="stratum", lonely_psu="adjust"
    )
    raked = rake(base, MARGINS, epsilon=1e-12, maxit=200)
    trimmed = trim_weights(raked, upper=float(np.quantile(raked.weights, 0.9)))
    again = SurveyDesign.from_frame(
        data.assign(final=trimmed.weights),
        weights="final",
        ids="psu",
        strata="stratum",
        lonely_psu="adjust",
    )
    recorded = as_raked(again, MARGINS)
    assert recorded.history[-1].details["largest_margin_gap"] > 1e-6
    np.testing.assert_array_equal(recorded.weights, trimmed.weights)


def births_of(design: SurveyDesign) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per birth (boys first) and the row of its mother in ``design``."""
    counts = pd.read_csv(FIXTURES / "stored_calibration_births.csv")
    mother = np.repeat(np.arange(design.n), counts["births"].to_numpy())
    first = np.cumsum(counts["births"].to_numpy()) - counts["births"].to_numpy()
    rank = np.arange(len(mother)) - first[mother]
    sex = np.where(rank < counts["boys"].to_numpy()[mother], "M", "F")
    births = pd.DataFrame({"sex": sex, "psu": design.data["psu"].to_numpy()[mother]})
    births["stratum"] = design.data["stratum"].to_numpy()[mother]
    return births, mother


@pytest.mark.parametrize("fpc", [False, True], ids=["nofpc", "fpc"])
@pytest.mark.parametrize("weights", ["raked", "fixed"])
def test_births_nested_in_their_mothers_take_the_mothers_design(fpc, weights, reference):
    """The share of boys among births, each birth in its mother's row: R's svyratio of boys
    to births on the mothers' design (raked, or with the raked weights fixed)."""
    mothers = stored(fpc)
    if weights == "raked":
        mothers = as_raked(mothers, MARGINS)
    births, mother = births_of(mothers)
    nested = SurveyDesign.nested(mothers, births, mother)
    (found,) = svy_proportion(nested, "sex", "M")
    ref = reference[
        (reference["design"] == ("fpc" if fpc else "nofpc"))
        & (reference["weights"] == weights)
        & (reference["statistic"] == "share_boys")
    ].iloc[0]
    assert found.estimate == pytest.approx(float(ref["estimate"]), rel=1e-12)
    assert found.se == pytest.approx(float(ref["se"]), rel=1e-8)


def test_nested_births_without_calibration_equal_a_births_design():
    """Without calibration, and with births in every PSU, the nested design gives the SEs of
    a design declared on the births themselves (what R's svydesign on a births file gives)."""
    mothers = stored(fpc=False)
    births, mother = births_of(mothers)
    assert set(births["psu"]) == set(mothers.data["psu"])
    nested = SurveyDesign.nested(mothers, births, mother)
    declared = SurveyDesign.from_frame(
        births.assign(w=mothers.weights[mother]),
        weights="w",
        ids="psu",
        strata="stratum",
        lonely_psu="adjust",
    )
    for a, b in zip(
        svy_proportion(nested, "sex", "M"), svy_proportion(declared, "sex", "M"), strict=True
    ):
        assert (a.estimate, a.ci_low, a.ci_high) == pytest.approx((b.estimate, b.ci_low, b.ci_high))
        assert a.se == pytest.approx(b.se, rel=1e-12)
