"""The FormModel of each form version seen in submissions, from the XLSForm Central keeps.

Analysis frames read every submission with the FormModel of its own form version
(``__system/formVersion``). Central keeps the XLSForm a version was uploaded from
(``GET .../forms/{f}/versions/{v}.xlsx`` or ``.xls``) and answers 404 when the version was
uploaded as XForm XML; such a version is recorded as ``no-xlsform`` with a warning, and
frames fall back to the newest stored version (or ``--form``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from forms import read_form
from forms.errors import FormsError
from forms.issues import Issue, Severity
from forms.model import FormModel
from surveys.central.client import CentralClient

NO_XLSFORM = "no-xlsform"
UNREADABLE = "unreadable"
FROM_FILE = "file"
NO_XLSFORM_CODE = "F001"
UNREADABLE_CODE = "F002"
ISSUE_CODES = (NO_XLSFORM_CODE, UNREADABLE_CODE)


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
    name = f"{form_id}-{version}.{extension}"
    try:
        return VersionModel(version, read_form(content, name=name), f"central-{extension}")
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


def _warning(code: str, form_id: str, version: str, message: str) -> Issue:
    return Issue(
        code=code,
        severity=Severity.WARNING,
        message=f"form {form_id} version {version or '(blank)'}: {message}",
        variable=None,
    )
