"""Typing raw text answers (from XML or CSV) the way Central's OData shows them."""

from __future__ import annotations

from typing import Any

from forms.model import FormModel


def field_types(model: FormModel | None) -> dict[str, str]:
    """Question type by XPath (``/data/resp/age`` -> ``integer``)."""
    return {q.xpath: q.type for q in model.elements} if model else {}


def typed(text: str | None, qtype: str | None) -> Any:
    """``text`` as OData would give it: numbers for integer/decimal, GeoJSON for geopoints,
    None for empty, else the string."""
    if text is None:
        return None
    text = text.strip()
    if text == "":
        return None
    try:
        if qtype == "integer":
            return int(text)
        if qtype in ("decimal", "range"):
            return float(text)
        if qtype in ("geopoint", "start-geopoint"):
            return geojson_point(*[float(p) for p in text.split()])
    except (ValueError, TypeError):
        return text  # kept as received; validation reports it
    return text


def geojson_point(
    lat: float, lon: float, altitude: float | None = None, accuracy: float | None = None
) -> dict[str, Any]:
    """A GeoJSON point as Central writes it: (lon, lat[, alt]), accuracy in properties."""
    point: dict[str, Any] = {"type": "Point", "coordinates": [lon, lat]}
    if altitude is not None:
        point["coordinates"].append(altitude)
    if accuracy is not None:
        point["properties"] = {"accuracy": accuracy}
    return point
