"""Generate the bundled synthetic frame of Qingshan, a fictional prefecture, and its roster.

Run ``python -m surveys.data.make_frame`` to rewrite ``qingshan_frame.csv`` and
``qingshan_enumerators.csv`` next to this file; the output depends only on :data:`SEED`, and a
test checks that the committed CSVs are what this script writes.

The prefecture has 3 urban districts and 5 rural counties (the strata). Each has townships
(subdistricts, towns, townships) made of neighbourhood committees (urban, code 001-199) and
village committees (rural, code 200-599), with 12-digit codes shaped like China's statistical
division codes under the fictional prefecture code 3799 (province 37, Shandong, where no real
prefecture uses 99). Populations are lognormal (a few hundred to ~10,000, longer tail in
towns) plus four very large new-town communities that a PPS sample takes with certainty.
Each unit has households, registered migrants, urban (1) or rural (2) as the bundled
questionnaires code it, the province code, and the coordinates of its committee office.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

SEED = 20270701
HERE = Path(__file__).parent
FRAME_FILE = HERE / "qingshan_frame.csv"
ROSTER_FILE = HERE / "qingshan_enumerators.csv"
PREFECTURE = "3799"

COUNTIES = [
    # code, name, type, townships, centre (lat, lon), SD of children ever born (for Neyman)
    ("379902", "城东区", "district", 9, (36.652, 117.121), 0.82),
    ("379903", "城西区", "district", 8, (36.648, 116.982), 0.79),
    ("379911", "青山区", "district", 11, (36.731, 117.053), 0.91),
    ("379921", "河口县", "county", 14, (36.902, 117.412), 1.12),
    ("379922", "北岭县", "county", 16, (37.118, 117.006), 1.21),
    ("379923", "松溪县", "county", 13, (36.389, 117.338), 1.08),
    ("379924", "白石县", "county", 15, (36.451, 116.702), 1.17),
    ("379925", "南湖县", "county", 12, (36.287, 116.991), 1.05),
]
FIRST = list("东西南北中上下前后大小新老金银石柳杨李王张刘陈青白红黄马牛龙凤和平安兴福寿")
SECOND = list("山河湖沟庄屯营坡岭泉桥店园林塘湾港集寨堡台洼峪滩坪")
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红梅建国海燕")
GIANTS = {"379902": 1, "379903": 1, "379911": 1, "379921": 1}
"""Counties that get one very large new-town community (a certainty selection)."""


def _place_name(rng: np.random.Generator, used: set[str], suffix: str) -> str:
    """A two-character place name plus suffix, unique within ``used``."""
    while True:
        name = rng.choice(FIRST) + rng.choice(SECOND) + suffix
        if name not in used:
            used.add(name)
            return name


def _townships(rng: np.random.Generator, county: tuple) -> list[dict]:
    """Townships of one county: subdistricts in districts, towns and townships in counties."""
    code, _, kind, count, *_ = county
    used: set[str] = set()
    out = []
    for k in range(1, count + 1):
        if kind == "district":
            suffix = "街道" if k <= count - 2 else "镇"
        else:
            suffix = "街道" if k <= 2 else ("镇" if k <= count * 2 // 3 else "乡")
        out.append({"id": f"{code}{k:03d}", "name": _place_name(rng, used, suffix), "type": suffix})
    return out


def _units(rng: np.random.Generator, township: dict) -> list[dict]:
    """Neighbourhood and village committees of one township with populations."""
    used: set[str] = set()
    urban = township["type"] == "街道"
    town = township["type"] == "镇"
    units = []
    if urban:
        count, median, sigma = int(rng.integers(6, 14)), 5200.0, 0.45
    else:
        count, median, sigma = int(rng.integers(10, 26)), 1300.0, 0.55
    for k in range(count):
        pop = float(np.exp(rng.normal(np.log(median), sigma)))
        units.append(
            {
                "urban": 1 if urban else 2,
                "code": f"{k + 1:03d}" if urban else f"{200 + k + 1:03d}",
                "name": _place_name(rng, used, "社区" if urban else "村"),
                "population": max(round(pop), 150),
            }
        )
    if town:  # the town seat: one or two neighbourhood committees
        for k in range(int(rng.integers(1, 3))):
            pop = float(np.exp(rng.normal(np.log(4200.0), 0.4)))
            units.append(
                {
                    "urban": 1,
                    "code": f"{k + 1:03d}",
                    "name": _place_name(rng, used, "社区"),
                    "population": round(pop),
                }
            )
    return units


def build_frame(seed: int = SEED) -> list[dict]:
    """All rows of the frame, in code order."""
    rng = np.random.default_rng(seed)
    rows = []
    for county in COUNTIES:
        code, name, kind, _, (lat0, lon0), sd = county
        townships = _townships(rng, county)
        giant_in = int(rng.integers(0, 2)) if code in GIANTS else -1
        for t_index, township in enumerate(townships):
            t_lat = lat0 + rng.normal(0, 0.06)
            t_lon = lon0 + rng.normal(0, 0.08)
            units = _units(rng, township)
            if t_index == giant_in:
                units.append(
                    {
                        "urban": 1,
                        "code": f"{len([u for u in units if u['urban'] == 1]) + 1:03d}",
                        "name": _place_name(rng, {u["name"] for u in units}, "新城社区"),
                        "population": int(rng.integers(55_000, 90_000)),
                    }
                )
            units.sort(key=lambda u: u["code"])
            for unit in units:
                size = 2.7 if unit["urban"] == 1 else 3.4
                households = max(round(unit["population"] / rng.uniform(size - 0.4, size)), 30)
                is_urban = unit["urban"] == 1
                share = rng.uniform(0.12, 0.35) if is_urban else rng.uniform(0.01, 0.08)
                rows.append(
                    {
                        "province": PREFECTURE[:2],
                        "village_id": township["id"] + unit["code"],
                        "village_name": unit["name"],
                        "urban": unit["urban"],
                        "township_id": township["id"],
                        "township_name": township["name"],
                        "county_id": code,
                        "county_name": name,
                        "county_type": kind,
                        "population": unit["population"],
                        "households": households,
                        "migrants": round(unit["population"] * share),
                        "sd_ceb": sd,
                        "lat": round(t_lat + rng.normal(0, 0.015), 5),
                        "lon": round(t_lon + rng.normal(0, 0.02), 5),
                    }
                )
    return rows


def build_roster(seed: int = SEED, per_county: int = 5) -> list[dict]:
    """Enumerators: one team per county, ``per_county`` enumerators and a supervisor each."""
    rng = np.random.default_rng(seed + 1)
    used: set[str] = set()
    rows = []
    number = 0
    for code, *_ in COUNTIES:
        supervisor = f"sup{code[-3:]}"
        for _ in range(per_county):
            number += 1
            while True:
                name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN, size=rng.integers(1, 3)))
                if name not in used:
                    used.add(name)
                    break
            rows.append(
                {
                    "id": f"enum{number:03d}",
                    "name": name,
                    "team": f"team{code[-3:]}",
                    "supervisor": supervisor,
                    "area": code,
                }
            )
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    """Write ``rows`` as UTF-8 CSV with a header, LF line endings."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(directory: Path = HERE) -> None:
    """Write the frame and the roster into ``directory``."""
    write_csv(build_frame(), directory / FRAME_FILE.name)
    write_csv(build_roster(), directory / ROSTER_FILE.name)


if __name__ == "__main__":
    main()
