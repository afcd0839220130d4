"""Selecting one eligible person per household: Kish grid or a pre-drawn random number.

Both are assigned to the household at the draw and carried to the tablet (as entity
properties), because the eligible members are only known at the interview:

* Kish (1949): each household gets one of eight selection tables with the classic shares
  (A 1/6, B1 1/12, B2 1/12, C 1/6, D 1/6, E1 1/12, E2 1/12, F 1/6). The enumerator lists the
  eligible members in a fixed order (e.g. men by age, then women by age) and the table gives
  the line to interview. Probabilities are exactly ``1/n`` for 1-4 and 6 eligible members,
  approximate for 5 and 7+ (only the first 6 members can be chosen);
  :func:`kish_probability` gives the actual one, for weighting.
* random: each household gets a uniform number ``u`` in ``[0, 1)``; member
  ``floor(u * n) + 1`` of the ``n`` eligible is chosen, with probability exactly ``1/n``.
"""

from __future__ import annotations

import numpy as np

from surveys.sampling.errors import DesignError

PERSON_METHODS = ("none", "kish", "random")

KISH_TABLES: dict[str, tuple[float, tuple[int, ...]]] = {
    # table: (share of households, member chosen for 1, 2, 3, 4, 5, 6+ eligible)
    "A": (1 / 6, (1, 1, 1, 1, 1, 1)),
    "B1": (1 / 12, (1, 1, 1, 1, 2, 2)),
    "B2": (1 / 12, (1, 1, 1, 2, 2, 2)),
    "C": (1 / 6, (1, 1, 2, 2, 3, 3)),
    "D": (1 / 6, (1, 2, 2, 3, 4, 4)),
    "E1": (1 / 12, (1, 2, 3, 3, 3, 5)),
    "E2": (1 / 12, (1, 2, 3, 4, 5, 5)),
    "F": (1 / 6, (1, 2, 3, 4, 5, 6)),
}


def assign_kish_tables(count: int, rng: np.random.Generator) -> list[str]:
    """Draw a Kish selection table for each of ``count`` households, with Kish's shares."""
    names = list(KISH_TABLES)
    shares = np.array([KISH_TABLES[name][0] for name in names])
    return [names[k] for k in rng.choice(len(names), size=count, p=shares / shares.sum())]


def kish_member(table: str, eligible: int) -> int:
    """The line number (1-based) of the member to interview among ``eligible`` members."""
    if table not in KISH_TABLES:
        raise DesignError(f"unknown Kish table '{table}'")
    if eligible < 1:
        raise DesignError("a household needs at least one eligible member")
    return KISH_TABLES[table][1][min(eligible, 6) - 1]


def kish_probability(line: int, eligible: int) -> float:
    """Probability that the member on ``line`` of ``eligible`` members is chosen by the grid."""
    return sum(
        share for table, (share, _) in KISH_TABLES.items() if kish_member(table, eligible) == line
    )


def random_member(u: float, eligible: int) -> int:
    """The line number (1-based) chosen by the household's random number ``u``."""
    if eligible < 1:
        raise DesignError("a household needs at least one eligible member")
    return min(int(u * eligible), eligible - 1) + 1


def person_probability(method: str, eligible: int, line: int | None = None) -> float:
    """Within-household selection probability of the interviewed person."""
    if method == "none":
        return 1.0
    if method == "random":
        return 1.0 / eligible
    if method == "kish":
        if line is None:
            raise DesignError("the Kish probability needs the chosen member's line number")
        return kish_probability(line, eligible)
    raise DesignError(
        f"unknown person selection '{method}'; use one of {', '.join(PERSON_METHODS)}"
    )
