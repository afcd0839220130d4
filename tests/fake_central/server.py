"""The fake Central's HTTP API on a loopback port (a thread per request).

Implemented, following Central's API documentation and behaviour:

- ``POST /v1/sessions`` -> ``{"token"}`` (401 on bad credentials); every other endpoint
  needs ``Authorization: Bearer`` (403 without, 401 with an unknown token).
- ``GET /v1/users/current``; ``GET /v1/projects/{p}/forms[/{f}[/versions]]``, ``{f}.xml``.
- ``GET .../forms/{f}.xlsx|.xls`` and ``.../forms/{f}/versions/{v}.xlsx|.xls`` (``___`` = blank
  version): the XLSForm the version was uploaded from; 404 when it was uploaded as XForm XML
  or asked with the other extension (Central checks the blob's content type).
- ``POST /v1/projects/{p}/forms/{f}/submissions`` (XML body; ``deprecatedID`` = edit).
- ``GET .../forms/{f}.svc`` and ``.svc/Submissions[.repeat...]`` with ``$top``, ``$skip``,
  ``$skiptoken`` (cursor, newest first), ``$filter``, ``$expand=*``, ``$count``, ``$select``
  (``__id``/``__system`` fields), ``$wkt``; ``@odata.nextLink`` is absolute.
- ``GET|PATCH|DELETE .../submissions/{id}``, ``POST .../submissions/{id}/restore``,
  ``GET .../submissions/{id}/versions``, ``.../attachments`` and
  ``GET|POST .../attachments/{name}``.
- OpenRosa submission, as Collect sends it (``X-OpenRosa-Version: 1.0`` required):
  ``POST /v1/projects/{p}/submission`` (bearer session) and
  ``POST /v1/key/{app user token}/projects/{p}/submission``; multipart with the XML in
  ``xml_submission_file`` and one part per attachment. 201 + OpenRosaResponse XML; the same
  instanceID again with identical XML adds missing attachments (201), with different XML
  409.1; unknown form or version 404; form not open 409.2; an app user of another project
  or an unknown key 401; errors as OpenRosaResponse XML. ``HEAD``/``GET`` answer 204.
  Any route also works under ``/v1/key/{token}`` as the app user.
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
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape

from tests.fake_central.odata_filter import FilterError, compile_filter
from tests.fake_central.state import FakeCentral, FakeForm, FakeSubmission, repeat_row_id
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


class _Handler(BaseHTTPRequestHandler):
    central: FakeCentral
    protocol_version = "HTTP/1.1"

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
        self.actor: tuple[str, int | None] | None = None  # (submitter name, app user's project)
        key = re.match(r"/v1/key/([^/]+)/", path)
        if key is not None:
            path = "/v1/" + path[key.end() :]
        openrosa = path.endswith("/submission")
        self.extra_headers = {"X-OpenRosa-Version": "1.0"} if openrosa else {}
        try:
            handler, args = self._route(method, path)
            if key is not None:
                self._authenticate_key(key.group(1))
            elif handler not in (_Handler._sessions, *OPENROSA_HANDLERS):
                self._authenticate()
            status, payload, ctype = handler(self, *args, query=query, body=body)
        except HttpError as err:
            status, ctype = err.status, "application/json"
            payload = {"code": err.code, "message": err.message}
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
        if not header.startswith("Bearer "):
            raise HttpError(
                403, 403.1, "The authenticated actor does not have rights to perform that action."
            )
        if header[7:] not in self.central.tokens:
            raise HttpError(401, 401.2, "Could not authenticate with the provided credentials.")
        self.actor = (self.central.tokens[header[7:]], None)

    def _authenticate_key(self, token: str) -> None:
        """An app user's key in the path (``/v1/key/{token}/...``)."""
        user = self.central.app_users.get(token)
        if user is None:
            raise HttpError(401, 401.2, "Could not authenticate with the provided credentials.")
        self.actor = (user[1], user[0])

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
        return 200, {"id": 1, "type": "user", "displayName": "Admin"}, "application/json"

    def _forms(self, project: str, query: dict, body: bytes) -> tuple:
        forms = self.central.projects.get(int(project))
        if forms is None:
            raise HttpError(*NOT_FOUND)
        return 200, [_form_json(f, project) for f in forms.values()], "application/json"

    def _form_get(self, project: str, form_id: str, query: dict, body: bytes) -> tuple:
        return 200, _form_json(self._form(project, form_id), project), "application/json"

    def _form_versions(self, project: str, form_id: str, query: dict, body: bytes) -> tuple:
        return 200, [_form_json(self._form(project, form_id), project)], "application/json"

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
        self.extra_headers["X-OpenRosa-Accept-Content-Length"] = str(100 * 1024 * 1024)
        return 204, b"", OPENROSA_XML

    def _openrosa_submit(self, project: str, query: dict, body: bytes) -> tuple:
        """Collect's submission: a new one, or the same XML again with more attachments."""
        if self.headers.get("X-OpenRosa-Version") != "1.0":
            raise HttpError(
                400,
                400.6,
                "An expected header field (X-OpenRosa-Version) did not match the expected value.",
            )
        if self.actor is None and self.headers.get("Authorization"):
            self._authenticate()
        files = _multipart(self.headers.get("Content-Type") or "", body)
        xml = files.pop("xml_submission_file", None)
        if xml is None:
            raise HttpError(
                400, 400.5, "Required multipart POST field xml_submission_file missing."
            )
        form_id, version, instance_id = _submission_identity(xml)
        form = self._form(project, form_id)
        if version not in form.versions | {form.version}:
            raise HttpError(*NOT_FOUND)
        if form.state != "open":
            raise HttpError(
                409,
                409.2,
                "This form is not currently accepting submissions. Please talk "
                "to your program staff if this is unexpected.",
            )
        submitter, app_user_project = self.actor or ("anonymous", None)
        if self.actor is None or app_user_project not in (None, int(project)):
            # anonymous or without rights: Central answers 401, not 403, on OpenRosa routes
            raise HttpError(401, 401.2, "Could not authenticate with the provided credentials.")
        with self.central.lock:
            extant = form.submissions.get(instance_id)
            if extant is not None:
                if extant.current.xml != xml:
                    raise HttpError(
                        409,
                        409.1,
                        "A submission already exists with this ID, but with different XML. "
                        "Resubmissions to attach additional multimedia must resubmit an "
                        "identical xml_submission_file.",
                    )
                _attach(extant.attachments, files)
            else:
                self._create(form, xml, files, submitter, query.get("deviceID"))
        message = _openrosa_message("full submission upload was successful!", "")
        return 201, message, OPENROSA_XML

    def _create(
        self, form: FakeForm, xml: bytes, files: dict, submitter: str, device: str | None
    ) -> None:
        if form.model is None:
            raise HttpError(400, 400.2, "The form has no model to parse submissions with.")
        try:
            data = xml_to_data(xml, form.model)
        except ValueError as err:
            raise HttpError(400, 400.2, f"Could not parse the given data: {err}") from None
        attachments = _expected(form, data)
        _attach(attachments, files)
        project = next(p for p, forms in self.central.projects.items() if form in forms.values())
        try:
            sub = self.central.submit(
                project,
                form.xml_form_id,
                data,
                submitter=submitter,
                device_id=device,
                attachments=attachments,
            )
        except LookupError:  # an edit whose deprecatedID is unknown
            raise HttpError(*NOT_FOUND) from None
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
_OR = r"/v1/projects/(\d+)/submission"
_P = r"/v1/projects/(\d+)/forms/([^/]+?)"
_S = _P + r"/submissions/([^/]+)"
_ROUTES: list[tuple[str, str, Callable]] = [
    ("POST", r"/v1/sessions", _Handler._sessions),
    ("POST", _OR, _Handler._openrosa_submit),
    ("HEAD", _OR, _Handler._openrosa_head),
    ("GET", _OR, _Handler._openrosa_head),
    ("GET", r"/v1/users/current", _Handler._current_user),
    ("GET", r"/v1/projects/(\d+)/forms", _Handler._forms),
    ("GET", _P + r"\.svc/?", _Handler._service),
    ("GET", _P + r"\.svc/(Submissions(?:\.[^/]+)*)", _Handler._odata),
    ("GET", _P + r"\.xml", _Handler._form_xml),
    ("GET", _P + r"\.(xlsx|xls)", _Handler._form_xlsform),
    ("GET", _P + r"/versions/([^/]+)\.(xlsx|xls)", _Handler._version_xlsform),
    ("GET", _P + r"/versions", _Handler._form_versions),
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
    return (
        '<OpenRosaResponse xmlns="http://openrosa.org/http/response">'
        f'<message nature="{nature}">{escape(text)}</message></OpenRosaResponse>'
    )


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


def _submission_identity(xml: bytes) -> tuple[str, str, str]:
    """Form id and version (root attributes) and ``meta/instanceID`` of a submission."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as err:
        raise HttpError(400, 400.2, f"Could not parse the given data: {err}") from None
    instance_id = next(
        (
            (node.text or "").strip()
            for node in root.iter()
            if node.tag.split("}")[-1] == "instanceID"
        ),
        "",
    )
    if not root.get("id") or not instance_id:
        raise HttpError(400, 400.2, "Could not parse the given data: no form id or instanceID.")
    return root.get("id"), root.get("version") or "", instance_id


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
        "status": None,
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
    data = _decorate(sub.current.data, sub.central_id, [], expand, wkt)
    return {"__id": sub.central_id, **data, "__system": _system(sub)}


def _decorate(value: Any, cid: str, path: list, expand: bool, wkt: bool) -> Any:
    """Add repeat-row ``__id``s and navigation links; drop repeats unless expanded."""
    if isinstance(value, dict):
        if value.get("type") == "Point" and "coordinates" in value:
            if wkt:
                return "POINT (" + " ".join(str(c) for c in value["coordinates"]) + ")"
            return value
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, list):
                out[f"{key}{NAV}"] = f"Submissions('{cid}')/{key}"
                if expand:
                    out[key] = [
                        {
                            **_decorate(row, cid, [*path, (key, n)], expand, wkt),
                            "__id": repeat_row_id(cid, [*path, (key, n)]),
                        }
                        for n, row in enumerate(item, start=1)
                    ]
            else:
                out[key] = _decorate(item, cid, path, expand, wkt)
        return out
    return value


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

    def walk(node: Any, depth: int, trail: list, parent_key: str, parent_id: str) -> None:
        name = path[depth]
        child = node.get(name) if isinstance(node, dict) else None
        if depth == len(path) - 1:
            if not isinstance(child, list):
                return
            for n, row in enumerate(child, start=1):
                here = [*trail, (name, n)]
                flat = {k: v for k, v in _decorate(row, sub.central_id, here, False, wkt).items()}
                flat["__id"] = repeat_row_id(sub.central_id, here)
                flat[f"__{parent_key}-id"] = parent_id
                results.append(flat)
        elif isinstance(child, list):
            for n, row in enumerate(child, start=1):
                here = [*trail, (name, n)]
                walk(
                    row,
                    depth + 1,
                    here,
                    f"{parent_key}-{name}",
                    repeat_row_id(sub.central_id, here),
                )
        elif isinstance(child, dict):
            walk(child, depth + 1, trail, parent_key, parent_id)

    walk(sub.current.data, 0, [], "Submissions", sub.central_id)
    return results
