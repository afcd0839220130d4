"""Deploy a survey to ODK Central: project, entity list, form versions, app users.

:func:`deploy` makes Central hold what a :class:`DeploySpec` describes, in an order that
leaves Central usable after a failure at any step, so that running it again completes the
work:

1. the project (found by id or name, created when missing);
2. the entity list: the dataset and its properties, then entities created, updated
   (``baseVersion``), restored or deleted so that it equals the sample;
3. each form: when its version on Central is not the wanted one, a draft is uploaded, its
   attachments uploaded or linked to the dataset, and the draft published with that
   version; the published form keeps working until the new version replaces it;
4. app users: one per enumerator, assigned to the forms of its role, unassigned from the
   others; app users no longer in the roster have their key revoked when an earlier
   deployment made or used them (``managed_app_users``): a shared project's other app
   users are left alone (and named in the report's notes) unless ``revoke_unlisted``.

Every step reads Central first and writes only what differs, so a second run writes
nothing. With ``dry_run`` nothing is written: the report lists what would be done.
App-user tokens are returned for the QR codes and never logged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from surveys.central.client import CentralClient
from surveys.central.errors import CentralError, CentralNotFoundError, DeployError

Progress = Callable[[int, int], None]
PRESERVED = ("visit_status",)
"""Entity properties set when an entity is created and then left to fieldwork."""


@dataclass(frozen=True)
class FormSpec:
    """One questionnaire to publish."""

    form_id: str
    content: bytes
    """The XLSForm uploaded (Central converts it and keeps it for ``pull``)."""
    content_type: str
    version: str
    files: Mapping[str, Path] = field(default_factory=dict)
    """Plain attachments: name -> local file."""
    entity_files: frozenset[str] = frozenset()
    """Attachment names served from the entity list (``households.csv``)."""
    title: str = ""
    derived: bool = True
    """The version comes from the content (equal versions mean equal content)."""


@dataclass(frozen=True)
class EntityRow:
    """One entity: its UUID (stable across deployments), label and properties."""

    uuid: str
    label: str
    data: Mapping[str, str]


@dataclass(frozen=True)
class EntitySpec:
    """The entity list: dataset name, property names and the rows."""

    dataset: str
    properties: tuple[str, ...]
    rows: tuple[EntityRow, ...]
    source: str = "sample.csv"


@dataclass(frozen=True)
class AppUserSpec:
    """An enumerator's app user (display name = enumerator code) and the forms it fills."""

    name: str
    forms: tuple[str, ...]


@dataclass(frozen=True)
class DeploySpec:
    """What Central must hold."""

    project_name: str | None
    project_id: int | None = None
    forms: tuple[FormSpec, ...] = ()
    entities: EntitySpec | None = None
    app_users: tuple[AppUserSpec, ...] = ()
    keep_app_users: frozenset[str] = frozenset()
    """App users of the project left alone although not in the roster."""
    managed_app_users: frozenset[int] = frozenset()
    """Ids of the app users earlier deployments made or used for the roster: the only ones
    revoked when they leave the roster (Central's actor ids are unique server-wide)."""
    revoke_unlisted: bool = False
    """Revoke every app user of the project outside the roster and ``keep_app_users``, made
    by a deployment or not (a project that serves this survey alone)."""


@dataclass(frozen=True)
class Action:
    """One write: ``kind`` (create, update, delete, restore, publish, upload, link, assign,
    unassign, revoke), what it is done to, and a detail."""

    kind: str
    target: str
    detail: str = ""

    def line(self) -> str:
        """One line for people."""
        return f"{self.kind} {self.target}" + (f": {self.detail}" if self.detail else "")


@dataclass
class DeployReport:
    """What a deployment did (or, in a dry run, would do)."""

    dry_run: bool
    project_id: int | None = None
    project_name: str | None = None
    actions: list[Action] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    """Form id -> the version published on Central after the deployment."""
    tokens: dict[str, str] = field(default_factory=dict)
    """App-user name -> key (secret: for the QR codes only)."""
    app_user_ids: dict[str, int] = field(default_factory=dict)
    """App-user name -> Central actor id of the roster's app users (made or used)."""
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Number of actions of each kind."""
        out: dict[str, int] = {}
        for action in self.actions:
            out[action.kind] = out.get(action.kind, 0) + 1
        return out

    def summary(self) -> str:
        """One line: counts per kind, or that nothing changed."""
        counts = self.counts()
        what = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing to change"
        verb = "would do" if self.dry_run else "did"
        project = f"project {self.project_id or '(new)'} '{self.project_name or ''}'"
        return f"deploy {verb}: {what} ({project})"


def deploy(
    client: CentralClient,
    spec: DeploySpec,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> DeployReport:
    """Make Central hold ``spec`` (see the module doc); returns what was done."""
    return _Deployer(client, spec, dry_run, progress).run()


def locate_project(
    client: CentralClient, project_id: int | None, name: str | None
) -> tuple[int, str] | None:
    """``(id, name)`` of the project with ``project_id`` (an error when it does not exist)
    or else the one named ``name`` (None when there is none yet)."""
    projects = client.projects
    if project_id is not None:
        try:
            found = projects.get(project_id)
        except CentralNotFoundError:
            raise DeployError(
                f"Central project {project_id} does not exist on {client.base_url}"
                " (central.project_id in survey.toml)"
            ) from None
        return int(found["id"]), str(found.get("name") or "")
    if not name:
        raise DeployError("survey.toml names no Central project (central.project_name)")
    same = [p for p in projects.list() if p.get("name") == name and not p.get("archived")]
    if len(same) > 1:
        ids = ", ".join(str(p["id"]) for p in same)
        raise DeployError(
            f"several Central projects are named '{name}' ({ids}): set central.project_id"
        )
    return (int(same[0]["id"]), name) if same else None


def md5(content: bytes) -> str:
    """The MD5 hex digest Central gives form attachments as ``hash``."""
    return hashlib.md5(content).hexdigest()


class _Deployer:
    def __init__(
        self, client: CentralClient, spec: DeploySpec, dry_run: bool, progress: Progress | None
    ) -> None:
        self.client, self.spec, self.dry_run = client, spec, dry_run
        self.progress = progress
        self.report = DeployReport(dry_run, project_name=spec.project_name)
        self.new_project = False
        """Dry run for a project that does not exist yet: nothing to read."""
        self.steps, self.done = 3 + len(spec.forms), 0
        self._forms: list[dict[str, Any]] | None = None

    def run(self) -> DeployReport:
        self._project()
        self._step()
        if self.spec.entities is not None:
            self._entities(self.spec.entities)
        self._step()
        for form in self.spec.forms:
            self._form(form)
            self._step()
        self._app_users()
        self._step()
        return self.report

    def _step(self) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(self.done, self.steps)

    def _write(self, action: Action, call: Callable[[], Any]) -> Any:
        self.report.actions.append(action)
        if self.dry_run:
            return None
        return call()

    # -- project ---------------------------------------------------------------------------
    def _project(self) -> None:
        found = locate_project(self.client, self.spec.project_id, self.spec.project_name)
        if found is not None:
            self._use_project(*found)
            return
        name = str(self.spec.project_name)
        projects = self.client.projects
        created = self._write(Action("create", f"project '{name}'"), lambda: projects.create(name))
        if created is None:
            self.new_project = True
            self.report.project_name = name
            return
        self._use_project(int(created["id"]), name)

    def _use_project(self, project_id: int, name: str) -> None:
        self.client.project_id = project_id
        self.report.project_id, self.report.project_name = project_id, name

    # -- entity list -----------------------------------------------------------------------
    def _entities(self, spec: EntitySpec) -> None:
        datasets = self.client.datasets
        name = spec.dataset
        exists = not self.new_project and any(d.get("name") == name for d in datasets.list())
        if not exists:
            self._write(Action("create", f"entity list '{name}'"), lambda: datasets.create(name))
        meta = datasets.get(name) if exists else {"properties": []}
        known = {str(p["name"]): str(p.get("odataName") or p["name"]) for p in meta["properties"]}
        for prop in spec.properties:
            if prop not in known:
                self._write(
                    Action("create", f"entity property {name}.{prop}"),
                    lambda prop=prop: datasets.add_property(name, prop),
                )
        current = {}
        deleted: set[str] = set()
        if exists:
            odata = {**{p: p for p in spec.properties}, **known}
            for row in datasets.entity_rows(name):
                current[str(row["__id"]).removeprefix("uuid:")] = (
                    str(row.get("label") or ""),
                    {p: _text(row.get(odata[p])) for p in spec.properties},
                    int((row.get("__system") or {}).get("version") or 1),
                )
            deleted = datasets.deleted_uuids(name)
        self._sync_entities(spec, current, deleted)

    def _sync_entities(
        self,
        spec: EntitySpec,
        current: Mapping[str, tuple[str, dict[str, str], int]],
        deleted: set[str],
    ) -> None:
        datasets, name = self.client.datasets, spec.dataset
        wanted = {row.uuid: row for row in spec.rows}
        new = [
            {"uuid": r.uuid, "label": r.label, "data": dict(r.data)}
            for u, r in wanted.items()
            if u not in current and u not in deleted
        ]
        if new:
            try:
                self._write(
                    Action("create", f"{len(new)} entities in '{name}'"),
                    lambda: datasets.create_entities(name, new, spec.source),
                )
            except CentralError as err:
                if err.problem not in ("409.3", "409.19"):
                    raise
                raise DeployError(
                    f"entity list '{name}': {err}. Central's entity UUIDs are unique "
                    "across the whole server, deleted entities included, so this sample is "
                    "(or was) deployed in another project: a second copy (training, rehearsal)"
                    " needs a survey id of its own (survey.toml `id`, then `popsurvey sample "
                    "assign`)"
                ) from None
        for uuid, row in wanted.items():
            if uuid in current or uuid not in deleted:
                continue
            self._write(
                Action("restore", f"entity {uuid} in '{name}'", row.label),
                lambda uuid=uuid: datasets.restore_entity(name, uuid),
            )
            data = {k: v for k, v in row.data.items() if k not in PRESERVED}
            self._write(
                Action("update", f"entity {uuid} in '{name}'", row.label),
                lambda uuid=uuid, row=row, data=data: datasets.update_entity(
                    name, uuid, None, label=row.label, data=data
                ),
            )
        for uuid, (label, data, version) in current.items():
            row = wanted.get(uuid)
            if row is None:
                continue
            changed = {k: v for k, v in row.data.items() if k not in PRESERVED and data.get(k) != v}
            if changed or label != row.label:
                self._write(
                    Action("update", f"entity {uuid} in '{name}'", ", ".join(changed) or "label"),
                    lambda uuid=uuid, version=version, changed=changed, row=row: (
                        datasets.update_entity(name, uuid, version, label=row.label, data=changed)
                    ),
                )
        for uuid, (label, _, _) in current.items():
            if uuid not in wanted:
                self._write(
                    Action("delete", f"entity {uuid} in '{name}'", label),
                    lambda uuid=uuid: datasets.delete_entity(name, uuid),
                )

    # -- forms -----------------------------------------------------------------------------
    def _form(self, spec: FormSpec) -> None:
        forms = self.client.forms
        existing = None
        if not self.new_project:
            existing = next((f for f in self._form_list() if f["xmlFormId"] == spec.form_id), None)
        published = existing is not None and existing.get("publishedAt") is not None
        same_version = published and existing.get("version") == spec.version
        if same_version and (spec.derived or self._same(spec)):
            self.report.versions[spec.form_id] = spec.version
            return
        target = f"form {spec.form_id}"
        if existing is None:
            self._write(
                Action("create", target, f"draft from {spec.title or spec.form_id}"),
                lambda: forms.create(spec.content, spec.content_type, fallback_id=spec.form_id),
            )
        else:
            self._write(
                Action("upload", f"{target} draft"),
                lambda: forms.create_draft(spec.form_id, spec.content, spec.content_type),
            )
        self._attachments(spec)
        try:
            self._write(
                Action("publish", target, f"version {spec.version}"),
                lambda: forms.publish_draft(spec.form_id, spec.version),
            )
        except CentralError as err:
            if err.problem == "409.6":
                raise DeployError(
                    f"form {spec.form_id}: Central already has version '{spec.version}' with "
                    "other content (409.6); give the changed form a new version "
                    f"(deploy.versions.{spec.form_id} in survey.toml, or remove it to derive "
                    "one from the content)"
                ) from None
            raise
        self.report.versions[spec.form_id] = spec.version

    def _form_list(self) -> list[dict[str, Any]]:
        if self._forms is None:
            self._forms = self.client.forms.list()
        return self._forms

    def _same(self, spec: FormSpec) -> bool:
        """Whether the published version holds this content: the same XLSForm bytes and
        the same plain attachments (a version derived from the content always does)."""
        forms = self.client.forms
        kept = forms.xlsform(spec.form_id, spec.version)
        if kept is None or kept[0] != spec.content:
            return False
        published = {a["name"]: a for a in forms.attachments(spec.form_id)}
        for name, path in spec.files.items():
            if (published.get(name) or {}).get("hash") != md5(path.read_bytes()):
                return False
        return all((published.get(n) or {}).get("datasetExists") for n in spec.entity_files)

    def _attachments(self, spec: FormSpec) -> None:
        forms = self.client.forms
        if self.dry_run:
            slots = self._planned_slots(spec)
        else:
            slots = forms.attachments(spec.form_id, draft=True)
        for slot in slots:
            name = slot["name"]
            target = f"form {spec.form_id} attachment {name}"
            if name in spec.entity_files:
                if not slot.get("datasetExists"):
                    self._write(
                        Action("link", target, f"entity list '{name.removesuffix('.csv')}'"),
                        lambda name=name: forms.link_draft_dataset(spec.form_id, name),
                    )
                continue
            path = spec.files.get(name)
            if path is None:
                raise DeployError(
                    f"form {spec.form_id} needs the attachment {name}: put the file next to "
                    "the XLSForm (or in its <name>-media folder)"
                )
            content = path.read_bytes()
            if slot.get("hash") != md5(content):
                ctype = "text/csv" if name.endswith(".csv") else "application/octet-stream"
                self._write(
                    Action("upload", target, f"{len(content)} bytes"),
                    lambda name=name, content=content, ctype=ctype: forms.upload_draft_attachment(
                        spec.form_id, name, content, ctype
                    ),
                )

    def _planned_slots(self, spec: FormSpec) -> list[dict[str, Any]]:
        """The attachment slots a new draft would have (dry run): Central carries those of
        the published version (or of the extant draft) over, and a new form's file slots
        link to the dataset of the same name, which the deployment has made by then."""
        names = [*spec.files, *spec.entity_files]
        existing = None
        if not self.new_project:
            existing = next((f for f in self._form_list() if f["xmlFormId"] == spec.form_id), None)
        if existing is None:
            return [{"name": n, "datasetExists": n in spec.entity_files} for n in names]
        draft = existing.get("publishedAt") is None
        carried = {a["name"]: a for a in self.client.forms.attachments(spec.form_id, draft=draft)}
        return [carried.get(n, {"name": n}) for n in names]

    # -- app users -------------------------------------------------------------------------
    def _app_users(self) -> None:
        service = self.client.app_users
        listed = [] if self.new_project else service.list()
        active: dict[str, dict[str, Any]] = {}
        managed = self.spec.managed_app_users
        # of app users sharing a name, the roster's is the one a deployment made (else the
        # oldest: Central lists the newest first)
        for user in sorted(listed, key=lambda u: (int(u["id"]) not in managed, int(u["id"]))):
            name = str(user.get("displayName"))
            if not user.get("token"):
                continue
            if name not in active:
                active[name] = user
            elif name in {u.name for u in self.spec.app_users}:
                self.report.notes.append(
                    f"several active app users are named {name}: the roster's is id "
                    f"{active[name]['id']}, id {user['id']} is left alone"
                )
        ids: dict[str, int | None] = {}
        for wanted in self.spec.app_users:
            user = active.get(wanted.name)
            if user is None:
                user = self._write(
                    Action("create", f"app user {wanted.name}"),
                    lambda wanted=wanted: service.create(wanted.name),
                )
            if user is not None:
                ids[wanted.name] = int(user["id"])
                self.report.app_user_ids[wanted.name] = int(user["id"])
                self.report.tokens[wanted.name] = str(user["token"])
            else:
                ids[wanted.name] = None
        self._assignments(ids)
        self._revocations(listed)

    def _revocations(self, listed: Sequence[Mapping[str, Any]]) -> None:
        """Revoke the keys of app users outside the roster that a deployment made (all of
        them with ``revoke_unlisted``); the others are named in the notes."""
        roster = {u.name for u in self.spec.app_users} | set(self.spec.keep_app_users)
        for user in listed:
            name = str(user.get("displayName"))
            if not user.get("token") or name in roster:
                continue
            if not self.spec.revoke_unlisted and int(user["id"]) not in self.spec.managed_app_users:
                self.report.notes.append(
                    f"app user {name} (id {user['id']}) is not in the roster but no deployment "
                    "of this survey made it: left alone (deploy.keep_app_users silences this;"
                    " --revoke-unlisted revokes it)"
                )
                continue
            token = str(user["token"])
            self._write(
                Action("revoke", f"app user {name}", "no longer in the roster"),
                lambda token=token: self.client.app_users.revoke(token),
            )

    def _assignments(self, ids: Mapping[str, int | None]) -> None:
        """Each roster app user gets exactly the forms of its role among the deployed ones;
        app users outside the roster are left alone."""
        forms = self.client.forms
        for form_id in self._managed_forms():
            held = set() if self._is_new_form(form_id) else forms.app_user_ids(form_id)
            for wanted in self.spec.app_users:
                actor = ids[wanted.name]
                should = form_id in wanted.forms
                if should and (actor is None or actor not in held):
                    self._write(
                        Action("assign", f"app user {wanted.name}", f"form {form_id}"),
                        lambda form_id=form_id, actor=actor: forms.assign(form_id, actor),
                    )
                elif not should and actor is not None and actor in held:
                    self._write(
                        Action("unassign", f"app user {wanted.name}", f"form {form_id}"),
                        lambda form_id=form_id, actor=actor: forms.unassign(form_id, actor),
                    )

    def _managed_forms(self) -> Sequence[str]:
        return [f.form_id for f in self.spec.forms]

    def _is_new_form(self, form_id: str) -> bool:
        if self.new_project:
            return True
        if self.dry_run:
            return not any(f["xmlFormId"] == form_id for f in self._form_list())
        return False


def _text(value: Any) -> str:
    """An entity property as Central returns it (null for never set) as text."""
    return "" if value is None else str(value)
