"""Team comparison (counts it rests on), risk reasons, rho_int against R, Whipple/Myers,
sex ratio at birth intervals."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from qc_support import inputs, interviews

from validation.quality import run_quality
from validation.quality.demography import myers_index, srb_interval, whipple_index
from validation.quality.flags import share_indicator
from validation.quality.team import compare_with_team, interviewer_icc

FIXTURES = Path(__file__).parent / "fixtures"


def _night_team(night_interviews: int):
    """20 honest enumerators with 30 day interviews, one with ``night_interviews`` at 23:00."""
    who, night = [], []
    for e in range(20):
        who += [f"e{e:02d}"] * 30
        night += [False] * 30
    who += ["bad"] * night_interviews
    night += [True] * night_interviews
    who, night = np.array(who, dtype=object), np.array(night)
    indicators = share_indicator("night_share", who, night)
    interviews_per = pd.Series(who).value_counts()
    return compare_with_team(indicators, interviews_per, 10, 3.5).set_index("enumerator")


def test_five_interviews_never_flag_anyone():
    assert not _night_team(5).loc["bad", "flagged"]
    assert _night_team(5).loc["bad", "signal"] == 0
    assert _night_team(12).loc["bad", "flagged"]


def test_binomial_tail_against_the_rest_of_the_team():
    who = np.array(["a"] * 40 + ["b"] * 40 + ["c"] * 40 + ["d"] * 40, dtype=object)
    hits = np.zeros(160, dtype=bool)
    hits[:20] = True  # a: 20 of 40; the others 0 of 120
    table = compare_with_team(
        share_indicator("x", who, hits), pd.Series(who).value_counts(), 10, 3.5
    ).set_index("enumerator")
    assert table.loc["a", "flagged"] and not table.loc["b", "flagged"]
    assert table.loc["a", "team"] == 20 / 160


def test_risk_reasons_in_words():
    rows = []
    for e in range(12):
        for k in range(15):
            fast = e == 0
            rows.append(
                {
                    "e": f"e{e:02d}",
                    "hhid": f"H{e}-{k}",
                    "age": 20 + (k * 7 + e) % 40,
                    "end": "2027-07-05T10:11:00.000+08:00" if fast else None,
                }
            )
    frame = interviews(rows)
    frame["end"] = frame["end"].where(
        frame["submitter_name"] == "e00", "2027-07-05T10:40:00.000+08:00"
    )
    frame.loc[frame.index % 3 == 0, "end"] = frame["end"].where(
        frame["submitter_name"] == "e00", "2027-07-05T10:34:00.000+08:00"
    )
    report = run_quality(inputs(frame), checks=["paradata"])
    top = report.enumerators.iloc[0]
    assert top["enumerator"] == "e00" and top["flagged"]
    assert "median duration 11 min vs team 40 min (n=15)" in top["reasons_en"]
    assert "访问时长中位数 11 min，全队 40 min（n=15）" in top["reasons_zh"]
    assert report.enumerators["flagged"].sum() == 1


def test_rho_int_matches_r():
    data = pd.read_csv(FIXTURES / "icc_data.csv")
    reference = pd.read_csv(FIXTURES / "icc_r.csv").iloc[0]
    rho, deff, n, k = interviewer_icc(data["y"].to_numpy(float), data["g"].to_numpy(object))
    assert rho == pytest.approx(reference["rho"], rel=1e-9)
    assert (n, k) == (len(data), 12)
    assert deff == pytest.approx(1 + rho * (n / k - 1))


def test_rho_int_by_hand():
    rho, _, _, _ = interviewer_icc(np.array([1.0, 2, 3, 4, 5, 6]), np.array(list("AAABBB")))
    assert rho == pytest.approx((13.5 - 1) / (13.5 + 2 * 1))


def test_whipple_and_myers():
    assert whipple_index(np.arange(23, 63, dtype=float)) == 100
    assert whipple_index(np.array([25.0, 30, 35, 40, 45, 50])) == 500
    assert myers_index(np.arange(10, 90, dtype=float)) == pytest.approx(0)
    assert myers_index(np.array([20.0, 30, 40, 50, 60] * 10)) == pytest.approx(90)


def test_sex_ratio_at_birth_interval():
    srb, low, high = srb_interval(106, 100)
    assert srb == pytest.approx(106)
    assert low < 106 < high
    # Wilson interval of 106/206 boys, transformed
    p, z, n = 106 / 206, 1.959963984540054, 206
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert low == pytest.approx(100 * (centre - half) / (1 - centre + half))


def test_daughters_z_poisson_without_spread():
    from scipy import stats

    from validation.quality.demography import daughters_z

    z, predicted = daughters_z(
        np.array([20.0]), np.array([8.0]), np.array([21.0]), np.array([19.0]), 0.0
    )
    assert predicted[0] == 19.0  # no spread: the sons say nothing about the daughters
    # the mid-p value of 8 daughters against Poisson(19)
    mid_p = stats.poisson.cdf(7, 19) + 0.5 * stats.poisson.pmf(8, 19)
    assert z[0] == pytest.approx(stats.norm.ppf(mid_p))


def test_daughters_z_is_the_gamma_poisson_predictive():
    """The negative binomial tail (mid-p) equals the Poisson one integrated over the
    posterior of the enumerator's fertility factor given her sons (Gamma(k + B, k + E_b))."""
    from scipy import integrate, stats

    from validation.quality.demography import daughters_z

    tau2, sons, daughters, e_b, e_g = 0.05, 30.0, 12.0, 22.0, 20.0
    k = 1 / tau2
    posterior = stats.gamma(a=k + sons, scale=1 / (k + e_b))

    def mid_p(t):  # P(X < 12) + P(X = 12) / 2 given the fertility factor t
        return stats.poisson.cdf(daughters - 1, t * e_g) + 0.5 * stats.poisson.pmf(
            daughters, t * e_g
        )

    tail, _ = integrate.quad(lambda t: mid_p(t) * posterior.pdf(t), 0, 5, limit=200)
    z, predicted = daughters_z(
        np.array([sons]), np.array([daughters]), np.array([e_b]), np.array([e_g]), tau2
    )
    assert predicted[0] == pytest.approx(e_g * (k + sons) / (k + e_b))
    assert z[0] == pytest.approx(stats.norm.ppf(tail), rel=1e-6)


BIRTHS_MD = """
| survey |                   |           |          |
|        | type              | name      | label    |
|        | start             | start     |          |
|        | end               | end       |          |
|        | integer           | c03_age   | Age      |
|        | begin repeat      | d_hist    | Births   |
|        | select_one out    | d10_outcome | Outcome |
|        | integer           | d11_year  | Year     |
|        | integer           | d12_month | Month    |
|        | select_one sex    | d14_sex   | Sex      |
|        | end repeat        |           |          |
| choices |                  |           |          |
|        | list_name         | name      | label    |
|        | out               | 1         | Live     |
|        | out               | 3         | Miscarriage |
|        | sex               | 1         | Boy      |
|        | sex               | 2         | Girl     |
| settings |                 |           |          |
|        | form_title        | form_id   | version  |
|        | Births            | births    | 1        |
"""


def _birth_team(omitting: str, seed: int = 3, enumerators: int = 12, women: int = 40):
    """12 enumerators x 40 women (by default) aged 20-49, live births Poisson(age-dependent) with a
    sex ratio of 106; ``omitting`` leaves out 80% of her women's daughters."""
    from forms import read_markdown
    from validation.quality import QualityInputs, Roles, Thresholds

    rng = np.random.default_rng(seed)
    main, births = [], []
    for e in range(enumerators):
        for w in range(women):
            iid = f"uuid:{e:02d}-{w:02d}"
            age = int(rng.integers(20, 50))
            main.append(
                {
                    "__id": iid,
                    "instance_id": iid,
                    "submitter_name": f"e{e:02d}",
                    "start": "2027-07-05T10:00:00.000+08:00",
                    "end": "2027-07-05T10:40:00.000+08:00",
                    "c03_age": float(age),
                }
            )
            for _ in range(rng.poisson(0.05 * (age - 18))):
                girl = rng.random() < 100 / 206
                if girl and f"e{e:02d}" == omitting and rng.random() < 0.8:
                    continue
                births.append(
                    {
                        "__id": iid,
                        "d10_outcome": "1",
                        "d11_year": 2027.0 - rng.integers(0, age - 18),
                        "d12_month": 6.0,
                        "d14_sex": "2" if girl else "1",
                    }
                )
    return QualityInputs(
        form=read_markdown(BIRTHS_MD, name="births.md"),
        main=pd.DataFrame(main),
        repeats={"d_hist": pd.DataFrame(births)},
        roles=Roles(outcome="none", children_born="none"),
        thresholds=Thresholds(min_interviews=10),
    )


def test_enumerator_omitting_daughters_is_flagged_and_no_other():
    report = run_quality(_birth_team("e05"), checks=["omitted_daughters"])
    table = report.indicators[report.indicators["indicator"] == "daughters_per_woman"]
    flagged = set(table.loc[table["flagged"], "enumerator"])
    assert flagged == {"e05"}
    row = table.set_index("enumerator").loc["e05"]
    assert row["value"] < 0.5 * row["team"]  # daughters per woman vs expected
    assert (
        "live-born daughters per woman"
        in report.enumerators.set_index("enumerator").loc["e05", "reasons_en"]
    )


def test_honest_team_gives_no_omission_flags():
    for seed in range(5):
        report = run_quality(_birth_team("nobody", seed), checks=["omitted_daughters"])
        assert not report.indicators["flagged"].any()


def test_ranking_ties_are_broken_by_the_enumerator_code_whatever_the_row_order():
    from validation.quality.report import riskiest_first

    table = pd.DataFrame(
        {
            "enumerator": ["enum021", "enum009", "enum030", "enum002", "enum015"],
            "flagged": [True, True, False, True, True],
            "risk": [465.0, 465.0, 900.0, 12.5, 465.0],
        }
    )
    expected = ["enum009", "enum015", "enum021", "enum002", "enum030"]
    rng = np.random.default_rng(0)
    for _ in range(20):
        shuffled = table.iloc[rng.permutation(len(table))]
        assert riskiest_first(shuffled, ["flagged", "risk"])["enumerator"].tolist() == expected


def test_risk_table_ranks_tied_enumerators_the_same_in_any_input_order():
    """Two enumerators with identical interviews (equal risk) rank by their code, whether
    their rows come first or last, and with text columns as object or string dtype."""
    rows = []
    for e in ("zed", "amy", "bob"):
        for k in range(12):
            night = e != "bob"
            rows.append(
                {
                    "iid": f"uuid:{e}-{k:02d}",
                    "e": e,
                    "hhid": f"{e}-{k}",
                    "start": "2027-07-05T23:30:00.000+08:00" if night else None,
                    "end": "2027-07-06T00:10:00.000+08:00" if night else None,
                    "age": 30 + k,
                }
            )
    for rows_in in (rows, rows[::-1]):
        main = interviews([{k: v for k, v in r.items() if v is not None} for r in rows_in])
        for dtype in (object, "string"):
            frame = main.copy()
            frame["submitter_name"] = frame["submitter_name"].astype(dtype)
            report = run_quality(inputs(frame))
            ranking = report.enumerators
            tied = ranking[ranking["enumerator"].isin(["zed", "amy"])]
            assert tied["risk"].nunique() == 1
            assert ranking["enumerator"].tolist()[:2] == ["amy", "zed"]


def test_checks_in_a_second_process_give_the_same_report():
    """workers=2 runs the near-duplicate scan in a forked process:
    the same flags in the same order, the same ranking."""
    rows = [
        {
            "e": f"e{i % 3}",
            "hhid": f"h{i}",
            "age": 20 + i % 40,
            "worked": "1",
            "hours": 40 + 70 * (i == 5),
            "health": "1",
            "i01": "1",
            "i02": "2",
            "i03": "1",
            "i04": "2",
        }
        for i in range(60)
    ]
    one = run_quality(inputs(interviews(rows)))
    two = run_quality(inputs(interviews(rows)), workers=2)
    assert [(f.code, f.instance_id, f.message) for f in one.flags] == [
        (f.code, f.instance_id, f.message) for f in two.flags
    ]
    assert one.enumerators.drop(columns="flag_counts").equals(
        two.enumerators.drop(columns="flag_counts")
    )
    assert "near_duplicates" in two.cpu_timings


def test_births_spread_is_not_widened_by_a_few_wild_enumerators():
    """Gamma-Poisson totals with a known tau2, then five enumerators whose totals are far
    off (copied or invented interviews): the estimate stays near the truth; the plain
    moment estimate does not."""
    from validation.quality.demography import births_spread, moment_births_spread

    rng = np.random.default_rng(11)
    for tau2 in (0.0, 0.05):
        estimates, moments = [], []
        for _ in range(40):
            expected = rng.uniform(25, 45, 150)
            theta = rng.gamma(1 / tau2, tau2, 150) if tau2 else np.ones(150)
            total = rng.poisson(theta * expected).astype(float)
            total[:5] = np.array([0.0, 1.0, 150.0, 160.0, 0.0])
            women = np.full(150, 45)
            estimates.append(births_spread(total, expected, women))
            moments.append(moment_births_spread(total, expected, women))
        assert np.mean(estimates) == pytest.approx(tau2, abs=0.008)
        assert np.mean(moments) > tau2 + 0.1


def test_births_spread_without_outliers_is_the_moment_estimate():
    from validation.quality.demography import births_spread, moment_births_spread

    rng = np.random.default_rng(5)
    expected = rng.uniform(25, 45, 60)
    total = rng.poisson(rng.gamma(20, 1 / 20, 60) * expected).astype(float)
    women = np.full(60, 40)
    moment = moment_births_spread(total, expected, women)
    z = (total - expected) / np.sqrt(expected + moment * expected**2)
    if (np.abs(z) <= 3).all():  # nobody cut: the moment estimate over the truncated normal
        assert births_spread(total, expected, women) == pytest.approx(moment / 0.9733, rel=1e-3)


def test_an_omitter_below_the_flag_gets_a_needs_a_look_note():
    """40 women, two of every three daughters of e05 left out (13 -> 5): her z lies between
    the look threshold and the flag for this seed: an INFO note with the counts, no flag."""
    from validation.quality import Thresholds

    team = _birth_team("nobody", seed=1)
    births = team.repeats["d_hist"]
    girls = births.index[(births["d14_sex"] == "2") & births["__id"].str.startswith("uuid:05")]
    births = births.drop([g for i, g in enumerate(girls) if i % 3])
    inputs = dataclasses.replace(
        team, repeats={"d_hist": births}, thresholds=Thresholds(min_interviews=10)
    )
    report = run_quality(inputs, checks=["omitted_daughters"])
    row = report.indicators.set_index("enumerator").loc["e05"]
    notes = [f for f in report.flags if f.code == "Q806"]
    assert -3.5 < row["z"] <= -2.98 and not row["flagged"]
    assert [f.enumerator for f in notes] == ["e05"]
    assert notes[0].severity.value == "info" and notes[0].message.startswith("needs a look: ")
    assert notes[0].evidence["daughters"] == 5 == row["value"] * 40
    assert not report.enumerators.set_index("enumerator").loc["e05", "flagged"]


def test_omission_by_area_pools_the_enumerators_of_an_area():
    """Eight areas of three enumerators with 60 women each; in area A every enumerator
    leaves out 60% of the daughters (an area's practice): no enumerator is flagged, the area
    is."""
    team = _birth_team("nobody", seed=4, enumerators=24, women=60)
    main = team.main.copy()
    main["stratum"] = main["submitter_name"].map(lambda e: "ABCDEFGH"[int(e[1:]) // 3])
    births = team.repeats["d_hist"]
    in_a = births["__id"].str[5:7].astype(int) // 3 == 0
    rng = np.random.default_rng(0)
    births = births[~(in_a & (births["d14_sex"] == "2") & (rng.random(len(births)) < 0.6))]
    inputs = dataclasses.replace(team, main=main, repeats={"d_hist": births})
    report = run_quality(inputs, checks=["omitted_daughters"])
    assert not report.indicators["flagged"].any()
    areas = {a["area"]: a for a in report.notes["omitted_daughters"]["areas"]}
    assert set(areas) == set("ABCDEFGH") and areas["A"]["women"] == 180
    assert areas["A"]["flagged"] and not any(areas[k]["needs_a_look"] for k in "BCDEFGH")
    assert areas["A"]["daughters"] < areas["A"]["expected_daughters"]


def test_qc_prints_the_areas_that_need_a_look():
    from types import SimpleNamespace

    from surveys.cli.qc import area_lines

    area = {"women": 180, "sons": 70.0, "daughters": 30.0, "expected_daughters": 66.3}
    notes = {
        "omitted_daughters": {
            "areas": [
                {**area, "area": "41", "z": -4.2, "flagged": True, "needs_a_look": True},
                {**area, "area": "42", "z": -3.1, "flagged": False, "needs_a_look": True},
                {**area, "area": "43", "z": -1.0, "flagged": False, "needs_a_look": False},
            ]
        }
    }
    assert area_lines(SimpleNamespace(notes=notes)) == [
        "area 41: 30 daughters reported by 180 women vs 66.3 expected from their ages and the "
        "70 sons (z -4.2): flagged",
        "area 42: 30 daughters reported by 180 women vs 66.3 expected from their ages and the "
        "70 sons (z -3.1): needs a look",
    ]
    assert area_lines(None) == []
