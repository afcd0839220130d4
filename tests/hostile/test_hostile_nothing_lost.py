# ruff: noqa: E501  (XLSForm fixtures are markdown tables, one row per line)
"""Careless input (issue #12, nothing silently lost): records without an ID, rows a CSV
export cannot place, a broken page among good ones, an empty stratum, ``<`` in labels and a
stray word in a numeric column are all reported; nothing is dropped without a message."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
from click.testing import CliRunner
from sqlalchemy import text

from surveys.cli import main
from surveys.store import open_store

WEIGHTING = Path(__file__).resolve().parents[1] / "fixtures" / "r" / "weighting"


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def count(db: Path, sql: str = "select count(*) from submissions") -> int:
    with open_store(str(db)) as store, store.engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def pages(root: Path, form_id: str, *records_per_page: list) -> None:
    folder = root / "pages" / form_id
    folder.mkdir(parents=True, exist_ok=True)
    for number, records in enumerate(records_per_page, start=1):
        page = records if isinstance(records, str) else json.dumps({"value": records})
        (folder / f"page-{number:04d}.json").write_text(page)


def record(central_id, instance_id=None, **answers):
    meta = {"instanceID": instance_id} if instance_id else {}
    return {"__id": central_id, "meta": meta, **answers}


# -- 4. a record without an ID -------------------------------------------------------------
def test_records_with_a_null_id_take_their_instance_id(tmp_path):
    pages(tmp_path, "hh", [record(None, f"uuid:{i}", hhid=str(i)) for i in range(3)])
    db = tmp_path / "store.db"
    result = run("import", tmp_path, "--db", db)
    assert result.exit_code == 0, result.output
    assert "3 new, 0 edited" in result.output
    assert count(db, "select count(*) from submissions where central_id = 'None'") == 0
    assert count(db, "select count(distinct central_id) from submissions") == 3


def test_a_record_with_no_id_at_all_is_an_error_naming_file_and_record(tmp_path):
    pages(tmp_path, "hh", [record("uuid:1", "uuid:1"), record(None, None, hhid="2")])
    db = tmp_path / "store.db"
    result = run("import", tmp_path, "--db", db)
    assert result.exit_code == 1
    assert "page-0001.json: record 1: no __id and no meta.instanceID" in result.output
    assert "Traceback" not in result.output


# -- 5. rows a CSV export cannot place are reported with a count ------------------------------
def _export(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


MAIN = "SubmissionDate,hhid,meta-instanceID,KEY\n2026-01-01,1,uuid:1,uuid:1\n2026-01-01,2,uuid:2,uuid:2\n"


def _kids(parent_keys: list[str], with_parent_key: bool = True) -> str:
    header = "kname,PARENT_KEY,KEY" if with_parent_key else "kname,KEY"
    lines = [
        f"k{i},{p},{p}/kid[{i}]" if with_parent_key else f"k{i},{p}/kid[{i}]"
        for i, p in enumerate(parent_keys)
    ]
    return "\n".join([header, *lines]) + "\n"


def test_repeat_rows_whose_parent_is_missing_are_reported(tmp_path):
    kids = _kids(["uuid:1"] * 9 + ["uuid:2"] * 9 + ["uuid:9"] * 2)
    path = _export(tmp_path / "hh.zip", {"hh.csv": MAIN, "hh-kid.csv": kids})
    result = run("import", path, "--db", tmp_path / "s.db")
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output
    assert "I101" in result.output and "hh-kid.csv: 2 repeat row(s) not imported" in result.output
    assert "'uuid:9'" in result.output
    assert count(tmp_path / "s.db", "select count(*) from repeat_rows") == 18


def test_an_unknown_csv_and_a_repeat_without_parent_key_are_reported(tmp_path):
    members = {
        "hh.csv": MAIN,
        "hh-kid.csv": _kids(["uuid:1"] * 4, with_parent_key=False),
        "notes.csv": "a,b\n1,2\n3,4\n5,6\n",
    }
    path = _export(tmp_path / "hh.zip", members)
    result = run("import", path, "--db", tmp_path / "s.db", "--form-id", "hh")
    assert result.exit_code == 0, result.output
    assert "hh-kid.csv: 4 repeat row(s) not imported: no PARENT_KEY column" in result.output
    assert "notes.csv: 3 row(s) not imported" in result.output
    assert "2 issue(s)" in result.output


# -- 6. a broken page changes nothing --------------------------------------------------------
def test_a_broken_page_of_another_form_leaves_the_store_as_it_was(tmp_path):
    pages(tmp_path, "a_good", [record(f"uuid:{i}", f"uuid:{i}") for i in range(280)])
    pages(tmp_path, "b_bad", [record("uuid:x", "uuid:x")], '{"value": [')
    db = tmp_path / "store.db"
    result = run("import", tmp_path, "--db", db)
    assert result.exit_code == 1 and "b_bad/page-0002.json: not JSON" in result.output
    assert not db.exists() or count(db) == 0


def test_a_broken_second_page_of_one_form_leaves_the_store_as_it_was(tmp_path):
    pages(tmp_path, "hh", [record(f"uuid:{i}", f"uuid:{i}") for i in range(280)], '{"valu": []}')
    db = tmp_path / "store.db"
    result = run("import", tmp_path, "--db", db)
    assert result.exit_code == 1 and "page-0002.json: not an OData page" in result.output
    assert not db.exists() or count(db) == 0


# -- 7. a fixed allocation may not leave a stratum empty -------------------------------------
def test_a_fixed_allocation_of_zero_names_the_stratum(tmp_path):
    assert run("init", tmp_path).exit_code == 0
    config = tmp_path / "survey.toml"
    drawn = run("sample", "draw", "--synthetic-listing", "-c", config)
    assert drawn.exit_code == 0, drawn.output
    strata = pd.read_csv(tmp_path / "sample" / "allocation.csv", dtype={"stratum": str})
    sizes = {s: 0 if i == 0 else 4 for i, s in enumerate(strata["stratum"])}
    table = ", ".join(f'"{s}" = {n}' for s, n in sizes.items())
    toml = config.read_text(encoding="utf-8")
    toml = toml.replace(
        'allocation = "proportional"', f'allocation = "fixed"\nstratum_n = {{ {table} }}', 1
    )
    config.write_text(toml, encoding="utf-8")
    result = run("sample", "draw", "--synthetic-listing", "-c", config)
    assert result.exit_code == 1, result.output
    first = strata["stratum"][0]
    assert f"stratum '{first}': sample of 0 units is below min_per_stratum" in result.output


# -- 8. codebooks escape text, never strip it ------------------------------------------------
LABELS = """
| settings |
| | form_id | version |
| | lt | 1 |
| survey |
| | type | name | label |
| | integer | kids | Children aged <5 years and >2 years |
| | integer | ask | <span style="color:red">Ask</span> only if age<15 or age>49 |
"""


def test_codebooks_keep_text_between_angle_brackets(tmp_path):
    form = tmp_path / "lt.md"
    form.write_text(LABELS, encoding="utf-8")
    texts = {}
    for fmt in ("md", "html", "xlsx"):
        out = tmp_path / f"codebook.{fmt}"
        result = run("form", "codebook", form, "--format", fmt, "-o", out)
        assert result.exit_code == 0, result.output
        if fmt == "xlsx":
            book = openpyxl.load_workbook(out)
            texts[fmt] = " ".join(
                str(c) for ws in book for row in ws.iter_rows(values_only=True) for c in row if c
            )
        else:
            texts[fmt] = out.read_text(encoding="utf-8")
    assert "Children aged \\<5 years and \\>2 years" in texts["md"]
    assert "Children aged &lt;5 years and &gt;2 years" in texts["html"]
    assert "Children aged <5 years and >2 years" in texts["xlsx"]
    assert "Ask only if age<15 or age>49" in texts["xlsx"]
    assert "span" not in texts["xlsx"]


# -- 9. a word in a numeric column is named, not estimated as a category ----------------------
def test_a_stray_word_in_a_numeric_column_names_the_rows(tmp_path):
    data = pd.read_csv(WEIGHTING / "apiclus1.csv")
    data["api00"] = data["api00"].astype(object)
    data.loc[6, "api00"] = "abc"
    path = tmp_path / "data.csv"
    data.to_csv(path, index=False)
    result = run("estimate", path, "--weights", "pw", "--ids", "dnum", "--mean", "api00")
    assert result.exit_code == 1
    assert "'api00' holds numbers but 1 row(s) are not numbers: data row 7 ('abc')" in result.output
    assert len(result.output.strip().splitlines()) == 1
