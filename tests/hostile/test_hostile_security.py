"""Hostile input (issue #12, security): a form cannot write outside its folder, a small zip
cannot eat the memory, an imported record cannot make popsurvey read outside the source."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from surveys.cli import main
from surveys.store import open_store

FORM = """
| settings |
| | form_id | version |
| | {form_id} | 1 |
| survey |
| | type | name | label |
| | start | start | |
| | end | end | |
| | text | hhid | Household ID |
| | integer | age | Age |
"""


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def form_file(folder: Path, form_id: str) -> Path:
    path = folder / "form.md"
    path.write_text(FORM.format(form_id=form_id), encoding="utf-8")
    return path


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


# -- 1. names taken from data never leave their folder -------------------------------------
@pytest.mark.parametrize("form_id", ["../../escaped/rel", "{tmp}/escaped/abs", "a b", "uuid:x"])
def test_a_form_id_that_is_not_an_xml_name_is_a_lint_error(tmp_path, form_id):
    path = form_file(tmp_path, form_id.format(tmp=tmp_path))
    result = run("form", "check", path, "--no-validate")
    assert result.exit_code == 1, result.output
    assert "L108" in result.output and "not a valid XML name" in result.output


@pytest.mark.parametrize("form_id", ["../../escaped/rel", "{tmp}/escaped/abs"])
def test_form_build_writes_only_inside_the_output_folder(tmp_path, form_id):
    work = tmp_path / "work"
    work.mkdir()
    path = form_file(work, form_id.format(tmp=tmp_path))
    refused = run("form", "build", path, "-o", work / "out", "--no-validate")
    assert refused.exit_code == 1 and "L108" in refused.output
    assert files_under(tmp_path) == {path}
    forced = run("form", "build", path, "-o", work / "out", "--no-validate", "--ignore", "L108")
    assert forced.exit_code == 0, forced.output
    written = files_under(tmp_path) - {path}
    assert written and all((work / "out") in p.parents for p in written)
    assert not (tmp_path / "escaped").exists()


def test_safe_file_names_and_paths_stay_inside():
    from forms.files import OutsideFolderError, inside, safe_file_name

    assert safe_file_name("../../etc/passwd") == "etc_passwd"
    assert safe_file_name("/tmp/x/abs") == "tmp_x_abs"
    assert safe_file_name("..") == "_" and safe_file_name("") == "_"
    assert safe_file_name("enum:007 王") == "enum_007_王"
    assert safe_file_name("hh_v2.1") == "hh_v2.1"
    with pytest.raises(OutsideFolderError):
        inside("/srv/x", "../y")
    with pytest.raises(OutsideFolderError):
        inside("/srv/x", "/etc/passwd")
    assert inside("/srv/x", "a/b") == Path("/srv/x/a/b")


def test_simulate_writes_pages_of_a_hostile_form_id_inside_out(tmp_path):
    from surveys.example import write_example

    write_example(tmp_path, force=True)
    entities = tmp_path / "entities.csv"
    entities.write_text("name,enumerator,hhid,stratum\nh1,enum001,1,379902\n")
    form = form_file(tmp_path, "../../../escaped")
    out = tmp_path / "deep" / "er" / "out"
    result = run(
        "simulate", tmp_path / "survey.toml", "--entities", entities, "--form", form, "--out", out
    )
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "deep" / "escaped").exists()
    assert (out / "pages" / "escaped" / "page-0001.json").is_file()
    assert (out / "ground_truth" / "escaped.json").is_file()


# -- 2. decompression limits ---------------------------------------------------------------
GIB = 1 << 30


def _stream_member(archive: zipfile.ZipFile, name: str, head: bytes, row: bytes, tail: bytes):
    """A member of about 1 GiB written in chunks: a few MB once compressed."""
    chunk = row * (1 << 20 // len(row) + 1)
    with archive.open(name, "w", force_zip64=True) as member:
        member.write(head)
        written = 0
        while written < GIB:
            member.write(chunk)
            written += len(chunk)
        member.write(tail)


@pytest.fixture(scope="module")
def xlsx_bomb(tmp_path_factory) -> Path:
    """A real workbook whose survey sheet unzips to 1 GiB of rows (about 4 MB on disk)."""
    book = openpyxl.Workbook()
    book.active.title = "survey"
    book.active.append(["type", "name", "label"])
    plain = io.BytesIO()
    book.save(plain)
    path = tmp_path_factory.mktemp("bomb") / "bomb.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            if info.filename == "xl/worksheets/sheet1.xml":
                _stream_member(
                    out,
                    info.filename,
                    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>',
                    b'<row><c t="inlineStr"><is><t>text</t></is></c></row>',
                    b"</sheetData></worksheet>",
                )
            else:
                out.writestr(info, source.read(info))
    assert path.stat().st_size < 8 << 20
    return path


@pytest.fixture(scope="module")
def csv_bomb(tmp_path_factory) -> Path:
    """A CSV export zip whose repeat CSV unzips to 1 GiB (a few MB on disk)."""
    path = tmp_path_factory.mktemp("bomb") / "hh.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr(
            "hh.csv", "SubmissionDate,hhid,meta-instanceID,KEY\n2026-01-01,1,uuid:1,uuid:1\n"
        )
        _stream_member(out, "hh-kid.csv", b"kname,PARENT_KEY,KEY\n", b"ann,uuid:1,k\n", b"")
    assert path.stat().st_size < 8 << 20
    return path


def test_a_workbook_bomb_is_refused_before_reading(xlsx_bomb):
    result = run("form", "check", xlsx_bomb, "--no-validate")
    assert result.exit_code == 1
    assert "bomb.xlsx" in result.output and "100.0 MiB" in result.output
    assert "--max-unzipped" in result.output and "Traceback" not in result.output


def test_a_csv_export_bomb_is_refused_before_reading(csv_bomb, tmp_path):
    db = tmp_path / "store.db"
    result = run("import", csv_bomb, "--db", db)
    assert result.exit_code == 1
    assert "hh.zip" in result.output and "1.0 GiB" in result.output
    assert "--max-unzipped" in result.output


def test_the_ratio_check_refuses_a_bomb_under_the_size_limit_and_the_option_raises_it(tmp_path):
    path = tmp_path / "hh.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr(
            "hh.csv", "SubmissionDate,hhid,meta-instanceID,KEY\n2026-01-01,1,uuid:1,uuid:1\n"
        )
        out.writestr("notes.txt", b"\0" * (20 << 20))
    db = tmp_path / "store.db"
    refused = run("import", path, "--db", db)
    assert refused.exit_code == 1 and "notes.txt" in refused.output
    assert "times its compressed size" in refused.output
    small = run("import", path, "--db", db, "--max-unzipped", "1MB")
    assert small.exit_code == 1 and "more than the limit of 976.6 KiB" in small.output
    accepted = run("import", path, "--db", db, "--max-unzipped", "2GB")
    assert accepted.exit_code == 0, accepted.output
    assert "1 new" in accepted.output


# -- 3. attachment paths from data stay inside the import source -----------------------------
def test_an_instance_id_that_is_a_path_cannot_read_outside_the_source(tmp_path):
    secret = tmp_path / "outside" / "secret"
    secret.mkdir(parents=True)
    (secret / "audit.csv").write_text("event,node,start,end\nform start,,1,\n")
    source = tmp_path / "source"
    (source / "pages" / "hh").mkdir(parents=True)
    record = {"__id": str(secret), "meta": {"instanceID": str(secret)}, "hhid": "1"}
    (source / "pages" / "hh" / "page-0001.json").write_text(json.dumps({"value": [record]}))
    db = tmp_path / "store.db"
    result = run("import", source, "--db", db)
    assert result.exit_code == 1
    assert "outside the import folder" in result.output and str(secret) in result.output
    if db.exists():
        with open_store(str(db)) as store, store.engine.connect() as conn:
            from sqlalchemy import text

            assert conn.execute(text("select count(*) from submissions")).scalar() == 0


def test_a_symlinked_audit_in_an_xml_folder_cannot_read_outside_the_source(tmp_path):
    secret = tmp_path / "outside" / "audit.csv"
    secret.parent.mkdir()
    secret.write_text("event,node,start,end\nform start,,1,\n")
    folder = tmp_path / "source" / "sub1"
    folder.mkdir(parents=True)
    (folder / "sub1.xml").write_text(
        '<data id="hh"><hhid>1</hhid><meta><instanceID>uuid:1</instanceID></meta></data>'
    )
    (folder / "audit.csv").symlink_to(secret)
    db = tmp_path / "store.db"
    result = run("import", tmp_path / "source", "--db", db, "--form-id", "hh")
    assert result.exit_code == 1
    assert "leads outside the import folder" in result.output
    assert not db.exists()


def test_a_loop_written_out_per_choice_reports_each_lint_finding_once(tmp_path):
    path = tmp_path / "loop.md"
    path.write_text(
        "| survey |\n| | type | name | label |\n"
        "| | begin loop over kinds | each | |\n| | integer | count | How many %(label)s? |\n"
        "| | end loop | | |\n| choices |\n| | list_name | name | label |\n"
        "| | kinds | a | A |\n| | kinds | b | B |\n| | kinds | c | C |\n",
        encoding="utf-8",
    )
    result = run("form", "check", path, "--no-validate")
    assert result.output.count("L115") == 1
