"""What the fake Central keeps: users, sessions, forms, submissions with versions, faults.

Submissions are held as OData-shaped data (what ``.svc/Submissions`` would show without
``__id``/``__system``); the server decorates them on output as Central does. All methods
are thread-safe (one lock), since the HTTP server runs one thread per request.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from forms.model import FormModel


@dataclass
class Fault:
    """An injected failure for the next ``times`` requests whose path contains ``path``.

    ``kind``: ``"429"`` (with ``Retry-After``), ``"500"``, ``"503"``, ``"slow"`` (sleep
    ``delay`` seconds before answering), ``"garbage"`` (200 with a non-JSON body),
    ``"badshape"`` (200 with JSON that is not an OData page).
    """

    kind: str
    path: str = ""
    times: int = 1
    retry_after: int = 1
    delay: float = 2.0


@dataclass
class AppUser:
    """An app user (Central's ``field_key`` actor): submits over OpenRosa with its token to
    the forms it is assigned to."""

    id: int
    project: int
    name: str
    token: str | None
    """None once revoked (``DELETE /v1/sessions/{token}``)."""
    created_at: datetime
    forms: set[str] = field(default_factory=set)
    """xmlFormIds it holds the ``app-user`` role on."""


@dataclass
class SubmissionVersion:
    """One version (instanceID) of a submission."""

    instance_id: str
    data: dict[str, Any]
    created_at: datetime
    form_version: str | None
    device_id: str | None
    xml: bytes | None = None
    """The XML as posted over OpenRosa (a resubmission must repeat it byte for byte)."""


@dataclass
class FakeSubmission:
    """One submission (``__id`` = its first instanceID) and every version of it."""

    seq: int
    central_id: str
    created_at: datetime
    submitter_id: int
    submitter_name: str
    versions: list[SubmissionVersion]
    updated_at: datetime | None = None
    review_state: str | None = None
    deleted_at: datetime | None = None
    attachments: dict[str, bytes | None] = field(default_factory=dict)
    """Expected attachment names, with content once uploaded."""
    encrypted: bool = False
    """Sent encrypted: OData shows its ``__id`` and ``__system`` (status notDecrypted) only."""
    comments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def current(self) -> SubmissionVersion:
        """The latest version."""
        return self.versions[-1]


@dataclass
class FakeForm:
    """A published form."""

    xml_form_id: str
    version: str
    name: str
    model: FormModel | None = None
    xml: str | None = None
    submissions: dict[str, FakeSubmission] = field(default_factory=dict)
    xlsforms: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    """Version -> (content, ``xlsx``/``xls``) of the versions uploaded as an XLSForm; a
    version uploaded as XForm XML has none (Central keeps no spreadsheet for it)."""
    state: str = "open"
    """``open``, ``closing`` or ``closed``: only an open form accepts submissions."""
    versions: set[str] = field(default_factory=set)
    """Every version published (submissions to any of them are accepted, as Central does)."""
    history: list[str] = field(default_factory=list)
    """The published versions in publishing order (``GET .../versions`` lists them)."""
    attachments: dict[str, Any] = field(default_factory=dict)
    """The published version's attachments (name -> :class:`FormFile`)."""
    draft: Any = None
    """The draft (:class:`tests.fake_central.resources.FakeDraft`), if any."""
    draft_source: Any = None
    """The published definition, copied by a draft created with an empty body."""
    published_at: datetime | None = None


class FakeCentral:
    """The fake server's state. Tests seed it directly or through the HTTP API."""

    def __init__(self, users: dict[str, str] | None = None) -> None:
        self.lock = threading.RLock()
        self.users = dict(users or {"admin@example.org": "correct horse"})
        self.tokens: dict[str, str] = {}
        self.projects: dict[int, dict[str, FakeForm]] = {1: {}}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []
        self._seq = 0
        self._clock = datetime(2026, 3, 1, tzinfo=UTC)
        self._actors = {"enum": 5}
        self.app_users: dict[str, AppUser] = {}
        """App-user token (the key in ``/v1/key/{token}/...``) -> the app user."""
        self.field_keys: list[AppUser] = []
        """Every app user, revoked ones included (token None)."""
        self.project_names: dict[int, str] = {1: "Default Project"}
        self.datasets: dict[int, dict[str, Any]] = {}
        """Project -> dataset name -> :class:`tests.fake_central.resources.FakeDataset`."""

    # -- time ------------------------------------------------------------------------------
    def tick(self, at: datetime | None = None) -> datetime:
        """A strictly increasing timestamp with millisecond resolution (as Central's)."""
        with self.lock:
            candidate = (at or datetime.now(UTC)).replace(microsecond=0) + timedelta(
                milliseconds=(at or datetime.now(UTC)).microsecond // 1000
            )
            self._clock = max(candidate, self._clock + timedelta(milliseconds=1))
            return self._clock

    # -- sessions --------------------------------------------------------------------------
    def login(self, email: str, password: str) -> str | None:
        """A new bearer token for valid credentials, else None."""
        with self.lock:
            if self.users.get(email) != password:
                return None
            token = secrets.token_urlsafe(24)
            self.tokens[token] = email
            return token

    # -- forms -----------------------------------------------------------------------------
    def add_form(
        self,
        project: int,
        model: FormModel | None,
        *,
        form_id: str | None = None,
        version: str | None = None,
        xml: str | None = None,
        xlsform: bytes | None = None,
        xlsform_type: str = "xlsx",
        at: datetime | None = None,
    ) -> FakeForm:
        """Publish a form (a new version of it when it exists). ``xlsform`` is the
        spreadsheet it was uploaded from (``xlsform_type`` ``xlsx`` or ``xls``); without
        it the version counts as uploaded as XForm XML. ``at``: when (else now)."""
        with self.lock:
            fid = form_id or (model.form_id if model else "form")
            forms = self.projects.setdefault(project, {})
            ver = version or (model.version if model and model.version else "1")
            form = forms.get(fid)
            if form:
                form.version, form.model, form.xml = ver, model, xml
            else:
                form = forms[fid] = FakeForm(fid, ver, model.title if model else fid, model, xml)
            if ver not in form.versions:
                form.history.append(ver)
            form.published_at = form.published_at or self.tick(at)
            form.versions.add(ver)
            if xlsform is not None:
                form.xlsforms[ver] = (xlsform, xlsform_type)
            return form

    def add_app_user(self, project: int, name: str) -> AppUser:
        """Create an app user of ``project`` with access to no form yet (as Central's
        ``POST .../app-users``); its token is what Central's QR code gives Collect."""
        with self.lock:
            token = base64.b64encode(secrets.token_bytes(48)).decode()
            token = token.replace("/", "!").replace("+", "$")  # Central's token alphabet
            actor = self._actors.setdefault(name, 5 + len(self._actors))
            if any(u.id == actor for u in self.field_keys):
                actor = self._actors[f"{name}#{len(self.field_keys)}"] = 5 + len(self._actors)
            user = AppUser(actor, project, name, token, self.tick())
            self.app_users[token] = user
            self.field_keys.append(user)
            return user

    def form(self, project: int, form_id: str) -> FakeForm | None:
        """The form, or None."""
        return self.projects.get(project, {}).get(form_id)

    # -- submissions -----------------------------------------------------------------------
    def submit(
        self,
        project: int,
        form_id: str,
        data: dict[str, Any],
        *,
        submitter: str = "enum",
        device_id: str | None = None,
        attachments: dict[str, bytes | None] | None = None,
        at: datetime | None = None,
    ) -> FakeSubmission:
        """Accept a new submission (data carries ``meta/instanceID``) or, when ``meta``
        has ``deprecatedID``, an edit of the submission whose current instanceID it names."""
        with self.lock:
            form = self.projects[project][form_id]
            meta = data.get("meta") or {}
            instance_id = meta["instanceID"]
            deprecated = meta.get("deprecatedID")
            now = self.tick(at)
            if deprecated:
                return self._edit(form, deprecated, data, now, device_id, attachments)
            if instance_id in form.submissions:
                raise KeyError(f"duplicate instanceID {instance_id}")
            self._seq += 1
            actor = self._actors.setdefault(submitter, 5 + len(self._actors))
            sub = FakeSubmission(
                seq=self._seq,
                central_id=instance_id,
                created_at=now,
                submitter_id=actor,
                submitter_name=submitter,
                versions=[SubmissionVersion(instance_id, data, now, form.version, device_id)],
                attachments=dict(attachments or {}),
            )
            form.submissions[instance_id] = sub
            return sub

    def _edit(
        self,
        form: FakeForm,
        deprecated: str,
        data: dict[str, Any],
        now: datetime,
        device_id: str | None,
        attachments: dict[str, bytes | None] | None,
    ) -> FakeSubmission:
        sub = next(
            (
                s
                for s in form.submissions.values()
                if s.current.instance_id == deprecated and s.deleted_at is None
            ),
            None,
        )
        if sub is None:
            raise LookupError(f"no current submission with instanceID {deprecated}")
        clean = {**data, "meta": {k: v for k, v in data["meta"].items() if k != "deprecatedID"}}
        sub.versions.append(
            SubmissionVersion(clean["meta"]["instanceID"], clean, now, form.version, device_id)
        )
        sub.review_state = "edited"
        sub.updated_at = now
        sub.attachments = dict(attachments or {})
        return sub

    def review(self, project: int, form_id: str, central_id: str, state: str) -> FakeSubmission:
        """Set a review state (bumps updatedAt)."""
        with self.lock:
            sub = self.live(project, form_id, central_id)
            sub.review_state = state
            sub.updated_at = self.tick()
            return sub

    def delete(self, project: int, form_id: str, central_id: str) -> None:
        """Soft-delete a submission (it drops out of OData unless the filter names
        deletedAt)."""
        with self.lock:
            sub = self.live(project, form_id, central_id)
            sub.deleted_at = self.tick()

    def restore(self, project: int, form_id: str, central_id: str) -> None:
        """Undo a soft delete."""
        with self.lock:
            sub = self.projects[project][form_id].submissions[central_id]
            sub.deleted_at = None

    def live(self, project: int, form_id: str, central_id: str) -> FakeSubmission:
        """A submission that is not deleted (KeyError otherwise)."""
        sub = self.projects[project][form_id].submissions[central_id]
        if sub.deleted_at is not None:
            raise KeyError(central_id)
        return sub

    # -- faults ----------------------------------------------------------------------------
    def inject(self, *faults: Fault) -> None:
        """Queue faults for the next matching requests."""
        with self.lock:
            self.faults.extend(faults)

    def take_fault(self, path: str) -> Fault | None:
        """The first queued fault matching ``path`` (used up by one request)."""
        with self.lock:
            for fault in self.faults:
                if fault.path in path and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                    return fault
            return None


def repeat_row_id(central_id: str, path: list[tuple[str, int | None]]) -> str:
    """A repeat row's id as Central hashes it: ``Submissions#<id>%%group#%%member#0...``
    (a group has no row number; rows count from 0)."""
    parts = [f"Submissions#{central_id}", *(f"{name}#{'' if n is None else n}" for name, n in path)]
    return hashlib.sha1("%%".join(parts).encode()).hexdigest()
