"""Import OData-shaped JSON pages as the fieldwork simulator writes them.

Layout: ``pages/<formId>/page-0001.json`` ... each ``{"value": [...], "@odata.nextLink"?}``
(records exactly as ``.svc/Submissions?$expand=*`` returns them) and
``audits/<instanceID>/audit.csv`` beside.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from forms.files import OutsideFolderError, inside
from forms.model import FormModel
from surveys.importers.common import ImportResult, checked_record, import_records, read_bytes
from surveys.importers.errors import ImportFormatError
from surveys.store import Store


def page_files(root: Path, form_id: str) -> list[Path]:
    """The page files of a form, in order."""
    folder = root / "pages" / form_id
    if not folder.is_dir():
        raise ImportFormatError(f"{folder}: no such folder (expected pages/<formId>/)")
    files = sorted(folder.glob("page-*.json"))
    if not files:
        raise ImportFormatError(f"{folder}: no page-*.json files")
    return files


def forms_in(root: Path) -> list[str]:
    """Form ids that have a pages folder."""
    return (
        sorted(p.name for p in (root / "pages").iterdir() if p.is_dir())
        if (root / "pages").is_dir()
        else []
    )


def read_pages(files: list[Path]) -> Iterator[dict[str, Any]]:
    """Every record of the pages; ImportFormatError names a bad file."""
    for path in files:
        try:
            page = json.loads(path.read_bytes())
        except (ValueError, UnicodeDecodeError) as err:
            raise ImportFormatError(f"{path}: not JSON ({err})") from None
        if not isinstance(page, dict) or not isinstance(page.get("value"), list):
            raise ImportFormatError(f"{path}: not an OData page (no 'value' list)")
        for index, record in enumerate(page["value"]):
            yield checked_record(record, f"{path}: record {index}")


def check_pages(root: Path, form_ids: list[str]) -> dict[str, int]:
    """Read every page of ``form_ids`` without storing anything, so that a bad file is
    found before any form is imported; returns the number of records of each form."""
    return {form_id: sum(1 for _ in read_pages(page_files(root, form_id))) for form_id in form_ids}


def import_json_pages(
    store: Store,
    root: Path,
    form_id: str,
    model: FormModel | None = None,
    *,
    progress: Callable[[int, int | None], None] | None = None,
    total: int | None = None,
) -> ImportResult:
    """Import one form's JSON pages (and audits) from ``root`` into ``store``
    (``progress(done, total)`` after each batch; ``total`` records if known)."""
    files = page_files(root, form_id)
    return import_records(
        store,
        form_id,
        read_pages(files),
        "import:json",
        model=model,
        audit_for=lambda iid: audit_of(root, iid),
        progress=progress,
        total=total,
    )


def audit_of(root: Path, instance_id: str) -> bytes | None:
    """The ``audits/<instanceID>/audit.csv`` of a submission (``:`` may be written ``-``).

    The instance ID is data: a path it names is resolved inside ``root`` and refused
    (:class:`ImportFormatError`) when it would lead outside."""
    audits = root / "audits"
    for folder in dict.fromkeys((instance_id, instance_id.replace(":", "-"))):
        try:
            path = inside(audits, folder, "audit.csv")
        except OutsideFolderError:
            raise ImportFormatError(
                f"{root}: submission {instance_id!r}: its instance ID names an audit outside "
                "the import folder; refused"
            ) from None
        content = read_bytes(path)
        if content is not None:
            return content
    return None
