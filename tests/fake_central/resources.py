"""The fake Central's deployment routes: projects, form creation, drafts and their
attachments, publishing, datasets and entities, app users, form assignments, comments.

Behaviour follows Central's API documentation and central-backend: a new form's file
attachments link to the dataset of the same name on creation; a draft carries the
published attachments over; publishing a version the form already had is 409.6; entity
UUIDs are version 4 (400.11) and unique server-wide: a create reusing a deleted entity's
UUID is 409.19, a live one's (in any project) 409.3; an entity update needs ``baseVersion``
(409.15 when stale or missing); revoking an app user (``DELETE /v1/sessions/{token}``) keeps it
listed with ``token: null``. Uploaded XLSForms are read with popsurvey's reader (Central
converts them with pyxform); a form that does not read is 400.15 with the error in
``details.error``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from uuid import uuid4
from xml.etree import ElementTree as ET

from tests.fake_central.state import AppUser, FakeForm

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS = "application/vnd.ms-excel"
MEDIA_EXTENSIONS = {"csv": "file", "xml": "file", "geojson": "file", "png": "image", "jpg": "image"}


@dataclass
class FormFile:
    """An attachment slot: its content (None until uploaded) or a link to a dataset."""

    name: str
    type: str
    content: bytes | None = None
    dataset: bool = False
    updated_at: datetime | None = None


@dataclass
class FakeDraft:
    """A form's draft: the definition and its attachment slots."""

    model: Any
    version: str
    content: bytes
    kind: str
    """``xlsx``, ``xls`` or ``xml``."""
    attachments: dict[str, FormFile] = field(default_factory=dict)


@dataclass
class FakeEntity:
    """One entity and its current version."""

    uuid: str
    label: str
    data: dict[str, str]
    created_at: datetime
    creator: int = 1
    version: int = 1
    updated_at: datetime | None = None
    deleted_at: datetime | None = None


@dataclass
class FakeDataset:
    """A dataset (entity list): property names in order, entities by UUID."""

    name: str
    created_at: datetime
    properties: list[str] = field(default_factory=list)
    entities: dict[str, FakeEntity] = field(default_factory=dict)


def expected_files(model: Any) -> dict[str, FormFile]:
    """The attachments a form expects: ``select_*_from_file`` files, csv-external lists
    and media named in labels (Central reads them from the XForm)."""
    names: dict[str, str] = {}
    for q in model.elements if model is not None else ():
        if q.file_name:
            names[q.file_name] = "file"
        if q.type == "csv-external":
            names[f"{q.name}.csv"] = "file"
        for value in q.media.values():
            names[value] = MEDIA_EXTENSIONS.get(value.rsplit(".", 1)[-1].lower(), "file")
    return {n: FormFile(n, t) for n, t in names.items()}


def problem(status: int, code: float, message: str, details: dict | None = None):
    """An HttpError as the server module raises it (imported late: no import cycle)."""
    from tests.fake_central.server import HttpError

    error = HttpError(status, code, message)
    error.details = details
    return error


NOT_FOUND = (404, 404.1, "Could not find the resource you were looking for.")


class DeployRoutes:
    """Handler methods mixed into the fake server's request handler."""

    central: Any

    # -- projects --------------------------------------------------------------------------
    def _projects(self, query: dict, body: bytes) -> tuple:
        names = self.central.project_names
        return 200, [_project_json(p, names[p]) for p in sorted(names)], "application/json"

    def _project_create(self, query: dict, body: bytes) -> tuple:
        name = _body(body).get("name")
        if not isinstance(name, str) or not name.strip():
            raise problem(400, 400.2, "Required parameter name missing.")
        with self.central.lock:
            pid = max(self.central.project_names, default=0) + 1
            self.central.project_names[pid] = name
            self.central.projects[pid] = {}
        return 200, _project_json(pid, name), "application/json"

    def _project_get(self, project: str, query: dict, body: bytes) -> tuple:
        name = self.central.project_names.get(int(project))
        if name is None:
            raise problem(*NOT_FOUND)
        return 200, _project_json(int(project), name), "application/json"

    # -- forms and drafts ------------------------------------------------------------------
    def _form_create(self, project: str, query: dict, body: bytes) -> tuple:
        forms = self._project_forms(project)
        draft = self._read_definition(body)
        form_id = draft.model.form_id if draft.model else _xml_form_id(body)
        if form_id in forms:
            raise problem(
                409,
                409.3,
                f"A resource already exists with projectId,xmlFormId value(s) of "
                f"{project},{form_id}.",
            )
        with self.central.lock:
            form = FakeForm(form_id, draft.version, _title(draft, form_id), None, None)
            linked = set(self.central.datasets.get(int(project), {}))
            for slot in draft.attachments.values():  # auto-link, as Central on creation
                slot.dataset = slot.type == "file" and slot.name.removesuffix(".csv") in linked
            form.draft = draft
            forms[form_id] = form
            if query.get("publish") == "true":
                self._publish(form, None)
        return 200, _form_json(form, project), "application/json"

    def _draft_create(self, project: str, form_id: str, query: dict, body: bytes) -> tuple:
        form = self._form(project, form_id)
        if body:
            draft = self._read_definition(body)
            if draft.model is not None and draft.model.form_id != form_id:
                raise problem(400, 400.8, "Unexpected xmlFormId value; it must match the form.")
        elif form.history:  # an empty body copies the published definition
            draft = replace(form.draft_source)
        else:
            raise problem(*NOT_FOUND)
        with self.central.lock:
            carried = form.draft.attachments if form.draft else form.attachments
            for name, slot in draft.attachments.items():
                old = carried.get(name)
                if old is not None and old.type == slot.type:
                    draft.attachments[name] = replace(old)
            form.draft = draft
        return 200, {"success": True}, "application/json"

    def _draft_get(self, project: str, form_id: str, query: dict, body: bytes) -> tuple:
        form = self._draft_form(project, form_id)
        return (
            200,
            {**_form_json(form, project), "version": form.draft.version},
            ("application/json"),
        )

    def _draft_attachments(self, project: str, form_id: str, query: dict, body: bytes) -> tuple:
        slots = self._draft_form(project, form_id).draft.attachments
        return 200, [_slot_json(s) for s in slots.values()], "application/json"

    def _form_attachments(self, project: str, form_id: str, query: dict, body: bytes) -> tuple:
        form = self._form(project, form_id)
        return 200, [_slot_json(s) for s in form.attachments.values()], "application/json"

    def _draft_attachment_post(
        self, project: str, form_id: str, name: str, query: dict, body: bytes
    ) -> tuple:
        slot = self._slot(project, form_id, name)
        with self.central.lock:
            slot.content, slot.dataset, slot.updated_at = body, False, self.central.tick()
        return 200, _slot_json(slot), "application/json"

    def _draft_attachment_patch(
        self, project: str, form_id: str, name: str, query: dict, body: bytes
    ) -> tuple:
        slot = self._slot(project, form_id, name)
        link = _body(body).get("dataset")
        if not isinstance(link, bool):
            raise problem(400, 400.8, "Unexpected dataset value; expected true or false.")
        datasets = self.central.datasets.get(int(project), {})
        if link and (slot.type != "file" or name.removesuffix(".csv") not in datasets):
            raise problem(404, 404.1, "Could not find the resource you were looking for.")
        with self.central.lock:
            slot.dataset, slot.updated_at = link, self.central.tick()
            if link:
                slot.content = None
        return 200, _slot_json(slot), "application/json"

    def _draft_publish(self, project: str, form_id: str, query: dict, body: bytes) -> tuple:
        form = self._draft_form(project, form_id)
        with self.central.lock:
            self._publish(form, query.get("version"))
        return 200, {"success": True}, "application/json"

    def _publish(self, form: FakeForm, version: str | None) -> None:
        draft = form.draft
        version = draft.version if version is None else version
        if version in form.versions:
            raise problem(
                409,
                409.6,
                f"You tried to publish the form '{form.xml_form_id}' with version '{version}', "
                "but a published form has already existed in this project with those "
                "identifiers.",
            )
        model = draft.model
        if model is not None and (model.version or "") != version:
            model = replace(model, version=version or None)
        form.version, form.model, form.xml = version, model, None
        form.history.append(version)
        form.versions.add(version)
        if draft.kind in ("xlsx", "xls"):
            form.xlsforms[version] = (draft.content, draft.kind)
        form.attachments = draft.attachments
        form.draft_source = FakeDraft(
            draft.model, version, draft.content, draft.kind, dict(draft.attachments)
        )
        form.draft = None
        form.published_at = self.central.tick()

    def _read_definition(self, body: bytes) -> FakeDraft:
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype in (XLSX, XLS):
            kind = "xlsx" if ctype == XLSX else "xls"
            from forms import read_form
            from forms.errors import FormsError

            fallback = self.headers.get("X-XlsForm-FormId-Fallback") or "form"
            try:
                model = read_form(body, name=f"{fallback}.{kind}")
            except FormsError as err:
                message = (
                    "The given XLSForm file was not valid. Please see the error details for "
                    "more information."
                )
                raise problem(400, 400.15, message, {"error": str(err), "warnings": []}) from None
            return FakeDraft(model, model.version or "", body, kind, expected_files(model))
        if ctype in ("application/xml", "text/xml"):
            root = _parse_xml(body)
            return FakeDraft(None, _xform_version(root), body, "xml", {})
        raise problem(415, 415.1, f"Unexpected Content-Type {ctype or '(none)'}.")

    def _project_forms(self, project: str) -> dict[str, FakeForm]:
        forms = self.central.projects.get(int(project))
        if forms is None:
            raise problem(*NOT_FOUND)
        return forms

    def _draft_form(self, project: str, form_id: str) -> FakeForm:
        form = self._form(project, form_id)
        if form.draft is None:
            raise problem(*NOT_FOUND)
        return form

    def _slot(self, project: str, form_id: str, name: str) -> FormFile:
        slot = self._draft_form(project, form_id).draft.attachments.get(name)
        if slot is None:
            raise problem(*NOT_FOUND)
        return slot

    # -- assignments -----------------------------------------------------------------------
    def _assignees(self, project: str, form_id: str, role: str, query: dict, body: bytes):
        form = self._form(project, form_id)
        users = [u for u in self.central.field_keys if form.xml_form_id in u.forms]
        return 200, [_actor_json(u) for u in users if role == "app-user"], "application/json"

    def _unassign(self, project: str, form_id: str, role: str, actor: str, query, body):
        form = self._form(project, form_id)
        user = next((u for u in self.central.field_keys if str(u.id) == actor), None)
        if role != "app-user" or user is None or form.xml_form_id not in user.forms:
            raise problem(*NOT_FOUND)
        with self.central.lock:
            user.forms.discard(form.xml_form_id)
        return 200, {"success": True}, "application/json"

    # -- app users -------------------------------------------------------------------------
    def _app_users(self, project: str, query: dict, body: bytes) -> tuple:
        self._project_forms(project)
        users = [u for u in self.central.field_keys if u.project == int(project)]
        # central-backend: active ones first, then the newest first
        users.sort(key=lambda u: (u.token is None, -u.id))
        return 200, [_app_user(u) for u in users], "application/json"

    def _session_delete(self, token: str, query: dict, body: bytes) -> tuple:
        with self.central.lock:
            user = self.central.app_users.pop(token, None)
            if user is None:
                if token in self.central.tokens:
                    del self.central.tokens[token]
                    return 200, {"success": True}, "application/json"
                raise problem(403, 403.1, "The authentication you provided does not have "
                              "rights to perform that action.")  # fmt: skip
            user.token = None
        return 200, {"success": True}, "application/json"

    # -- comments --------------------------------------------------------------------------
    def _comments(self, project: str, form_id: str, cid: str, query: dict, body: bytes):
        comments = self._submission(project, form_id, cid).comments
        return 200, list(reversed(comments)), "application/json"  # newest first, as Central

    def _comment_post(self, project: str, form_id: str, cid: str, query: dict, body: bytes):
        sub = self._submission(project, form_id, cid)
        text = _body(body).get("body")
        if not isinstance(text, str) or not text:
            raise problem(400, 400.2, "Required parameter body missing.")
        comment = {"body": text, "actorId": 1, "createdAt": _iso(self.central.tick())}
        with self.central.lock:
            sub.comments.append(comment)
        return 200, comment, "application/json"

    # -- datasets and entities -------------------------------------------------------------
    def _datasets(self, project: str, query: dict, body: bytes) -> tuple:
        self._project_forms(project)
        found = self.central.datasets.get(int(project), {}).values()
        return 200, [_dataset_json(d, int(project)) for d in found], "application/json"

    def _dataset_create(self, project: str, query: dict, body: bytes) -> tuple:
        self._project_forms(project)
        name = _body(body).get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][\w.-]*", name):
            raise problem(400, 400.8, f"Unexpected name value {name}; invalid dataset name.")
        with self.central.lock:
            datasets = self.central.datasets.setdefault(int(project), {})
            if name.lower() in {n.lower() for n in datasets}:
                raise problem(
                    409,
                    409.3,
                    f"A resource already exists with name,projectId value(s) of {name},{project}.",
                )
            datasets[name] = FakeDataset(name, self.central.tick())
        return 200, _dataset_json(datasets[name], int(project)), "application/json"

    def _dataset_get(self, project: str, name: str, query: dict, body: bytes) -> tuple:
        dataset = self._dataset(project, name)
        linked = [
            {"xmlFormId": f.xml_form_id, "name": f.name}
            for f in self.central.projects[int(project)].values()
            if any(s.dataset and s.name == f"{name}.csv" for s in f.attachments.values())
        ]
        meta = {
            **_dataset_json(dataset, int(project)),
            "linkedForms": linked,
            "sourceForms": [],
            "properties": [
                {"name": p, "odataName": _odata_name(p), "forms": []} for p in dataset.properties
            ],
        }
        return 200, meta, "application/json"

    def _property_create(self, project: str, name: str, query: dict, body: bytes) -> tuple:
        dataset = self._dataset(project, name)
        prop = _body(body).get("name")
        if not isinstance(prop, str) or prop in ("name", "label") or prop.startswith("__"):
            raise problem(400, 400.8, f"Unexpected name value {prop}; invalid property name.")
        with self.central.lock:
            if prop.lower() in {p.lower() for p in dataset.properties}:
                raise problem(
                    409, 409.3, f"A resource already exists with name value(s) of {prop}."
                )
            dataset.properties.append(prop)
        return 200, {"success": True}, "application/json"

    def _entities(self, project: str, name: str, query: dict, body: bytes) -> tuple:
        dataset = self._dataset(project, name)
        deleted = query.get("deleted") == "true"
        rows = [
            _entity_summary(e)
            for e in dataset.entities.values()
            if (e.deleted_at is not None) == deleted
        ]
        return 200, rows, "application/json"

    def _entities_create(self, project: str, name: str, query: dict, body: bytes) -> tuple:
        dataset = self._dataset(project, name)
        parsed = _body(body)
        bulk = "entities" in parsed
        items = parsed["entities"] if bulk else [parsed]
        if bulk and not isinstance((parsed.get("source") or {}).get("name"), str):
            raise problem(400, 400.2, "Required parameter source.name missing.")
        if not isinstance(items, list) or not items:
            raise problem(400, 400.2, "Required parameter entities missing.")
        with self.central.lock:
            fresh = [self._new_entity(dataset, item) for item in items]
            # entity UUIDs are unique server-wide (central-backend: entities.uuid unique;
            # createMany first refuses UUIDs of deleted entities anywhere, 409.19)
            held = {
                u: e
                for sets in self.central.datasets.values()
                for other in sets.values()
                for u, e in other.entities.items()
            }
            deleted = [e.uuid for e in fresh if e.uuid in held and held[e.uuid].deleted_at]
            if deleted:
                raise problem(
                    409,
                    409.19,
                    "The following UUID(s) cannot be used because they are associated with "
                    f"deleted Entities: ({', '.join(deleted)}).",
                )
            uuids = [e.uuid for e in fresh]
            taken = [u for u in uuids if u in held]
            taken += [u for u, n in Counter(uuids).items() if n > 1]
            if taken:
                raise problem(
                    409, 409.3, f"A resource already exists with uuid value(s) of {taken[0]}."
                )
            for entity in fresh:
                dataset.entities[entity.uuid] = entity
        if bulk:
            return 200, {"success": True}, "application/json"
        return 200, _entity_json(fresh[0]), "application/json"

    def _new_entity(self, dataset: FakeDataset, item: Any) -> FakeEntity:
        if not isinstance(item, dict):
            raise problem(400, 400.31, "Expected parameters: (label, uuid, data).")
        raw = item.get("uuid")
        if raw and not isinstance(raw, str):
            raise problem(400, 400.11, "Invalid input data type: expected (uuid) to be (string)")
        uuid = _normalize_uuid(raw) if raw else str(uuid4())
        label, data = _entity_fields(dataset, item, None)
        return FakeEntity(uuid, label, data, self.central.tick())

    def _entity_get(self, project: str, name: str, uuid: str, query: dict, body: bytes):
        return 200, _entity_json(self._entity(project, name, uuid)), "application/json"

    def _entity_patch(self, project: str, name: str, uuid: str, query: dict, body: bytes):
        dataset = self._dataset(project, name)
        entity = self._entity(project, name, uuid)
        # central-backend compares the query string as is: a missing baseVersion is a
        # stale one ('undefined')
        if query.get("force") != "true" and query.get("baseVersion") != str(entity.version):
            raise problem(
                409,
                409.15,
                f"Current version of the Entity is '{entity.version}' and you provided "
                f"'{query.get('baseVersion', 'undefined')}'. Please correct the version number "
                "or pass '?force=true' in the URL to forcefully update the Entity.",
            )
        label, data = _entity_fields(dataset, _body(body), entity.label)
        with self.central.lock:
            entity.label, entity.data = label, {**entity.data, **data}
            entity.version += 1
            entity.updated_at = self.central.tick()
        return 200, _entity_json(entity), "application/json"

    def _entity_delete(self, project: str, name: str, uuid: str, query: dict, body: bytes):
        entity = self._entity(project, name, uuid)
        with self.central.lock:
            entity.deleted_at = self.central.tick()
        return 200, {"success": True}, "application/json"

    def _entity_restore(self, project: str, name: str, uuid: str, query: dict, body: bytes):
        entity = self._dataset(project, name).entities.get(uuid)
        if entity is None or entity.deleted_at is None:
            raise problem(*NOT_FOUND)
        with self.central.lock:
            entity.deleted_at = None
            entity.updated_at = self.central.tick()
        return 200, {"success": True}, "application/json"

    def _entities_odata(self, project: str, name: str, query: dict, body: bytes) -> tuple:
        dataset = self._dataset(project, name)
        live = sorted(
            (e for e in dataset.entities.values() if e.deleted_at is None),
            key=lambda e: (e.created_at, e.uuid),
        )
        start = 0
        if "$skiptoken" in query:
            token = query["$skiptoken"]
            after = json.loads(bytes.fromhex(token[2:]).decode()).get("uuid")
            start = next((i + 1 for i, e in enumerate(live) if e.uuid == after), len(live))
        top = int(query["$top"]) if "$top" in query else None
        page = live[start:] if top is None else live[start : start + top]
        base = f"{self._base()}/v1/projects/{project}/datasets/{name}.svc"
        out: dict[str, Any] = {
            "@odata.context": f"{base}/$metadata#Entities",
            "value": [_entity_row(e, dataset) for e in page],
        }
        if top is not None and start + top < len(live) and page:
            token = "01" + json.dumps({"uuid": page[-1].uuid}).encode().hex()
            out["@odata.nextLink"] = f"{base}/Entities?$top={top}&$skiptoken={token}"
        return 200, out, "application/json"

    def _dataset(self, project: str, name: str) -> FakeDataset:
        dataset = self.central.datasets.get(int(project), {}).get(name)
        if dataset is None:
            raise problem(*NOT_FOUND)
        return dataset

    def _entity(self, project: str, name: str, uuid: str) -> FakeEntity:
        entity = self._dataset(project, name).entities.get(uuid)
        if entity is None or entity.deleted_at is not None:
            raise problem(*NOT_FOUND)
        return entity


def _form_json(form: FakeForm, project: str) -> dict:
    from tests.fake_central.server import _form_json as form_json

    return form_json(form, project)


UUID_V4 = re.compile(
    r"^(uuid:)?([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})$", re.I
)
"""central-backend's entity UUID pattern (lib/data/entity.js): version 4 only."""


def _normalize_uuid(raw: str) -> str:
    match = UUID_V4.match(raw)
    if match is None:
        raise problem(
            400, 400.11, "Invalid input data type: expected (uuid) to be (valid version 4 UUID)"
        )
    return match.group(2).lower()


def _entity_fields(dataset: FakeDataset, item: Any, label: str | None) -> tuple[str, dict]:
    """Label and data of an entity create (``label`` None) or update body, checked in
    central-backend's order (``extractEntity``)."""
    if not isinstance(item, dict):
        raise problem(400, 400.31, "Expected parameters: (label, uuid, data).")
    unexpected = [k for k in item if k not in ("label", "uuid", "data")]
    if unexpected:
        raise problem(
            400, 400.31, f"Expected parameters: (label, uuid, data). Got ({', '.join(item)})."
        )
    new_label = item.get("label")
    if new_label is not None:
        if not isinstance(new_label, str):
            raise problem(400, 400.11, "Invalid input data type: expected (label) to be (string)")
        if not new_label.strip():
            raise problem(
                400, 400.8, "Unexpected label value (empty string); Label cannot be blank."
            )
    elif label is None:
        raise problem(400, 400.2, "Required parameter label missing.")
    data = item.get("data")
    if data is None and new_label is None:
        raise problem(400, 400.28, "The entity is invalid. No entity data or label provided.")
    if data is not None and not isinstance(data, dict):
        raise problem(400, 400.28, "The entity is invalid. data must be an object.")
    for key, value in (data or {}).items():
        if not isinstance(value, str):
            raise problem(400, 400.11, f"Invalid input data type: expected ({key}) to be (string)")
        if key not in dataset.properties:
            raise problem(
                400,
                400.28,
                f"The entity is invalid. You specified the dataset property [{key}] "
                "which does not exist.",
            )
    return (new_label if new_label is not None else str(label)), dict(data or {})


def _odata_name(prop: str) -> str:
    return re.sub(r"[^\w]", "_", prop)


def _body(body: bytes) -> dict:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        raise problem(400, 400.1, "Could not parse the given data as json.") from None
    if not isinstance(parsed, dict):
        raise problem(400, 400.1, "Could not parse the given data as json.")
    return parsed


def _parse_xml(body: bytes) -> ET.Element:
    try:
        return ET.fromstring(body)
    except ET.ParseError as err:
        raise problem(400, 400.1, f"Could not parse the given data as xml: {err}") from None


def _xml_form_id(body: bytes) -> str:
    for node in _parse_xml(body).iter():
        if node.get("id") and node.tag.split("}")[-1] not in ("bind", "item"):
            return node.get("id")
    raise problem(400, 400.2, "Required parameter xmlFormId missing.")


def _xform_version(root: ET.Element) -> str:
    for node in root.iter():
        if node.get("id") and node.get("version") is not None:
            return node.get("version")
    return ""


def _title(draft: FakeDraft, form_id: str) -> str:
    return draft.model.title if draft.model is not None and draft.model.title else form_id


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _project_json(pid: int, name: str) -> dict:
    return {"id": pid, "name": name, "archived": None, "keyId": None}


def _slot_json(slot: FormFile) -> dict:
    content = slot.content
    return {
        "name": slot.name,
        "type": slot.type,
        "exists": content is not None or slot.dataset,
        "blobExists": content is not None,
        "datasetExists": slot.dataset,
        "hash": hashlib.md5(content).hexdigest() if content is not None else None,
        "updatedAt": _iso(slot.updated_at),
    }


def _actor_json(user: AppUser) -> dict:
    return {
        "id": user.id,
        "type": "field_key",
        "displayName": user.name,
        "createdAt": _iso(user.created_at),
        "updatedAt": None,
        "deletedAt": None,
    }


def _app_user(user: AppUser) -> dict:
    return {**_actor_json(user), "token": user.token, "projectId": user.project}


def _dataset_json(dataset: FakeDataset, project: int) -> dict:
    return {
        "name": dataset.name,
        "createdAt": _iso(dataset.created_at),
        "projectId": project,
        "approvalRequired": False,
        "ownerOnly": False,
    }


def _entity_summary(entity: FakeEntity) -> dict:
    return {
        "uuid": entity.uuid,
        "createdAt": _iso(entity.created_at),
        "updatedAt": _iso(entity.updated_at),
        "deletedAt": _iso(entity.deleted_at),
        "creatorId": entity.creator,
        "conflict": None,
        "currentVersion": {
            "label": entity.label,
            "current": True,
            "version": entity.version,
            "baseVersion": entity.version - 1 or None,
        },
    }


def _entity_json(entity: FakeEntity) -> dict:
    out = _entity_summary(entity)
    out["currentVersion"] = {**out["currentVersion"], "data": dict(entity.data)}
    return out


def _entity_row(entity: FakeEntity, dataset: FakeDataset) -> dict:
    row: dict[str, Any] = {"__id": entity.uuid, "label": entity.label}
    for prop in dataset.properties:
        row[_odata_name(prop)] = entity.data.get(prop, "")
    row["__system"] = {
        "createdAt": _iso(entity.created_at),
        "creatorId": str(entity.creator),
        "creatorName": "admin@example.org",
        "updates": entity.version - 1,
        "updatedAt": _iso(entity.updated_at),
        "deletedAt": None,
        "version": entity.version,
        "conflict": None,
    }
    return row


_P = r"/v1/projects/(\d+)"
_F = _P + r"/forms/([^/]+?)"
_D = _P + r"/datasets/([^/]+?)"
ROUTES: list[tuple[str, str, Any]] = [
    ("GET", r"/v1/projects", DeployRoutes._projects),
    ("POST", r"/v1/projects", DeployRoutes._project_create),
    ("GET", _P, DeployRoutes._project_get),
    ("DELETE", r"/v1/sessions/([^/]+)", DeployRoutes._session_delete),
    ("GET", _P + r"/app-users", DeployRoutes._app_users),
    ("POST", _P + r"/forms", DeployRoutes._form_create),
    ("GET", _F + r"/draft", DeployRoutes._draft_get),
    ("POST", _F + r"/draft", DeployRoutes._draft_create),
    ("GET", _F + r"/draft/attachments", DeployRoutes._draft_attachments),
    ("POST", _F + r"/draft/attachments/([^/]+)", DeployRoutes._draft_attachment_post),
    ("PATCH", _F + r"/draft/attachments/([^/]+)", DeployRoutes._draft_attachment_patch),
    ("POST", _F + r"/draft/publish", DeployRoutes._draft_publish),
    ("GET", _F + r"/attachments", DeployRoutes._form_attachments),
    ("GET", _F + r"/assignments/([^/]+)", DeployRoutes._assignees),
    ("DELETE", _F + r"/assignments/([^/]+)/(\d+)", DeployRoutes._unassign),
    ("GET", _F + r"/submissions/([^/]+)/comments", DeployRoutes._comments),
    ("POST", _F + r"/submissions/([^/]+)/comments", DeployRoutes._comment_post),
    ("GET", _P + r"/datasets", DeployRoutes._datasets),
    ("POST", _P + r"/datasets", DeployRoutes._dataset_create),
    ("GET", _D + r"\.svc/Entities", DeployRoutes._entities_odata),
    ("GET", _D, DeployRoutes._dataset_get),
    ("POST", _D + r"/properties", DeployRoutes._property_create),
    ("GET", _D + r"/entities", DeployRoutes._entities),
    ("POST", _D + r"/entities", DeployRoutes._entities_create),
    ("POST", _D + r"/entities/([^/]+)/restore", DeployRoutes._entity_restore),
    ("GET", _D + r"/entities/([^/]+)", DeployRoutes._entity_get),
    ("PATCH", _D + r"/entities/([^/]+)", DeployRoutes._entity_patch),
    ("DELETE", _D + r"/entities/([^/]+)", DeployRoutes._entity_delete),
]
"""Matched before the server's own routes (more specific paths first)."""
