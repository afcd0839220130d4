"""The fake Central's HTTP API on a loopback port (a thread per request).

Implemented, following Central's API documentation and behaviour:

- ``POST /v1/sessions`` -> ``{"token"}`` (401 on bad credentials); every other endpoint
  needs ``Authorization: Bearer`` or an app user's key (401.2 without or with an unknown
  token, as Central).
- ``GET /v1/users/current``; ``GET /v1/projects/{p}/forms[/{f}[/versions]]``, ``{f}.xml``.
- ``GET .../forms/{f}.xlsx|.xls`` and ``.../forms/{f}/versions/{v}.xlsx|.xls`` (``___`` = blank
  version): the XLSForm the version was uploaded from, as ``{f}.xlsx`` in Content-Disposition;
  404 when it was uploaded as XForm XML or asked with the other extension (Central checks
  the blob's content type). ``.../versions`` lists every published version, newest first.
- ``POST /v1/projects/{p}/forms/{f}/submissions`` (XML body; ``deprecatedID`` = edit).
- ``GET .../forms/{f}.svc`` and ``.svc/Submissions[.repeat...]`` with ``$top``, ``$skip``,
  ``$skiptoken`` (cursor, newest first), ``$filter``, ``$expand=*``, ``$count``, ``$select``
  (``__id``/``__system`` fields), ``$wkt``; ``@odata.nextLink`` is absolute.
- ``GET .../forms/{f}/submissions.csv.zip`` (``attachments``, ``$filter``): Central's CSV
  export with media and the combined audit log (see :mod:`tests.fake_central.export`).
- ``GET|PATCH|DELETE .../submissions/{id}``, ``POST .../submissions/{id}/restore``,
  ``GET .../submissions/{id}/versions``, ``.../attachments`` and
  ``GET|POST .../attachments/{name}``.
- OpenRosa submission, as Collect sends it (``X-OpenRosa-Version: 1.0`` required):
  ``POST /v1/projects/{p}/submission`` (bearer session) and
  ``POST /v1/key/{app user token}/projects/{p}/submission``; multipart with the XML in
  ``xml_submission_file`` (else 400.7) and one part per attachment. Checked in Central's
  order: X-OpenRosa-Version (400.6), key (401.2 malformed, 403.1 unknown), form (404.1),
  version (404.6), form open (409.2), rights (401.2: an app user not assigned to the form,
  or anonymous). 201 + OpenRosaResponse XML; the same instanceID again with identical XML
  adds attachments (201), with different XML 409.1; a deleted one 409.18. ``deprecatedID``
  = an edit of the current version (404.5 unknown, 409.9 stale), attachments not sent are
  carried over. ``HEAD``/``GET`` answer 204. Any route also works under
  ``/v1/key/{token}`` as the app user.
- ``POST /v1/projects/{p}/app-users`` (token in the answer), ``POST .../forms/{f}/
  assignments/app-user/{actorId}``, ``PATCH .../forms/{f}`` (``state``).
- Deployment (:mod:`tests.fake_central.resources`): projects, form creation from an
  XLSForm, drafts, draft attachments and dataset links, publishing (409.6), datasets,
  properties and entities (bulk create, PATCH with baseVersion, DELETE, restore, OData),
  app-user listing and revocation, form assignments, submission comments.
- Faults queued with :meth:`FakeCentral.inject`: 429 + Retry-After, 500/503, slow answers,
  garbage bodies.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit
from xml.etree import ElementTree as ET

from tests.fake_central.export import export_zip
from tests.fake_central.odata_filter import FilterError, compile_filter
from tests.fake_central.resources import ROUTES as DEPLOY_ROUTES
from tests.fake_central.resources import DeployRoutes
from tests.fake_central.state import (
    AppUser,
    FakeCentral,
    FakeForm,
    FakeSubmission,
    repeat_row_id,
)
from tests.fake_central.xml import data_to_xml, xml_to_data

NAV = "@odata.navigationLink"


class FakeCentralServer:
    """Serve a :class:`FakeCentral` on ``http://127.0.0.1:<port>`` until :meth:`stop`."""

    def __init__(self, central: FakeCentral | None = None, port: int = 0) -> None:
        self.central = central or FakeCentral()
        handler = type("Handler", (_Handler,), {"central": self.central})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL (no ``/v1``)."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeCentralServer:
        """Start serving in a background thread."""
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop serving."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FakeCentralServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class HttpError(Exception):
    """An error answer: status and Central-style ``{code, message}``."""

    def __init__(self, status: int, code: float, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


NOT_FOUND = (404, 404.1, "Could not find the resource you were looking for.")
AUTH_FAILED = (401, 401.2, "Could not authenticate with the provided credentials.")
FORBIDDEN = (
    403,
    403.1,
    "The authentication you provided does not have rights to perform that action.",
)


class _Handler(DeployRoutes, BaseHTTPRequestHandler):
    central: FakeCentral
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    # -- plumbing --------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path, query = unquote(parts.path), {k: v[-1] for k, v in parse_qs(parts.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.central.requests.append((method, self.path))
        fault = self.central.take_fault(self.path)
        if fault is not None and self._fault(fault):
            return
        self.actor: str | None = None  # the web user's email
        self.app_user: AppUser | None = None
        key = re.match(r"/v1/key/([^/]+)/", path)
        if key is not None:
            path = "/v1/" + path[key.end() :]
        openrosa = path.endswith("/submission")
        self.extra_headers: dict[str, str] = {}
        try:
            handler, args = self._route(method, path)
            if openrosa:  # Central checks the header before authenticating
                _check_openrosa_version(self.headers.get("X-OpenRosa-Version"))
            if key is not None:
                self._authenticate_key(key.group(1))
            elif handler is not _Handler._sessions:
                self._authenticate()
            if openrosa:  # set once past Central's preprocessors, as its openRosa endpoint
                self.extra_headers = dict(OPENROSA_HEADERS)
            status, payload, ctype = handler(self, *args, query=query, body=body)
        except HttpError as err:
            status, ctype = err.status, "application/json"
            payload = {"code": err.code, "message": err.message}
            if getattr(err, "details", None):
                payload["details"] = err.details
            if openrosa:
                payload, ctype = _openrosa_message(err.message, "error"), OPENROSA_XML
        except FilterError as err:
            status, ctype = 501, "application/json"
            payload = {"code": 501.5, "message": f"The given OData filter is not supported: {err}"}
        if fault is not None and fault.kind == "garbage":
            payload, ctype, status = b"<html>502 Bad Gateway</html>\x00\xff", "text/html", 200
        if fault is not None and fault.kind == "badshape":
            payload, status = {"unexpected": True}, 200
        self._send(status, payload, ctype, self.extra_headers)

    def _fault(self, fault: Any) -> bool:
        if fault.kind == "slow":
            time.sleep(fault.delay)
            return False
        if fault.kind in ("429", "500", "503"):
            headers = {"Retry-After": str(fault.retry_after)} if fault.kind == "429" else {}
            self._send(
                int(fault.kind),
                {"code": int(fault.kind), "message": "injected"},
                "application/json",
                headers,
            )
            return True
        return False

    def _send(self, status: int, payload: Any, ctype: str, headers: dict | None = None) -> None:
        if isinstance(payload, bytes):
            data = payload
        elif isinstance(payload, str):
            data = payload.encode()
        else:
            data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout test)

    def _authenticate(self) -> None:
        header = self.headers.get("Authorization") or ""
        if not header.startswith("Bearer ") or header[7:] not in self.central.tokens:
            raise HttpError(*AUTH_FAILED)
        self.actor = self.central.tokens[header[7:]]

    def _authenticate_key(self, token: str) -> None:
        """An app user's key in the path (``/v1/key/{token}/...``): 401 when it is not a
        well-formed token, 403 when no app user has it (as Central)."""
        if not re.fullmatch(r"[A-Za-z0-9!$]{64}", token):
            raise HttpError(*AUTH_FAILED)
        self.app_user = self.central.app_users.get(token)
        if self.app_user is None:
            raise HttpError(*FORBIDDEN)

    def _route(self, method: str, path: str) -> tuple[Callable, tuple]:
        for verb, pattern, handler in _ROUTES:
            if verb == method:
                match = re.fullmatch(pattern, path)
                if match:
                    return handler, match.groups()
        raise HttpError(*NOT_FOUND)

    # -- resolution helpers ----------------------------------------------------------------
    def _form(self, project: str, form_id: str) -> FakeForm:
        form = self.central.form(int(project), form_id)
        if form is None:
            raise HttpError(*NOT_FOUND)
        return form

    def _submission(self, project: str, form_id: str, central_id: str) -> FakeSubmission:
        sub = self._form(project, form_id).submissions.get(central_id)
        if sub is None or sub.deleted_at is not None:
            raise HttpError(*NOT_FOUND)
        return sub

    def _base(self) -> str:
        host = self.headers.get("Host") or "127.0.0.1"
        return f"http://{host}"

    # -- endpoints -------------------------------------------------------------------------
    def _sessions(self, query: dict, body: bytes) -> tuple:
        try:
            creds = json.loads(body or b"{}")
        except ValueError:
            raise HttpError(400, 400.1, "Could not parse the given data.") from None
        token = self.central.login(str(creds.get("email")), str(creds.get("password")))
        if token is None:
            raise HttpError(401, 401.2, "Could not authenticate with the provided credentials.")
        return (
            200,
            {
                "token": token,
                "createdAt": _iso(self.central.tick()),
                "expiresAt": "2099-01-01T00:00:00.000Z",
            },
            "application/json",
        )

    def _current_user(self, query: dict, body: bytes) -> tuple:
        # a user made with Central's CLI has its email as display name
        return 200, {"id": 1, "type": "user", "displayName": self.actor}, "application/json"

    def _app_user_create(self, project: str, query: dict, body: bytes) -> tuple:
        """``POST /v1/projects/{p}/app-users`` ``{"displayName"}``: the app user, token included."""
        if int(project) not in self.central.projects:
            raise HttpError(*NOT_FOUND)
        name = _json_body(body).get("displayName")
        if not isinstance(name, str) or not name:
            raise HttpError(400, 400.2, "Required parameter displayName missing.")
        user = self.central.add_app_user(int(project), name)
        return 200, _app_user_json(user), "application/json"

    def _assign(
        self, project: str, form_id: str, role: str, actor: str, query: dict, body: bytes
    ) -> tuple:
        """``POST .../forms/{f}/assignments/app-user/{actorId}``: let an app user submit."""
        form = self._form(project, form_id)
        user = next((u for u in self.central.field_keys if str(u.id) == actor), None)
        if role != "app-user" or user is None:
            raise HttpError(*NOT_FOUND)
        with self.central.lock:
            user.forms.add(form.xml_form_id)
        return 200, {"success": True}, "application/json"

    def _form_patch(self, project: str, form_id: str, query: dict, body: bytes) -> tuple:
        """``PATCH .../forms/{f}`` ``{"state": "open"|"closing"|"closed"}``."""
        form = self._form(project, form_id)
        state = _json_body(body).get("state", form.state)
        if state not in ("open", "closing", "closed"):
            raise HttpError(400, 400.8, f"Unexpected state value {state}")
        with self.central.lock:
            form.state = state
        return 200, _form_json(form, project), "application/json"

    def _forms(self, project: str, query: dict, body: bytes) -> tuple:
        forms = self.central.projects.get(int(project))
        if forms is None:
            raise HttpError(*NOT_FOUND)
        return 200, [_form_json(f, project) for f in forms.values()], "application/json"

    def _form_get(self, project: str, form_id: str, query: dict, body: bytes) -> tuple:
        return 200, _form_json(self._form(project, form_id), project), "application/json"

    def _form_versions(self, project: str, form_id: str, query: dict, body: bytes) -> tuple:
        """Every published version, newest first."""
        form = self._form(project, form_id)
        listed = [{**_form_json(form, project), "version": v} for v in reversed(form.history)]
        return 200, listed, "application/json"

    def _form_xml(self, project: str, form_id: str, query: dict, body: bytes) -> tuple:
        form = self._form(project, form_id)
        if not form.xml:
            raise HttpError(*NOT_FOUND)
        return 200, form.xml, "application/xml"

    def _form_xlsform(
        self, project: str, form_id: str, extension: str, query: dict, body: bytes
    ) -> tuple:
        form = self._form(project, form_id)
        return self._xlsform(form, form.version, extension)

    def _version_xlsform(
        self, project: str, form_id: str, version: str, extension: str, query: dict, body: bytes
    ) -> tuple:
        form = self._form(project, form_id)
        return self._xlsform(form, "" if version == "___" else version, extension)

    def _xlsform(self, form: FakeForm, version: str, extension: str) -> tuple:
        stored = form.xlsforms.get(version)
        if stored is None or stored[1] != extension:
            raise HttpError(*NOT_FOUND)
        name = f"{form.xml_form_id}.{extension}"  # Central names it by form id, any version
        self.extra_headers["Content-Disposition"] = (
            f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
        )
        return 200, stored[0], EXCEL_TYPES[extension]

    def _submit(self, project: str, form_id: str, query: dict, body: bytes) -> tuple:
        form = self._form(project, form_id)
        if form.model is None:
            raise HttpError(400, 400.2, "The form has no model to parse submissions with.")
        try:
            data = xml_to_data(body, form.model)
        except ValueError as err:
            raise HttpError(400, 400.2, f"Could not parse the given data: {err}") from None
        if (data.get("meta") or {}).get("deprecatedID"):
            raise HttpError(409, 409.3, "Use PUT .../submissions/{instanceId} to edit.")
        try:
            sub = self.central.submit(
                int(project), form_id, data, attachments=_expected(form, data)
            )
        except KeyError:
            raise HttpError(409, 409.3, "A resource already exists with that instanceID.") from None
        return 200, _submission_json(sub), "application/json"

    def _submission_put(
        self, project: str, form_id: str, cid: str, query: dict, body: bytes
    ) -> tuple:
        """An edit: the XML's ``meta/deprecatedID`` must be the current instanceID."""
        form = self._form(project, form_id)
        sub = self._submission(project, form_id, cid)
        try:
            data = xml_to_data(body, form.model) if form.model else None
        except ValueError as err:
            raise HttpError(400, 400.2, f"Could not parse the given data: {err}") from None
        if data is None or (data.get("meta") or {}).get("deprecatedID") != sub.current.instance_id:
            raise HttpError(409, 409.1, "The deprecatedID is not the current version.")
        sub = self.central.submit(int(project), form_id, data, attachments=_expected(form, data))
        return 200, _submission_json(sub), "application/json"

    def _openrosa_head(self, project: str, query: dict, body: bytes) -> tuple:
        if int(project) not in self.central.projects:
            raise HttpError(*NOT_FOUND)
        return 204, b"", OPENROSA_XML

    def _openrosa_submit(self, project: str, query: dict, body: bytes) -> tuple:
        """Collect's submission, checked in Central's order (form, version, state, rights):
        a new one, the same XML again with more attachments, or an edit (``deprecatedID``)."""
        files = _multipart(self.headers.get("Content-Type") or "", body)
        xml = files.pop("xml_submission_file", None)
        if xml is None:
            raise HttpError(
                400, 400.7, "Required multipart POST field xml_submission_file missing."
            )
        form_id, version, instance_id, deprecated = _submission_identity(xml)
        form = self._form(project, form_id)
        if version not in form.versions | {form.version}:
            raise HttpError(
                404,
                404.6,
                f"The form version specified in this submission '{version}' does not exist.",
            )
        if form.state != "open":
            raise HttpError(
                409,
                409.2,
                "This form is not currently accepting submissions. Please talk "
                "to your program staff if this is unexpected.",
            )
        submitter = self._submitter(int(project), form)
        with self.central.lock:
            if deprecated:
                self._openrosa_edit(form, xml, files, deprecated, instance_id, query)
            else:
                self._openrosa_new(form, xml, files, instance_id, submitter, query)
        message = _openrosa_message("full submission upload was successful!", "")
        return 201, message, OPENROSA_XML

    def _submitter(self, project: int, form: FakeForm) -> str:
        """Who submits: a web user, or an app user assigned to the form (else 401: Central
        turns a lack of rights into an authentication failure on this route)."""
        if self.actor is not None:
            return self.actor
        user = self.app_user
        if user is None or user.project != project or form.xml_form_id not in user.forms:
            raise HttpError(*AUTH_FAILED)
        return user.name

    def _openrosa_new(
        self, form: FakeForm, xml: bytes, files: dict, instance_id: str, submitter: str, query
    ) -> None:
        found = _find_version(form, instance_id)
        if found is None:
            if instance_id in form.submissions:  # only a deleted one has it
                raise HttpError(
                    409, 409.18, "This submission has been deleted. You may not resubmit it."
                )
            self._create(form, xml, files, submitter, query.get("deviceID"))
            return
        sub, version = found
        if version is not sub.current:
            raise HttpError(409, 409.9, _stale(instance_id))
        if version.xml != xml:
            raise HttpError(409, 409.1, XML_CONFLICT)
        _attach(sub.attachments, files)

    def _openrosa_edit(
        self, form: FakeForm, xml: bytes, files: dict, deprecated: str, instance_id: str, query
    ) -> None:
        """An edit supplants the current version; attachments it does not send are carried
        over from the version it deprecates. Sent again, it may add attachments."""
        found = _find_version(form, deprecated)
        if found is None:
            raise HttpError(
                404,
                404.5,
                "You tried to update an existing submission, but we can't find that "
                f"submission to update ({deprecated})",
            )
        sub, version = found
        if version is not sub.current:
            usurper = _find_version(form, instance_id)
            if usurper is None or usurper[1] is not usurper[0].current:
                raise HttpError(409, 409.9, _stale(deprecated))
            if usurper[1].xml != xml:
                raise HttpError(409, 409.1, XML_CONFLICT)
            _attach(usurper[0].attachments, files)
            return
        if _find_version(form, instance_id) is not None:
            raise HttpError(
                409, 409.3, f"A resource already exists with instanceID value(s) of {instance_id}."
            )
        data = self._parse(form, xml)
        attachments = {n: sub.attachments.get(n) for n in _expected(form, data)}
        _attach(attachments, files)
        project = self._project_of(form)
        self.central.submit(
            project,
            form.xml_form_id,
            data,
            device_id=query.get("deviceID"),
            attachments=attachments,
        )
        sub.current.xml = xml

    def _parse(self, form: FakeForm, xml: bytes) -> dict:
        if form.model is None:
            raise HttpError(400, 400.2, "The form has no model to parse submissions with.")
        try:
            return xml_to_data(xml, form.model)
        except ValueError as err:
            raise HttpError(400, 400.2, f"Could not parse the given data: {err}") from None

    def _project_of(self, form: FakeForm) -> int:
        return next(p for p, forms in self.central.projects.items() if form in forms.values())

    def _create(
        self, form: FakeForm, xml: bytes, files: dict, submitter: str, device: str | None
    ) -> None:
        data = self._parse(form, xml)
        attachments = _expected(form, data)
        _attach(attachments, files)
        sub = self.central.submit(
            self._project_of(form),
            form.xml_form_id,
            data,
            submitter=submitter,
            device_id=device,
            attachments=attachments,
        )
        sub.current.xml = xml

    def _service(self, project: str, form_id: str, query: dict, body: bytes) -> tuple:
        form = self._form(project, form_id)
        tables = ["Submissions", *(_repeat_tables(form))]
        metadata = f"{self._base()}/v1/projects/{project}/forms/{form_id}.svc/$metadata"
        return (
            200,
            {
                "@odata.context": metadata,
                "value": [{"name": t, "kind": "EntitySet", "url": t} for t in tables],
            },
            "application/json",
        )

    def _odata(self, project: str, form_id: str, table: str, query: dict, body: bytes) -> tuple:
        form = self._form(project, form_id)
        predicate, wants_deleted = compile_filter(query.get("$filter"))
        with self.central.lock:
            subs = sorted(
                form.submissions.values(), key=lambda s: (s.created_at, s.seq), reverse=True
            )
            subs = [
                s
                for s in subs
                if (wants_deleted or s.deleted_at is None) and predicate(_filter_row(s))
            ]
            wkt = query.get("$wkt") == "true"
            top = int(query["$top"]) if "$top" in query else None
            token = _parse_skiptoken(query["$skiptoken"]) if "$skiptoken" in query else None
            skip = 0 if token else int(query.get("$skip") or 0)
            if table == "Submissions":
                payload = self._submissions_page(subs, query, top, skip, token, wkt)
            else:
                payload = self._repeat_page(form, subs, table, query, top, skip, token, wkt)
        payload["@odata.context"] = (
            f"{self._base()}/v1/projects/{project}/forms/{form_id}.svc/$metadata#{table}"
        )
        return 200, payload, "application/json"

    def _submissions_page(
        self, subs: list, query: dict, top: int | None, skip: int, token: dict | None, wkt: bool
    ) -> dict:
        total = len(subs)
        if token is not None:
            cursor = next(
                (i for i, s in enumerate(subs) if s.central_id == token.get("instanceId")), None
            )
            if cursor is None:
                raise HttpError(400, 400.34, "Invalid $skiptoken")
            subs = subs[cursor + 1 :]
        else:
            subs = subs[skip:]
        page = subs if top is None else subs[:top]
        remaining = len(subs) - len(page)
        select = _select(query.get("$select"))
        rows = [
            _record(s, expand=query.get("$expand") == "*", wkt=wkt, select=select) for s in page
        ]
        result: dict[str, Any] = {"value": rows}
        if remaining > 0 and page:
            result["@odata.nextLink"] = self._next_link({"instanceId": page[-1].central_id})
        if query.get("$count") == "true":
            result["@odata.count"] = total
        return result

    def _repeat_page(
        self,
        form: FakeForm,
        subs: list,
        table: str,
        query: dict,
        top: int | None,
        skip: int,
        token: dict | None,
        wkt: bool,
    ) -> dict:
        path = table.split(".")[1:]
        if table not in _repeat_tables(form):
            raise HttpError(*NOT_FOUND)
        rows = [row for s in subs for row in _table_rows(s, path, wkt)]
        total = len(rows)
        if token is not None:
            cursor = next(
                (i for i, r in enumerate(rows) if r["__id"] == token.get("repeatId")), None
            )
            if cursor is None:
                raise HttpError(400, 400.34, "Invalid $skiptoken")
            rows = rows[cursor + 1 :]
        else:
            rows = rows[skip:]
        page = rows if top is None else rows[:top]
        result: dict[str, Any] = {"value": page}
        if len(rows) > len(page) and page:
            result["@odata.nextLink"] = self._next_link({"repeatId": page[-1]["__id"]})
        if query.get("$count") == "true":
            result["@odata.count"] = total
        return result

    def _next_link(self, token: dict) -> str:
        parts = urlsplit(self.path)
        params = [(k, v) for k, v in _query_pairs(parts.query) if k not in ("$skip", "$skiptoken")]
        params.append(("$skiptoken", "01" + base64.b64encode(json.dumps(token).encode()).decode()))
        return f"{self._base()}{parts.path}?{urlencode(params)}"

    def _export(self, project: str, form_id: str, query: dict, body: bytes) -> tuple:
        form = self._form(project, form_id)
        predicate, _ = compile_filter(query.get("$filter"))
        with self.central.lock:  # a snapshot; the zip is built without holding up others
            subs = sorted(form.submissions.values(), key=lambda s: (s.created_at, s.seq))
            subs = [
                replace(s, attachments=dict(s.attachments), versions=list(s.versions))
                for s in subs
                if s.deleted_at is None and predicate(_filter_row(s))
            ]
        data = export_zip(form, subs, _system, query.get("attachments") != "false")
        self.extra_headers["Content-Disposition"] = f'attachment; filename="{form_id}.zip"'
        return 200, data, "application/zip"

    def _submissions_list(self, project: str, form_id: str, query: dict, body: bytes) -> tuple:
        live = [s for s in self._form(project, form_id).submissions.values() if not s.deleted_at]
        live.sort(key=lambda s: s.created_at, reverse=True)  # Central lists newest first
        return 200, [_submission_json(s) for s in live], "application/json"

    def _submission_get(
        self, project: str, form_id: str, cid: str, query: dict, body: bytes
    ) -> tuple:
        return 200, _submission_json(self._submission(project, form_id, cid)), "application/json"

    def _submission_patch(
        self, project: str, form_id: str, cid: str, query: dict, body: bytes
    ) -> tuple:
        self._submission(project, form_id, cid)
        state = json.loads(body or b"{}").get("reviewState")
        if state not in ("hasIssues", "edited", "approved", "rejected", None):
            raise HttpError(400, 400.8, f"Unexpected reviewState value {state}")
        sub = self.central.review(int(project), form_id, cid, state)
        return 200, _submission_json(sub), "application/json"

    def _submission_delete(
        self, project: str, form_id: str, cid: str, query: dict, body: bytes
    ) -> tuple:
        self._submission(project, form_id, cid)
        self.central.delete(int(project), form_id, cid)
        return 200, {"success": True}, "application/json"

    def _submission_restore(
        self, project: str, form_id: str, cid: str, query: dict, body: bytes
    ) -> tuple:
        sub = self._form(project, form_id).submissions.get(cid)
        if sub is None or sub.deleted_at is None:
            raise HttpError(*NOT_FOUND)
        self.central.restore(int(project), form_id, cid)
        return 200, {"success": True}, "application/json"

    def _versions(self, project: str, form_id: str, cid: str, query: dict, body: bytes) -> tuple:
        sub = self._submission(project, form_id, cid)
        return (
            200,
            [
                {
                    "instanceId": v.instance_id,
                    "current": i == len(sub.versions) - 1,
                    "createdAt": _iso(v.created_at),
                    "submitterId": sub.submitter_id,
                    "deviceId": v.device_id,
                }
                for i, v in reversed(list(enumerate(sub.versions)))
            ],
            "application/json",
        )

    def _version_xml(
        self, project: str, form_id: str, cid: str, vid: str, query: dict, body: bytes
    ) -> tuple:
        form = self._form(project, form_id)
        sub = self._submission(project, form_id, cid)
        version = next((v for v in sub.versions if v.instance_id == vid), None)
        if version is None or form.model is None:
            raise HttpError(*NOT_FOUND)
        return 200, data_to_xml(version.data, form.model), "application/xml"

    def _attachments(self, project: str, form_id: str, cid: str, query: dict, body: bytes) -> tuple:
        sub = self._submission(project, form_id, cid)
        return (
            200,
            [{"name": n, "exists": c is not None} for n, c in sorted(sub.attachments.items())],
            "application/json",
        )

    def _attachment_get(
        self, project: str, form_id: str, cid: str, name: str, query: dict, body: bytes
    ) -> tuple:
        content = self._submission(project, form_id, cid).attachments.get(name)
        if content is None:
            raise HttpError(*NOT_FOUND)
        ctype = "text/csv" if name.endswith(".csv") else "application/octet-stream"
        return 200, content, ctype

    def _attachment_post(
        self, project: str, form_id: str, cid: str, name: str, query: dict, body: bytes
    ) -> tuple:
        sub = self._submission(project, form_id, cid)
        if name not in sub.attachments:
            raise HttpError(*NOT_FOUND)
        with self.central.lock:
            sub.attachments[name] = body
        return 200, {"success": True}, "application/json"


OPENROSA_HANDLERS = (_Handler._openrosa_head, _Handler._openrosa_submit)
EXCEL_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
}
OPENROSA_XML = "text/xml; charset=utf-8"
OPENROSA_HEADERS = {
    "Content-Language": "en",
    "X-OpenRosa-Version": "1.0",
    "X-OpenRosa-Accept-Content-Length": "100000000",
}
_OR = r"/v1/projects/(\d+)/submission"
_P = r"/v1/projects/(\d+)/forms/([^/]+?)"
_S = _P + r"/submissions/([^/]+)"
_ROUTES: list[tuple[str, str, Callable]] = [
    *DEPLOY_ROUTES,
    ("POST", r"/v1/sessions", _Handler._sessions),
    ("POST", _OR, _Handler._openrosa_submit),
    ("HEAD", _OR, _Handler._openrosa_head),
    ("GET", _OR, _Handler._openrosa_head),
    ("GET", r"/v1/users/current", _Handler._current_user),
    ("POST", r"/v1/projects/(\d+)/app-users", _Handler._app_user_create),
    ("POST", _P + r"/assignments/([^/]+)/(\d+)", _Handler._assign),
    ("PATCH", _P, _Handler._form_patch),
    ("GET", r"/v1/projects/(\d+)/forms", _Handler._forms),
    ("GET", _P + r"\.svc/?", _Handler._service),
    ("GET", _P + r"\.svc/(Submissions(?:\.[^/]+)*)", _Handler._odata),
    ("GET", _P + r"\.xml", _Handler._form_xml),
    ("GET", _P + r"\.(xlsx|xls)", _Handler._form_xlsform),
    ("GET", _P + r"/versions/([^/]+)\.(xlsx|xls)", _Handler._version_xlsform),
    ("GET", _P + r"/versions", _Handler._form_versions),
    ("GET", _P + r"/submissions\.csv\.zip", _Handler._export),
    ("GET", _P + r"/submissions", _Handler._submissions_list),
    ("POST", _P + r"/submissions", _Handler._submit),
    ("GET", _S + r"/versions", _Handler._versions),
    ("GET", _S + r"/versions/([^/]+)\.xml", _Handler._version_xml),
    ("GET", _S + r"/attachments", _Handler._attachments),
    ("GET", _S + r"/attachments/([^/]+)", _Handler._attachment_get),
    ("POST", _S + r"/attachments/([^/]+)", _Handler._attachment_post),
    ("POST", _S + r"/restore", _Handler._submission_restore),
    ("GET", _S, _Handler._submission_get),
    ("PATCH", _S, _Handler._submission_patch),
    ("PUT", _S, _Handler._submission_put),
    ("DELETE", _S, _Handler._submission_delete),
    ("GET", _P, _Handler._form_get),
]


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _query_pairs(query: str) -> list[tuple[str, str]]:
    return [(k, v) for k, vs in parse_qs(query, keep_blank_values=True).items() for v in vs]


def _parse_skiptoken(token: str) -> dict:
    if not token.startswith("01"):
        raise HttpError(400, 400.34, "Invalid $skiptoken")
    try:
        parsed = json.loads(base64.b64decode(token[2:]))
    except ValueError:
        raise HttpError(400, 400.34, "Invalid $skiptoken") from None
    if not isinstance(parsed, dict):
        raise HttpError(400, 400.34, "Invalid $skiptoken")
    return parsed


def _select(text: str | None) -> set[str] | None:
    if not text or text == "*":
        return None
    return {p.strip() for p in text.split(",")}


def _expected(form: FakeForm, data: dict) -> dict[str, None]:
    """Attachments a submission expects: files named by its media and audit fields."""
    names = [
        data.get(q.name)
        for q in form.model.elements
        if q.type in ("image", "audio", "video", "file") and not q.enclosing
    ]
    names.append((data.get("meta") or {}).get("audit"))
    return {str(n): None for n in names if n}


def _openrosa_message(text: str, nature: str) -> str:
    """Central's OpenRosaResponse template, its text HTML-escaped as mustache does."""
    text = "".join(MUSTACHE_ESCAPES.get(c, c) for c in text)
    return (
        '\n  <OpenRosaResponse xmlns="http://openrosa.org/http/response" items="0">\n'
        f'    <message nature="{nature}">{text}</message>\n  </OpenRosaResponse>'
    )


MUSTACHE_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#39;",
    "/": "&#x2F;",
    "`": "&#x60;",
    "=": "&#x3D;",
}
XML_CONFLICT = (
    "A submission already exists with this ID, but with different XML. Resubmissions to "
    "attach additional multimedia must resubmit an identical xml_submission_file."
)


def _stale(instance_id: str) -> str:
    return (
        "You tried to update a submission, but the copy you were editing "
        f"({instance_id}) is now out of date. Please get the new version that has been "
        "submitted, and make your edits again."
    )


def _check_openrosa_version(value: str | None) -> None:
    """Central's OpenRosa preprocessor: ``X-OpenRosa-Version: 1.0`` or 400.6."""
    if value == "1.0":
        return
    field = "An expected header field (X-OpenRosa-Version) did not match the expected format"
    got = "." if value is None else f" (got: {value})."
    raise HttpError(400, 400.6, field + got)


def _find_version(form: FakeForm, instance_id: str) -> tuple[FakeSubmission, Any] | None:
    """The live submission holding a version with ``instance_id``, and that version."""
    for sub in form.submissions.values():
        if sub.deleted_at is None:
            for version in sub.versions:
                if version.instance_id == instance_id:
                    return sub, version
    return None


def _json_body(body: bytes) -> dict:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        raise HttpError(400, 400.1, "Could not parse the given data as json.") from None
    if not isinstance(parsed, dict):
        raise HttpError(400, 400.1, "Could not parse the given data as json.")
    return parsed


def _app_user_json(user: AppUser) -> dict:
    return {
        "projectId": user.project,
        "id": user.id,
        "type": "field_key",
        "displayName": user.name,
        "createdAt": _iso(user.created_at),
        "updatedAt": None,
        "deletedAt": None,
        "token": user.token,
    }


def _multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    """The parts of a multipart/form-data body by field name."""
    if not content_type.startswith("multipart/form-data"):
        return {}
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    return {
        part.get_param("name", header="content-disposition"): part.get_payload(decode=True)
        for part in message.iter_parts()
    }


def _submission_identity(xml: bytes) -> tuple[str, str, str, str]:
    """Form id and version (root attributes), ``meta/instanceID`` and ``meta/deprecatedID``
    (or "") of a submission."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as err:
        raise HttpError(400, 400.2, f"Could not parse the given data: {err}") from None
    meta = {
        node.tag.split("}")[-1]: (node.text or "").strip()
        for node in root.iter()
        if node.tag.split("}")[-1] in ("instanceID", "deprecatedID")
    }
    instance_id = meta.get("instanceID", "")
    if not root.get("id") or not instance_id:
        raise HttpError(400, 400.2, "Could not parse the given data: no form id or instanceID.")
    return root.get("id"), root.get("version") or "", instance_id, meta.get("deprecatedID", "")


def _attach(attachments: dict[str, bytes | None], files: dict[str, bytes]) -> None:
    """Store posted files the submission expects (Central ignores any others)."""
    for name, content in files.items():
        if name in attachments:
            attachments[name] = content


def _form_json(form: FakeForm, project: str) -> dict:
    return {
        "projectId": int(project),
        "xmlFormId": form.xml_form_id,
        "name": form.name,
        "version": form.version,
        "state": form.state,
        "enketoId": None,
        "publishedAt": _iso(form.published_at) if form.history else None,
        "submissions": sum(1 for s in form.submissions.values() if s.deleted_at is None),
    }


def _submission_json(sub: FakeSubmission) -> dict:
    return {
        "instanceId": sub.central_id,
        "submitterId": sub.submitter_id,
        "deviceId": sub.current.device_id,
        "createdAt": _iso(sub.created_at),
        "updatedAt": _iso(sub.updated_at),
        "reviewState": sub.review_state,
        "deletedAt": _iso(sub.deleted_at),
        "currentVersion": {"instanceId": sub.current.instance_id},
    }


def _filter_row(sub: FakeSubmission) -> dict:
    return {
        "__id": sub.central_id,
        "__system/submissionDate": sub.created_at,
        "__system/updatedAt": sub.updated_at,
        "__system/submitterId": str(sub.submitter_id),
        "__system/reviewState": sub.review_state,
        "__system/deletedAt": sub.deleted_at,
    }


def _system(sub: FakeSubmission) -> dict:
    present = sum(1 for c in sub.attachments.values() if c is not None)
    return {
        "submissionDate": _iso(sub.created_at),
        "updatedAt": _iso(sub.updated_at),
        "submitterId": str(sub.submitter_id),
        "submitterName": sub.submitter_name,
        "attachmentsPresent": present,
        "attachmentsExpected": len(sub.attachments),
        "status": "notDecrypted" if sub.encrypted else None,
        "reviewState": sub.review_state,
        "deviceId": sub.current.device_id,
        "edits": len(sub.versions) - 1,
        "formVersion": sub.current.form_version,
        "deletedAt": _iso(sub.deleted_at),
    }


def _record(sub: FakeSubmission, *, expand: bool, wkt: bool, select: set[str] | None) -> dict:
    if select is not None:
        row: dict[str, Any] = {}
        if "__id" in select:
            row["__id"] = sub.central_id
        system = _system(sub)
        if "__system" in select:
            row["__system"] = system
        elif any(s.startswith("__system/") for s in select):
            row["__system"] = {k: v for k, v in system.items() if f"__system/{k}" in select}
        for name in select:
            if not name.startswith("__") and name in sub.current.data:
                row[name] = _decorate(
                    sub.current.data[name], sub.central_id, [(name, 0)], False, wkt
                )
        return row
    if sub.encrypted:  # Central cannot show the answers of an encrypted submission
        return {"__id": sub.central_id, "__system": _system(sub)}
    data = _decorate(sub.current.data, sub.central_id, [], expand, wkt)
    return {"__id": sub.central_id, **data, "__system": _system(sub)}


URI_SAFE = "!'()*-._~"
"""What JavaScript's encodeURIComponent leaves as is (Central's navigation links)."""


def _decorate(value: Any, cid: str, path: list, expand: bool, wkt: bool, links: tuple = ()) -> Any:
    """Add repeat-row ``__id``s and navigation links; drop repeats unless expanded.
    ``path`` holds the hash parts (group, or repeat and 0-based row), ``links`` the link's
    segments (group, or ``repeat('<row id>')``)."""
    if isinstance(value, dict):
        if value.get("type") == "Point" and "coordinates" in value:
            if wkt:
                return "POINT (" + " ".join(str(c) for c in value["coordinates"]) + ")"
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, list):
                head = f"Submissions('{quote(cid, safe=URI_SAFE)}')"
                out[f"{key}{NAV}"] = "/".join([head, *links, key])
                if expand:
                    out[key] = [
                        _row(row, cid, [*path, (key, n)], wkt, links, key)
                        for n, row in enumerate(item)
                    ]
            elif isinstance(item, dict) and key not in ("meta", "__system"):
                out[key] = _decorate(item, cid, [*path, (key, None)], expand, wkt, (*links, key))
            else:
                out[key] = _decorate(item, cid, path, expand, wkt, links)
        return out
    return value


def _row(row: Any, cid: str, here: list, wkt: bool, links: tuple, key: str) -> dict:
    """One expanded repeat row: its fields and repeats, and its ``__id``."""
    row_id = repeat_row_id(cid, here)
    inner = (*links, f"{key}('{row_id}')")
    return {**_decorate(row, cid, here, True, wkt, inner), "__id": row_id}


def _links(cid: str, path: list) -> tuple:
    """The navigation-link segments down to a repeat row: groups, then ``repeat('<id>')``."""
    return tuple(
        name if n is None else f"{name}('{repeat_row_id(cid, path[: i + 1])}')"
        for i, (name, n) in enumerate(path)
    )


def _repeat_tables(form: FakeForm) -> list[str]:
    if form.model is None:
        return []
    tables = []
    for rep in form.model.repeats:
        parts = rep.xpath.split("/")[2:]
        tables.append("Submissions." + ".".join(parts))
    return tables


def _table_rows(sub: FakeSubmission, path: list[str], wkt: bool) -> list[dict]:
    """Rows of a repeat table for one submission, with ``__Submissions[-...]-id`` keys."""
    results: list[dict] = []
    if sub.encrypted:
        return results

    def walk(node: Any, depth: int, trail: list, parent_key: str, parent_id: str) -> None:
        name = path[depth]
        child = node.get(name) if isinstance(node, dict) else None
        if depth == len(path) - 1:
            if not isinstance(child, list):
                return
            for n, row in enumerate(child):
                here = [*trail, (name, n)]
                links = _links(sub.central_id, here)
                flat = dict(_decorate(row, sub.central_id, here, False, wkt, links))
                flat["__id"] = repeat_row_id(sub.central_id, here)
                flat[f"__{parent_key}-id"] = parent_id
                results.append(flat)
        elif isinstance(child, list):
            for n, row in enumerate(child):
                here = [*trail, (name, n)]
                walk(
                    row,
                    depth + 1,
                    here,
                    f"{parent_key}-{name}",
                    repeat_row_id(sub.central_id, here),
                )
        elif isinstance(child, dict):
            walk(child, depth + 1, [*trail, (name, None)], parent_key, parent_id)

    walk(sub.current.data, 0, [], "Submissions", sub.central_id)
    return results
