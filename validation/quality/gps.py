"""GPS: distance from the sampled dwelling (or the PSU's centre), points clustered far more
tightly than the enumerator's sampled dwellings are, and accuracy."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forms.issues import Severity
from validation.quality.flags import CheckResult, Flag, level_frame, share_indicator
from validation.quality.inputs import QualityInputs, text
from validation.quality.registry import check

EARTH_KM = 6371.0088


def haversine_km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance in km between points given in degrees (arrays)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def typical_spread_km(lat: np.ndarray, lon: np.ndarray) -> float:
    """Median distance of the points to their median point (NaN with fewer than 3)."""
    ok = ~np.isnan(lat) & ~np.isnan(lon)
    if ok.sum() < 3:
        return float("nan")
    return float(np.median(haversine_km(lat[ok], lon[ok], np.median(lat[ok]), np.median(lon[ok]))))


def _sample_points(inputs: QualityInputs) -> tuple[np.ndarray, np.ndarray, str]:
    """Each submission's sampled dwelling (or PSU centre) coordinates, and which."""
    n = len(inputs.main)
    nan = np.full(n, np.nan)
    sample = inputs.sample
    if sample is None or not {"latitude", "longitude"} <= set(sample.columns):
        return nan, nan, "none"
    unit = inputs.column(inputs.roles.unit_id)
    if unit is not None and "unit_id" in sample.columns:
        table = sample.drop_duplicates("unit_id").set_index(
            text(sample["unit_id"].drop_duplicates()).to_numpy()
        )
        keys = text(unit).fillna("").to_numpy(dtype=object)
        rows = pd.Index(table.index).get_indexer(keys)
        lat = np.where(rows >= 0, table["latitude"].to_numpy(dtype=float)[rows], np.nan)
        lon = np.where(rows >= 0, table["longitude"].to_numpy(dtype=float)[rows], np.nan)
        if (rows >= 0).any():
            return lat, lon, "dwelling"
    psu = inputs.column(inputs.roles.psu)
    if psu is not None and "psu" in sample.columns:
        centre = sample.groupby(text(sample["psu"]))[["latitude", "longitude"]].mean()
        rows = centre.index.get_indexer(text(psu).fillna("").to_numpy(dtype=object))
        lat = np.where(rows >= 0, centre["latitude"].to_numpy()[rows], np.nan)
        lon = np.where(rows >= 0, centre["longitude"].to_numpy()[rows], np.nan)
        return lat, lon, "PSU centre"
    return nan, nan, "none"


@check("Q701", "gps")
def gps(inputs: QualityInputs) -> CheckResult:
    """Distance to the sampled dwelling or PSU centre, clustered points, poor accuracy."""
    t = inputs.thresholds
    name = inputs.roles.gps
    columns = {s: f"{name}_{s}" for s in ("latitude", "longitude", "accuracy")}
    if columns["latitude"] not in inputs.main.columns:
        return CheckResult(skipped=f"no GPS variable '{name}'")
    lat = inputs.main[columns["latitude"]].to_numpy(dtype=float)
    lon = inputs.main[columns["longitude"]].to_numpy(dtype=float)
    accuracy = inputs.main.get(columns["accuracy"])
    accuracy = accuracy.to_numpy(dtype=float) if accuracy is not None else np.full(len(lat), np.nan)
    who = inputs.enumerators
    result = CheckResult()
    has = ~np.isnan(lat) & ~np.isnan(lon)
    s_lat, s_lon, reference = _sample_points(inputs)
    distance = haversine_km(lat, lon, s_lat, s_lon)
    far = np.zeros(len(lat), dtype=bool)
    measured = has & ~np.isnan(distance)
    if measured.sum() >= t.outlier_min_values:
        # robust SD rule (median + k x 1.4826 MAD): a quarter of the points far away must
        # not move the fence out to them, as a plain SD or the upper quartile would
        d = distance[measured]
        centre = float(np.median(d))
        fence = centre + t.gps_outlier_sd * 1.4826 * float(np.median(np.abs(d - centre)))
        limit = max(fence, t.gps_distance_km)
        far = measured & (distance > limit)
        for row in np.flatnonzero(far):
            result.flags.append(
                Flag(
                    "Q701",
                    Severity.WARNING,
                    f"GPS point {distance[row]:.2f} km from the sampled {reference} "
                    f"(limit {limit:.2f} km)",
                    instance_id=str(inputs.instance_ids[row]),
                    enumerator=who[row],
                    variable=name,
                    value=float(distance[row]),
                    evidence={"km": float(distance[row]), "limit_km": float(limit)},
                )
            )
    poor = has & (accuracy > t.gps_accuracy_m)
    for row in np.flatnonzero(poor):
        result.flags.append(
            Flag(
                "Q702",
                Severity.INFO,
                f"GPS accuracy {accuracy[row]:.0f} m (limit {t.gps_accuracy_m:g} m)",
                instance_id=str(inputs.instance_ids[row]),
                enumerator=who[row],
                variable=name,
                value=float(accuracy[row]),
            )
        )
    no_point = ~has & inputs.completed
    clustered = _clustering(inputs, lat, lon, s_lat, s_lon, result)
    result.indicators = pd.concat(
        [
            share_indicator("gps_far_share", who, far, measured, weight=1.5),
            share_indicator("gps_poor_accuracy_share", who, poor, has, weight=0.5),
            share_indicator("gps_missing_share", who, no_point, inputs.completed, weight=0.5),
            clustered,
        ],
        ignore_index=True,
    )
    return result


def _clustering(inputs, lat, lon, s_lat, s_lon, result: CheckResult) -> pd.DataFrame:
    """Per enumerator: spread of their GPS points over the spread of their sampled
    dwellings (a ratio far below 1, or points within ``gps_cluster_km``, is suspicious)."""
    t = inputs.thresholds
    rows_by = pd.Series(np.arange(len(lat))).groupby(inputs.enumerators).apply(np.asarray)
    names, ratios, counts = [], [], []
    for enumerator, rows in rows_by.items():
        spread = typical_spread_km(lat[rows], lon[rows])
        expected = typical_spread_km(s_lat[rows], s_lon[rows])
        if np.isnan(spread):
            continue
        ratio = spread / expected if expected and not np.isnan(expected) else np.nan
        names.append(enumerator)
        ratios.append(ratio)
        counts.append(int((~np.isnan(lat[rows])).sum()))
        if (
            counts[-1] >= t.min_interviews
            and spread < t.gps_cluster_km
            and (np.isnan(expected) or expected > 3 * spread)
        ):
            result.flags.append(
                Flag(
                    "Q703",
                    Severity.WARNING,
                    f"{counts[-1]} GPS points lie within {spread * 1000:.0f} m of their centre"
                    + (
                        f" although the sampled dwellings spread {expected:.2f} km"
                        if not np.isnan(expected)
                        else ""
                    ),
                    enumerator=str(enumerator),
                    variable=inputs.roles.gps,
                    value=float(spread),
                    evidence={"spread_km": spread, "sample_spread_km": expected},
                )
            )
    return level_frame("gps_spread_ratio", names, ratios, counts, direction="low", weight=1.5)
