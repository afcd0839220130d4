"""The FormModel of each form version seen in submissions, from the XLSForm Central keeps.

Analysis frames read every submission with the FormModel of its own form version
(``__system/formVersion``). Central keeps the XLSForm a version was uploaded from
(``GET .../forms/{f}/versions/{v}.xlsx`` or ``.xls``) and answers 404 when the version was
uploaded as XForm XML; such a version is recorded as ``no-xlsform`` with a warning, and
frames fall back to the newest stored version (or ``--form``).

What Central serves is the file as uploaded, under the extension of the content type it was
uploaded with: an .xlsx sent as ``application/vnd.ms-excel`` comes back from ``.xls``, so
the workbook is read by its content (zip or OLE2 signature), not by that extension. A
version published with ``draft/publish?version=`` keeps the spreadsheet of the draft, whose
settings may name another version: the model takes the version Central published it as.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from forms import read_form
from forms.errors import FormsError
from forms.issues import Issue, Severity
from forms.model import FormModel, FrozenDict
from surveys.central.client import CentralClient

NO_XLSFORM = "no-xlsform"
UNREADABLE = "unreadable"
FROM_FILE = "file"
NO_XLSFORM_CODE = "F001"
UNREADABLE_CODE = "F002"
ISSUE_CODES = (NO_XLSFORM_CODE, UNREADABLE_CODE)
_SIGNATURES = {b"PK\x03\x04": "xlsx", b"\xd0\xcf\x11\xe0": "xls"}
"""Leading bytes of a zip (.xlsx) and of an OLE2 compound file (legacy .xls)."""


@dataclass(frozen=True)
class VersionModel:
    """What Central gave for one form version: its FormModel (None when it keeps no
    readable XLSForm), where it came from, and the warning to show when there is none."""

    version: str
    model: FormModel | None
    source: str
    issue: Issue | None = None


def versions_in(records: Iterable[Mapping[str, Any]]) -> set[str]:
    """The form versions (``__system/formVersion``) that ``records`` were filled on."""
    found = set()
    for record in records:
        version = (record.get("__system") or {}).get("formVersion")
        if version is not None:
            found.add(str(version))
    return found


def fetch_version_model(client: CentralClient, form_id: str, version: str) -> VersionModel:
    """Download and read the XLSForm of ``version`` of ``form_id`` (see the module doc)."""
    found = client.forms.xlsform(form_id, version)
    if found is None:
        return VersionModel(
            version,
            None,
            NO_XLSFORM,
            _warning(
                NO_XLSFORM_CODE,
                form_id,
                version,
                "Central keeps no XLSForm for this version (uploaded as XForm XML); its"
                " frames use the newest stored version, or pass --form",
            ),
        )
    content, extension = found
    name = f"{form_id}-{version}.{workbook_kind(content, extension)}"
    try:
        model = as_version(read_form(content, name=name), version)
        return VersionModel(version, model, f"central-{extension}")
    except FormsError as err:
        detail = err.one_line() if hasattr(err, "one_line") else str(err)
        return VersionModel(
            version,
            None,
            UNREADABLE,
            _warning(
                UNREADABLE_CODE, form_id, version, f"Central's XLSForm does not read: {detail}"
            ),
        )


def workbook_kind(content: bytes, extension: str) -> str:
    """``xlsx`` or ``xls`` by the workbook's signature; ``extension`` when it has neither."""
    return _SIGNATURES.get(content[:4], extension)


def as_version(model: FormModel, version: str) -> FormModel:
    """``model`` as form version ``version`` (what Central published its XLSForm as)."""
    if (model.version or "") == version:
        return model
    settings = (
        FrozenDict({**model.settings, "version": version})
        if "version" in model.settings
        else model.settings
    )
    return replace(model, version=version or None, settings=settings)


def _warning(code: str, form_id: str, version: str, message: str) -> Issue:
    return Issue(
        code=code,
        severity=Severity.WARNING,
        message=f"form {form_id} version {version or '(blank)'}: {message}",
        variable=None,
    )
