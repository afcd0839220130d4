"""Weighting steps beyond R parity: non-response, targets, history, errors, immutability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from wsupport import load

from weighting.design import SurveyDesign
from weighting.diagnostics import effective_n, kish_deff, margin_check, weight_summary
from weighting.errors import ConvergenceError, DesignError, TargetsError, WeightingError
from weighting.steps import adjust_nonresponse, calibrate, post_stratify, rake, trim_weights
from weighting.targets import Targets, margin, read_targets, targets_from_dict


def small_frame() -> pd.DataFrame:
    # class a: 2 respondents (w 10, 20), 1 non-respondent (w 30), 1 ineligible (w 40),
    #          1 unknown (w 50); class b: 1 respondent (w 5), 1 unknown (w 5)
    return pd.DataFrame(
        {
            "cls": ["a"] * 5 + ["b"] * 2,
            "outcome": [
                "respondent",
                "respondent",
                "nonrespondent",
                "ineligible",
                "unknown",
                "respondent",
                "unknown",
            ],
            "w": [10.0, 20, 30, 40, 50, 5, 5],
            "psu": [1, 2, 3, 4, 5, 6, 7],
        }
    )


def test_nonresponse_adjustment_by_hand():
    d = SurveyDesign.from_frame(small_frame(), weights="w", ids="psu")
    out = adjust_nonresponse(d, "outcome", classes="cls")
    # class a: known = 100, unknown 50 -> factor 1.5; eligible rate 60/100, so 30 of the 50
    # go to eligibles. Respondents 30 * 1.5 = 45 carry eligibles 90 -> factor 2.
    np.testing.assert_allclose(out.weights, [10 * 1.5 * 2, 20 * 1.5 * 2, 5 * 2])
    assert out.weights.sum() == pytest.approx(90 + 10)
    kept = adjust_nonresponse(d, "outcome", classes="cls", keep="all")
    np.testing.assert_allclose(kept.weights, [30, 60, 0, 60, 0, 10, 0])
    table = out.history[-1].details["classes"]
    assert table[0]["eligibility_rate"] == pytest.approx(0.6)
    assert table[0]["response_rate"] == pytest.approx(0.5)


def test_nonresponse_without_respondents_is_an_error():
    frame = small_frame()
    frame.loc[5, "outcome"] = "nonrespondent"
    d = SurveyDesign.from_frame(frame, weights="w", ids="psu")
    with pytest.raises(WeightingError, match="class 'b'"):
        adjust_nonresponse(d, "outcome", classes="cls")


def test_nonresponse_codes_and_unknown_outcome():
    frame = small_frame()
    frame["code"] = frame["outcome"].map(
        {"respondent": 1, "nonrespondent": 2, "ineligible": 3, "unknown": 4}
    )
    d = SurveyDesign.from_frame(frame, weights="w", ids="psu")
    codes = {"respondent": 1, "nonrespondent": 2, "ineligible": 3, "unknown": 4}
    by_code = adjust_nonresponse(d, "code", classes="cls", codes=codes)
    np.testing.assert_allclose(by_code.weights, [30, 60, 10])
    frame.loc[0, "code"] = 9
    with pytest.raises(TargetsError, match="row 1"):
        adjust_nonresponse(
            SurveyDesign.from_frame(frame, weights="w", ids="psu"), "code", codes=codes
        )


def test_nonresponse_carries_replicates():
    d = SurveyDesign.from_frame(small_frame(), weights="w", ids="psu").with_replicates("JK1")
    out = adjust_nonresponse(d, "outcome", classes="cls", keep="all")
    # each replicate adjusted within its own class totals: class totals are preserved
    reps = out.replicates.weights
    before = d.replicates.weights
    cls = small_frame()["cls"].to_numpy()
    for label in ("a",):  # class b loses its only respondent in one replicate
        np.testing.assert_allclose(reps[cls == label].sum(axis=0), before[cls == label].sum(axis=0))


def test_steps_return_new_designs_and_record_history():
    d = SurveyDesign.from_frame(load("apiclus1"), ids="dnum", weights="pw", fpc="fpc")
    before = d.weights.copy()
    rk = rake(d, [margin("stype", {"E": 4421, "H": 755, "M": 1018})], epsilon=1e-9, maxit=50)
    assert rk is not d
    np.testing.assert_array_equal(d.weights, before)
    with pytest.raises(ValueError):
        rk.weights[0] = 1.0
    assert [s.method for s in rk.history] == ["design", "rake"]
    assert rk.history[-1].targets == {"stype": {"E": 4421.0, "H": 755.0, "M": 1018.0}}
    assert rk.history[-1].to_dict()["converged"] is True


def test_non_convergence_raises_unless_forced():
    d = SurveyDesign.from_frame(load("apiclus1"), ids="dnum", weights="pw")
    margins = [
        margin("stype", {"E": 4421, "H": 755, "M": 1018}),
        margin("sch.wide", {"No": 1072, "Yes": 5122}),
    ]
    with pytest.raises(ConvergenceError, match="did not converge"):
        rake(d, margins, maxit=1, epsilon=1e-12)
    forced = rake(d, margins, maxit=1, epsilon=1e-12, force=True)
    assert forced.history[-1].converged is False
    targets = Targets((margins[0],), {"api99": 3914069})
    with pytest.raises(ConvergenceError):
        calibrate(d, targets, distance="logit", bounds=(0.99, 1.01))
    assert (
        calibrate(d, targets, distance="logit", bounds=(0.99, 1.01), force=True)
        .history[-1]
        .converged
        is False
    )


def test_targets_that_do_not_match_the_sample():
    d = SurveyDesign.from_frame(load("apiclus1"), ids="dnum", weights="pw")
    with pytest.raises(TargetsError, match=r"'M'.*not in the targets"):
        post_stratify(d, margin("stype", {"E": 1, "H": 2}))
    with pytest.raises(TargetsError, match="'X' has a target but no sample"):
        post_stratify(d, margin("stype", {"E": 1, "H": 2, "M": 3, "X": 4}))
    partial = post_stratify(d, margin("stype", {"E": 1, "H": 2, "M": 3, "X": 4}), partial=True)
    assert partial.weights.sum() == pytest.approx(6)
    with pytest.raises(TargetsError, match="sums to"):
        calibrate(
            d,
            Targets(
                (margin("stype", {"E": 1, "H": 2, "M": 3}), margin("sch.wide", {"No": 1, "Yes": 1}))
            ),
        )


def test_targets_from_csv_and_dict(tmp_path):
    path = tmp_path / "targets.csv"
    path.write_text(
        "variable,level,total\nsex,F,510\nsex,M,490\nsex*agegrp,F*15-29,100\nincome,,12345\n_N,,1000\n"
    )
    t = read_targets(path)
    assert [m.name for m in t.margins] == ["sex", "sex*agegrp"]
    assert t.margins[1].totals == {("F", "15-29"): 100.0}
    assert t.totals == {"income": 12345.0} and t.population == 1000.0
    same = targets_from_dict(
        {"sex": {"F": 510, "M": 490}, ("sex", "agegrp"): {("F", "15-29"): 100}}
    )
    assert same.margins[1].totals == t.margins[1].totals
    bad = tmp_path / "bad.csv"
    bad.write_text("variable,level,total\nsex,F,lots\n")
    with pytest.raises(WeightingError, match="row 2"):
        read_targets(bad)


def test_levels_match_across_types():
    frame = pd.DataFrame({"urban": [0, 1, 1, 0], "w": [1.0, 1, 1, 1], "psu": [1, 2, 3, 4]})
    d = SurveyDesign.from_frame(frame, weights="w", ids="psu")
    ps = post_stratify(d, margin("urban", {"0": 10, "1.0": 30}))
    np.testing.assert_allclose(ps.weights, [5, 15, 15, 5])


def test_diagnostics():
    w = np.array([1.0, 1, 2, 4])
    assert kish_deff(w) == pytest.approx(4 * 22 / 64)
    assert effective_n(w) == pytest.approx(64 / 22)
    d = SurveyDesign.from_frame(load("apiclus1"), ids="dnum", weights="pw", fpc="fpc")
    summary = weight_summary(d)
    assert summary["total"] == pytest.approx(d.weights.sum())
    assert summary["kish_deff"] == pytest.approx(1.0)
    targets = Targets((margin("stype", {"E": 4421, "H": 755, "M": 1018}),))
    check = margin_check(post_stratify(d, targets.margins[0]), targets)
    assert np.allclose(check["difference"], 0, atol=1e-8)


def test_trimming_keeps_total_and_bounds():
    d = SurveyDesign.from_frame(
        load("synth"), ids="psu", strata="stratum", weights="wt", lonely_psu="adjust"
    )
    t = trim_weights(d, lower=60, upper=140, strict=True)
    assert t.weights.sum() == pytest.approx(d.weights.sum())
    assert t.weights.min() >= 60 - 1e-9 and t.weights.max() <= 140 + 1e-9


def test_design_errors_are_one_line():
    frame = load("synth")
    with pytest.raises(DesignError, match="not nested"):
        SurveyDesign.from_frame(
            frame.assign(psu="same" + frame["psu"].str[-1]),
            ids="psu",
            strata="stratum",
            weights="wt",
        )
    with pytest.raises(DesignError, match="only one primary"):
        SurveyDesign.from_frame(frame.assign(psu=1), ids="psu", weights="wt")
    with pytest.raises(DesignError, match="row 3"):
        SurveyDesign.from_frame(frame.assign(wt=frame["wt"].where(frame.index != 2)), weights="wt")
    with pytest.raises(WeightingError, match="no column 'nope'"):
        SurveyDesign.from_frame(frame, weights="nope")
    from weighting.estimate import svy_mean

    lonely = SurveyDesign.from_frame(frame, ids="psu", strata="stratum", weights="wt")
    with pytest.raises(DesignError, match="only one PSU"):
        svy_mean(lonely, "y")
