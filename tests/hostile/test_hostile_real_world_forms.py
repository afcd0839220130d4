# ruff: noqa: E501  (XLSForm fixtures are markdown tables, one row per line)
"""Every form pyxform reads, popsurvey reads (issue #12, item 13): loops over a choice list,
upper-case sheet and column headers; a duplicate column header is named by sheet and row;
openpyxl's warnings about workbook extensions do not reach the terminal."""

from __future__ import annotations

import io
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from forms import read_form
from surveys.cli import main

# pyxform's tests/example_xls/loop.xls, as markdown
LOOP = """
| survey |
| | type | name | label |
| | select all that apply from toilet_type | available_toilet_types | What type of toilets are on the premises? |
| | begin loop over toilet_type | loop_toilet_types | |
| | integer | number | How many %(label)s are on the premises? |
| | end loop | | |
| choices |
| | list_name | name | label |
| | toilet_type | pit_latrine_with_slab | Pit latrine with slab |
| | toilet_type | open_pit_latrine | Pit latrine without slab/open pit |
| | toilet_type | bucket_system | Bucket system |
| | toilet_type | none | None |
"""

# pyxform's tests/example_xls/simple_loop.xls, as markdown (a loop with two questions)
SIMPLE_LOOP = """
| survey |
| | type | name | label::English (en) | label::French (fr) |
| | begin loop over types | my_loop | | |
| | integer | count | How many %(label)s? | Combien de %(label)s? |
| | text | fruit | Name of the %(name)s | Nom du %(name)s |
| | end loop | | | |
| | integer | after | After the loop | Après |
| choices |
| | list_name | name | label::English (en) | label::French (fr) |
| | types | a | Apple | Pomme |
| | types | b | Banana | Banane |
"""

UPPER = """
| SURVEY |
| | TYPE | NAME | LABEL::English (en) | RELEVANT |
| | integer | age | Age | |
| | text | school | School | ${age} < 18 |
| SETTINGS |
| | FORM_ID | VERSION |
| | upper | 1 |
"""


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_loop_over_a_choice_list_reads_as_pyxform_builds_it(tmp_path):
    path = write(tmp_path, "loop.md", LOOP)
    result = run("form", "check", path, "--no-validate", "--ignore", "L122")
    assert result.exit_code == 0, result.output
    form = read_form(path)
    paths = [e.xpath for e in form.elements]
    assert "/data/loop_toilet_types/pit_latrine_with_slab/number" in paths
    assert "/data/loop_toilet_types/bucket_system/number" in paths
    assert not any("/none" in p for p in paths)
    number = form.by_xpath("/data/loop_toilet_types/open_pit_latrine/number")
    assert (
        number.label["default"] == "How many Pit latrine without slab/open pit are on the premises?"
    )


def test_a_translated_loop_substitutes_names_and_labels_per_language(tmp_path):
    path = write(tmp_path, "simple_loop.md", SIMPLE_LOOP)
    result = run("form", "check", path, "--no-validate", "--ignore", "L122")
    assert result.exit_code == 0, result.output
    form = read_form(path)
    count = form.by_xpath("/data/my_loop/b/count")
    assert count.label == {"English (en)": "How many Banana?", "French (fr)": "Combien de Banane?"}
    assert form.by_xpath("/data/my_loop/a/fruit").label["French (fr)"] == "Nom du a"
    assert form.by_xpath("/data/after").enclosing == ()


def test_an_unclosed_loop_names_its_row(tmp_path):
    path = write(tmp_path, "open.md", LOOP.replace("| | end loop | | |\n", ""))
    result = run("form", "check", path, "--no-validate")
    assert result.exit_code == 1
    assert "sheet 'survey' row 3: begin loop 'loop_toilet_types' is never closed" in result.output


@pytest.mark.parametrize("suffix", [".md", ".xlsx"])
def test_upper_case_sheet_and_column_headers_are_read(tmp_path, suffix):
    if suffix == ".md":
        path = write(tmp_path, "upper.md", UPPER)
    else:
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "SURVEY"
        sheet.append(["TYPE", "NAME", "LABEL::English (en)", "RELEVANT"])
        sheet.append(["integer", "age", "Age", None])
        sheet.append(["text", "school", "School", "${age} < 18"])
        settings = book.create_sheet("SETTINGS")
        settings.append(["FORM_ID", "VERSION"])
        settings.append(["upper", "1"])
        path = tmp_path / "upper.xlsx"
        book.save(path)
    result = run("form", "check", path, "--no-validate")
    assert result.exit_code == 0, result.output
    form = read_form(path)
    assert form.form_id == "upper" and form.languages == ("English (en)",)
    assert form.by_xpath("/data/school").relevant == "${age} < 18"


def test_a_duplicate_column_header_names_the_sheet_and_row(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "survey"
    book.active.append(["type", "name", "label"])
    book.active.append(["text", "a", "A"])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label", "label"])
    choices.append(["yn", "1", "Yes", "Oui"])
    path = tmp_path / "dup.xlsx"
    book.save(path)
    result = run("form", "check", path, "--no-validate")
    assert result.exit_code == 1
    assert (
        "dup.xlsx: sheet 'choices' row 1: duplicate column header 'label' (columns C and D)"
        in result.output
    )


def _with_unknown_extension(path: Path) -> None:
    """Add an extension openpyxl does not know to the first sheet (as Excel and WPS write
    for data validation lists), which makes openpyxl warn on reading."""
    data = io.BytesIO(path.read_bytes())
    with zipfile.ZipFile(data) as source, zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content = content.replace(
                    b"</worksheet>",
                    b'<extLst><ext uri="{78C0D931-6437-407d-A8EE-F0AAD7539E65}"/></extLst></worksheet>',
                )
            out.writestr(info, content)


def test_openpyxl_extension_warnings_do_not_reach_the_user(tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "survey"
    book.active.append(["type", "name", "label"])
    book.active.append(["text", "a", "A"])
    path = tmp_path / "ext.xlsx"
    book.save(path)
    _with_unknown_extension(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        openpyxl.load_workbook(path)
    assert any("extension is not supported" in str(w.message) for w in caught)  # the noise
    command = [sys.executable, "-c", "from surveys.cli import main; main()"]
    done = subprocess.run(
        [*command, "form", "check", str(path), "--no-validate"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "extension" not in done.stderr and "Warning" not in done.stderr
