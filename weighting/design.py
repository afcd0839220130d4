"""The immutable SurveyDesign: data, weights, strata, PSUs, fpc, replicate weights, history.

It follows R's ``survey`` package: :func:`SurveyDesign.from_frame` is ``svydesign``, every
weighting step (:mod:`weighting.steps`) returns a *new* design and appends a
:class:`WeightingStep` record, and :meth:`SurveyDesign.with_replicates` is
``as.svrepdesign``. The variance bookkeeping that R keeps in ``design$postStrata`` (what each
post-stratification, raking or calibration did, needed by Taylor linearisation) is kept in
:attr:`SurveyDesign.adjustments`.

Building from popsurvey's store (base weights = 1 / overall inclusion probability from the
sample drawn by ``surveys``) is not here yet: the store and the sampling frame are being
written in parallel. A store constructor will read the sample's inclusion probabilities and
non-response outcomes into a frame and call :func:`SurveyDesign.from_frame`; nothing below
depends on where the frame comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from weighting.errors import DesignError
from weighting.io import read_table, require_columns

LONELY_PSU_OPTIONS = ("fail", "remove", "adjust", "average", "certainty")
"""As R's ``options(survey.lonely.psu=)``: what a stratum with a single PSU contributes."""


@dataclass(frozen=True)
class WeightingStep:
    """One step of the weighting history: what was done, to what targets, and how it ended."""

    method: str
    targets: dict[str, Any] = field(default_factory=dict)
    iterations: int | None = None
    converged: bool | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the step."""
        return {
            "method": self.method,
            "targets": self.targets,
            "iterations": self.iterations,
            "converged": self.converged,
            "details": self.details,
        }


@dataclass(frozen=True, eq=False)
class PostStratRecord:
    """A post-stratification, for the variance: cell codes, weights before and after."""

    cells: np.ndarray
    old_weights: np.ndarray
    new_weights: np.ndarray


@dataclass(frozen=True, eq=False)
class RakingRecord:
    """A raking: per margin, the cell codes and the weights after that margin's last pass."""

    margins: tuple[tuple[np.ndarray, np.ndarray], ...]


@dataclass(frozen=True, eq=False)
class GregRecord:
    """A calibration: model matrix scaled by sqrt(old weights) and ``g * sqrt(old weights)``."""

    scaled_model: np.ndarray
    w: np.ndarray


@dataclass(frozen=True, eq=False)
class NestedRecord:
    """Rows nested in the rows of another design (births in their mothers' rows).

    The variance of an estimate over the nested rows sums their influence values to the
    parent rows and takes the parent design's variance, with its strata, PSUs, fpc and
    weighting adjustments: the parent's rows are the sampled units.
    """

    parent: SurveyDesign
    rows: np.ndarray


@dataclass(frozen=True, eq=False)
class Replicates:
    """Replicate analysis weights (n x R, already multiplied by the full-sample weights).

    The variance of an estimate is ``scale * sum(rscales * (theta_r - centre)^2)`` where the
    centre is the mean of the replicates (or the full-sample estimate when ``mse``), as R's
    ``svrVar``.
    """

    weights: np.ndarray
    kind: str
    scale: float
    rscales: np.ndarray
    mse: bool = False
    fay_rho: float = 0.0

    @property
    def count(self) -> int:
        """Number of replicates."""
        return int(self.weights.shape[1])

    @cached_property
    def rank(self) -> int:
        """Numerical rank of the replicate weight matrix (computed once)."""
        return int(np.linalg.matrix_rank(self.weights))

    def degrees_of_freedom(self) -> int:
        """Rank of the replicate weights minus one, as R's ``degf`` for replicate designs."""
        return self.rank - 1


@dataclass(frozen=True, eq=False)
class SurveyDesign:
    """An immutable survey design; build it with :meth:`from_frame` or :meth:`from_file`."""

    data: pd.DataFrame
    weights: np.ndarray
    clusters: tuple[np.ndarray, ...]
    strata: tuple[np.ndarray, ...]
    has_strata: bool
    sampsize: tuple[np.ndarray, ...]
    popsize: tuple[np.ndarray, ...] | None
    columns: dict[str, Any]
    lonely_psu: str = "fail"
    adjustments: tuple[Any, ...] = ()
    replicates: Replicates | None = None
    history: tuple[WeightingStep, ...] = ()

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_frame(
        cls,
        data: pd.DataFrame,
        *,
        weights: str | None = None,
        probs: str | None = None,
        ids: str | Sequence[str] | None = None,
        strata: str | None = None,
        fpc: str | Sequence[str] | None = None,
        nest: bool = False,
        lonely_psu: str = "fail",
    ) -> SurveyDesign:
        """Build a design from a frame with named columns, as R's ``svydesign``.

        ``ids`` are the cluster columns of each stage (none: each row is its own PSU);
        ``fpc`` per stage is a population size (> 1) or a sampling fraction (<= 1);
        ``nest=True`` makes cluster codes unique within strata.
        """
        if lonely_psu not in LONELY_PSU_OPTIONS:
            raise DesignError(f"lonely_psu must be one of {', '.join(LONELY_PSU_OPTIONS)}")
        id_cols = [ids] if isinstance(ids, str) else list(ids or [])
        fpc_cols = [fpc] if isinstance(fpc, str) else list(fpc or [])
        named = [c for c in [weights, probs, strata, *id_cols, *fpc_cols] if c]
        require_columns(data, named)
        data = data.reset_index(drop=True).copy()
        n = len(data)
        if n == 0:
            raise DesignError("the data have no rows")
        cluster_codes = _cluster_codes(data, id_cols, n)
        stratum_first = _codes(data[strata], strata) if strata else np.zeros(n, dtype=np.int64)
        if len(np.unique(cluster_codes[0])) == 1 and not (nest and strata):
            raise DesignError("the design has only one primary sampling unit")
        if nest and strata:
            cluster_codes = [_combine(stratum_first, c) for c in cluster_codes]
        elif strata:
            _check_nested(cluster_codes[0], stratum_first, id_cols[0] if id_cols else "row")
        stage_strata = [stratum_first]
        for stage in range(1, len(cluster_codes)):
            stage_strata.append(_combine(stage_strata[0], cluster_codes[stage - 1]))
        sampsize = tuple(
            _psu_counts(s, c) for s, c in zip(stage_strata, cluster_codes, strict=True)
        )
        popsize = _popsize(data, fpc_cols, sampsize, len(cluster_codes)) if fpc_cols else None
        w = _weights_from(data, weights, probs)
        if not (weights or probs) and popsize is not None:
            # as R's svydesign: without weights, the inclusion probability is the product over
            # stages of sampled / population units
            w = np.prod([p / s for p, s in zip(popsize, sampsize, strict=True)], axis=0)
        columns = {
            "weights": weights,
            "probs": probs,
            "ids": id_cols,
            "strata": strata,
            "fpc": fpc_cols,
        }
        return cls(
            data=data,
            weights=_frozen(w),
            clusters=tuple(_frozen(c) for c in cluster_codes),
            strata=tuple(_frozen(s) for s in stage_strata),
            has_strata=bool(strata),
            sampsize=tuple(_frozen(s) for s in sampsize),
            popsize=None if popsize is None else tuple(_frozen(p) for p in popsize),
            columns=columns,
            lonely_psu=lonely_psu,
            history=(WeightingStep("design", details=_describe(columns, n)),),
        )

    @classmethod
    def from_file(cls, path: str | Path, **options: Any) -> SurveyDesign:
        """Read a CSV, Parquet, .dta, .sav or .xlsx file and build a design from it."""
        return cls.from_frame(read_table(path), **options)

    @classmethod
    def nested(
        cls, parent: SurveyDesign, data: pd.DataFrame, parent_rows: Sequence[int] | np.ndarray
    ) -> SurveyDesign:
        """A design over rows nested in ``parent``'s rows (births, each in its mother's row):
        ``parent_rows`` gives each row's row in ``parent``.

        Each row takes its parent row's weight, stratum, PSU, fpc and replicate weights; an
        estimate's variance is the parent design's variance of its influence values summed
        to the parent rows (:class:`NestedRecord`), so the parent's calibration counts and
        its PSUs are the ones drawn. Without calibration the SEs are those of a design over
        the nested rows with the parent's strata and PSUs, as R's ``svydesign`` on a births
        file gives them, when every PSU of the parent has a nested row (the parent's PSUs
        without one count here as PSUs with a zero total).
        """
        rows = np.asarray(parent_rows, dtype=np.int64)
        if rows.ndim != 1 or len(rows) != len(data):
            raise DesignError("give the parent row of every nested row")
        if len(rows) and (rows.min() < 0 or rows.max() >= parent.n):
            raise DesignError("a nested row's parent row is outside the parent design")

        def take(arrays: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
            return tuple(_frozen(a[rows]) for a in arrays)

        replicates = parent.replicates
        if replicates is not None:
            replicates = replace(replicates, weights=_frozen(replicates.weights[rows]))
        step = WeightingStep("nested", details={"rows": len(rows), "parent_rows": parent.n})
        return cls(
            data=data.reset_index(drop=True).copy(),
            weights=_frozen(parent.weights[rows]),
            clusters=take(parent.clusters),
            strata=take(parent.strata),
            has_strata=parent.has_strata,
            sampsize=take(parent.sampsize),
            popsize=None if parent.popsize is None else take(parent.popsize),
            columns=dict(parent.columns),
            lonely_psu=parent.lonely_psu,
            adjustments=(NestedRecord(parent, _frozen(rows)),),
            replicates=replicates,
            history=(*parent.history, step),
        )

    @classmethod
    def from_replicate_weights(
        cls,
        data: pd.DataFrame,
        *,
        weights: str,
        replicate_weights: Sequence[str],
        kind: str,
        scale: float,
        rscales: Sequence[float] | float = 1.0,
        combined: bool = True,
        mse: bool = False,
    ) -> SurveyDesign:
        """A design whose variance comes from given replicate weights, as R's ``svrepdesign``.

        ``combined=False`` means the replicate columns are multipliers of the full-sample
        weights (R's ``combined.weights=FALSE``).
        """
        require_columns(data, [weights, *replicate_weights])
        base = cls.from_frame(data, weights=weights)
        reps = data[list(replicate_weights)].to_numpy(dtype=float)
        if not combined:
            reps = reps * base.weights[:, None]
        rsc = (
            np.full(reps.shape[1], float(rscales))
            if np.isscalar(rscales)
            else np.asarray(rscales, float)
        )
        replicates = Replicates(_frozen(reps), kind, float(scale), _frozen(rsc), mse)
        step = WeightingStep(
            "replicates", details={"type": kind, "replicates": reps.shape[1], "given": True}
        )
        return replace(base, replicates=replicates, history=(*base.history, step))

    # ------------------------------------------------------------------ accessors
    @property
    def n(self) -> int:
        """Number of rows."""
        return len(self.weights)

    @property
    def weight_column(self) -> str:
        """The name under which the current weights are written out (next to the originals)."""
        weighted = any(s.method not in ("design", "replicates") for s in self.history)
        return "final_weight" if weighted else (self.columns.get("weights") or "weight")

    def frame(self) -> pd.DataFrame:
        """The data with the current weights (and replicate weights) as columns."""
        out = self.data.copy()
        out[self.weight_column] = self.weights
        if self.replicates is not None:
            reps = pd.DataFrame(
                self.replicates.weights,
                columns=[f"repw_{i + 1}" for i in range(self.replicates.count)],
            )
            out = pd.concat([out, reps], axis=1)
        return out

    def column(self, name: str) -> np.ndarray:
        """A data column as a numpy array (raises :class:`DesignError` if absent)."""
        if name not in self.data.columns:
            raise DesignError(f"no variable {name!r} in the design's data")
        return self.data[name].to_numpy()

    def degrees_of_freedom(self, present: np.ndarray | None = None) -> int:
        """Design degrees of freedom: PSUs minus strata (rank - 1 for replicate designs)."""
        if self.replicates is not None:
            return self.replicates.degrees_of_freedom()
        inset = self.weights != 0 if present is None else (self.weights != 0) & present
        return len(np.unique(self.clusters[0][inset])) - len(np.unique(self.strata[0][inset]))

    # ------------------------------------------------------------------ evolution
    def evolve(
        self,
        *,
        weights: np.ndarray,
        step: WeightingStep,
        adjustment: Any | None = None,
        replicate_weights: np.ndarray | None = None,
        keep: np.ndarray | None = None,
    ) -> SurveyDesign:
        """A new design with new weights, one more history step and its variance record."""
        adjustments = self.adjustments if adjustment is None else (*self.adjustments, adjustment)
        replicates = self.replicates
        if replicates is not None and replicate_weights is not None:
            replicates = replace(replicates, weights=_frozen(np.asarray(replicate_weights, float)))
        new = replace(
            self,
            weights=_frozen(np.asarray(weights, float)),
            adjustments=adjustments,
            replicates=replicates,
            history=(*self.history, step),
        )
        return new if keep is None else new.select_rows(keep)

    def select_rows(self, keep: np.ndarray) -> SurveyDesign:
        """A design restricted to rows ``keep`` (PSU counts stay those of the full design)."""
        keep = np.asarray(keep, dtype=bool)

        def cut(arrays: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
            return tuple(_frozen(a[keep]) for a in arrays)

        adjustments = tuple(_cut_adjustment(a, keep) for a in self.adjustments)
        replicates = self.replicates
        if replicates is not None:
            replicates = replace(replicates, weights=_frozen(replicates.weights[keep]))
        return replace(
            self,
            data=self.data.loc[keep].reset_index(drop=True),
            weights=_frozen(self.weights[keep]),
            clusters=cut(self.clusters),
            strata=cut(self.strata),
            sampsize=cut(self.sampsize),
            popsize=None if self.popsize is None else cut(self.popsize),
            adjustments=adjustments,
            replicates=replicates,
        )

    def with_lonely_psu(self, option: str) -> SurveyDesign:
        """The same design with another lonely-PSU rule."""
        if option not in LONELY_PSU_OPTIONS:
            raise DesignError(f"lonely_psu must be one of {', '.join(LONELY_PSU_OPTIONS)}")
        return replace(self, lonely_psu=option)

    def with_replicates(self, kind: str = "auto", **options: Any) -> SurveyDesign:
        """Replicate weights built from this design (JK1, JKn, BRR, Fay, bootstrap, subbootstrap).

        See :func:`weighting.replicates.make_replicates` for the options.
        """
        from weighting.replicates import make_replicates

        replicates = make_replicates(self, kind, **options)
        step = WeightingStep(
            "replicates",
            details={"type": replicates.kind, "replicates": replicates.count, **_jsonable(options)},
        )
        return replace(self, replicates=replicates, history=(*self.history, step))

    def summary(self) -> dict[str, Any]:
        """Counts of rows, strata and PSUs, the weight total and the history, for people."""
        return {
            "rows": self.n,
            "strata": len(np.unique(self.strata[0])),
            "psus": len(np.unique(self.clusters[0])),
            "weight_total": float(self.weights.sum()),
            "replicates": None if self.replicates is None else self.replicates.kind,
            "steps": [s.method for s in self.history],
        }


# ---------------------------------------------------------------------- helpers
def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.array(array, copy=True)
    array.setflags(write=False)
    return array


def _jsonable(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if isinstance(v, (int, float, str, bool, type(None)))}


def _describe(columns: dict[str, Any], n: int) -> dict[str, Any]:
    return {"rows": n, **{k: v for k, v in columns.items() if v}}


def _weights_from(data: pd.DataFrame, weights: str | None, probs: str | None) -> np.ndarray:
    if weights and probs:
        raise DesignError("give weights or probs, not both")
    if weights:
        w = pd.to_numeric(data[weights], errors="coerce").to_numpy(dtype=float)
        name = weights
    elif probs:
        p = pd.to_numeric(data[probs], errors="coerce").to_numpy(dtype=float)
        if np.any(p <= 0):
            bad = int(np.argmax(p <= 0))
            raise DesignError(f"row {bad + 1}: inclusion probability {probs!r} is not positive")
        w = 1.0 / p
        name = probs
    else:
        return np.ones(len(data))
    if np.any(~np.isfinite(w)):
        bad = int(np.argmax(~np.isfinite(w)))
        raise DesignError(f"row {bad + 1}: {name!r} is missing or not a number")
    if np.any(w < 0):
        bad = int(np.argmax(w < 0))
        raise DesignError(f"row {bad + 1}: weight {name!r} is negative")
    if len(w) and not np.any(w > 0):
        raise DesignError(f"every weight {name!r} is zero: nothing can be estimated or weighted")
    return w


def _codes(values: pd.Series, name: str) -> np.ndarray:
    if values.isna().any():
        bad = int(np.argmax(values.isna().to_numpy()))
        raise DesignError(f"row {bad + 1}: {name!r} is missing")
    return pd.factorize(values, sort=True)[0].astype(np.int64)


def _combine(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Codes of the interaction of two code vectors."""
    pairs = first.astype(np.int64) * (int(second.max()) + 1) + second
    return np.unique(pairs, return_inverse=True)[1].astype(np.int64)


def _cluster_codes(data: pd.DataFrame, id_cols: list[str], n: int) -> list[np.ndarray]:
    if not id_cols:
        return [np.arange(n, dtype=np.int64)]
    codes = [_codes(data[id_cols[0]], id_cols[0])]
    for col in id_cols[1:]:
        codes.append(_combine(codes[-1], _codes(data[col], col)))
    return codes


def _check_nested(clusters: np.ndarray, strata: np.ndarray, name: str) -> None:
    pairs = np.unique(np.stack([clusters, strata], axis=1), axis=0)
    counts = np.bincount(pairs[:, 0])
    if np.any(counts > 1):
        raise DesignError(
            f"clusters {name!r} are not nested in strata at the first stage; use nest=True"
        )


def _psu_counts(strata: np.ndarray, clusters: np.ndarray) -> np.ndarray:
    """For each row, the number of distinct PSUs in its stratum."""
    pairs = np.unique(np.stack([strata, clusters], axis=1), axis=0)
    per_stratum = np.bincount(pairs[:, 0], minlength=int(strata.max()) + 1)
    return per_stratum[strata].astype(float)


def _popsize(
    data: pd.DataFrame, fpc_cols: list[str], sampsize: tuple[np.ndarray, ...], stages: int
) -> tuple[np.ndarray, ...]:
    if len(fpc_cols) != stages:
        raise DesignError(f"give one fpc column per stage ({stages} stages, {len(fpc_cols)} fpc)")
    values = [pd.to_numeric(data[c], errors="coerce").to_numpy(dtype=float) for c in fpc_cols]
    for col, v in zip(fpc_cols, values, strict=True):
        if np.any(np.isnan(v)):
            raise DesignError(f"row {int(np.argmax(np.isnan(v))) + 1}: fpc {col!r} is missing")
    allv = np.concatenate(values)
    is_popsize = bool(np.any(allv > 1))
    if is_popsize and not np.all(allv >= 1):
        raise DesignError("fpc must be all population sizes (>= 1) or all fractions (<= 1)")
    popsize = tuple(v if is_popsize else s / v for v, s in zip(values, sampsize, strict=True))
    for col, p, s in zip(fpc_cols, popsize, sampsize, strict=True):
        if np.any(p < s):
            bad = int(np.argmax(p < s))
            raise DesignError(f"row {bad + 1}: fpc {col!r} implies more than 100% sampling")
    return popsize


def _cut_adjustment(adjustment: Any, keep: np.ndarray) -> Any:
    if isinstance(adjustment, PostStratRecord):
        return PostStratRecord(
            adjustment.cells[keep], adjustment.old_weights[keep], adjustment.new_weights[keep]
        )
    if isinstance(adjustment, RakingRecord):
        return RakingRecord(tuple((c[keep], w[keep]) for c, w in adjustment.margins))
    if isinstance(adjustment, GregRecord):
        return GregRecord(adjustment.scaled_model[keep], adjustment.w[keep])
    if isinstance(adjustment, NestedRecord):
        return NestedRecord(adjustment.parent, adjustment.rows[keep])
    return adjustment
