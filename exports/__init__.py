"""Labelled SPSS and Stata datasets (and CSV, Parquet) a statistician can use as they are.

:func:`export_frames` takes a FormModel and the store's analysis frames (plain pandas
frames; this package never imports ``surveys``) and writes, per dataset -- the main one and
one per repeat, linked by ``submission_id``/``row_key``/``parent_key`` -- one file per
format, with:

- names from :mod:`forms.naming` (the codebook's too);
- variable labels from the questions in the chosen language, one value label set per
  choice list, select_multiple as the raw string plus a 0/1 dummy per choice, geopoints
  split, dates as real date types, long text as strL / long strings;
- don't-know/refused as SPSS user-missing and Stata ``.d``/``.r``; questions not relevant
  as ``.a`` / -97 (the form's relevance, evaluated by :mod:`forms.xpath.vectorized`);
- the weights and design variables (:class:`DesignColumns`), a Stata do-file that svysets
  them, SPSS syntax and a CSPLAN file, a codebook (XLSX, Markdown), a log and provenance
  JSON with the files' checksums.

Data problems are :class:`forms.Issue` records (``E1xx``) in the result; exceptions
(:mod:`exports.errors`) only when the export cannot be made as asked.
"""

from __future__ import annotations

import importlib
from typing import Any

# Names are loaded on first use (PEP 562) so that importing ``exports.errors`` for the CLI's
# error handling does not load pandas (the CLI's start-up test).
_NAMES = {
    "ExportDataError": "exports.errors",
    "ExportOptionsError": "exports.errors",
    "ExportsError": "exports.errors",
    "ExportWriteError": "exports.errors",
    "ExportResult": "exports.export",
    "export_frames": "exports.export",
    "FORMATS": "exports.options",
    "PII_MODES": "exports.options",
    "DesignColumns": "exports.options",
    "ExportOptions": "exports.options",
    "MissingCodes": "exports.options",
}


def __getattr__(name: str) -> Any:
    if name not in _NAMES:
        raise AttributeError(f"module 'exports' has no attribute '{name}'")
    value = getattr(importlib.import_module(_NAMES[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "FORMATS",
    "PII_MODES",
    "DesignColumns",
    "ExportDataError",
    "ExportOptions",
    "ExportOptionsError",
    "ExportResult",
    "ExportWriteError",
    "ExportsError",
    "MissingCodes",
    "export_frames",
]
