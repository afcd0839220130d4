"""The Excel workbook reopens with openpyxl and pandas: the enumerator summary first, one
sheet per check with as many rows as the store has flags of that check, frozen headers,
filters, widths that fit Chinese text."""

from __future__ import annotations

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from surveys.cli import main
from surveys.store import open_store


def stored_flag_counts(url):
    with open_store(url) as store, store.engine.connect() as conn:
        rows = conn.execute(sa.text('select "check", count(*) from qc_flags group by "check"'))
        return dict(rows.all())


@pytest.mark.parametrize(
    "language, summary, progress", [("zh", "调查员汇总", "进度"), ("en", "Enumerators", "Progress")]
)
def test_workbook_has_a_sheet_per_check_with_the_stored_flags(
    survey, tmp_path, language, summary, progress
):
    config, url = survey
    out = tmp_path / "reports"
    result = CliRunner().invoke(
        main, ["report", "-c", str(config), "--db", url, "--lang", language, "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    path = out / f"report.{language}.xlsx"
    counts = stored_flag_counts(url)
    assert counts == {"duration": 4, "gps": 2, "srb": 1}

    book = openpyxl.load_workbook(path)
    assert book.sheetnames[0] == summary
    assert set(counts) <= set(book.sheetnames)
    for name in book.sheetnames:
        sheet = book[name]
        assert sheet.freeze_panes == "A2", name
        assert sheet.auto_filter.ref, name
    for check, n in counts.items():
        assert book[check].max_row - 1 == n

    sheets = pd.read_excel(path, sheet_name=None)
    assert next(iter(sheets)) == summary
    for check, n in counts.items():
        assert len(sheets[check]) == n
    enumerators = sheets[summary]
    assert len(enumerators) == 3
    assert list(enumerators.iloc[:, 1]) == ["e2", "e3", "e1"]  # riskiest first
    assert list(enumerators.iloc[:, 2]) == ["李强", "张伟", "王芳"]
    assert progress in sheets and int(sheets[progress].iloc[:, -2].sum()) == 14

    name_column = book[summary].column_dimensions["C"].width
    assert name_column >= 6  # the Chinese names' double width was counted
