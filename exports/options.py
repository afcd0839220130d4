"""What an export is asked to do: formats, language, missing codes, PII, design, wide repeats."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from exports.errors import ExportOptionsError

FORMATS = ("sav", "zsav", "dta", "csv", "parquet")
PII_MODES = ("drop", "hash", "include")
NATIVE_WRITER = "popsurvey"
"""popsurvey's own writers (:mod:`exports.spss_file` for .sav and .zsav,
:mod:`exports.stata_file` for .dta), the default."""
WRITERS = ("auto", NATIVE_WRITER, "polars-readstat", "pyreadstat")
SAV_COMPRESSIONS = ("bytecode", "none")
"""A .sav's compression: SPSS's bytecode (the default, as SPSS writes) or none."""
SKIPPED_CODE = -97.0
"""SPSS value of "not applicable" (the question was not relevant); Stata writes ``.a``."""


@dataclass(frozen=True)
class MissingCodes:
    """Answer codes meaning don't know and refused (choice names or numbers, as in
    survey.toml's ``[codes]``), and the SPSS code written where a question was skipped."""

    dont_know: tuple[int | str, ...] = (98,)
    refused: tuple[int | str, ...] = (99,)
    skipped: float = SKIPPED_CODE


@dataclass(frozen=True)
class DesignColumns:
    """Weights and design variables joined to every dataset by submission.

    ``data`` has one row per submission, keyed by ``key`` (the store's ``__id``); the other
    fields name its columns. ``run`` describes where they come from (a weighting run's id and
    name) for the provenance.
    """

    data: pd.DataFrame
    weight: str
    key: str = "__id"
    strata: str | None = None
    psu: str | None = None
    fpc: str | None = None
    replicates: tuple[str, ...] = ()
    replicate_type: str | None = None
    """``bootstrap``, ``jk1``, ``jkn``, ``brr`` or ``fay`` (Stata's svyset and SPSS's plan)."""
    replicate_scale: float | None = None
    run: dict[str, object] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    """Where a column comes from (column -> text, e.g. the weighting run and its role), shown
    as the variable's source in the codebook; columns without one show their own name."""

    def columns(self) -> tuple[str, ...]:
        """The design columns in file order: weight, strata, PSU, fpc, replicate weights."""
        named = (self.weight, self.strata, self.psu, self.fpc, *self.replicates)
        return tuple(c for c in named if c)

    def check(self) -> None:
        """Raise :class:`ExportOptionsError` when a named column is not in ``data``."""
        missing = [c for c in (self.key, *self.columns()) if c not in self.data.columns]
        if missing:
            raise ExportOptionsError(
                f"design columns not in the weights: {', '.join(missing)} "
                f"(columns: {', '.join(map(str, self.data.columns))})"
            )


@dataclass(frozen=True)
class ExportOptions:
    """How to export: see :func:`exports.export_frames`."""

    formats: tuple[str, ...] = ("sav", "dta")
    language: str | None = None
    codes: MissingCodes = field(default_factory=MissingCodes)
    pii: str = "hash"
    """``drop`` the questions marked pii, replace them by a salted ``hash`` (default), or
    ``include`` them as they are."""
    salt: str | None = None
    """Salt of the PII hashes; None draws a random one (hashes then link rows within this
    export only). Never written anywhere."""
    wide: tuple[str, ...] = ()
    """Top-level repeats reshaped wide into the main dataset (``name_1``, ``name_2``...)."""
    basename: str | None = None
    """File name stem (default: the form ID)."""
    today: date | None = None
    """today() in relevance expressions (default: the date of the export)."""
    filters: dict[str, object] = field(default_factory=dict)
    """What the caller left out and why (recorded in the log and provenance)."""
    writer: str = "auto"
    """Writer of the .sav, .zsav and .dta files: ``auto`` or ``popsurvey`` (popsurvey's
    own), ``polars-readstat`` or ``pyreadstat`` (:func:`exports.writers.choose_writer`;
    polars-readstat writes no .zsav: pyreadstat does)."""
    sav_compression: str = "bytecode"
    """A .sav's compression: ``bytecode`` (SPSS's own default: smaller and, measured,
    faster to write than ``none``) or ``none``. A .zsav is always zlib-compressed."""

    def check(self) -> None:
        """Raise :class:`ExportOptionsError` for an unknown format or PII mode."""
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown or not self.formats:
            raise ExportOptionsError(
                f"unknown export format {', '.join(unknown) or '(none)'}: "
                f"choose from {', '.join(FORMATS)}"
            )
        if self.writer not in WRITERS:
            raise ExportOptionsError(
                f"writer must be one of {', '.join(WRITERS)}, not {self.writer}"
            )
        if self.sav_compression not in SAV_COMPRESSIONS:
            raise ExportOptionsError(
                f"sav_compression must be one of {', '.join(SAV_COMPRESSIONS)}, "
                f"not {self.sav_compression}"
            )
        if self.pii not in PII_MODES:
            raise ExportOptionsError(f"pii must be one of {', '.join(PII_MODES)}, not {self.pii}")
