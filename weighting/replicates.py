"""Replicate weights built from a design: JK1, JKn, BRR and Fay, bootstrap, subbootstrap.

The constructions and variance scales are those of R's ``as.svrepdesign``: ``jk1weights``,
``jknweights``, ``brrweights`` (half-samples from the rows of a Hadamard matrix, Fay's factor
``rho``), ``bootweights`` (Canty and Davison's with-replacement bootstrap of PSUs within
strata) and ``subbootweights`` (Rao and Wu's rescaled bootstrap drawing n_h - 1 PSUs).
Bootstrap draws use numpy's generator with the given seed, so they are reproducible but not
the same draws as R's.
"""

from __future__ import annotations

import numpy as np

from weighting.design import Replicates, SurveyDesign
from weighting.errors import DesignError, LonelyPSUError

KINDS = ("JK1", "JKn", "BRR", "Fay", "bootstrap", "subbootstrap")


def make_replicates(
    design: SurveyDesign,
    kind: str = "auto",
    *,
    replicates: int = 50,
    fay_rho: float = 0.0,
    seed: int | None = 12345,
    hadamard_matrix: np.ndarray | None = None,
    use_fpc: bool = True,
    mse: bool = False,
) -> Replicates:
    """Replicate weights (combined with the full-sample weights) for the design's first stage.

    ``kind="auto"`` is JK1 for an unstratified design and JKn for a stratified one.
    """
    if kind == "auto":
        kind = "JKn" if design.has_strata else "JK1"
    if kind not in KINDS:
        raise DesignError(f"unknown replicate type {kind!r} (one of {', '.join(KINDS)})")
    if kind == "Fay" and fay_rho == 0:
        raise DesignError("Fay's method needs fay_rho between 0 and 1")
    if kind == "JK1" and design.has_strata:
        raise DesignError("JK1 is for unstratified designs; use JKn")
    if kind in ("JKn", "BRR", "Fay") and not design.has_strata:
        raise DesignError(f"{kind} needs a stratified design; use JK1 or bootstrap")
    psu = design.clusters[0]
    strata = design.strata[0]
    popsize = design.popsize[0] if (design.popsize is not None and use_fpc) else None
    w = np.asarray(design.weights, dtype=float)
    if kind == "JK1":
        mult, scale, rscales = _jk1(psu, popsize)
    elif kind == "JKn":
        try:
            mult, scale, rscales = _jkn(strata, psu, popsize, design.lonely_psu)
        except LonelyPSUError as err:
            from weighting.variance import named_lonely_psu

            raise named_lonely_psu(design, err) from None
    elif kind in ("BRR", "Fay"):
        mult = _brr(strata, psu, fay_rho, hadamard_matrix)
        scale = 1 / (mult.shape[1] * (1 - fay_rho) ** 2)
        rscales = np.ones(mult.shape[1])
        kind = "BRR" if fay_rho == 0 else "Fay"
    elif kind == "bootstrap":
        mult, scale = _bootstrap(strata, psu, popsize, replicates, np.random.default_rng(seed))
        rscales = np.ones(replicates)
    else:
        mult, scale = _subbootstrap(strata, psu, replicates, np.random.default_rng(seed))
        rscales = np.ones(replicates)
    weights = mult * w[:, None]
    weights.setflags(write=False)
    rscales = np.asarray(rscales, dtype=float)
    rscales.setflags(write=False)
    return Replicates(weights, kind, float(scale), rscales, mse, fay_rho)


def _unique_in_order(values: np.ndarray) -> np.ndarray:
    _, first = np.unique(values, return_index=True)
    return values[np.sort(first)]


def _fpc_factor(popsize: np.ndarray | None, rows: np.ndarray, n: int) -> float:
    if popsize is None:
        return 1.0
    values = np.unique(popsize[rows])
    if len(values) > 1:
        raise DesignError("more than one fpc value within a stratum")
    return float((values[0] - n) / values[0])


def _jk1(psu: np.ndarray, popsize: np.ndarray | None) -> tuple[np.ndarray, float, np.ndarray]:
    units = _unique_in_order(psu)
    n = len(units)
    mult = (psu[:, None] != units[None, :]) * (n / (n - 1))
    f = _fpc_factor(popsize, np.arange(len(psu)), n)
    return mult.astype(float), f * (n - 1) / n, np.ones(n)


def _jkn(
    strata: np.ndarray, psu: np.ndarray, popsize: np.ndarray | None, lonely: str
) -> tuple[np.ndarray, float, np.ndarray]:
    columns, rscales = [], []
    stratum_list = _unique_in_order(strata)
    nstrat = len(stratum_list)
    total_psus = len(np.unique(psu))
    dropped = False
    for s in stratum_list:
        rows = strata == s
        units = _unique_in_order(psu[rows])
        n = len(units)
        f = _fpc_factor(popsize, np.flatnonzero(rows), n)
        if f == 0:
            continue  # a certainty stratum: no replicates (R's survey.drop.replicates)
        if n == 1:
            if lonely == "fail":
                raise LonelyPSUError(
                    f"stratum {s} has only one PSU (set lonely_psu)", stratum=int(s)
                )
            if lonely == "adjust":
                columns.append(np.where(rows, 0.0, nstrat / (nstrat - 1)))
                rscales.append((nstrat - 1) / nstrat)
            else:
                dropped = True
            continue
        for u in units:
            col = np.ones(len(psu))
            col[rows] = np.where(psu[rows] == u, 0.0, n / (n - 1))
            columns.append(col)
            rscales.append(f * (n - 1) / n)
    if not columns:
        raise DesignError("every stratum was sampled with certainty: there is no sampling variance")
    scale = 1.0
    if dropped and lonely == "average":
        scale = total_psus / len(columns)
    return np.column_stack(columns), scale, np.array(rscales)


def hadamard(size: int) -> np.ndarray:
    """A +-1 Hadamard matrix of order at least ``size`` (a multiple of 4, or 2).

    Sylvester's doubling and Paley's construction for primes p = 3 (mod 4) give the
    smallest available order.
    """
    candidates = []
    order = 1
    while order < size:
        order *= 2
    candidates.append(order)
    for p in range(3, 4 * size + 8, 4):
        if _is_prime(p):
            m = p + 1
            while m < size:
                m *= 2
            candidates.append(m)
    best = min(candidates)
    if best == order:
        return _sylvester(best)
    for p in range(3, 4 * size + 8, 4):
        if _is_prime(p):
            m, doublings = p + 1, 0
            while m < size:
                m, doublings = m * 2, doublings + 1
            if m == best:
                h = _paley(p)
                for _ in range(doublings):
                    h = np.block([[h, h], [h, -h]])
                return h
    return _sylvester(best)


def _is_prime(p: int) -> bool:
    return p > 1 and all(p % d for d in range(2, int(p**0.5) + 1))


def _sylvester(order: int) -> np.ndarray:
    h = np.ones((1, 1))
    while h.shape[0] < order:
        h = np.block([[h, h], [h, -h]])
    return h


def _paley(p: int) -> np.ndarray:
    residues = {(i * i) % p for i in range(1, p)}
    chi = np.array([0] + [1 if i in residues else -1 for i in range(1, p)])
    q = np.array([[chi[(j - i) % p] for j in range(p)] for i in range(p)])
    s = np.zeros((p + 1, p + 1))
    s[0, 1:] = 1
    s[1:, 0] = -1
    s[1:, 1:] = q
    return s + np.eye(p + 1)


def _brr(strata: np.ndarray, psu: np.ndarray, rho: float, matrix: np.ndarray | None) -> np.ndarray:
    """Half-sample multipliers as R's ``brrweights`` for strata of exactly two PSUs."""
    first = np.sort(np.unique(psu, return_index=True)[1])
    unit_psu = psu[first]
    unit_stratum = strata[first]
    stratum_names = np.unique(unit_stratum)
    counts = {s: int(np.sum(unit_stratum == s)) for s in stratum_names}
    if any(c != 2 for c in counts.values()):
        bad = next(s for s, c in counts.items() if c != 2)
        raise DesignError(f"BRR needs two PSUs per stratum; stratum {bad} has {counts[bad]}")
    # strata in sorted order get rows 2, 3, ... of the Hadamard matrix (R's ordering)
    order = {s: i + 1 for i, s in enumerate(sorted(stratum_names))}
    h = hadamard(len(stratum_names) + 1) if matrix is None else np.asarray(matrix)
    if h.shape[0] < len(stratum_names) + 1:
        raise DesignError("the Hadamard matrix needs more rows than there are strata")
    h01 = (h != h[0, 0]).astype(int)
    position_in_pair = np.zeros(len(unit_psu), dtype=int)
    for s in stratum_names:
        idx = np.flatnonzero(unit_stratum == s)
        position_in_pair[idx[1]] = 1
    unit_row = np.array([order[s] for s in unit_stratum])
    # R: first PSU has half-sample weights (0, 1), second (1, 0); column chosen by H + 1.
    chosen = h01[unit_row, :]
    in_half = np.where(position_in_pair[:, None] == 0, chosen == 1, chosen == 0)
    unit_mult = np.where(in_half, 2 - rho, rho)
    sorter = np.argsort(unit_psu)
    unit_of_row = sorter[np.searchsorted(unit_psu, psu, sorter=sorter)]
    return unit_mult[unit_of_row].astype(float)


def _psu_index(strata: np.ndarray, psu: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    units, first, row_unit = np.unique(psu, return_index=True, return_inverse=True)
    return units, strata[first], row_unit


def _bootstrap(strata, psu, popsize, replicates, rng) -> tuple[np.ndarray, float]:
    units, unit_stratum, row_unit = _psu_index(strata, psu)
    counts = np.zeros((len(units), replicates))
    per_stratum = []
    for s in np.unique(unit_stratum):
        idx = np.flatnonzero(unit_stratum == s)
        n = len(idx)
        per_stratum.append(n)
        if popsize is None:
            for r in range(replicates):
                counts[idx, r] = np.bincount(rng.integers(0, n, n), minlength=n)
        else:
            big_n = int(np.rint(popsize[np.flatnonzero(strata == s)[0]]))
            pool = np.resize(np.arange(n), big_n)  # each PSU repeated to the population size
            for r in range(replicates):
                counts[idx, r] = np.bincount(rng.choice(pool, n, replace=False), minlength=n)
    harmonic = 1 / np.mean(1 / np.array(per_stratum, dtype=float))
    scale = harmonic / ((harmonic - 1) * (replicates - 1))
    return counts[row_unit], scale


def _subbootstrap(strata, psu, replicates, rng) -> tuple[np.ndarray, float]:
    units, unit_stratum, row_unit = _psu_index(strata, psu)
    counts = np.zeros((len(units), replicates))
    for s in np.unique(unit_stratum):
        idx = np.flatnonzero(unit_stratum == s)
        n = len(idx)
        if n < 2:
            raise DesignError(f"the subbootstrap needs two PSUs per stratum; stratum {s} has one")
        for r in range(replicates):
            counts[idx, r] = np.bincount(rng.integers(0, n, n - 1), minlength=n) * n / (n - 1)
    return counts[row_unit], 1 / (replicates - 1)
