"""Reading the data files a statistician brings: CSV, Parquet, Stata .dta, SPSS .sav, Excel.

A survey design is built from a table with named columns. popsurvey's own store is one source
(see :mod:`weighting.design` for the note on the store constructor); any file is another.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from weighting.errors import DataFileError

READERS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".dta": "stata",
    ".sav": "spss",
    ".zsav": "spss",
    ".xlsx": "excel",
}


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a data file into a DataFrame, choosing the reader from the file's extension.

    Value labels in .dta and .sav files are not applied: codes stay codes, so that targets
    and the file agree on the same values.
    """
    path = Path(path)
    kind = READERS.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(sorted(READERS))
        raise DataFileError(f"{path}: unknown data file type {path.suffix!r} (known: {known})")
    if not path.exists():
        raise DataFileError(f"{path}: no such file")
    try:
        return _read(path, kind)
    except DataFileError:
        raise
    except ImportError as err:
        needs = err.name or "an optional package"
        raise DataFileError(f"{path}: reading {kind} files needs {needs} ({err})") from err
    except Exception as err:  # every reader has its own error types; report one line
        raise DataFileError(f"{path}: cannot read as {kind}: {err}") from err


def _read(path: Path, kind: str) -> pd.DataFrame:
    if kind == "csv":
        return pd.read_csv(path)
    if kind == "tsv":
        return pd.read_csv(path, sep="\t")
    if kind == "parquet":
        return pd.read_parquet(path)
    if kind == "stata":
        return pd.read_stata(path, convert_categoricals=False)
    if kind == "spss":
        import pyreadstat

        frame, _meta = pyreadstat.read_sav(str(path), apply_value_formats=False)
        return frame
    return pd.read_excel(path)


def require_columns(frame: pd.DataFrame, columns: list[str], *, source: str = "data") -> None:
    """Raise :class:`DataFileError` naming the first of ``columns`` missing from ``frame``."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataFileError(
            f"{source}: no column {missing[0]!r} (has: {', '.join(map(str, frame.columns[:12]))})"
        )
