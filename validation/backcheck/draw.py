"""Drawing the back-check sample: per enumerator, reproducible with a seed.

Each enumerator's interviews are split into the first ``first_days`` days of fieldwork and
the rest. The target is ``ceil(share_max x early) + ceil(share x later)`` interviews (more in
the first days, when problems are cheapest to fix). Every flagged interview not yet
back-checked is taken; the rest of each period's target is a simple random sample of the
enumerator's other interviews. A unit already back-checked is never drawn again, and
back-checks already done count towards the target, so a daily draw tops up rather than
re-draws. Each enumerator's random stream depends only on the seed and their id, so adding
an enumerator does not change anyone else's draw.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from collections.abc import Iterable

import numpy as np
import pandas as pd

from validation.backcheck.errors import BackcheckError

REQUIRED = ("instance_id", "enumerator", "unit", "start")


def draw_backchecks(
    interviews: pd.DataFrame,
    *,
    share: float = 0.10,
    share_max: float = 0.20,
    first_days: int = 7,
    fieldwork_start: dt.date | None = None,
    done_units: Iterable[str] = (),
    seed: int = 1,
) -> pd.DataFrame:
    """The interviews to back-check, with ``reason`` (``flagged`` or ``random``) and
    ``period`` (``early`` or ``later``).

    ``interviews`` has ``instance_id``, ``enumerator``, ``unit``, ``start`` and optionally a
    boolean ``flagged``. ``done_units``: units already back-checked (never drawn again).
    """
    missing = [c for c in REQUIRED if c not in interviews.columns]
    if missing:
        raise BackcheckError(f"back-check draw: interviews lack column(s) {', '.join(missing)}")
    if not 0 < share <= share_max <= 1:
        raise BackcheckError(
            f"back-check shares must satisfy 0 < share ({share}) <= share_max ({share_max}) <= 1"
        )
    frame = interviews.copy()
    frame = frame[frame["unit"].notna()]
    frame["unit"] = frame["unit"].astype(str)
    frame["flagged"] = frame["flagged"].fillna(False).astype(bool) if "flagged" in frame else False
    day = pd.to_datetime(frame["start"], errors="coerce").dt.normalize()
    first = pd.Timestamp(fieldwork_start) if fieldwork_start else day.min()
    cutoff = first + pd.Timedelta(days=first_days)
    frame["period"] = np.where(day < cutoff, "early", "later")
    frame = frame.sort_values(["enumerator", "start", "instance_id"]).drop_duplicates(
        "unit", keep="last"
    )
    done = {str(u) for u in done_units}
    picked = []
    for enumerator, rows in frame.groupby("enumerator", sort=True):
        rng = np.random.default_rng([seed, zlib.crc32(str(enumerator).encode("utf-8"))])
        for period, rate in (("early", share_max), ("later", share)):
            part = rows[rows["period"] == period]
            target = math.ceil(rate * len(part) - 1e-9)
            open_ = part[~part["unit"].isin(done)]
            must = open_[open_["flagged"]]
            room = target - (len(part) - len(open_)) - len(must)
            pool = open_[~open_["flagged"]].sort_values("instance_id")
            chosen = pool.iloc[
                np.sort(rng.choice(len(pool), size=min(max(room, 0), len(pool)), replace=False))
            ]
            picked.append(must.assign(reason="flagged"))
            picked.append(chosen.assign(reason="random"))
    columns = [*frame.columns, "reason"]
    if not picked:
        return pd.DataFrame(columns=columns)
    return pd.concat(picked, ignore_index=True)[columns]
