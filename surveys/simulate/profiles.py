"""Enumerator behaviour profiles: the planted problems, and their ground truth.

Each enumerator gets one profile; :data:`PROFILES` lists them with what they plant:

============== ===========================================================================
honest         nothing
speeder        interviews 3-5 times shorter (start/end and every audit-log event)
fabricator     after a few real interviews, copies of an own earlier interview with a few
               answers changed (near-duplicates); identification, GPS and times are new
curbstoner     made-up answers with little variance: the same code / mid-range number
dont_know      don't know (98, 9998, ...) for about 45% of the answers that allow it
age_heaping    respondents' ages rounded to multiples of 5 (heaping on 0 and 5)
srb_skew       live-born daughters left out of the birth history and the counts (60% of
               them by default, ``DemographyParams.daughter_omission``): the reported sex
               ratio at birth rises (about 110 -> 275) and births per woman fall
gps_one_place  every GPS point at the same spot (the enumerator's home)
night          interviews started between 22:00 and 05:00
screen_out     eligible households screened out (migrants: hukou "this county";
               fertility: no eligible woman) to shorten the work
partial_fab    20% of the interviews invented at the desk: made-up low-variance answers,
               typed in 2-4 times faster, GPS at the enumerator's home
duplicate_ids  some interviews recorded under the household ID of an earlier interview of
               the enumerator (the same unit twice, the real household left out)
============== ===========================================================================

The ground truth (:func:`ground_truth_rows`) names, per enumerator, the profile and every
instance ID affected with what was planted there, so quality checks can be scored; answer
changes written into the audit logs are listed too (``changes``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from surveys.errors import SurveysError

PROFILES: dict[str, str] = {
    "honest": "no planted problem",
    "speeder": "interview durations 3-5 times shorter (start/end and audit log)",
    "fabricator": "copies or near-duplicates of the enumerator's own earlier interviews",
    "curbstoner": "made-up answers with low variance (same code, mid-range numbers)",
    "dont_know": "heavy use of don't know codes",
    "age_heaping": "respondent ages heaped on 0 and 5",
    "srb_skew": "daughters left out of birth histories (sex ratio at birth skewed up)",
    "gps_one_place": "all GPS points at one place",
    "night": "interviews at night (22:00-05:00)",
    "screen_out": "eligible households screened out as ineligible",
    "partial_fab": "20% of the interviews invented at the desk (fast, at home, made up)",
    "duplicate_ids": "interviews recorded under the household ID of an earlier interview",
}
"""Profile name -> what it plants."""

DEFAULT_SHARES: dict[str, float] = {name: 0.03 for name in PROFILES if name != "honest"}
"""Default share of enumerators per planted profile (the rest are honest)."""
PARTIAL_SHARE = 0.2
"""Share of a partial fabricator's interviews that are invented."""
DUPLICATE_SHARE = 0.15
"""Share of a duplicate_ids enumerator's interviews recorded under an earlier household ID."""


class ProfileError(SurveysError):
    """An unknown profile name or an impossible share."""


def assign_profiles(
    enumerators: Sequence[str], shares: Mapping[str, float] | None, rng: np.random.Generator
) -> dict[str, str]:
    """Enumerator id -> profile: round(share x enumerators) per profile (at least one for a
    positive share when there are enough enumerators), the rest honest, chosen at random."""
    shares = dict(DEFAULT_SHARES if shares is None else shares)
    unknown = sorted(set(shares) - set(PROFILES))
    if unknown:
        raise ProfileError(f"unknown profile(s) {', '.join(unknown)}; known: {', '.join(PROFILES)}")
    if (
        any(v < 0 for v in shares.values())
        or sum(v for k, v in shares.items() if k != "honest") > 1
    ):
        raise ProfileError("profile shares must be >= 0 and sum to at most 1")
    order = list(rng.permutation(len(enumerators)))
    out = {e: "honest" for e in enumerators}
    cursor = 0
    for name, share in shares.items():
        if name == "honest" or share <= 0:
            continue
        count = max(1, round(share * len(enumerators)))
        for _ in range(count):
            if cursor >= len(order):
                break
            out[enumerators[order[cursor]]] = name
            cursor += 1
    return out


@dataclass
class Behaviour:
    """Per-record flags the answer models read (arrays over the main frame)."""

    n: int
    heavy_dont_know: np.ndarray = field(init=False)
    curbstone: np.ndarray = field(init=False)
    pinned: frozenset[str] = frozenset()
    """Variables never altered by behaviour (identification, visit, closing)."""

    def __post_init__(self) -> None:
        self.heavy_dont_know = np.zeros(self.n, dtype=bool)
        self.curbstone = np.zeros(self.n, dtype=bool)


@dataclass(frozen=True)
class Planted:
    """One planted problem in one submission."""

    enumerator: str
    profile: str
    instance_id: str
    what: str


def ground_truth_rows(
    profiles: Mapping[str, str], planted: Sequence[Planted]
) -> list[dict[str, object]]:
    """One row per enumerator: profile, affected instance IDs, what was planted."""
    by_enum: dict[str, list[Planted]] = {}
    for item in planted:
        by_enum.setdefault(item.enumerator, []).append(item)
    rows = []
    for enumerator, profile in sorted(profiles.items()):
        items = by_enum.get(enumerator, [])
        rows.append(
            {
                "enumerator": enumerator,
                "profile": profile,
                "planted": PROFILES[profile],
                "instances": len(items),
                "instance_ids": [i.instance_id for i in items],
                "details": {i.instance_id: i.what for i in items},
            }
        )
    return rows
