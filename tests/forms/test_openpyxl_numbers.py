"""openpyxl loaded without numpy (for pyxform, on `form check`) still writes numpy values.

Each case runs in a fresh interpreter: one loads openpyxl through popsurvey's form check
first and numpy afterwards, the other loads numpy first (openpyxl's usual path). The cells
both write (type and stored text, read back from the sheet's XML) must be the same.
"""

from __future__ import annotations

import json
import subprocess
import sys

WRITE = r"""
import json, sys, zipfile
order = sys.argv[1]
if order == "numpy-first":
    import numpy
    import forms
else:
    import forms
    from forms.check import check_form
    check_form(sys.argv[3].encode(), name="small.md", validate=False)
    assert "numpy" not in sys.modules, "form check imported numpy"
    import numpy
from openpyxl import Workbook
from openpyxl.compat import NUMERIC_TYPES
values = [numpy.int64(3), numpy.int8(-1), numpy.uint8(7), numpy.uint64(2**63), numpy.float32(1.5),
          numpy.float64(2.25), numpy.float16(0.5), numpy.longdouble(4.75), numpy.bool_(True),
          numpy.intc(5), numpy.float64("nan"), 12, 1.25, "text", None]
book = Workbook()
sheet = book.active
for column, value in enumerate(values, start=1):
    sheet.cell(row=1, column=column, value=value)
book.save(sys.argv[2])
with zipfile.ZipFile(sys.argv[2]) as archive:
    xml = archive.read("xl/worksheets/sheet1.xml").decode()
types = [t.__name__ for t in NUMERIC_TYPES]
print(json.dumps({"xml": xml[xml.index("<sheetData"):], "types": types}))
"""

SMALL_FORM = (
    "| survey |         |      |       |\n"
    "|        | type    | name | label |\n"
    "|        | integer | age  | Age   |\n"
)


def _write(order: str, path) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", WRITE, order, str(path), SMALL_FORM],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_numpy_values_are_written_alike_whether_numpy_came_before_or_after(tmp_path):
    usual = _write("numpy-first", tmp_path / "usual.xlsx")
    lazy = _write("form-check-first", tmp_path / "lazy.xlsx")
    assert "NumpyScalar" not in usual["types"]  # numpy loaded first: openpyxl as shipped
    assert "NumpyScalar" in lazy["types"]  # the lazy path really ran
    assert lazy["xml"] == usual["xml"]
    assert '<c r="A1" t="n"><v>3</v></c>' in lazy["xml"]
    assert '<c r="I1" t="n"><v>1</v></c>' in lazy["xml"]  # numpy.bool_ as openpyxl writes it


def test_numpy_scalar_check():
    import numpy

    from forms.openpyxl_numbers import NumpyScalar

    assert isinstance(numpy.int32(1), NumpyScalar)
    assert isinstance(numpy.float16(1), NumpyScalar)
    assert isinstance(numpy.bool_(False), NumpyScalar)
    assert not isinstance(numpy.complex128(1), NumpyScalar)  # openpyxl does not list it
    assert not isinstance("1", NumpyScalar) and not isinstance(numpy.array([1]), NumpyScalar)
    assert issubclass(numpy.uint16, NumpyScalar) and not issubclass(str, NumpyScalar)
