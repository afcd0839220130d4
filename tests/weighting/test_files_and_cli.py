"""Designs from CSV, .dta, .sav, Parquet and XLSX files; the `weight` and `estimate` commands."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from wsupport import FIXTURES, assert_close, load, read_expected

from surveys.cli import main
from weighting.design import SurveyDesign
from weighting.errors import DataFileError
from weighting.estimate import svy_mean
from weighting.replicates import hadamard, make_replicates


def write(frame: pd.DataFrame, path) -> None:
    suffix = path.suffix
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    elif suffix == ".dta":
        frame.to_stata(path, write_index=False)
    elif suffix == ".sav":
        import pyreadstat

        pyreadstat.write_sav(frame, str(path))
    elif suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_excel(path, index=False)


@pytest.mark.parametrize("suffix", [".csv", ".dta", ".sav", ".parquet", ".xlsx"])
def test_design_from_any_file_gives_rs_numbers(tmp_path, suffix):
    if suffix == ".parquet" and importlib.util.find_spec("pyarrow") is None:
        pytest.skip("Parquet needs pyarrow (not installed)")
    frame = load("apiclus1")[["dnum", "pw", "fpc", "api00", "stype"]]
    path = tmp_path / f"clus1{suffix}"
    write(frame, path)
    d = SurveyDesign.from_file(path, ids="dnum", weights="pw", fpc="fpc")
    (m,) = svy_mean(d, "api00")
    ref = read_expected()["dclus1_mean_api00"]
    assert_close([m.estimate, m.se], [ref["estimate"], ref["se"]])


def test_unreadable_files_are_one_line_errors(tmp_path):
    with pytest.raises(DataFileError, match="no such file"):
        SurveyDesign.from_file(tmp_path / "missing.csv", weights="w")
    with pytest.raises(DataFileError, match="unknown data file type"):
        SurveyDesign.from_file(tmp_path / "x.json", weights="w")
    broken = tmp_path / "broken.dta"
    broken.write_bytes(b"not stata")
    with pytest.raises(DataFileError, match="cannot read as stata"):
        SurveyDesign.from_file(broken, weights="w")


def test_hadamard_matrices_are_orthogonal():
    for size in (2, 4, 5, 8, 12, 13, 20, 24, 31, 44):
        h = hadamard(size)
        order = h.shape[0]
        assert order >= size
        np.testing.assert_array_equal(h @ h.T, order * np.eye(order))


def test_bootstrap_replicates_resample_psus_within_strata():
    d = SurveyDesign.from_frame(load("apistrat"), strata="stype", weights="pw")
    reps = make_replicates(d, "bootstrap", replicates=30, seed=1)
    again = make_replicates(d, "bootstrap", replicates=30, seed=1)
    np.testing.assert_array_equal(reps.weights, again.weights)
    counts = reps.weights / d.weights[:, None]
    strata = d.data["stype"].to_numpy()
    for s in np.unique(strata):
        n = np.sum(strata == s)
        np.testing.assert_allclose(counts[strata == s].sum(axis=0), n)  # n draws per stratum
    sub = make_replicates(d, "subbootstrap", replicates=30, seed=1)
    subcounts = sub.weights / d.weights[:, None]
    for s in np.unique(strata):
        n = np.sum(strata == s)
        np.testing.assert_allclose(subcounts[strata == s].sum(axis=0), n)  # (n-1) draws x n/(n-1)
    # with many replicates the bootstrap variance of a mean approaches the linearised one
    big = d.with_replicates("bootstrap", replicates=2000, seed=3)
    (boot,) = svy_mean(big, "api00")
    (taylor,) = svy_mean(d, "api00")
    assert boot.se == pytest.approx(taylor.se, rel=0.1)


def test_weight_command_writes_weighted_data(tmp_path):
    targets = tmp_path / "targets.csv"
    targets.write_text(
        "variable,level,total\nstype,E,4421\nstype,H,755\nstype,M,1018\nsch.wide,No,1072\nsch.wide,Yes,5122\n"
    )
    out = tmp_path / "weighted.xlsx"
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "weight",
            str(FIXTURES / "apiclus1.csv"),
            "--weights",
            "pw",
            "--ids",
            "dnum",
            "--fpc",
            "fpc",
            "--rake",
            str(targets),
            "--trim",
            "0",
            "80",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Margins: achieved against target" in result.output
    weighted = pd.read_excel(out, sheet_name="data")
    assert weighted["final_weight"].sum() == pytest.approx(6194)
    assert weighted.groupby("stype")["final_weight"].sum().to_dict() == pytest.approx(
        {"E": 4421, "H": 755, "M": 1018}
    )
    history = pd.read_excel(out, sheet_name="history")
    assert list(history["method"]) == ["design", "rake", "trim"]
    est = tmp_path / "estimates.csv"
    result = runner.invoke(
        main,
        [
            "estimate",
            str(out),
            "--weights",
            "final_weight",
            "--ids",
            "dnum",
            "--mean",
            "api00",
            "--proportion",
            "sch.wide=Yes",
            "--ratio",
            "api.stu/enroll",
            "--by",
            "stype",
            "-o",
            str(est),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(est)
    assert set(table["statistic"]) == {"mean", "proportion", "ratio"}
    assert len(table) == 9


def test_estimate_command_matches_r(tmp_path):
    out = tmp_path / "est.csv"
    result = CliRunner().invoke(
        main,
        [
            "estimate",
            str(FIXTURES / "apistrat.csv"),
            "--weights",
            "pw",
            "--strata",
            "stype",
            "--fpc",
            "fpc",
            "--mean",
            "api00",
            "--total",
            "enroll",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    ref = read_expected()
    assert_close(table["se"], [ref["dstrat_mean_api00"]["se"], ref["dstrat_total_enroll"]["se"]])


def test_commands_fail_in_one_line_and_write_nothing(tmp_path):
    out = tmp_path / "w.csv"
    bad_targets = tmp_path / "t.csv"
    bad_targets.write_text("variable,level,total\nstype,E,4421\nstype,H,755\n")
    result = CliRunner().invoke(
        main,
        [
            "weight",
            str(FIXTURES / "apiclus1.csv"),
            "--weights",
            "pw",
            "--ids",
            "dnum",
            "--rake",
            str(bad_targets),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "margin 'stype': level 'M'" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists() and list(tmp_path.iterdir()) == [bad_targets]
    result = CliRunner().invoke(
        main, ["estimate", str(FIXTURES / "apiclus1.csv"), "--weights", "nope", "--mean", "api00"]
    )
    assert result.exit_code == 1 and "no column 'nope'" in result.output


def test_estimate_fertility_from_an_ir_file(tmp_path):
    frame = pd.DataFrame(
        {
            "v005": [1_000_000, 2_000_000, 1_000_000, 1_500_000],
            "v008": [1400, 1400, 1401, 1402],
            "v011": [1094, 1040, 1100, 1000],
            "v021": [1, 2, 3, 3],
            "v022": [1, 1, 1, 1],
            "b3_01": [1399, 1370, 1390, np.nan],
            "b3_02": [1380, np.nan, np.nan, np.nan],
        }
    )
    path = tmp_path / "ir.dta"
    frame.to_stata(path, write_index=False)
    out = tmp_path / "fert.xlsx"
    result = CliRunner().invoke(main, ["estimate", str(path), "--fertility", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "TFR" in result.output
    assert "TFR" in set(pd.read_excel(out)["indicator"])


def test_estimate_where_is_a_domain(tmp_path):
    out = tmp_path / "est.csv"
    result = CliRunner().invoke(
        main,
        [
            "estimate",
            str(FIXTURES / "apiclus1.csv"),
            "--weights",
            "pw",
            "--ids",
            "dnum",
            "--fpc",
            "fpc",
            "--mean",
            "api00",
            "--where",
            "stype=E",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    ref = read_expected()["dclus1_by_mean"]
    assert_close(
        pd.read_csv(out)[["estimate", "se"]].to_numpy()[0], [ref["estimate"][0], ref["se"][0]]
    )
