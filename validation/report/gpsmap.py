"""The GPS map: interviews against their sampled dwellings, PSU outlines, no map tiles.

Points are projected equirectangularly around the mean latitude (fine at the scale of a
prefecture). Each PSU is outlined by the convex hull of its sampled dwellings (of its interviews
when no dwelling is located), or a circle of :data:`PSU_RADIUS_KM` around them when there
are fewer than three distinct points. At most
``max_points`` interviews are drawn: every one far from its dwelling, then a seeded sample
of the others, so a big survey keeps a small page.
"""

from __future__ import annotations

import math
from html import escape

import numpy as np
import pandas as pd

from validation.report.svg import PALETTE, fmt, svg, text

PSU_RADIUS_KM = 0.5
MAX_OUTLINES = 1500
"""More PSUs than this are not outlined on a map (their dwellings still show them)."""
KM_PER_DEGREE = 111.32


def gps_map(
    interviews: pd.DataFrame,
    far_km: float,
    title: str,
    note: str,
    max_points: int = 4000,
    width: int = 720,
    height: int = 520,
    seed: int = 1,
    links: bool = False,
) -> tuple[str, int, int]:
    """The map's SVG, the number of interviews drawn and the number with GPS."""
    located = interviews.dropna(subset=["lat", "lon"])
    dwellings = interviews.dropna(subset=["unit_lat", "unit_lon"])
    if located.empty and dwellings.empty:
        return "", 0, 0
    lat = pd.concat([located["lat"], dwellings["unit_lat"]])
    lon = pd.concat([located["lon"], dwellings["unit_lon"]])
    lat_lo, lat_hi = np.nanpercentile(lat, [0.5, 99.5])
    lon_lo, lon_hi = np.nanpercentile(lon, [0.5, 99.5])
    squash = math.cos(math.radians((lat_lo + lat_hi) / 2))
    span = max((lon_hi - lon_lo) * squash, lat_hi - lat_lo, 0.01) * 1.08
    mid_x, mid_y = (lon_lo + lon_hi) / 2 * squash, (lat_lo + lat_hi) / 2
    size = min(width, height) - 20
    x0, y0 = (width - size) / 2, (height - size) / 2

    def project(lats: np.ndarray, lons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = x0 + (np.asarray(lons) * squash - mid_x + span / 2) / span * size
        y = y0 + (mid_y + span / 2 - np.asarray(lats)) / span * size
        return x, y

    body = [f'<rect x="0" y="0" width="{width}" height="{height}" fill="#f5f7f8"/>']
    body += _outlines(interviews, project, size / span / KM_PER_DEGREE)
    shown = _points_to_draw(located, far_km, max_points, seed)
    units = dwellings.drop_duplicates(["unit_lat", "unit_lon"])
    if len(units) > max_points:  # the dwellings of the interviews drawn
        units = shown.dropna(subset=["unit_lat", "unit_lon"]).drop_duplicates(
            ["unit_lat", "unit_lon"]
        )
    ux, uy = project(units["unit_lat"], units["unit_lon"])
    for x, y in zip(ux, uy, strict=True):
        body.append(
            f'<rect class="mark dwelling" x="{x - 2:.1f}" y="{y - 2:.1f}" width="4" height="4" '
            'fill="#78909c"/>'
        )
    px, py = project(shown["lat"], shown["lon"])
    far = (shown["gps_km"] > far_km).to_numpy()
    if links:
        dx, dy = project(shown["unit_lat"], shown["unit_lon"])
        for x, y, ex, ey, is_far in zip(px, py, dx, dy, far, strict=True):
            if is_far and math.isfinite(ex):
                body.append(
                    f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{ex:.1f}" y2="{ey:.1f}" '
                    f'stroke="{PALETTE["alert"]}" stroke-opacity="0.5"/>'
                )
    for x, y, is_far, row in zip(px, py, far, shown.itertuples(), strict=True):
        color = PALETTE["alert"] if is_far else "#1565c0"
        tip = f"{row.enumerator} {row.instance_id} {fmt(row.gps_km, 2)} km"
        body.append(
            f'<circle class="mark interview" cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{color}" '
            f'fill-opacity="0.7"><title>{escape(tip)}</title></circle>'
        )
    body.append(_scale_bar(size / span / KM_PER_DEGREE, height))
    body.append(text(8, 14, note, size=10))
    return svg(width, height, "".join(body), title), len(shown), len(located)


def worst_psus(interviews: pd.DataFrame, far_km: float, count: int = 6) -> list[str]:
    """The PSUs with the largest share of interviews far from their dwelling (at least one)."""
    located = interviews.dropna(subset=["lat", "lon", "psu"])
    if located.empty:
        return []
    share = (located["gps_km"] > far_km).groupby(located["psu"]).mean()
    return [str(p) for p in share[share > 0].sort_values(ascending=False).head(count).index]


def _points_to_draw(
    located: pd.DataFrame, far_km: float, max_points: int, seed: int
) -> pd.DataFrame:
    far = located[located["gps_km"] > far_km]
    near = located[~(located["gps_km"] > far_km)]
    room = max(max_points - len(far), 0)
    if len(near) > room:
        near = near.sample(n=room, random_state=seed)
    return pd.concat([near, far.head(max_points)])


def _outlines(interviews: pd.DataFrame, project, px_per_km: float) -> list[str]:
    """One outline per PSU: the convex hull of its sampled dwellings (of its interviews when
    none is located), or a circle when there are fewer than three distinct points."""
    frame = interviews.dropna(subset=["psu"])
    if frame.empty or frame["psu"].nunique() > MAX_OUTLINES:
        return []
    located = frame.dropna(subset=["unit_lat", "unit_lon"])
    fallback = frame[~frame["psu"].isin(set(located["psu"]))].dropna(subset=["lat", "lon"])
    lats = np.concatenate([located["unit_lat"].to_numpy(float), fallback["lat"].to_numpy(float)])
    lons = np.concatenate([located["unit_lon"].to_numpy(float), fallback["lon"].to_numpy(float)])
    psus = np.concatenate([located["psu"].astype(str), fallback["psu"].astype(str)])
    xs, ys = project(lats, lons)
    points = pd.DataFrame({"psu": psus, "x": np.round(xs, 1), "y": np.round(ys, 1)})
    points = points.drop_duplicates()
    shapes = []
    radius = max(PSU_RADIUS_KM * px_per_km, 3)
    coordinates = points[["x", "y"]].to_numpy()
    for psu, index in points.groupby("psu", sort=False).indices.items():
        hull = convex_hull(coordinates[index]) if len(index) >= 3 else []
        tip = f"<title>{escape(str(psu))}</title>"
        if len(hull) >= 3:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in hull)
            shapes.append(
                f'<polygon class="psu" points="{path}" fill="#e3eaf0" stroke="#90a4ae">'
                f"{tip}</polygon>"
            )
            continue
        cx, cy = coordinates[index].mean(axis=0)
        shapes.append(
            f'<circle class="psu" cx="{cx:.1f}" cy="{cy:.1f}" r="{radius:.1f}" fill="#e3eaf0" '
            f'stroke="#90a4ae">{tip}</circle>'
        )
    return shapes


def convex_hull(points: np.ndarray) -> list[tuple[float, float]]:
    """The convex hull of 2-D points, counter-clockwise (Andrew's monotone chain)."""
    pts = sorted(map(tuple, points))
    if len(pts) <= 2:
        return pts

    def cross(o, a, b) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _scale_bar(px_per_km: float, height: int) -> str:
    """A scale bar of a round number of km."""
    km = next(
        (k for k in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200) if k * px_per_km >= 60), 500
    )
    w = km * px_per_km
    y = height - 12
    return (
        f'<line x1="10" y1="{y}" x2="{10 + w:.1f}" y2="{y}" stroke="#37474f" stroke-width="2"/>'
        + text(14 + w, y + 4, f"{fmt(km)} km", size=10)
    )
