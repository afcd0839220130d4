"""Submitting simulated interviews to a real ODK Central over OpenRosa, as Collect does.

:func:`submission_xml` turns an OData record back into the XForm instance Collect sends
(groups and repeats as nested elements in form order, geopoints as ``lat lon alt acc``,
``meta/instanceID``); :func:`post_submission` POSTs it with its ``audit.csv`` as the
OpenRosa multipart request (``xml_submission_file`` part plus one part per attachment) to
``/v1/key/{app user token}/projects/{p}/submission``, authenticated as the enumerator's
app user.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any
from xml.sax.saxutils import escape

import requests

from forms.model import FormModel
from surveys.errors import SurveysError


class SubmitError(SurveysError):
    """Central refused a simulated submission (the message names the instance)."""


def _text(value: Any) -> str:
    if isinstance(value, dict) and value.get("type") == "Point":
        lon, lat, *rest = value.get("coordinates", [0, 0])
        acc = (value.get("properties") or {}).get("accuracy")
        parts = [lat, lon, rest[0] if rest else 0.0] + ([acc] if acc is not None else [])
        return " ".join(str(p) for p in parts)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def submission_xml(form: FormModel, record: Mapping[str, Any]) -> bytes:
    """The XForm instance of ``record`` (OData shape) as UTF-8 XML."""
    children: dict[str, list] = {}
    for element in form.elements:
        children.setdefault(element.parent, []).append(element)
    out: list[str] = []

    def walk(xpath: str, data: Mapping[str, Any]) -> None:
        for element in children.get(xpath, ()):
            value = data.get(element.name) if isinstance(data, Mapping) else None
            if element.is_repeat:
                for item in value or ():
                    out.append(f"<{element.name}>")
                    walk(element.xpath, item)
                    out.append(f"</{element.name}>")
            elif element.is_group:
                out.append(f"<{element.name}>")
                walk(element.xpath, value or {})
                out.append(f"</{element.name}>")
            elif element.type == "audit":
                continue  # pyxform binds the audit log at meta/audit: written with meta below
            elif element.holds_data:
                if value is None:
                    out.append(f"<{element.name}/>")
                else:
                    out.append(f"<{element.name}>{escape(_text(value))}</{element.name}>")

    walk(f"/{form.root}", record)
    meta = record.get("meta") or {}
    instance_id = meta.get("instanceID") or record.get("__id")
    name = meta.get("instanceName")
    meta_xml = f"<meta><instanceID>{escape(str(instance_id))}</instanceID>"
    if name:
        meta_xml += f"<instanceName>{escape(str(name))}</instanceName>"
    audit = meta.get("audit")
    if audit and any(element.type == "audit" for element in form.elements):
        meta_xml += f"<audit>{escape(str(audit))}</audit>"
    meta_xml += "</meta>"
    version = f' version="{escape(form.version)}"' if form.version else ""
    namespace = 'xmlns:jr="http://openrosa.org/javarosa"'
    head = f'<{form.root} {namespace} id="{escape(form.form_id)}"{version}>'
    return (head + "".join(out) + meta_xml + f"</{form.root}>").encode()


def post_submission(
    session: requests.Session,
    url: str,
    *,
    xml: bytes,
    attachments: Mapping[str, bytes],
    instance_id: str,
    device_id: str | None = None,
    timeout: float = 60.0,
) -> int:
    """POST one OpenRosa multipart submission; returns the HTTP status (201: created, or
    the same XML sent again, which Central accepts so a re-run with the same seed is
    harmless). ``device_id`` goes in the ``deviceID`` query parameter, as Collect sends it
    (Central's ``__system/deviceId``). Raises SubmitError otherwise, 409 included: Central
    answers 409 for another submission under the same instanceID or a form that is not
    open."""
    files: dict[str, tuple[str, bytes, str]] = {
        "xml_submission_file": ("submission.xml", xml, "text/xml"),
    }
    for name, content in attachments.items():
        files[name] = (
            name,
            content,
            "text/csv" if name.endswith(".csv") else "application/octet-stream",
        )
    try:
        response = session.post(
            url,
            files=files,
            params={"deviceID": device_id} if device_id else None,
            headers={
                "X-OpenRosa-Version": "1.0",
                "X-Request-Id": str(uuid.uuid4()),
            },
            timeout=timeout,
        )
    except requests.RequestException as err:
        raise SubmitError(f"{instance_id}: {url}: {err}") from None
    if response.status_code in (200, 201, 202):
        return response.status_code
    if response.status_code == 409:
        raise SubmitError(
            f"{instance_id}: Central refused it (409): a different submission with this "
            "instanceID is already there, or the form is closed"
        )
    raise SubmitError(
        f"{instance_id}: Central answered {response.status_code}: {response.text[:200]}"
    )


def app_user_url(base: str, token: str, project: int) -> str:
    """OpenRosa submission URL of an app user (``/v1/key/{token}/projects/{p}/submission``)."""
    return f"{base.rstrip('/')}/v1/key/{token}/projects/{project}/submission"
