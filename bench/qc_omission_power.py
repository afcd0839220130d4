"""How often Q806 (omitted daughters) finds an enumerator who leaves out a share q of her
daughters, at the workload of the detection benchmark: each honest enumerator of the
simulated fertility fieldwork in turn has her reported daughters thinned (each left out
with probability q, as the simulator's srb_skew profile does) and is tested against the
team, ``--repeats`` times per q. Beside Q806 as it is, the variants tried for more power:

- ``Q806 before``: the between-enumerator spread tau2 by moments (the planted
  enumerators' wild totals widened everyone's range) and the exact tail P(X <= g);
  ``cut spread``: tau2 by moments over the enumerators within 3 standard deviations
  (iterated), exact tail; ``Q806 now``: that and the mid-p tail (Lancaster), whose size is
  the nominal rate on average where the exact tail's is about half (printed below);
- ``poisson``: daughters (exact tail) against the Poisson of those expected from the
  women's ages alone (no sons, no spread between enumerators): what conditioning on sons
  costs;
- ``empirical`` (exact tails): the variance of the daughters expected is the team's
  per-woman variance of daughters within her age group (parity is under-dispersed: at
  most one birth a year, 12 months apart) plus the spread between enumerators estimated
  on top of it, tails of the moment-matched binomial (variance below the mean) or
  negative binomial (above);
- the one-sided "needs a look" threshold: Q806's z at the per-indicator false-positive
  rate 1 - 0.95^(1/m) (m tests per enumerator share the issue's 5%), against team_z;
- pooling by area: the same test on all the women of a stratum (the sample's area), for
  one omitting enumerator in it and for a practice of the whole area.

    .venv/bin/python bench/qc_omission_power.py [--cache DIR]  # after qc_detection --form fertility
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy import special, stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_qc import END, START  # noqa: E402
from qc_detection import _load  # noqa: E402

from forms import read_form  # noqa: E402
from validation.quality import QualityInputs  # noqa: E402
from validation.quality import demography as D  # noqa: E402

DEFAULT = Path("/tmp/popsurvey-qc-detection/fertility-12000-60-0.02-1-omit0.6")
SHARES = (0.0, 0.27, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def women_table(inputs: QualityInputs) -> dict[str, np.ndarray]:
    """Per interviewed woman: sons, daughters, age group, expected sons and daughters (the
    team's means of her age group), the team's variance of daughters in her age group,
    enumerator and stratum."""
    births = D._births(inputs)
    women = np.flatnonzero(D.interviewed_women(inputs))
    age = D._respondent_age(inputs)[women]
    row_of = np.full(len(inputs.main), -1)
    row_of[women] = np.arange(len(women))
    where = row_of[births["owner"]]
    ok = where >= 0
    sons = np.bincount(where[ok & births["boy"]], minlength=len(women)).astype(float)
    daughters = np.bincount(where[ok & births["girl"]], minlength=len(women)).astype(float)
    group = (age // D.AGE_GROUP_YEARS).astype(int)
    group -= group.min()
    size = np.maximum(np.bincount(group), 1)
    mean_g = np.bincount(group, weights=daughters) / size
    var_g = np.bincount(group, weights=daughters**2) / size - mean_g**2
    return {
        "sons": sons,
        "daughters": daughters,
        "e_b": (np.bincount(group, weights=sons) / size)[group],
        "e_g": mean_g[group],
        "v_g": (var_g * size / np.maximum(size - 1, 1))[group],
        "enumerator": inputs.enumerators[women].astype(str),
        "stratum": inputs.main["stratum"].to_numpy()[women].astype(str),
    }


def totals(w: dict[str, np.ndarray], key: str) -> dict[str, np.ndarray]:
    """Sums of the women's columns per ``key`` (enumerator or stratum)."""
    names, index = np.unique(w[key], return_inverse=True)
    out = {k: np.bincount(index, weights=w[k]) for k in ("sons", "daughters", "e_b", "e_g", "v_g")}
    out["names"] = names
    out["women"] = np.bincount(index).astype(float)
    return out


def empirical_spread(g, e_g, v_g, women, min_women=10, cut=D.SPREAD_CUT) -> float:
    """Between-group spread of daughters beyond the within-group (empirical) variance:
    tau2 with Var G = V + tau2 E^2, moment estimate leaving out groups beyond ``cut``
    standard deviations (iterated), as Q806's :func:`births_spread`; 0 when none."""
    keep = (women >= min_women) & (e_g > 0) & (v_g > 0)
    g, e, v = g[keep], e_g[keep], v_g[keep]
    inside = np.ones(len(g), dtype=bool)
    tau2 = 0.0
    for _ in range(20):
        excess = ((g - e) ** 2 - v)[inside].sum() / (e[inside] ** 2).sum()
        tau2 = max(0.0, float(excess)) / D._inside_variance(cut)
        now = np.abs(g - e) / np.sqrt(v + tau2 * e**2) <= cut
        if (now == inside).all() or now.sum() < 3:
            break
        inside = now
    return tau2


def empirical_z(g, e_g, v) -> np.ndarray:
    """Lower-tail z of ``g`` daughters against the distribution with mean ``e_g`` and
    variance ``v``: binomial (real size) when v < e_g, negative binomial when above,
    Poisson when equal; negative for too few."""
    g = np.asarray(g, dtype=float)
    low = np.empty(len(g))
    under = v < e_g
    p = np.where(under, 1 - v / e_g, 0.5)
    n = np.where(under, e_g / p, 1.0)
    # P(X <= k) of a binomial of real size n: I_{1-p}(n - k, k + 1)
    low[under] = np.where(
        g[under] >= n[under],
        1.0,
        special.betainc(np.maximum(n[under] - g[under], 1e-12), g[under] + 1, 1 - p[under]),
    )
    over = ~under
    r = np.where(over & (v > e_g), e_g**2 / np.maximum(v - e_g, 1e-12), np.inf)
    nb = over & np.isfinite(r)
    low[nb] = stats.nbinom.cdf(g[nb], r[nb], r[nb] / (r[nb] + e_g[nb]))
    pois = over & ~np.isfinite(r)
    low[pois] = stats.poisson.cdf(g[pois], e_g[pois])
    return -stats.norm.isf(np.clip(low, 1e-300, 1.0))


def exact_z(b, g, e_b, e_g, tau2) -> np.ndarray:
    """Q806's lower-tail z as it was before the mid-p: the exact tail P(X <= g)."""
    if tau2 > 0:
        k = 1.0 / tau2
        dist = stats.nbinom(k + b, (k + e_b) / (k + e_b + e_g))
    else:
        dist = stats.poisson(e_g)
    return -stats.norm.isf(np.clip(dist.cdf(g), 1e-300, 1.0))


def null_size(e_g, thresholds, rng, reps=20000) -> list[tuple[float, float]]:
    """Share of null (Poisson) daughters of each honest enumerator's expected count found
    at each z threshold, by the exact tail and by the mid-p, averaged over enumerators."""
    draws = rng.poisson(e_g[None, :], (reps, len(e_g))).astype(float)
    exact = -stats.norm.isf(np.clip(stats.poisson.cdf(draws, e_g[None, :]), 1e-300, 1.0))
    mid = stats.poisson.cdf(draws - 1, e_g[None, :]) + 0.5 * stats.poisson.pmf(draws, e_g[None, :])
    mid = -stats.norm.isf(np.clip(mid, 1e-300, 1.0))
    return [((exact <= -t).mean(), (mid <= -t).mean()) for t in thresholds]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--indicators", type=int, default=36, help="m tests per enumerator")
    args = parser.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()
    main_, repeats, audit, sample, profiles, _ = _load(args.cache)
    form = read_form(ROOT / "forms/questionnaires/fertility.xlsx")
    inputs = QualityInputs(
        form=form, main=main_, repeats=repeats, audit=audit, sample=sample, fieldwork=(START, END)
    )
    w = women_table(inputs)
    e = totals(w, "enumerator")
    b, g, e_b, e_g, counts = e["sons"], e["daughters"], e["e_b"], e["e_g"], e["women"]
    tau2 = D.births_spread(b + g, e_b + e_g, counts)
    tau2_before = D.moment_births_spread(b + g, e_b + e_g, counts)
    tau2_emp = empirical_spread(g, e_g, e["v_g"], counts)
    honest = np.array([profiles.get(n) == "honest" for n in e["names"]])
    look_alpha = 1 - 0.95 ** (1 / args.indicators)
    look_z = float(stats.norm.isf(look_alpha))
    dispersion = e["v_g"][honest].sum() / e_g[honest].sum()
    print(
        f"tau2 {tau2:.4f} (Q806: outliers cut), {tau2_before:.4f} (Q806 before: moments), "
        f"{tau2_emp:.4f} (outliers cut, over the empirical variance); within-age-group variance "
        f"of daughters / mean {dispersion:.3f}; {honest.sum()} honest enumerators: median "
        f"{np.median(counts[honest]):.0f} women, {np.median(e_g[honest]):.1f} daughters expected"
    )
    print(
        f"per-indicator alpha 1 - 0.95^(1/{args.indicators}) = {look_alpha:.5f}: 'needs a "
        f"look' at z <= -{look_z:.2f}; flag at team_z 3.5 (one-sided {stats.norm.sf(3.5):.5f})"
    )
    rng = np.random.default_rng(0)
    v_emp = e["v_g"] + tau2_emp * e_g**2
    print(
        "found at z >= 3.5 / at the look z:\n"
        "share left out  SRB reported   Q806 before   cut spread     Q806 now (z>=3.0, 2.5)"
        "         poisson        empirical"
    )
    for q in SHARES:
        found: dict[str, list[float]] = {}
        for _ in range(args.repeats if q > 0 else 1):
            thinned = rng.binomial(g.astype(int), 1 - q).astype(float) if q > 0 else g
            zb = exact_z(b, thinned, e_b, e_g, tau2_before)
            zx = exact_z(b, thinned, e_b, e_g, tau2)
            z, _ = D.daughters_z(b, thinned, e_b, e_g, tau2)
            zp = -stats.norm.isf(np.clip(stats.poisson.cdf(thinned, e_g), 1e-300, 1))
            ze = empirical_z(thinned, e_g, v_emp)
            for key, values, t in (
                ("b35", zb, 3.5),
                ("blook", zb, look_z),
                ("q35", z, 3.5),
                ("q30", z, 3.0),
                ("q25", z, 2.5),
                ("look", z, look_z),
                ("p35", zp, 3.5),
                ("plook", zp, look_z),
                ("e35", ze, 3.5),
                ("elook", ze, look_z),
                ("x35", zx, 3.5),
                ("xlook", zx, look_z),
            ):
                found.setdefault(key, []).append((values[honest] <= -t).mean())
        m = {k: np.mean(v) for k, v in found.items()}
        srb = f"~{110 / (1 - q):.0f}" if q < 1 else "all boys"
        print(
            f"{q:>14.2f}  {srb:>12}   {m['b35']:.3f} / {m['blook']:.3f}"
            f"  {m['x35']:.3f} / {m['xlook']:.3f}"
            f"  {m['q35']:.3f} / {m['look']:.3f} ({m['q30']:.3f}, {m['q25']:.3f})"
            f"   {m['p35']:.3f} / {m['plook']:.3f}   {m['e35']:.3f} / {m['elook']:.3f}"
        )
    sizes = null_size(e_g[honest], (3.5, look_z), rng)
    print(
        "size under the null (Poisson daughters at each honest enumerator's expected count, "
        "20,000 draws each): "
        + "; ".join(
            f"z >= {t:.2f} (nominal {stats.norm.sf(t):.5f}): exact {a:.5f}, mid-p {b_:.5f}"
            for t, (a, b_) in zip((3.5, look_z), sizes, strict=True)
        )
    )
    areas(w, profiles, tau2, look_z, rng, args.repeats)
    print(
        f"CPU {time.process_time() - c0:.1f} s, wall {time.perf_counter() - t0:.1f} s, "
        f"load {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    return 0


def areas(w, profiles, tau2, look_z, rng, repeats) -> None:
    """Q806's test on the women of each stratum: one honest enumerator's daughters thinned
    (her share of the stratum), and every enumerator of the stratum thinned (a practice of
    the area or its supervisor)."""
    honest_women = np.array([profiles.get(e) == "honest" for e in w["enumerator"]])
    w = {k: v[honest_women] for k, v in w.items()}  # areas of honest work only
    a = totals(w, "stratum")
    spread = D.births_spread(a["sons"] + a["daughters"], a["e_b"] + a["e_g"], a["women"])
    print(
        f"\nareas (strata): {len(a['names'])}, median {np.median(a['women']):.0f} women and "
        f"{np.median(a['e_g']):.0f} daughters expected each, honest women only; tau2 between "
        f"areas {spread:.4f}"
    )
    print("share left out   one enumerator in the area: z>=3.5 / look   whole area: z>=3.5 / look")
    names, index = np.unique(w["enumerator"], return_inverse=True)
    area_of = {}
    for i, name in enumerate(names):
        mine = index == i
        area_of[name] = mine
    for q in (0.1, 0.2, 0.27, 0.4, 0.6, 0.9):
        one, one_look, whole, whole_look = [], [], [], []
        for _ in range(max(repeats // 4, 1)):
            # one enumerator: each in turn, her daughters (in every area she works in) thinned
            for name in rng.choice(names, 40, replace=False):
                g = w["daughters"].copy()
                mine = area_of[name]
                g[mine] = rng.binomial(g[mine].astype(int), 1 - q)
                t = totals({**w, "daughters": g}, "stratum")
                z, _ = D.daughters_z(t["sons"], t["daughters"], t["e_b"], t["e_g"], spread)
                hit = np.isin(t["names"], np.unique(w["stratum"][mine]))
                one.append((z[hit] <= -3.5).any())
                one_look.append((z[hit] <= -look_z).any())
            g = rng.binomial(w["daughters"].astype(int), 1 - q).astype(float)
            t = totals({**w, "daughters": g}, "stratum")
            # every area in turn omits, the others honest
            for k in range(len(t["names"])):
                gk = a["daughters"].copy()
                gk[k] = t["daughters"][k]
                z, _ = D.daughters_z(a["sons"], gk, a["e_b"], a["e_g"], spread)
                whole.append(z[k] <= -3.5)
                whole_look.append(z[k] <= -look_z)
        print(
            f"{q:>14.2f}   {np.mean(one):>30.3f} / {np.mean(one_look):.3f}"
            f"   {np.mean(whole):>12.3f} / {np.mean(whole_look):.3f}"
        )


if __name__ == "__main__":
    sys.exit(main())
