"""How often Q806 (omitted daughters) finds an enumerator who leaves out a share q of her
daughters, at the workload of the detection benchmark: each honest enumerator of the
simulated fertility fieldwork in turn has her reported daughters thinned (each left out
with probability q, as the simulator's srb_skew profile does) and is tested against the
team, 20 times per q.

    .venv/bin/python bench/qc_omission_power.py [--cache DIR]  # after qc_detection --form fertility
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_qc import END, START  # noqa: E402
from qc_detection import _load  # noqa: E402

from forms import read_form  # noqa: E402
from validation.quality import QualityInputs  # noqa: E402
from validation.quality import demography as D  # noqa: E402

DEFAULT = Path("/tmp/popsurvey-qc-detection/fertility-12000-60-0.02-1-omit0.6")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    main_, repeats, audit, sample, profiles, _ = _load(args.cache)
    form = read_form(ROOT / "forms/questionnaires/fertility.xlsx")
    inputs = QualityInputs(
        form=form, main=main_, repeats=repeats, audit=audit, sample=sample, fieldwork=(START, END)
    )
    births = D._births(inputs)
    women = np.flatnonzero(inputs.completed)
    age = D._respondent_age(inputs)[women]
    known = ~np.isnan(age)
    women, age = women[known], age[known]
    row_of = np.full(len(inputs.main), -1)
    row_of[women] = np.arange(len(women))
    where = row_of[births["owner"]]
    ok = where >= 0
    sons = np.bincount(where[ok & births["boy"]], minlength=len(women)).astype(float)
    daughters = np.bincount(where[ok & births["girl"]], minlength=len(women)).astype(float)
    group = (age // D.AGE_GROUP_YEARS).astype(int)
    group -= group.min()
    size = np.maximum(np.bincount(group), 1)
    expected_sons = (np.bincount(group, weights=sons) / size)[group]
    expected_daughters = (np.bincount(group, weights=daughters) / size)[group]
    names, index = np.unique(inputs.enumerators[women].astype(str), return_inverse=True)
    b = np.bincount(index, weights=sons)
    g = np.bincount(index, weights=daughters)
    e_b = np.bincount(index, weights=expected_sons)
    e_g = np.bincount(index, weights=expected_daughters)
    counts = np.bincount(index)
    tau2 = D.births_spread(b + g, e_b + e_g, counts)
    honest = np.array([profiles.get(n) == "honest" for n in names])
    print(
        f"tau2 {tau2:.4f}; {honest.sum()} honest enumerators: median "
        f"{np.median(counts[honest]):.0f} women, {np.median(e_g[honest]):.1f} daughters expected"
    )
    rng = np.random.default_rng(0)
    print("share left out  SRB reported   found at z>=3.5   z>=3.0   z>=2.5")
    for q in (0.0, 0.27, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        found = {3.5: [], 3.0: [], 2.5: []}
        for _ in range(args.repeats if q > 0 else 1):
            thinned = rng.binomial(g.astype(int), 1 - q).astype(float) if q > 0 else g
            z, _ = D.daughters_z(b, thinned, e_b, e_g, tau2)
            for t in found:
                found[t].append((z[honest] <= -t).mean())
        srb = f"~{110 / (1 - q):.0f}" if q < 1 else "all boys"
        print(
            f"{q:>15.2f}  {srb:>12}   {np.mean(found[3.5]):>15.3f}   {np.mean(found[3.0]):.3f}"
            f"    {np.mean(found[2.5]):.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
