# ruff: noqa: E501
"""The information bound on finding an enumerator who leaves out a share q of her
daughters: the power of an ORACLE likelihood-ratio test that knows the simulator's true
fertility schedule and sex ratio at birth (the Neyman-Pearson test of q = 0 against q, the
most powerful test of any kind on what the enumerator reports per woman: her age, sons and
daughters), against Q806's power on the same reports.

Per woman of age a the oracle knows P(N = n | a), the distribution of her live-born
children under the simulator (tabulated from ``surveys.simulate.demography`` itself on
``--women`` simulated women: per-year birth chances of the TFR schedule, the 12-month gap,
twins), and the chance of a boy, SRB / (100 + SRB). The reported (sons B, daughters G) has

    P_q(b, g | a) = sum_{d >= g} P(N = b + d | a) C(b + d, b) p^b (1 - p)^d C(d, g) (1 - q)^g q^(d - g)

and the enumerator's log likelihood ratio is the sum over her women. Its tails are
estimated by importance sampling from the alternative (P_0(LLR >= c) = E_q[exp(-LLR);
LLR >= c]), so a false-positive rate of 1e-4 needs no millions of draws. Each honest
enumerator's women (their ages) of the cached fertility run are used in turn, and
workloads beyond the bench's by drawing women from the same ages.

    .venv/bin/python bench/qc_omission_bound.py [--cache DIR]   # after qc_detection --form fertility
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from qc_detection import _load  # noqa: E402

from surveys.simulate.demography import DemographyParams, fertility_personas  # noqa: E402

DEFAULT = Path("/tmp/popsurvey-qc-detection/fertility-12000-60-0.02-1-omit0.6")
MAX_CHILDREN = 12


def children_table(women: int, seed: int) -> np.ndarray:
    """P(N = n | age) for ages 0..60 and n 0..MAX_CHILDREN, from the simulator's own
    fertility process (every woman honest)."""
    rng = np.random.default_rng(seed)
    params = DemographyParams()
    cmc = np.full(women, 1527)  # mid-2027
    p = fertility_personas(
        women, cmc, rng, params, heaping=np.zeros(women, bool), srb=np.full(women, params.srb)
    )
    ages = p["age"].astype(int)
    n = np.array([sum(1 for r in h if r[0] == 1) for h in p.history])
    table = np.zeros((61, MAX_CHILDREN + 1))
    np.add.at(table, (ages, np.minimum(n, MAX_CHILDREN)), 1)
    return table / np.maximum(table.sum(axis=1, keepdims=True), 1)


def report_table(children: np.ndarray, p_boy: float, q: float) -> np.ndarray:
    """P_q(b, g | age) for ages 0..60, b and g 0..MAX_CHILDREN."""
    m = MAX_CHILDREN + 1
    out = np.zeros((61, m, m))
    for n in range(m):
        for b in range(n + 1):
            d = n - b
            sex = stats.binom.pmf(b, n, p_boy)
            kept = stats.binom.pmf(np.arange(m), d, 1 - q) if q < 1 else (np.arange(m) == 0) * 1.0
            out[:, b, :] += children[:, n, None] * sex * kept[None, :]
    return out


def draw(children, p_boy, q, ages, reps, rng):
    """Reports (b, g) of each woman (ages) in ``reps`` replicates when q of daughters are
    left out: arrays (reps, women)."""
    cdf = np.cumsum(children[ages], axis=1)
    u = rng.random((reps, len(ages)))
    n = (u[..., None] > cdf[None, :, :]).sum(axis=2)
    b = rng.binomial(n, p_boy)
    g = rng.binomial(n - b, 1 - q)
    return b, g


def oracle_power(children, p_boy, q, ages, alphas, reps, rng):
    """Power of the Neyman-Pearson test of q = 0 against q at each false-positive rate
    alpha (non-randomised: the largest rejection region whose size is <= alpha), for one
    enumerator's women; the size is estimated by importance sampling from the alternative."""
    null = report_table(children, p_boy, 0.0)
    alt = report_table(children, p_boy, q)
    b, g = draw(children, p_boy, q, ages, reps, rng)
    with np.errstate(divide="ignore"):
        llr = (np.log(alt[ages, b, g]) - np.log(null[ages, b, g])).sum(axis=1)
    order = np.argsort(-llr)
    llr = llr[order]
    size = np.cumsum(np.exp(-llr)) / reps  # P_0(LLR >= llr[k]) for the k+1 largest
    out = []
    for alpha in alphas:
        # ties: a threshold may only fall between different values
        ok = (size <= alpha) & np.append(llr[1:] < llr[:-1], True)
        k = np.flatnonzero(ok)
        out.append((k[-1] + 1) / reps if len(k) else 0.0)
    return np.array(out)


def check_sizes(children, p_boy, ages, rng, reps=40_000) -> str:
    """The importance-sampling estimate against a direct simulation of the null, for one
    enumerator at q = 0.6: the direct test's power at the null's (1 - alpha) quantile."""
    alphas = (0.05, 0.0015)
    sampled = oracle_power(children, p_boy, 0.6, ages, alphas, reps, rng)
    null, alt = report_table(children, p_boy, 0.0), report_table(children, p_boy, 0.6)
    llr = []
    for q in (0.0, 0.6):
        b, g = draw(children, p_boy, q, ages, reps, rng)
        llr.append((np.log(alt[ages, b, g]) - np.log(null[ages, b, g])).sum(axis=1))
    direct = [(llr[1] > np.quantile(llr[0], 1 - a)).mean() for a in alphas]
    return ", ".join(
        f"alpha {a:g}: importance sampling {s_:.3f}, direct {d:.3f}"
        for a, s_, d in zip(alphas, sampled, direct, strict=True)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT)
    parser.add_argument("--women", type=int, default=400_000, help="for P(N = n | age)")
    parser.add_argument("--reps", type=int, default=4000, help="draws per enumerator")
    parser.add_argument(
        "--indicators", type=int, default=36, help="m tests per enumerator (per-indicator alpha)"
    )
    parser.add_argument("--team-z", type=float, default=3.5)
    args = parser.parse_args()
    t0, c0 = time.perf_counter(), time.process_time()
    main_, _, _, _, profiles, _ = _load(args.cache)
    done = (main_["a06_visit_result"].astype(str) == "1") & main_["c03_age"].notna()
    women = main_[done & main_["submitter_name"].map(profiles).eq("honest")]
    by_enumerator = [g["c03_age"].to_numpy(int) for _, g in women.groupby("submitter_name")]
    all_ages = women["c03_age"].to_numpy(int)
    params = DemographyParams()
    p_boy = params.srb / (100 + params.srb)
    children = children_table(args.women, seed=7)
    mean_daughters = (children * np.arange(MAX_CHILDREN + 1)).sum(axis=1) * (1 - p_boy)
    per_enum = np.array([mean_daughters[a].sum() for a in by_enumerator])
    print(
        f"{len(by_enumerator)} honest enumerators: median {np.median([len(a) for a in by_enumerator]):.0f}"
        f" women, {np.median(per_enum):.1f} daughters expected (oracle's schedule); "
        f"P(N|age) from {args.women:,} simulated women"
    )
    alpha_flag = float(stats.norm.sf(args.team_z))
    alpha_indicator = 1 - 0.95 ** (1 / args.indicators)
    alphas = (alpha_flag, alpha_indicator, 0.05)
    print(
        f"alphas: flag at team_z {args.team_z} (one-sided) {alpha_flag:.2e}; per indicator "
        f"1 - 0.95^(1/{args.indicators}) = {alpha_indicator:.2e} (z {stats.norm.isf(alpha_indicator):.2f}); "
        "the whole 5% on this one indicator 0.05"
    )
    rng = np.random.default_rng(0)
    print(
        "check, the first honest enumerator's women at q = 0.6: "
        + check_sizes(children, p_boy, by_enumerator[0], rng)
    )
    print("\nbench workload (each honest enumerator's own women), oracle power at alpha:")
    print("share left out   at team_z   per-indicator   0.05")
    for q in (0.27, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        power = np.mean(
            [
                oracle_power(children, p_boy, q, ages, alphas, args.reps, rng)
                for ages in by_enumerator
            ],
            axis=0,
        )
        print(f"{q:>14.2f}   {power[0]:>9.3f}   {power[1]:>13.3f}   {power[2]:.3f}")
    print("\nworkload needed at q = 0.6 (women drawn from the bench's ages, 40 enumerators each):")
    print("women/enumerator  daughters expected   at team_z   per-indicator   0.05")
    for n in (45, 60, 90, 120, 150, 200, 250):
        powers = []
        expected = []
        for _ in range(40):
            ages = rng.choice(all_ages, n)
            expected.append(mean_daughters[ages].sum())
            powers.append(oracle_power(children, p_boy, 0.6, ages, alphas, args.reps, rng))
        power = np.mean(powers, axis=0)
        print(
            f"{n:>16}   {np.mean(expected):>17.1f}   {power[0]:>9.3f}   {power[1]:>13.3f}   {power[2]:.3f}"
        )
    print(
        f"\nCPU {time.process_time() - c0:.1f} s, wall {time.perf_counter() - t0:.1f} s, "
        f"load {' '.join(f'{x:.2f}' for x in __import__('os').getloadavg())}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
