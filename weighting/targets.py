"""Population targets: margins (counts by level of one or more crossed variables) and totals.

Targets come from a dict or a CSV with columns ``variable, level, total``. A crossed margin
names its variables joined by ``*`` and each level likewise, e.g. ``sex*agegroup`` and
``F*15-19``. A row whose ``level`` is empty is the population total of a numeric variable
(for calibration); ``variable`` = ``_N`` gives the population size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weighting.errors import DataFileError, TargetsError

POPULATION = "_N"


def level_key(value: Any) -> str:
    """The text under which a data value or a target level is matched (1, 1.0 and "1" agree)."""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


@dataclass(frozen=True)
class Margin:
    """Population counts by level of one variable, or of several crossed variables."""

    variables: tuple[str, ...]
    totals: dict[tuple[str, ...], float]

    @property
    def name(self) -> str:
        """``sex`` or ``sex*agegroup``."""
        return "*".join(self.variables)

    @property
    def levels(self) -> list[tuple[str, ...]]:
        """The levels in the order they were given."""
        return list(self.totals)

    def to_dict(self) -> dict[str, float]:
        """``{"F*15-19": 1200.0, ...}``: JSON-ready, for the weighting history."""
        return {"*".join(k): v for k, v in self.totals.items()}

    def cells(
        self, data: pd.DataFrame, factorized: dict[str, tuple[np.ndarray, Any]] | None = None
    ) -> np.ndarray:
        """Each row's index into :attr:`levels` (-1 when a value is missing).

        ``factorized`` may hold ``pd.factorize`` results of the variables, to reuse them.
        """
        for var in self.variables:
            if var not in data.columns:
                raise TargetsError(f"margin {self.name!r}: no variable {var!r} in the data")
        # match the distinct combinations of values only, then spread to the rows
        factorized = factorized if factorized is not None else {}
        codes = [factorized.get(v) or pd.factorize(data[v]) for v in self.variables]
        missing = np.zeros(len(data), dtype=bool)
        combined = np.zeros(len(data), dtype=np.int64)
        for row_codes, uniques in codes:
            missing |= row_codes < 0
            combined = combined * (len(uniques) + 1) + (row_codes + 1)
        if len(codes) == 1:
            inverse, ndistinct = codes[0][0] + 1, len(codes[0][1]) + 1  # code 0: missing
        else:
            inverse, distinct = pd.factorize(combined)
            ndistinct = len(distinct)
        # one row standing for each distinct combination (numpy keeps one of the repeats)
        first = np.full(ndistinct, -1)
        first[inverse[::-1]] = np.arange(len(inverse))[::-1]
        lookup = {level: i for i, level in enumerate(self.levels)}
        cell_of_distinct = np.empty(ndistinct, dtype=np.int64)
        for k, row in enumerate(first):
            if row < 0 or missing[row]:
                cell_of_distinct[k] = -1
                continue
            key = tuple(level_key(uniques[rc[row]]) for rc, uniques in codes)
            if key not in lookup:
                value = "*".join(str(data[v].iloc[row]) for v in self.variables)
                raise TargetsError(
                    f"margin {self.name!r}: level {value!r} (row {row + 1}) is in the sample "
                    "but not in the targets"
                )
            cell_of_distinct[k] = lookup[key]
        return cell_of_distinct[inverse]


@dataclass(frozen=True)
class Targets:
    """Margins, numeric population totals and (optionally) the population size."""

    margins: tuple[Margin, ...] = ()
    totals: dict[str, float] | None = None
    population: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, for the weighting history."""
        out: dict[str, Any] = {m.name: m.to_dict() for m in self.margins}
        out.update(self.totals or {})
        if self.population is not None:
            out[POPULATION] = self.population
        return out


def margin(variables: str | tuple[str, ...], totals: Mapping[Any, float]) -> Margin:
    """A margin from ``{"F": 120, "M": 100}`` or, crossed, ``{("F", "15-19"): 12, ...}``."""
    names = tuple(variables.split("*")) if isinstance(variables, str) else tuple(variables)
    parsed: dict[tuple[str, ...], float] = {}
    for level, total in totals.items():
        if isinstance(level, tuple):
            key = tuple(level_key(v) for v in level)
        elif len(names) > 1:
            key = tuple(level_key(v) for v in str(level).split("*"))
        else:
            key = (level_key(level),)
        if len(key) != len(names):
            raise TargetsError(
                f"margin {'*'.join(names)!r}: level {level!r} does not name {len(names)} values"
            )
        value = float(total)
        if not np.isfinite(value) or value < 0:
            raise TargetsError(f"margin {'*'.join(names)!r}: level {level!r} has total {total!r}")
        parsed[key] = value
    if not parsed:
        raise TargetsError(f"margin {'*'.join(names)!r} has no levels")
    return Margin(names, parsed)


def targets_from_dict(spec: Mapping[Any, Any]) -> Targets:
    """Targets from ``{"sex": {"F": 120, "M": 100}, "income": 1.2e6, "_N": 220}``."""
    margins, totals, population = [], {}, None
    for name, value in spec.items():
        if name == POPULATION:
            population = float(value)
        elif isinstance(value, Mapping):
            margins.append(margin(name, value))
        else:
            totals[str(name)] = float(value)
    return Targets(tuple(margins), totals, population)


def read_targets(path: str | Path) -> Targets:
    """Targets from a CSV with columns ``variable, level, total`` (see the module docstring)."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype={"variable": str, "level": str})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataFileError(f"{path}: cannot read targets: {err}") from err
    needed = {"variable", "level", "total"}
    if not needed <= set(frame.columns):
        raise DataFileError(f"{path}: targets need columns variable, level, total")
    spec: dict[str, Any] = {}
    for i, row in enumerate(frame.itertuples(index=False), start=2):
        total = pd.to_numeric(row.total, errors="coerce")
        if pd.isna(total) or pd.isna(row.variable):
            raise DataFileError(f"{path}: row {i}: variable or total missing or not a number")
        if pd.isna(row.level) or str(row.level).strip() == "":
            spec[str(row.variable).strip()] = float(total)
        else:
            spec.setdefault(str(row.variable).strip(), {})[str(row.level).strip()] = float(total)
    try:
        return targets_from_dict(spec)
    except TargetsError as err:
        raise TargetsError(f"{path}: {err}") from err
