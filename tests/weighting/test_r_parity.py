"""Weights, estimates and standard errors equal R's survey package (fixtures from R).

The reference numbers come from tests/fixtures/r/weighting/make_fixtures.R, run on R's own
``api`` data and on a synthetic stratified cluster sample; R is not needed here.
"""

from __future__ import annotations

import numpy as np
import pytest
from wsupport import assert_close, load, read_expected

from weighting.design import SurveyDesign
from weighting.estimate import svy_mean, svy_proportion, svy_quantile, svy_ratio, svy_total
from weighting.replicates import _sylvester
from weighting.steps import calibrate, post_stratify, rake, trim_weights
from weighting.targets import Targets, margin

POP_TYPES = margin("stype", {"E": 4421, "H": 755, "M": 1018})
POP_SCHWIDE = margin("sch.wide", {"No": 1072, "Yes": 5122})
API_TARGETS = Targets((POP_TYPES,), {"api99": 3914069})
BOUNDS = {"linear": (-np.inf, np.inf), "raking": (0.5, 2.2), "logit": (0.5, 2.2)}


def api_designs() -> dict[str, SurveyDesign]:
    """The designs of R's help pages: stratified, one-stage and two-stage cluster samples."""
    strat, clus1, clus2 = load("apistrat"), load("apiclus1"), load("apiclus2")
    return {
        "dstrat": SurveyDesign.from_frame(strat, strata="stype", weights="pw", fpc="fpc"),
        "dclus1": SurveyDesign.from_frame(clus1, ids="dnum", weights="pw", fpc="fpc"),
        "dclus2": SurveyDesign.from_frame(clus2, ids=["dnum", "snum"], fpc=["fpc1", "fpc2"]),
        "dclus1_nofpc": SurveyDesign.from_frame(clus1, ids="dnum", weights="pw"),
    }


DESIGNS = api_designs()


def clus1() -> SurveyDesign:
    return DESIGNS["dclus1"]


def check(estimates, ref, *, fields=("estimate", "se"), rel=1e-8):
    for name in fields:
        assert_close([getattr(e, name) for e in estimates], np.atleast_1d(ref[name]), rel)


# ---------------------------------------------------------------------- Taylor linearisation
@pytest.mark.parametrize("name", list(DESIGNS))
def test_taylor_estimates_equal_r(name, expected):
    d = DESIGNS[name]
    assert_close(d.weights, expected[f"{name}_weights"])
    check(svy_mean(d, "api00"), expected[f"{name}_mean_api00"], fields=("estimate", "se", "deff"))
    check(
        svy_total(d, "enroll"), expected[f"{name}_total_enroll"], fields=("estimate", "se", "deff")
    )
    check(svy_ratio(d, "api.stu", "enroll"), expected[f"{name}_ratio"])
    check(
        svy_quantile(d, "api00", [0.25, 0.5, 0.75]),
        expected[f"{name}_quantile"],
        fields=("estimate", "se", "ci_low", "ci_high"),
    )
    check(svy_mean(d, "stype"), expected[f"{name}_mean_stype"], rel=1e-7)
    check(svy_mean(d, "api00", subset=d.data["meals"] > 50), expected[f"{name}_subset_mean"])


@pytest.mark.parametrize("name", list(DESIGNS))
def test_domains_equal_svyby(name, expected):
    d = DESIGNS[name]
    by_mean = svy_mean(d, "api00", by="stype")
    assert [e.domain for e in by_mean] == expected[f"{name}_by_mean"]["level"]
    check(by_mean, expected[f"{name}_by_mean"])
    check(svy_total(d, "enroll", by="stype"), expected[f"{name}_by_total"])
    check(svy_proportion(d, "sch.wide", "Yes", by="stype"), expected[f"{name}_by_ciprop"])


@pytest.mark.parametrize("name", list(DESIGNS))
def test_logit_interval_equals_svyciprop(name, expected):
    (p,) = svy_proportion(DESIGNS[name], "sch.wide", "Yes")
    ref = expected[f"{name}_ciprop"]
    # R's point estimate comes from glm's IRLS, converged to about 1e-10
    assert_close([p.estimate, p.se, p.ci_low, p.ci_high], [ref["estimate"], ref["se"], *ref["ci"]])
    assert p.df == expected["df"].get(name, p.df)


# ---------------------------------------------------------------------- weighting steps
def test_post_stratify_equals_r(expected):
    ps = post_stratify(clus1(), POP_TYPES)
    assert_close(ps.weights, expected["ps_weights"])
    check(svy_mean(ps, "api00"), expected["ps_mean"])
    check(svy_total(ps, "enroll"), expected["ps_total"])
    check(svy_mean(ps, "api00", by="sch.wide"), expected["ps_by"])


def test_rake_equals_r(expected):
    rk = rake(clus1(), [POP_TYPES, POP_SCHWIDE])
    assert_close(rk.weights, expected["rake_weights"])
    check(svy_mean(rk, "api00"), expected["rake_mean"])
    check(svy_total(rk, "enroll"), expected["rake_total"])
    check(svy_ratio(rk, "api.stu", "enroll"), expected["rake_ratio"])
    (p,) = svy_proportion(rk, "comp.imp", "Yes")
    assert_close(
        [p.se, p.ci_low, p.ci_high], [expected["rake_ciprop"]["se"], *expected["rake_ciprop"]["ci"]]
    )
    step = rk.history[-1]
    assert step.method == "rake" and step.converged and step.iterations >= 2


@pytest.mark.parametrize("distance", ["linear", "raking", "logit"])
def test_calibrate_equals_r(distance, expected):
    cal = calibrate(clus1(), API_TARGETS, distance=distance, bounds=BOUNDS[distance])
    assert_close(cal.weights, expected[f"cal_{distance}_weights"])
    check(svy_mean(cal, "api00"), expected[f"cal_{distance}_mean"])
    check(svy_total(cal, "enroll"), expected[f"cal_{distance}_total"])
    check(svy_mean(cal, "api00", by="stype"), expected[f"cal_{distance}_by"])
    lower, upper = BOUNDS[distance]
    g = cal.weights / clus1().weights
    assert g.min() >= lower - 1e-12 and g.max() <= upper + 1e-12


def test_bounded_linear_calibration_equals_r(expected):
    cal = calibrate(clus1(), API_TARGETS, distance="linear", bounds=(0.7, 1.7))
    assert_close(cal.weights, expected["cal_linear_bounded_weights"])
    check(svy_mean(cal, "api00"), expected["cal_linear_bounded_mean"])


def test_trim_weights_equals_r(expected):
    cal = calibrate(clus1(), API_TARGETS)
    trimmed = trim_weights(cal, lower=32, upper=40)
    assert_close(trimmed.weights, expected["trim_weights"])
    check(svy_mean(trimmed, "api00"), expected["trim_mean"])
    strict = trim_weights(cal, upper=36.5, strict=True)
    assert_close(strict.weights, expected["trim_strict_weights"])
    assert strict.weights.max() <= 36.5 + 1e-9
    assert strict.weights.sum() == pytest.approx(cal.weights.sum(), rel=1e-12)


# ---------------------------------------------------------------------- replicate designs
def replicate_designs() -> dict[str, SurveyDesign]:
    strat_boot, clus1_sub = load("apistrat_boot"), load("apiclus1_subboot")
    expected = read_expected()

    def given(frame, kind, scale):
        cols = [c for c in frame.columns if c.startswith("repw_")]
        return SurveyDesign.from_replicate_weights(
            frame, weights="pw", replicate_weights=cols, kind=kind, scale=scale
        )

    return {
        "jk1": clus1().with_replicates("JK1"),
        "jkn": DESIGNS["dstrat"].with_replicates("JKn"),
        "boot": given(strat_boot, "bootstrap", expected["boot_scale"]),
        "subboot": given(clus1_sub, "subbootstrap", expected["subboot_scale"]),
    }


REPLICATED = replicate_designs()


def same_columns(actual: np.ndarray, reference_columns: list) -> None:
    """Replicate weight matrices agree up to the order of the replicates."""
    ref = np.asarray(reference_columns, dtype=float).T
    assert actual.shape == ref.shape
    a = actual[:, np.lexsort(actual)]
    r = ref[:, np.lexsort(ref)]
    assert np.max(np.abs(a - r)) <= 1e-8 * np.max(np.abs(r))


def test_jackknife_weights_equal_r(expected):
    same_columns(REPLICATED["jk1"].replicates.weights, expected["jk1_repweights"])
    same_columns(REPLICATED["jkn"].replicates.weights, expected["jkn_repweights"])


@pytest.mark.parametrize("name", list(REPLICATED))
def test_replicate_estimates_equal_r(name, expected):
    d = REPLICATED[name]
    check(svy_mean(d, "api00"), expected[f"{name}_mean"], fields=("estimate", "se", "deff"))
    check(svy_total(d, "enroll"), expected[f"{name}_total"])
    check(svy_ratio(d, "api.stu", "enroll"), expected[f"{name}_ratio"])
    check(svy_mean(d, "api00", by="stype"), expected[f"{name}_by"])
    check(svy_quantile(d, "api00", [0.5]), expected[f"{name}_quantile"], fields=("estimate", "se"))
    (p,) = svy_proportion(d, "sch.wide", "Yes")
    ref = expected[f"{name}_ciprop"]
    assert_close([p.se, p.ci_low, p.ci_high], [ref["se"], *ref["ci"]])
    assert p.df == expected[f"{name}_df"]


def test_rake_and_post_stratify_carry_replicates_as_r(expected):
    rk = rake(REPLICATED["jk1"], [POP_TYPES, POP_SCHWIDE])
    assert_close(rk.weights, expected["jk1_rake_weights"])
    same_columns(rk.replicates.weights, expected["jk1_rake_repweights"])
    check(svy_mean(rk, "api00"), expected["jk1_rake_mean"])
    ps = post_stratify(REPLICATED["jk1"], POP_TYPES)
    same_columns(ps.replicates.weights, expected["jk1_ps_repweights"])
    check(svy_mean(ps, "api00"), expected["jk1_ps_mean"])


@pytest.mark.parametrize("distance", ["linear", "raking", "logit"])
def test_calibrate_carries_replicates_as_r(distance, expected):
    cal = calibrate(REPLICATED["jk1"], API_TARGETS, distance=distance, bounds=BOUNDS[distance])
    same_columns(cal.replicates.weights, expected[f"jk1_cal_{distance}_repweights"])
    check(svy_mean(cal, "api00"), expected[f"jk1_cal_{distance}_mean"])
    check(svy_total(cal, "enroll"), expected[f"jk1_cal_{distance}_total"])


@pytest.mark.parametrize(
    ("name", "options"), [("brr", {"kind": "BRR"}), ("fay", {"kind": "Fay", "fay_rho": 0.3})]
)
def test_brr_and_fay_equal_r(name, options, expected):
    base = SurveyDesign.from_frame(load("synth_pairs"), ids="psu", strata="stratum", weights="wt")
    d = base.with_replicates(hadamard_matrix=_sylvester(8), **options)
    assert_close(d.replicates.weights, np.asarray(expected[f"{name}_repweights"]).T)
    check(svy_mean(d, "y"), expected[f"{name}_mean"])
    check(svy_total(d, "x"), expected[f"{name}_total"])
    check(svy_ratio(d, "y", "x"), expected[f"{name}_ratio"])
    check(svy_mean(d, "y", by="sex"), expected[f"{name}_by"])
    (p,) = svy_proportion(d, "use", 1)
    ref = expected[f"{name}_ciprop"]
    assert_close([p.se, p.ci_low, p.ci_high], [ref["se"], *ref["ci"]])


# ---------------------------------------------------------------------- synthetic sample
@pytest.mark.parametrize("lonely", ["adjust", "average", "remove", "certainty"])
def test_lonely_psu_rules_equal_r(lonely, expected):
    d = SurveyDesign.from_frame(
        load("synth"), ids="psu", strata="stratum", weights="wt", lonely_psu=lonely
    )
    check(svy_mean(d, "y"), expected[f"synth_{lonely}_mean"], fields=("estimate", "se", "deff"))
    check(svy_total(d, "x"), expected[f"synth_{lonely}_total"], fields=("estimate", "se", "deff"))
    check(svy_mean(d, "y", by="agegrp"), expected[f"synth_{lonely}_by"])
    check(svy_ratio(d, "y", "x"), expected[f"synth_{lonely}_ratio"])


@pytest.mark.parametrize("lonely", ["adjust", "average", "remove"])
def test_jkn_lonely_psu_rules_equal_r(lonely, expected):
    d = SurveyDesign.from_frame(
        load("synth"), ids="psu", strata="stratum", weights="wt", lonely_psu=lonely
    ).with_replicates("JKn")
    check(svy_mean(d, "y"), expected[f"synth_jkn_{lonely}_mean"])
    check(svy_mean(d, "y", by="agegrp"), expected[f"synth_jkn_{lonely}_by"])


def synth_fpc() -> SurveyDesign:
    return SurveyDesign.from_frame(
        load("synth"), ids="psu", strata="stratum", weights="wt", fpc="N_psu", lonely_psu="adjust"
    )


N = 60000
SYNTH_MARGINS = [
    margin("sex", {"F": 0.51 * N, "M": 0.49 * N}),
    margin("agegrp", {"15-29": 0.3 * N, "30-44": 0.28 * N, "45-59": 0.24 * N, "60+": 0.18 * N}),
    margin("urban", {0: 0.45 * N, 1: 0.55 * N}),
]


def test_synthetic_fpc_design_equals_r(expected):
    d = synth_fpc()
    check(svy_mean(d, "y"), expected["synth_fpc_mean"], fields=("estimate", "se", "deff"))
    (p,) = svy_proportion(d, "use", 1)
    ref = expected["synth_fpc_ciprop"]
    assert_close([p.estimate, p.se, p.ci_low, p.ci_high], [ref["estimate"], ref["se"], *ref["ci"]])
    check(svy_proportion(d, "use", 1, by="sex"), expected["synth_fpc_by_ciprop"])
    check(
        svy_quantile(d, "y", [0.1, 0.5, 0.9]),
        expected["synth_fpc_quantile"],
        fields=("estimate", "se", "ci_low", "ci_high"),
    )


def test_synthetic_rake_and_crossed_post_stratification_equal_r(expected):
    d = synth_fpc()
    rk = rake(d, SYNTH_MARGINS, maxit=100, epsilon=1e-10)
    assert_close(rk.weights, expected["synth_rake_weights"])
    check(svy_mean(rk, "y"), expected["synth_rake_mean"])
    check(svy_mean(rk, "y", by="stratum"), expected["synth_rake_by"])
    shares = [0.16, 0.14, 0.14, 0.14, 0.12, 0.12, 0.09, 0.09]
    cells = [(s, a) for a in ("15-29", "30-44", "45-59", "60+") for s in ("F", "M")]
    ps = post_stratify(
        d,
        margin(("sex", "agegrp"), {c: round(N * v, 2) for c, v in zip(cells, shares, strict=True)}),
    )
    assert_close(ps.weights, expected["synth_ps_weights"])
    check(svy_mean(ps, "y"), expected["synth_ps_mean"])


@pytest.mark.parametrize("distance", ["linear", "raking", "logit"])
def test_synthetic_calibration_equals_r(distance, expected):
    targets = Targets(tuple(SYNTH_MARGINS[:2]), {"urban": 0.55 * N})
    bounds = (-np.inf, np.inf) if distance == "linear" else (0.3, 3)
    cal = calibrate(synth_fpc(), targets, distance=distance, bounds=bounds)
    assert_close(cal.weights, expected[f"synth_cal_{distance}_weights"])
    check(svy_mean(cal, "y"), expected[f"synth_cal_{distance}_mean"])
    check(svy_ratio(cal, "y", "x"), expected[f"synth_cal_{distance}_ratio"])


def test_category_totals_and_domain_quantiles_equal_r(expected):
    check(
        svy_total(clus1(), "stype"),
        expected["dclus1_total_stype"],
        fields=("estimate", "se", "deff"),
    )
    for name in ("dclus1", "dclus2"):
        by = svy_quantile(DESIGNS[name], "api00", [0.5], by="stype")
        assert [e.domain for e in by] == expected[f"{name}_by_quantile"]["level"]
        check(by, expected[f"{name}_by_quantile"])
