"""Benchmark: raking 200,000 rows and Taylor SEs over 31 domains, against R and Python peers.

    .venv/bin/python bench/bench_weighting.py            # --n 200000 --repeat 3 --seed 2024

One seeded population-survey-like sample (31 provinces as strata, about 100 rows per PSU,
sex x 7 age groups, urban/rural, lognormal design weights) is raked from the design
weights to the sex x age (14 cells), province (31) and urban (2) margins until no cell of
the cross-classification changes by more than 1e-9 of the weight total in a sweep (R's
``rake`` rule with ``epsilon = 1e-9``). Then the Taylor SE of a mean in each of the 31
provinces (R's ``svyby(~y, ~province, design, svymean)``).

Peers, each timed in this run on the same data (excluding reading the data):
R's survey package through Rscript, samplics' ``SampleWeight.rake`` and svy's
``Sample.weighting.rake`` / ``estimation.mean``. Peers that are not installed are skipped with
a message. Prints times, speed-up
ratios against the fastest peer, and the largest relative difference of each method's
weights from R's.
"""

from __future__ import annotations

import os

# one BLAS thread, as R's reference BLAS: fair on a shared machine and not slower here
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from weighting.design import SurveyDesign
from weighting.estimate import svy_mean
from weighting.steps import rake
from weighting.targets import margin

EPSILON = 1e-9
AGES = ["15-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70+"]


def make_sample(n: int, seed: int) -> pd.DataFrame:
    """A seeded sample: province strata, PSUs of ~100 rows, sex, age group, urban, y."""
    rng = np.random.default_rng(seed)
    sizes = rng.dirichlet(np.full(31, 4.0))
    province = np.sort(rng.choice(31, size=n, p=sizes)) + 1
    psu = np.empty(n, dtype=np.int64)
    start = 0
    next_psu = 0
    for p in range(1, 32):
        count = int(np.sum(province == p))
        k = max(2, count // 100)
        psu[start : start + count] = next_psu + rng.integers(0, k, count)
        next_psu += k
        start += count
    urban_p = 0.3 + 0.5 * (province / 31)
    urban = (rng.random(n) < urban_p).astype(int)
    sex = rng.choice(["F", "M"], size=n)
    age = rng.choice(AGES, size=n, p=[0.09, 0.17, 0.17, 0.17, 0.16, 0.14, 0.10])
    weight = np.exp(rng.normal(5.0, 0.35, n)) * (1 + 0.4 * urban)
    y = 50 + 2 * province / 31 + 5 * urban + 3 * (sex == "F") + rng.normal(0, 10, n)
    return pd.DataFrame(
        {
            "province": province,
            "psu": psu,
            "urban": urban,
            "sex": sex,
            "age": age,
            "sexage": np.char.add(np.char.add(sex.astype(str), "_"), age.astype(str)),
            "w": weight,
            "y": y,
        }
    )


def make_targets(frame: pd.DataFrame, seed: int) -> dict[str, dict]:
    """Consistent population margins: the sample reweighted by cell-specific factors."""
    rng = np.random.default_rng(seed + 1)
    factor = (
        rng.uniform(0.7, 1.4, 14)[pd.factorize(frame["sexage"], sort=True)[0]]
        * rng.uniform(0.8, 1.25, 31)[frame["province"].to_numpy() - 1]
        * np.array([1.15, 0.9])[frame["urban"].to_numpy()]
    )
    pop = frame["w"].to_numpy() * factor
    return {
        var: pd.Series(pop).groupby(frame[var].to_numpy()).sum().to_dict()
        for var in ("sexage", "province", "urban")
    }


def time_best(func, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def run_popsurvey(frame, targets, repeat):
    design = SurveyDesign.from_frame(frame, weights="w", ids="psu", strata="province")
    margins = [margin(var, totals) for var, totals in targets.items()]
    t_rake, raked = time_best(lambda: rake(design, margins, epsilon=EPSILON, maxit=500), repeat)
    t_se, est = time_best(lambda: svy_mean(design, "y", by="province"), repeat)
    return t_rake, np.asarray(raked.weights), t_se, est, raked.history[-1].iterations


R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(TRUE)
d <- read.csv(args[1]); tg <- read.csv(args[2], stringsAsFactors = FALSE)
d$province <- factor(d$province); d$urban <- factor(d$urban)
mk <- function(v) {
  x <- tg[tg$variable == v, ]
  df <- data.frame(x$level, x$total); names(df) <- c(v, "Freq"); df
}
des <- svydesign(id = ~psu, strata = ~province, weights = ~w, data = d)
pops <- list(mk("sexage"), mk("province"), mk("urban"))
ctl <- list(maxit = 500, epsilon = as.numeric(args[4]))
t_rake <- system.time(r <- rake(des, list(~sexage, ~province, ~urban), pops,
                                control = ctl))[["elapsed"]]
t_se <- system.time(b <- svyby(~y, ~province, des, svymean))[["elapsed"]]
writeBin(as.double(weights(r)), args[3])
writeBin(as.double(SE(b)), paste0(args[3], ".se"))
cat(t_rake, t_se, "\n")
"""


def run_r(frame, targets, workdir: Path):
    if shutil.which("Rscript") is None:
        print("R: skipped (Rscript not installed: apt-get install r-base-core r-cran-survey)")
        return None
    check = subprocess.run(["Rscript", "-e", "library(survey)"], capture_output=True, text=True)
    if check.returncode != 0:
        print("R: skipped (R's survey package not installed: apt-get install r-cran-survey)")
        return None
    data = workdir / "sample.csv"
    frame.to_csv(data, index=False)
    rows = [
        (v, str(level), total) for v, totals in targets.items() for level, total in totals.items()
    ]
    pd.DataFrame(rows, columns=["variable", "level", "total"]).to_csv(
        workdir / "targets.csv", index=False
    )
    script = workdir / "bench.R"
    script.write_text(R_SCRIPT)
    out = workdir / "r_weights.bin"
    proc = subprocess.run(
        ["Rscript", str(script), str(data), str(workdir / "targets.csv"), str(out), repr(EPSILON)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        print("R: failed:", proc.stderr.strip().splitlines()[-1:])
        return None
    t_rake, t_se = map(float, proc.stdout.split())
    return t_rake, np.fromfile(out), t_se, np.fromfile(str(out) + ".se")


def run_samplics(frame, targets, repeat):
    if importlib.util.find_spec("samplics") is None:
        print("samplics: skipped (not installed; pip install samplics)")
        return None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from samplics.weighting import SampleWeight

        margins = {var: frame[var].to_numpy() for var in targets}

        def go():
            return SampleWeight().rake(
                frame["w"].to_numpy(),
                margins,
                control=targets,
                tol=EPSILON,
                ctrl_tol=EPSILON,
                max_iter=500,
            )

        t, w = time_best(go, repeat)
    return t, np.asarray(w, dtype=float)


def run_svy(frame, targets, repeat):
    if importlib.util.find_spec("svy") is None:
        print("svy: skipped (not installed; pip install svy)")
        return None
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import polars as pl
        import svy

        sample = svy.Sample(
            pl.from_pandas(frame), svy.Design(stratum="province", psu="psu", wgt="w")
        )
        controls = {
            var: {k: float(v) for k, v in totals.items()} for var, totals in targets.items()
        }
        t_rake, raked = time_best(
            lambda: sample.weighting.rake(controls=controls, tol=EPSILON, max_iter=500), repeat
        )
        t_se, _ = time_best(lambda: sample.estimation.mean("y", by="province"), repeat)
    return t_rake, raked.data["rk_wgt"].to_numpy(), t_se


def rel_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.abs(b)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    frame = make_sample(args.n, args.seed)
    targets = make_targets(frame, args.seed)
    print(
        f"sample: {args.n:,} rows, {frame['psu'].nunique():,} PSUs in 31 provinces; "
        "margins 14 + 31 + 2 cells"
    )
    t_rake, ours, t_se, est, sweeps = run_popsurvey(frame, targets, args.repeat)
    print(
        f"popsurvey: rake {t_rake:.3f} s ({sweeps} sweeps), Taylor SE over 31 domains {t_se:.3f} s"
    )
    peers = {}
    with tempfile.TemporaryDirectory() as tmp:
        r = run_r(frame, targets, Path(tmp))
    if r is not None:
        peers["R survey"] = r[0]
        print(f"R survey: rake {r[0]:.3f} s, svyby SE over 31 domains {r[2]:.3f} s")
        print(
            f"  weights vs R: max relative difference {rel_diff(ours, r[1]):.2e} (target <= 1e-9)"
        )
        se_diff = rel_diff(np.array([e.se for e in est]), r[3])
        print(f"  SEs vs R: max relative difference {se_diff:.2e}")
        print(f"  Taylor SE over 31 domains: {r[2] / t_se:.1f}x faster than R")
    s = run_samplics(frame, targets, args.repeat)
    if s is not None:
        peers["samplics"] = s[0]
        print(f"samplics: rake {s[0]:.3f} s")
        if r is not None:
            print(f"  samplics weights vs R: max relative difference {rel_diff(s[1], r[1]):.2e}")
    v = run_svy(frame, targets, args.repeat)
    if v is not None:
        peers["svy"] = v[0]
        print(f"svy: rake {v[0]:.3f} s, Taylor SE over 31 domains {v[2]:.3f} s")
        if r is not None:
            print(f"  svy weights vs R: max relative difference {rel_diff(v[1], r[1]):.2e}")
        print(f"  Taylor SE over 31 domains: {v[2] / t_se:.1f}x faster than svy")
    if peers:
        name, fastest = min(peers.items(), key=lambda kv: kv[1])
        print(
            f"raking: {fastest / t_rake:.1f}x faster than the fastest peer ({name}); target >= 5x"
        )
        for peer, t in peers.items():
            print(f"  vs {peer}: {t / t_rake:.1f}x")
    else:
        print("no peer installed: nothing to compare with")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
