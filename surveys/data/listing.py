"""Synthetic household listings for selected units of the bundled frame (demo and dry runs).

A real survey lists the households of each selected village or neighbourhood committee in the
field; for the demo this writes a plausible listing instead: as many households as the frame
says, with rural (``3组12号``) or urban (``5栋2单元301室``) addresses.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd


def synthetic_listing(
    clusters: pd.DataFrame,
    *,
    seed: int,
    unit: str = "cluster",
    households: str = "households",
    urban: str = "urban",
) -> pd.DataFrame:
    """Return ``[unit, hhid, address]`` rows for every cluster, reproducibly from ``seed``.

    ``hhid`` is the unit code followed by a 4-digit serial, like a listing sheet's line.
    """
    frames = []
    for row in clusters.itertuples(index=False):
        code = str(getattr(row, unit))
        count = int(float(getattr(row, households)))
        is_urban = str(getattr(row, urban, "2")) in {"1", "1.0"}
        rng = np.random.default_rng([seed, zlib.crc32(code.encode("utf-8"))])
        frames.append(
            pd.DataFrame(
                {
                    "village_id": code,
                    "hhid": [f"{code}{k:04d}" for k in range(1, count + 1)],
                    "address": _addresses(count, is_urban, rng),
                }
            )
        )
    if not frames:
        return pd.DataFrame(columns=["village_id", "hhid", "address"])
    return pd.concat(frames, ignore_index=True)


def _addresses(count: int, urban: bool, rng: np.random.Generator) -> list[str]:
    """Plausible addresses in listing order."""
    if urban:
        per_unit, per_building = 12, 36
        return [
            f"{k // per_building + 1}栋{(k % per_building) // per_unit + 1}单元"
            f"{(k % per_unit) // 2 + 1}0{k % 2 + 1}室"
            for k in range(count)
        ]
    groups = max(1, count // int(rng.integers(25, 45)))
    sizes = np.bincount(np.sort(rng.integers(0, groups, size=count)), minlength=groups)
    return [f"{g + 1}组{k + 1}号" for g, size in enumerate(sizes) for k in range(size)]
