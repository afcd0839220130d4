"""Import a directory of submission XML files (ODK Collect / Briefcase layout), with each
``audit.csv`` beside its XML. Values are typed with the form's FormModel; an edit (XML with
``meta/deprecatedID``) replaces the submission whose instanceID it names, keeping history.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from forms.files import OutsideFolderError, inside
from forms.model import FormModel
from surveys.importers.common import ImportResult, import_records, read_bytes
from surveys.importers.errors import ImportFormatError
from surveys.importers.values import field_types, typed
from surveys.store import Store


def parse_submission_xml(
    data: bytes, model: FormModel | None, *, name: str = "?"
) -> dict[str, Any]:
    """One submission XML as an OData-shaped record (``__id`` = its instanceID)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise ImportFormatError(f"{name}: not XML ({err})") from None
    root_name = model.root if model else _local(root.tag)
    types = field_types(model)
    repeats = {r.xpath for r in model.repeats} if model else set()
    record = _element(root, f"/{root_name}", types, repeats)
    meta = record.get("meta") or {}
    instance_id = meta.get("instanceID")
    if not instance_id:
        raise ImportFormatError(f"{name}: no meta/instanceID")
    record["__id"] = instance_id
    record["__system"] = {
        "formVersion": root.get("version"),
        "submissionDate": None,
        "updatedAt": None,
        "reviewState": None,
        "edits": 0,
    }
    return record


def _local(tag: str) -> str:
    return tag.split("}")[-1]


def _element(
    node: ET.Element, xpath: str, types: dict[str, str], repeats: set[str]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for child in node:
        tag = _local(child.tag)
        path = f"{xpath}/{tag}"
        if path in repeats or (len(child) and tag in out and isinstance(out[tag], list)):
            out.setdefault(tag, []).append(_element(child, path, types, repeats))
        elif len(child) or types.get(path) == "begin_group" or tag == "meta":
            out[tag] = _element(child, path, types, repeats)
        else:
            out[tag] = typed(child.text, types.get(path))
    return out


def _inside_source(root: Path, path: Path) -> Path:
    """``path`` once checked to stay inside ``root`` when symbolic links are followed."""
    try:
        return inside(root, str(path.relative_to(root)))
    except OutsideFolderError:
        raise ImportFormatError(
            f"{path}: leads outside the import folder {root} (a symbolic link?); refused"
        ) from None


def xml_files(root: Path) -> list[Path]:
    """Every ``*.xml`` under ``root`` (sorted, so edits follow their originals by name)."""
    if not root.is_dir():
        raise ImportFormatError(f"{root}: no such folder")
    files = sorted(root.rglob("*.xml"))
    if not files:
        raise ImportFormatError(f"{root}: no .xml submission files")
    return files


def import_xml_dir(
    store: Store,
    root: Path,
    form_id: str,
    model: FormModel | None = None,
    *,
    progress: Callable[[int, int | None], None] | None = None,
) -> ImportResult:
    """Import the XML submissions under ``root`` into ``store`` (``progress(done, total)``
    after each batch)."""
    files = [_inside_source(root, path) for path in xml_files(root)]
    audits: dict[str, Path] = {}
    current_of: dict[str, str] = {}  # instanceID -> __id, to resolve edits

    def records() -> Iterator[dict[str, Any]]:
        for path in files:
            record = parse_submission_xml(path.read_bytes(), model, name=str(path))
            meta = record.get("meta") or {}
            instance_id = meta["instanceID"]
            deprecated = meta.get("deprecatedID")
            if deprecated:
                central_id = current_of.pop(deprecated, deprecated)
                record["__id"] = central_id
                record["__system"]["edits"] = 1
            current_of[instance_id] = record["__id"]
            audits[instance_id] = _inside_source(root, path.parent / "audit.csv")
            yield record

    return import_records(
        store,
        form_id,
        records(),
        "import:xml",
        model=model,
        audit_for=lambda iid: read_bytes(audits[iid]) if iid in audits else None,
        progress=progress,
        total=len(files),
    )
