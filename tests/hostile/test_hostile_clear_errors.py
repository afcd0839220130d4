"""Clear errors instead of tracebacks (issue #12, items 10-12): all-zero weights, a malformed
``__system``, a lonely PSU named by its stratum, a ``--db`` in a folder that does not exist,
and no empty store left behind by a failed first import."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from surveys.cli import main

WEIGHTING = Path(__file__).resolve().parents[1] / "fixtures" / "r" / "weighting"


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line_error(result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert message in lines[0], lines[0]


# -- 10. all weights zero; __system that is not an object ------------------------------------
@pytest.fixture
def zero_weights(tmp_path) -> Path:
    data = pd.read_csv(WEIGHTING / "apiclus1.csv")
    data["pw"] = 0
    path = tmp_path / "zero.csv"
    data.to_csv(path, index=False)
    return path


def test_estimate_with_all_weights_zero_is_one_line(zero_weights):
    result = run("estimate", zero_weights, "--weights", "pw", "--ids", "dnum", "--mean", "api00")
    one_line_error(result, "every weight 'pw' is zero")


def test_weight_with_all_weights_zero_is_one_line(zero_weights, tmp_path):
    out = tmp_path / "w.csv"
    result = run("weight", zero_weights, "--weights", "pw", "--ids", "dnum", "-o", out)
    one_line_error(result, "every weight 'pw' is zero")
    assert not out.exists()


def test_a_system_list_in_an_imported_record_is_one_line(tmp_path):
    folder = tmp_path / "pages" / "hh"
    folder.mkdir(parents=True)
    record = {"__id": "uuid:1", "meta": {"instanceID": "uuid:1"}, "__system": [1, 2]}
    (folder / "page-0001.json").write_text(json.dumps({"value": [record]}))
    result = run("import", tmp_path, "--db", tmp_path / "s.db")
    one_line_error(result, "page-0001.json: record 0 (uuid:1): __system is list, not an object")


# -- 11. a lonely PSU is named by its stratum's value and the option -------------------------
@pytest.mark.parametrize("replicates", [[], ["--replicates", "JKn"]])
def test_a_lonely_psu_names_the_stratum_and_the_option(tmp_path, replicates):
    data = pd.read_csv(WEIGHTING / "apistrat.csv")
    data = data.drop(data[data["stype"] == "H"].index[1:])
    path = tmp_path / "lonely.csv"
    data.to_csv(path, index=False)
    args = ["estimate", path, "--weights", "pw", "--strata", "stype", "--ids", "snum"]
    result = run(*args, "--mean", "api00", *replicates)
    one_line_error(result, "stratum stype = 'H' has only one PSU")
    assert "--lonely-psu" in result.output and "stratum 0" not in result.output
    adjusted = run(*args, "--mean", "api00", "--lonely-psu", "adjust", *replicates)
    assert adjusted.exit_code == 0, adjusted.output


# -- 12. --db in a missing folder; a failed first import leaves no store ----------------------
def test_a_db_in_a_folder_that_does_not_exist_is_refused(tmp_path):
    folder = tmp_path / "pages" / "hh"
    folder.mkdir(parents=True)
    record = {"__id": "uuid:1", "meta": {"instanceID": "uuid:1"}}
    (folder / "page-0001.json").write_text(json.dumps({"value": [record]}))
    db = tmp_path / "typo" / "store.db"
    result = run("import", tmp_path, "--db", db)
    one_line_error(result, f"no such folder {tmp_path / 'typo'}")
    assert not (tmp_path / "typo").exists()


def test_a_failed_first_import_leaves_no_empty_store(tmp_path):
    folder = tmp_path / "src" / "pages" / "hh"
    folder.mkdir(parents=True)
    (folder / "page-0001.json").write_text('{"value": [{"__id": "uuid:1"}, {"__id": ')
    db = tmp_path / "store.db"
    result = run("import", tmp_path / "src", "--db", db)
    assert result.exit_code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_a_failed_import_into_an_existing_store_keeps_it(tmp_path):
    good = tmp_path / "good" / "pages" / "hh"
    good.mkdir(parents=True)
    record = {"__id": "uuid:1", "meta": {"instanceID": "uuid:1"}}
    (good / "page-0001.json").write_text(json.dumps({"value": [record]}))
    db = tmp_path / "store.db"
    assert run("import", tmp_path / "good", "--db", db).exit_code == 0
    bad = tmp_path / "bad" / "pages" / "hh"
    bad.mkdir(parents=True)
    (bad / "page-0001.json").write_text("{")
    assert run("import", tmp_path / "bad", "--db", db).exit_code == 1
    assert db.exists()
    again = run("import", tmp_path / "good", "--db", db)
    assert "0 new" in again.output and "1 unchanged" in again.output
