"""Answer models: where the simulator's answers come from.

An answer model is a function of a :class:`~surveys.simulate.engine.Draw` (one question,
the rows to answer, the codes offered, the bounds read from the constraint, the answers so
far) returning the answers for those rows in frame form (float64 numbers, text objects,
None for empty). :class:`AnswerModels` keys models by variable name and falls back to the
generic model of the question's type, so any ODK form can be simulated; the bundled
questionnaires add demographic models (:mod:`surveys.simulate.demography`).

Behaviour profiles reach the generic models through ``draw.filler.behaviour`` (per record
flags, see :mod:`surveys.simulate.profiles`): heavy don't-know answers and curbstoning
(low-variance made-up answers) apply to every question a model does not pin down.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from surveys.simulate.engine import Draw

AnswerFn = Callable[[Draw], "np.ndarray | None"]

GIVEN_NAMES = np.array(
    [
        "伟",
        "芳",
        "娜",
        "敏",
        "静",
        "丽",
        "强",
        "磊",
        "军",
        "洋",
        "勇",
        "艳",
        "杰",
        "娟",
        "涛",
        "明",
        "超",
        "秀英",
        "霞",
        "平",
        "刚",
        "桂英",
        "华",
        "玉兰",
        "建华",
        "婷",
        "欣怡",
        "子涵",
    ],
    dtype=object,
)
FAMILY_NAMES = np.array(
    [
        "王",
        "李",
        "张",
        "刘",
        "陈",
        "杨",
        "黄",
        "赵",
        "吴",
        "周",
        "徐",
        "孙",
        "马",
        "朱",
        "胡",
        "郭",
        "何",
        "高",
        "林",
        "罗",
    ],
    dtype=object,
)
OTHER_TEXTS = np.array(["其他情况", "亲戚帮忙", "临时安排", "不方便说明"], dtype=object)
REMARKS = np.array(
    ["", "", "", "", "被访者配合良好", "访问中有家人在场", "被访者较忙"], dtype=object
)


@dataclass
class Codes:
    """Don't-know and refusal codes (survey.toml ``[codes]``)."""

    dont_know: tuple[str, ...] = ("98",)
    refused: tuple[str, ...] = ("99",)
    other: tuple[str, ...] = ("96",)
    none: tuple[str, ...] = ("0",)

    @property
    def missing(self) -> tuple[str, ...]:
        """Don't know and refused together."""
        return self.dont_know + self.refused


@dataclass
class AnswerModels:
    """Answer models by variable name, with generic ones per type as the fallback."""

    by_name: dict[str, AnswerFn] = field(default_factory=dict)
    codes: Codes = field(default_factory=Codes)
    dont_know_rate: float = 0.01
    """Share of honest answers that are don't know / refused where the list allows it."""
    other_rate: float = 0.02

    def register(self, name: str, fn: AnswerFn) -> None:
        """Use ``fn`` for variable ``name``."""
        self.by_name[name] = fn

    def update(self, models: Mapping[str, AnswerFn]) -> None:
        """Register several models."""
        self.by_name.update(models)

    def answer(self, draw: Draw) -> np.ndarray:
        """The named model's answers, else the generic ones (retries: generic after 3)."""
        fn = self.by_name.get(draw.question.name)
        if fn is not None and draw.attempt < 3:
            values = fn(draw)
            if values is not None:
                return self._behave(draw, np.asarray(values))
        return self._behave(draw, self.generic(draw))

    def generic(self, draw: Draw) -> np.ndarray:
        """The generic model of the question's type."""
        q = draw.question
        if q.type == "select_one" or q.type in ("select_one_from_file", "select_one_external"):
            return self.select_one(draw)
        if q.type in ("select_multiple", "select_multiple_from_file", "rank"):
            return self.select_multiple(draw)
        if q.type in ("integer", "decimal", "range"):
            return self.number(draw)
        if q.type == "text":
            return self.text(draw)
        if q.type in ("geopoint", "start-geopoint"):
            return self.geopoint(draw)
        if q.type == "date":
            return self.date(draw)
        if q.type in ("dateTime", "time"):
            return self.date_time(draw)
        if q.type in ("acknowledge", "trigger"):
            return np.full(len(draw), "OK", dtype=object)
        if q.type == "barcode":
            return np.array([f"{x:012d}" for x in draw.rng.integers(0, 10**12, len(draw))], object)
        return np.full(len(draw), None, dtype=object)

    # -- generic models ----------------------------------------------------------------
    def _substantive(self, codes: tuple[str, ...]) -> list[str]:
        special = set(self.codes.missing) | set(self.codes.other)
        return [c for c in codes if c not in special] or list(codes)

    def select_one(self, draw: Draw) -> np.ndarray:
        """A substantive code, sometimes 'other' or don't know where offered."""
        n = len(draw)
        out = np.empty(n, dtype=object)
        shared = not isinstance(draw.offered, list)
        if shared:
            codes = draw.codes()
            if not codes:
                return np.full(n, None, dtype=object)
            main = np.array(self._substantive(codes), dtype=object)
            out[:] = main[draw.rng.integers(0, len(main), n)]
            if draw.attempt == 0:
                self._sprinkle(draw, out, codes)
            return out
        for i in range(n):
            codes = draw.codes(i)
            main = self._substantive(codes) if codes else [None]
            out[i] = main[int(draw.rng.integers(0, len(main)))]
        return out

    def _sprinkle(self, draw: Draw, out: np.ndarray, codes: tuple[str, ...]) -> None:
        """Don't know / refused / other at their honest rates, where the list has them."""
        rng = draw.rng
        missing = [c for c in self.codes.missing if c in codes]
        if missing:
            hit = rng.random(len(out)) < self.dont_know_rate
            out[hit] = np.array(missing, dtype=object)[rng.integers(0, len(missing), hit.sum())]
        other = [c for c in self.codes.other if c in codes]
        if other:
            hit = rng.random(len(out)) < self.other_rate
            out[hit] = other[0]

    def select_multiple(self, draw: Draw) -> np.ndarray:
        """One to three substantive codes, space-separated; exclusive codes alone."""
        n = len(draw)
        out = np.empty(n, dtype=object)
        exclusive = set(self.codes.missing) | set(self.codes.none)
        for i in range(n):
            codes = draw.codes(i)
            if not codes:
                out[i] = None
                continue
            pool = [c for c in codes if c not in exclusive and c not in self.codes.other]
            roll = draw.rng.random()
            alone = [c for c in codes if c in self.codes.none]
            if (alone and roll < 0.2) or not pool:
                out[i] = (alone or list(codes))[0]
                continue
            # after a failed draw, one code only (exclusive codes we cannot know by name)
            most = 1 if draw.attempt >= 2 else min(3, len(pool))
            k = int(draw.rng.integers(1, most + 1))
            picks = draw.rng.choice(len(pool), size=k, replace=False)
            out[i] = " ".join(pool[j] for j in sorted(picks))
        return out

    def number(self, draw: Draw) -> np.ndarray:
        """Uniform between the bounds the constraint gives (0-100 without any)."""
        n = len(draw)
        low, high = draw.bounds if draw.bounds is not None else (np.zeros(n), np.zeros(n))
        low = np.where(np.isnan(low), np.where(np.isnan(high), 0, high - 100), low)
        high = np.where(np.isnan(high), low + 100, high)
        high = np.maximum(high, low)
        if draw.question.type == "decimal":
            return np.round(draw.rng.uniform(low, high), 2)
        return np.floor(draw.rng.uniform(low, high + 1)).clip(low, high)

    def text(self, draw: Draw) -> np.ndarray:
        """Names for name questions, short phrases for 'other, specify', else a word."""
        n = len(draw)
        name = draw.question.name
        rng = draw.rng
        if name.endswith("_oth"):
            return OTHER_TEXTS[rng.integers(0, len(OTHER_TEXTS), n)]
        if "phone" in name:
            return np.array(
                [
                    f"1{d}{x:09d}"
                    for d, x in zip(rng.integers(3, 10, n), rng.integers(0, 10**9, n), strict=True)
                ],
                dtype=object,
            )
        if "name" in name:
            return (
                FAMILY_NAMES[rng.integers(0, len(FAMILY_NAMES), n)]
                + GIVEN_NAMES[rng.integers(0, len(GIVEN_NAMES), n)]
            )
        if "remark" in name:
            texts = REMARKS[rng.integers(0, len(REMARKS), n)]
            return np.where(texts == "", None, texts)
        return np.array([f"答复{x}" for x in rng.integers(1, 1000, n)], dtype=object)

    def geopoint(self, draw: Draw) -> np.ndarray:
        """Near the submission's planned position (``gps`` metadata), 3-15 m accuracy."""
        centre = draw.filler.metadata.get("gps_centre")
        rng = draw.rng
        n = len(draw)
        if centre is None:
            lat, lon = np.full(n, 36.0), np.full(n, 117.0)
        else:
            lat, lon = centre[0][draw.records], centre[1][draw.records]
        lat = lat + rng.normal(0, 0.0004, n)
        lon = lon + rng.normal(0, 0.0005, n)
        alt = rng.normal(60, 15, n)
        acc = rng.uniform(3, 15, n)
        return np.array(
            [
                f"{a:.6f} {b:.6f} {c:.1f} {d:.1f}"
                for a, b, c, d in zip(lat, lon, alt, acc, strict=True)
            ],
            dtype=object,
        )

    def date(self, draw: Draw) -> np.ndarray:
        """A date in the last five years."""
        days = draw.rng.integers(0, 5 * 365, len(draw))
        today = np.datetime64(draw.filler.today)
        return np.array([str(today - int(d)) for d in days], dtype=object)

    def date_time(self, draw: Draw) -> np.ndarray:
        """A moment of the interview day (+08:00)."""
        seconds = draw.rng.integers(8 * 3600, 20 * 3600, len(draw))
        day = draw.filler.today.isoformat()
        if draw.question.type == "time":
            return np.array(
                [f"{s // 3600:02d}:{s % 3600 // 60:02d}:00.000+08:00" for s in seconds], object
            )
        return np.array(
            [f"{day}T{s // 3600:02d}:{s % 3600 // 60:02d}:00.000+08:00" for s in seconds], object
        )

    # -- behaviour ---------------------------------------------------------------------
    def _behave(self, draw: Draw, values: np.ndarray) -> np.ndarray:
        """Apply per-record behaviour flags (heavy don't know, curbstoning)."""
        behaviour = getattr(draw.filler, "behaviour", None)
        if behaviour is None or draw.attempt > 0:
            return values
        q = draw.question
        if q.name in behaviour.pinned:
            return values
        heavy = behaviour.heavy_dont_know[draw.records]
        if heavy.any():
            values = self._dont_know(draw, values, heavy)
        flat = behaviour.curbstone[draw.records]
        if flat.any() and q.type in ("select_one", "integer", "decimal", "select_multiple"):
            values = self._flat(draw, values, flat)
        return values

    def _dont_know(self, draw: Draw, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        q = draw.question
        hit = mask & (draw.rng.random(len(values)) < 0.45)
        if not hit.any():
            return values
        values = values.copy()
        if (q.type == "select_one" and not isinstance(draw.offered, list)) or (
            q.type == "select_multiple" and not isinstance(draw.offered, list)
        ):
            dk = [c for c in self.codes.dont_know if c in draw.codes()]
            if dk:
                values[hit] = dk[0]
        elif q.type == "integer" and draw.bounds is not None:
            high = draw.bounds[1]
            width = np.where(np.isnan(high), 2, np.floor(np.log10(np.maximum(high, 1))) + 1)
            width = np.maximum(width, 2)
            candidate = 10**width - 2  # 98, 998, 9998, 999998 ...
            values[hit] = candidate[hit]
        return values

    def _flat(self, draw: Draw, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Curbstoning: the same answer every time (first substantive code, mid-range)."""
        q = draw.question
        values = values.copy()
        if q.type in ("select_one", "select_multiple") and not isinstance(draw.offered, list):
            main = self._substantive(draw.codes())
            if main:
                values[mask] = main[0]
        elif q.type in ("integer", "decimal") and draw.bounds is not None:
            low, high = draw.bounds
            mid = np.where(np.isnan(low) | np.isnan(high), values, np.floor((low + high) / 2))
            values = np.where(mask, mid, values)
        return values
