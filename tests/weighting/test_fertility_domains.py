"""Fertility rates by domain and the sex ratio at birth from a DHS IR-layout file, against R.

Fixtures: tests/fixtures/r/fertility/ (make_fixtures.R): DHS.rates' algorithm written out in
plain R at full precision, DHS.rates::fert() itself (rounded to 3 decimals by the package)
and survey::svyciprop for the share of boys.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from weighting.design import SurveyDesign
from weighting.errors import DataFileError
from weighting.fertility import (
    births_from_ir,
    fertility_by_domain,
    fertility_rates,
    no_birth_notes,
    women_from_ir,
)
from weighting.indicators import sex_ratio_at_birth

FIXTURES = Path(__file__).parents[1] / "fixtures" / "r" / "fertility"


@pytest.fixture(scope="module")
def ir() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "ir_domains.csv")


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    table = pd.read_csv(FIXTURES / "rates_by_domain.csv", dtype={"by": str})
    table["by"] = table["by"].fillna("")
    return table


@pytest.mark.parametrize("by", ["v025", "v024"])
def test_domain_rates_and_jackknife_within_domain_equal_r(ir, reference, by):
    got = fertility_by_domain(women_from_ir(ir), ir[by])
    expected = reference[reference["by"] == by]
    assert len(got) == len(expected)
    for domain, rows in expected.groupby("domain"):
        mine = got[got["domain"] == str(int(domain))].set_index("indicator")
        theirs = rows.set_index("indicator").loc[mine.index]
        np.testing.assert_allclose(mine["estimate"], theirs["estimate"], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(mine["se"], theirs["se"], rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(mine["deff"], theirs["deff"].astype(float), rtol=1e-9)
        assert (mine["clusters"] == theirs["clusters"]).all()


def test_national_rates_equal_r(ir, reference):
    got = fertility_rates(women_from_ir(ir)).set_index("indicator")
    theirs = reference[reference["by"] == ""].set_index("indicator").loc[got.index]
    np.testing.assert_allclose(got["estimate"], theirs["estimate"], rtol=1e-10)
    np.testing.assert_allclose(got["se"], theirs["se"], rtol=1e-10)
    np.testing.assert_allclose(got["deff"], theirs["deff"].astype(float), rtol=1e-9)


def test_dhs_rates_fert_with_class_agrees_to_its_rounding(ir):
    path = FIXTURES / "dhs_rates_fert.csv"
    if not path.exists():
        pytest.skip("DHS.rates was not installed when the fixtures were made")
    fert = pd.read_csv(path)
    got = fertility_by_domain(women_from_ir(ir), ir["v025"]).set_index(["indicator", "domain"])
    for row in fert.itertuples():
        mine = got.loc[(row.indicator, str(row.domain))]
        scale = 1000 if row.indicator == "GFR" else 1  # DHS.rates gives GFR per 1,000
        assert abs(scale * mine["estimate"] - row.estimate) <= 5e-4 + 1e-12
        if row.indicator == "TFR":  # DHS.rates' GFR SE is linearised, not the jackknife
            assert abs(mine["se"] - row.se) <= 5e-4 + 1e-12


def test_gfr_counts_births_to_women_45_49_over_woman_years_15_44(ir):
    rates = fertility_rates(women_from_ir(ir)).set_index("indicator")
    woman_years_15_44 = rates.loc[[f"ASFR {a}-{a + 4}" for a in range(15, 45, 5)], "exposure"]
    assert rates.loc["GFR", "births"] == pytest.approx(rates.loc["TFR", "births"])
    assert rates.loc["GFR", "estimate"] == pytest.approx(
        rates.loc["TFR", "births"] / woman_years_15_44.sum(), rel=1e-12
    )


def _births_design(ir: pd.DataFrame) -> SurveyDesign:
    births = births_from_ir(ir).merge(
        ir[["v025"]].reset_index(names="woman"), on="woman", how="left"
    )
    return SurveyDesign.from_frame(
        births, weights="weight", ids="v021", strata="v022", lonely_psu="adjust"
    )


def test_sex_ratio_at_birth_from_the_ir_layout_equals_r(ir):
    srb = pd.read_csv(FIXTURES / "srb.csv", dtype={"by": str, "domain": str})
    srb["by"] = srb["by"].fillna("")
    design = _births_design(ir)
    cases = [("", None), ("v025", "v025"), ("order", "birth_order")]
    for by, column in cases:
        got = sex_ratio_at_birth(design, "b4", male=1, female=2, by=column)
        expected = srb[srb["by"] == by].reset_index(drop=True)
        assert len(got) == len(expected)
        for e, row in zip(got, expected.itertuples(), strict=True):
            if column:
                assert str(e.domain).removesuffix(".0") == str(row.domain).strip()
            assert e.estimate == pytest.approx(row.srb, rel=1e-10)
            # R's svyciprop fits a glm for the interval: converged to about 1e-9
            assert e.ci_low == pytest.approx(row.srb_low, rel=1e-7)
            assert e.ci_high == pytest.approx(row.srb_high, rel=1e-7)
            assert e.se == pytest.approx(100 * row.se_p / (1 - row.p) ** 2, rel=1e-9)


def test_ir_without_sex_columns_is_a_clear_error(ir):
    with pytest.raises(DataFileError, match="b4_01"):
        births_from_ir(ir.drop(columns=[c for c in ir.columns if c.startswith("b4_")]))


def test_an_age_group_without_births_says_so():
    table = pd.DataFrame({"births": [0.0, 3.0, 0.0], "exposure": [10.0, 5.0, 0.0]})
    notes = no_birth_notes(table)
    assert notes[0].startswith("no births") and notes[1] == ""
    assert notes[2].startswith("no exposure")


def test_estimate_fertility_by_domain_on_the_command_line(ir, tmp_path):
    from click.testing import CliRunner

    from surveys.cli import main

    out = tmp_path / "rates.csv"
    args = ["estimate", str(FIXTURES / "ir_domains.csv"), "--fertility", "--by", "v025"]
    result = CliRunner().invoke(main, [*args, "--where", "v024=2", "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out, dtype={"domain": str})
    subset = ir[ir["v024"] == 2].reset_index(drop=True)
    expected = fertility_by_domain(women_from_ir(subset), subset["v025"])
    rates = table[~table["indicator"].str.startswith("SRB")].reset_index(drop=True)
    np.testing.assert_allclose(rates["estimate"], expected["estimate"], rtol=1e-12)
    np.testing.assert_allclose(rates["se"], expected["se"], rtol=1e-12)
    assert list(rates["domain"]) == list(expected["domain"])
    srb = table[table["indicator"].str.startswith("SRB")]
    assert set(srb["indicator"]) == {
        "SRB",
        "SRB birth order 1",
        "SRB birth order 2",
        "SRB birth order 3+",
    }
    assert set(srb["domain"]) == {"1", "2"}


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--weights", "v005"], "--weights: not used with --fertility"),
        (["--mean", "v011"], "--mean: not used with --fertility"),
        (["--replicates", "JK1"], "--replicates: not used with --fertility"),
        (["--by", "nowhere"], "--by nowhere: no such column"),
        (["--where", "v024=9"], "no row matches"),
    ],
)
def test_options_fertility_does_not_use_are_errors(extra, message):
    from click.testing import CliRunner

    from surveys.cli import main

    args = ["estimate", str(FIXTURES / "ir_domains.csv"), "--fertility", *extra]
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0 and message in result.output, result.output
