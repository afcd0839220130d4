"""Submission XML <-> OData-shaped data, typed by a FormModel (as Central parses XML).

``data_to_xml`` writes what ODK Collect would send; ``xml_to_data`` reads it back the way
Central's OData shows it: integers and decimals as numbers, geopoints as GeoJSON (lon, lat,
altitude; accuracy in ``properties``), repeats as lists, everything else as strings.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from forms.model import FormModel

_META = {"instanceID", "deprecatedID", "instanceName", "audit"}


def _types(model: FormModel) -> tuple[dict[str, str], set[str]]:
    types = {q.xpath: q.type for q in model.elements}
    repeats = {r.xpath for r in model.repeats}
    return types, repeats


def xml_to_data(body: bytes, model: FormModel) -> dict[str, Any]:
    """The OData-shaped data of a submission XML document."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as err:
        raise ValueError(f"not XML ({err})") from None
    if root.get("id") not in (None, model.form_id):
        raise ValueError(f"submission is for form {root.get('id')}, not {model.form_id}")
    types, repeats = _types(model)
    return _element(root, f"/{model.root}", types, repeats)


def _element(node: ET.Element, xpath: str, types: dict, repeats: set) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in node:
        tag = child.tag.split("}")[-1]
        path = f"{xpath}/{tag}"
        if path in repeats:
            out.setdefault(tag, []).append(_element(child, path, types, repeats))
        elif len(child) or tag == "meta" or types.get(path) == "begin_group":
            out[tag] = _element(child, path, types, repeats)
        else:
            out[tag] = _value(child.text, types.get(path))
    return out


def _value(text: str | None, qtype: str | None) -> Any:
    if text is None or text.strip() == "":
        return None
    text = text.strip()
    try:
        if qtype == "integer":
            return int(text)
        if qtype in ("decimal", "range"):
            return float(text)
    except ValueError:
        return text
    if qtype in ("geopoint", "start-geopoint"):
        numbers = [float(p) for p in text.split()]
        point: dict[str, Any] = {
            "type": "Point",
            "coordinates": [numbers[1], numbers[0], *numbers[2:3]],
        }
        if len(numbers) > 3:
            point["properties"] = {"accuracy": numbers[3]}
        return point
    return text


def data_to_xml(data: dict[str, Any], model: FormModel) -> bytes:
    """Submission XML for OData-shaped ``data`` (``meta/instanceID`` required)."""
    root = ET.Element(model.root, {"id": model.form_id, "version": model.version or ""})
    _fill(root, data)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _fill(parent: ET.Element, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key.startswith("__") or key.endswith("@odata.navigationLink"):
            continue
        if isinstance(value, list):
            for row in value:
                _fill(ET.SubElement(parent, key), row)
        elif isinstance(value, dict) and value.get("type") == "Point":
            lon, lat, *alt = value["coordinates"]
            acc = (value.get("properties") or {}).get("accuracy")
            parts = [lat, lon, alt[0] if alt else 0, acc if acc is not None else 0]
            ET.SubElement(parent, key).text = " ".join(str(p) for p in parts)
        elif isinstance(value, dict):
            _fill(ET.SubElement(parent, key), value)
        else:
            ET.SubElement(parent, key).text = "" if value is None else str(value)
