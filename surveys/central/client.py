"""The Central client: one service per Central resource, as pyodk cuts them.

>>> client = CentralClient("https://central.example.org", "me@example.org", "secret", 3)
>>> for page in client.submissions.odata_pages("household", filter="..."):
...     ...

Everything goes through one :class:`pyodk._utils.session.Session` (bearer token from
``POST /v1/sessions``) built by :func:`surveys.central.http.make_session`. Errors are
:class:`CentralError` with one line naming the request and status, never a credential.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, BinaryIO
from urllib.parse import urlsplit, urlunsplit

import requests
from pyodk.errors import PyODKError

from surveys.central.errors import (
    CentralAuthError,
    CentralError,
    CentralNotFoundError,
    CentralResponseError,
)
from surveys.central.http import HttpPolicy, make_session
from surveys.central.odata import PageFormatError, decode_page
from surveys.central.resources import AppUserService, DatasetService, ProjectService

log = logging.getLogger(__name__)
# pyodk logs failed requests (with tracebacks) at ERROR; we raise one-line errors instead.
logging.getLogger("pyodk").addHandler(logging.NullHandler())
logging.getLogger("pyodk").propagate = False

URL_ENV = "POPSURVEY_CENTRAL_URL"
USER_ENV = "POPSURVEY_CENTRAL_USER"
PASSWORD_ENV = "POPSURVEY_CENTRAL_PASSWORD"
PROJECT_ENV = "POPSURVEY_CENTRAL_PROJECT"
BLANK_VERSION = "___"
"""How Central's API names the blank form version in a path."""


@dataclass(frozen=True)
class ODataPage:
    """One page of an OData table: its rows, the next page's link and the total if asked."""

    value: list[dict[str, Any]]
    next_link: str | None
    count: int | None
    size: int
    """Bytes received."""
    raw: list[str] | None = None
    """Each row's JSON text exactly as received (aligned with ``value``)."""


class CentralClient:
    """A logged-in connection to one Central project."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        project_id: int | None,
        policy: HttpPolicy | None = None,
    ) -> None:
        if not base_url or not username or not password:
            raise CentralError("Central URL, user and password are all needed")
        self.base_url = base_url.rstrip("/")
        self.project_id = int(project_id) if project_id is not None else None
        """None until the project is known (``deploy`` may create it first)."""
        self.policy = policy or HttpPolicy()
        self._credentials = (username, password)
        self.session = make_session(self.base_url, username, password, self.policy)
        self.forms = FormService(self)
        self.submissions = SubmissionService(self)
        self.attachments = AttachmentService(self)
        self.projects = ProjectService(self)
        self.datasets = DatasetService(self)
        self.app_users = AppUserService(self)

    @classmethod
    def from_env(cls, policy: HttpPolicy | None = None, **overrides: Any) -> CentralClient:
        """A client from ``POPSURVEY_CENTRAL_URL/_USER/_PASSWORD/_PROJECT`` (overridable)."""
        values = {
            "base_url": os.environ.get(URL_ENV),
            "username": os.environ.get(USER_ENV),
            "password": os.environ.get(PASSWORD_ENV),
            "project_id": os.environ.get(PROJECT_ENV),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        missing = [k for k, v in values.items() if v in (None, "")]
        if missing:
            names = {
                "base_url": URL_ENV,
                "username": USER_ENV,
                "password": PASSWORD_ENV,
                "project_id": PROJECT_ENV,
            }
            raise CentralError("Central settings missing: " + ", ".join(names[m] for m in missing))
        return cls(policy=policy, **values)  # type: ignore[arg-type]

    def clone(self) -> CentralClient:
        """A second client with its own session (for use from another thread)."""
        return CentralClient(self.base_url, *self._credentials, self.project_id, self.policy)

    def __repr__(self) -> str:
        return f"CentralClient({self.base_url!r}, project={self.project_id})"

    def close(self) -> None:
        """Close the HTTP session (the Central session token simply expires)."""
        self.session.close()

    # -- requests --------------------------------------------------------------------------
    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request (``path`` relative to ``/v1/`` or an absolute URL on this server);
        raise :class:`CentralError` unless the answer is 2xx."""
        url = path if "://" in path else self.session.urljoin(path)
        try:
            response = self.session.request(method, url, **kwargs)
        except PyODKError as err:
            raise _auth_error(err) from None
        except requests.exceptions.RequestException as err:
            raise CentralError(
                f"cannot reach Central at {_safe(url)}: {type(err).__name__}"
                f" after {self.policy.retries} retries"
            ) from None
        if response.status_code >= 400:
            raise _status_error(method, url, response)
        return response

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET ``path`` and decode its JSON body (garbage raises CentralResponseError)."""
        response = self.request("GET", path, **kwargs)
        return decode_json(response)

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and decode the JSON answer (garbage raises CentralResponseError)."""
        return decode_json(self.request(method, path, **kwargs))

    def server_url(self, link: str) -> str:
        """A link Central gave (absolute, possibly under another host name) on this server."""
        parts = urlsplit(link)
        base = urlsplit(self.base_url)
        return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))

    def project_path(self, *parts: str) -> str:
        """``projects/{p}/...`` with each part URL-quoted as Central expects."""
        if self.project_id is None:
            raise CentralError("no Central project chosen (set central.project_id or a name)")
        quoted = [self.session.urlquote(p) for p in parts]
        return "/".join(["projects", str(self.project_id), *quoted])


class FormService:
    """Forms of the project (``/v1/projects/{p}/forms``)."""

    def __init__(self, client: CentralClient) -> None:
        self.client = client

    def get(self, form_id: str) -> dict[str, Any]:
        """The form's metadata (``version``, ``name``, ``state``...)."""
        data = self.client.get_json(self.client.project_path("forms", form_id))
        return _expect_mapping(data, f"form {form_id}")

    def list(self) -> list[dict[str, Any]]:
        """Every form of the project."""
        data = self.client.get_json(self.client.project_path("forms"))
        if not isinstance(data, list):
            raise CentralResponseError("Central's form list is not a JSON list")
        return data

    def versions(self, form_id: str) -> list[dict[str, Any]]:
        """Published versions of the form (newest first)."""
        data = self.client.get_json(self.client.project_path("forms", form_id, "versions"))
        if not isinstance(data, list):
            raise CentralResponseError(f"Central's version list of {form_id} is not a list")
        return data

    def xml(self, form_id: str, version: str | None = None) -> str:
        """The XForm XML of the published form (or of ``version``)."""
        parts = ["forms", form_id] + (["versions", version] if version else [])
        path = self.client.project_path(*parts) + ".xml"
        return self.client.request("GET", path).text

    def xlsform(self, form_id: str, version: str | None = None) -> tuple[bytes, str] | None:
        """The XLSForm the published form (or ``version``) was uploaded from, as
        ``(content, extension)``: ``.xlsx`` is asked first, then ``.xls`` (Central answers
        only the extension it was uploaded with). None when Central keeps no XLSForm, as for
        a form uploaded as XForm XML (404 to both)."""
        if version is None:
            parts = ["forms", form_id]
        else:  # Central names a blank version "___"
            parts = ["forms", form_id, "versions", version or BLANK_VERSION]
        base = self.client.project_path(*parts)
        for extension in ("xlsx", "xls"):
            try:
                response = self.client.request("GET", f"{base}.{extension}")
            except CentralNotFoundError:
                continue
            return response.content, extension
        return None

    def create(
        self, content: bytes, content_type: str, *, fallback_id: str, publish: bool = False
    ) -> dict[str, Any]:
        """``POST .../forms``: a new form from an XLSForm (or XForm XML) as a draft (or
        published); Central converts the spreadsheet and keeps it."""
        params = {"publish": str(publish).lower(), "ignoreWarnings": "true"}
        headers = {"Content-Type": content_type, "X-XlsForm-FormId-Fallback": fallback_id}
        path = self.client.project_path("forms")
        response = self.client.request("POST", path, params=params, data=content, headers=headers)
        return _expect_mapping(decode_json(response), "the new form")

    def create_draft(self, form_id: str, content: bytes, content_type: str) -> None:
        """``POST .../forms/{f}/draft``: replace the form's draft with this definition
        (attachments of the published version with the same names are carried over)."""
        headers = {"Content-Type": content_type, "X-XlsForm-FormId-Fallback": form_id}
        self.client.request(
            "POST",
            self.client.project_path("forms", form_id, "draft"),
            params={"ignoreWarnings": "true"},
            data=content,
            headers=headers,
        )

    def attachments(self, form_id: str, *, draft: bool = False) -> list[dict[str, Any]]:
        """The form's (or its draft's) expected attachments: ``name``, ``type``, ``exists``,
        ``blobExists``, ``datasetExists``, ``hash`` (MD5 of the content)."""
        parts = ["forms", form_id, *(["draft"] if draft else []), "attachments"]
        data = self.client.get_json(self.client.project_path(*parts))
        if not isinstance(data, list):
            raise CentralResponseError(f"Central's attachment list of {form_id} is not a list")
        return data

    def upload_draft_attachment(
        self, form_id: str, name: str, content: bytes, content_type: str
    ) -> None:
        """``POST .../draft/attachments/{name}`` (unlinks a dataset linked there)."""
        path = self.client.project_path("forms", form_id, "draft", "attachments", name)
        self.client.request("POST", path, data=content, headers={"Content-Type": content_type})

    def link_draft_dataset(self, form_id: str, name: str) -> None:
        """``PATCH .../draft/attachments/{name}`` ``{"dataset": true}``: serve the entity list
        named like the file (``households.csv`` -> dataset ``households``) there."""
        path = self.client.project_path("forms", form_id, "draft", "attachments", name)
        self.client.request("PATCH", path, json={"dataset": True})

    def publish_draft(self, form_id: str, version: str | None = None) -> None:
        """``POST .../draft/publish[?version=]``; Central answers 409.6 when the version
        is already taken by a published version of the form."""
        params = {"version": version} if version is not None else None
        path = self.client.project_path("forms", form_id, "draft", "publish")
        self.client.request("POST", path, params=params)

    def app_user_ids(self, form_id: str) -> set[int]:
        """Actor ids of the app users holding the ``app-user`` role on the form."""
        path = self.client.project_path("forms", form_id, "assignments", "app-user")
        data = self.client.get_json(path)
        if not isinstance(data, list):
            raise CentralResponseError(f"Central's assignments of {form_id} are not a list")
        return {int(a["id"]) for a in data if isinstance(a, Mapping) and "id" in a}

    def assign(self, form_id: str, actor_id: int) -> None:
        """Give an app user the ``app-user`` role on the form (it may then submit)."""
        path = self.client.project_path("forms", form_id, "assignments", "app-user", str(actor_id))
        self.client.request("POST", path)

    def unassign(self, form_id: str, actor_id: int) -> None:
        """Take the ``app-user`` role on the form away from an app user."""
        path = self.client.project_path("forms", form_id, "assignments", "app-user", str(actor_id))
        self.client.request("DELETE", path)


class SubmissionService:
    """Submissions of a form: OData tables, versions, review states."""

    def __init__(self, client: CentralClient) -> None:
        self.client = client

    def odata_pages(
        self,
        form_id: str,
        *,
        table: str = "Submissions",
        filter: str | None = None,
        page_size: int | None = 10_000,
        expand: bool = True,
        select: str | None = None,
        count: bool = False,
    ) -> Iterator[ODataPage]:
        """Every page of an OData table, following ``@odata.nextLink`` to the end.

        pyodk's ``get_table`` returns one page only; this keeps going. Central pages on a
        ``$skiptoken`` cursor (newest first), so rows added while paging are not repeated.
        """
        params: dict[str, str] = {}
        if page_size:
            params["$top"] = str(page_size)
        if filter:
            params["$filter"] = filter
        if expand and table == "Submissions" and not select:
            params["$expand"] = "*"
        if select:
            params["$select"] = select
        if count:
            params["$count"] = "true"
        path = self.client.project_path("forms", form_id) + ".svc/" + table
        url: str | None = path
        first = True
        while url is not None:
            page = self.page(url, params if first else None)
            first = False
            yield page
            url = self.client.server_url(page.next_link) if page.next_link else None

    def page(self, url: str, params: Mapping[str, str] | None = None) -> ODataPage:
        """Fetch and check one OData page."""
        response = self.client.request("GET", url, params=params)
        where = _safe(response.url)
        try:
            data, raw = decode_page(response.content.decode("utf-8"))
        except (PageFormatError, UnicodeDecodeError):
            decode_json(response)  # raises the one-line "not JSON" error
            raise CentralResponseError(f"Central's OData page {where} is not JSON") from None
        if not isinstance(data, Mapping) or not isinstance(data.get("value"), list):
            raise CentralResponseError(f"Central's OData page {where} has no 'value' list")
        rows = data["value"]
        if not all(isinstance(r, Mapping) and "__id" in r for r in rows):
            raise CentralResponseError(f"Central's OData page {where} has rows without __id")
        next_link = data.get("@odata.nextLink")
        if next_link is not None and not isinstance(next_link, str):
            raise CentralResponseError(f"Central's OData page {where} has a bad nextLink")
        count = data.get("@odata.count")
        return ODataPage(
            rows, next_link, count if isinstance(count, int) else None, len(response.content), raw
        )

    def versions(self, form_id: str, instance_id: str) -> list[dict[str, Any]]:
        """Every version of a submission (``current`` marks the latest)."""
        path = self.client.project_path("forms", form_id, "submissions", instance_id, "versions")
        data = self.client.get_json(path)
        if not isinstance(data, list):
            raise CentralResponseError(f"Central's version list of {instance_id} is not a list")
        return data

    def version_xml(self, form_id: str, instance_id: str, version_id: str) -> str:
        """The submission XML of one version (``versions/{instanceID}.xml``)."""
        path = (
            self.client.project_path(
                "forms", form_id, "submissions", instance_id, "versions", version_id
            )
            + ".xml"
        )
        return self.client.request("GET", path).text

    def export(
        self,
        form_id: str,
        destination: BinaryIO,
        *,
        filter: str | None = None,
        attachments: bool = True,
        on_start: Callable[[datetime | None], None] | None = None,
    ) -> datetime | None:
        """Write Central's CSV export zip (``submissions.csv.zip``) to ``destination``:
        with ``attachments``, media files and the combined audit log too (see
        docs/CENTRAL.md). Returns the server's time when it answered (``Date``), or None;
        ``on_start`` gets it as soon as the answer starts, before the body comes."""
        params = {"attachments": "true" if attachments else "false"}
        if filter:
            params["$filter"] = filter
        path = self.client.project_path("forms", form_id, "submissions.csv.zip")
        response = self.client.request("GET", path, params=params, stream=True)
        answered = _server_time(response)
        if on_start is not None:
            on_start(answered)
        try:
            for chunk in response.iter_content(1 << 20):
                destination.write(chunk)
        except requests.exceptions.RequestException as err:
            raise CentralError(
                f"Central's export of {form_id} broke off: {type(err).__name__}"
            ) from None
        finally:
            response.close()
        return answered

    def set_review_state(self, form_id: str, instance_id: str, state: str) -> dict[str, Any]:
        """PATCH the review state (``hasIssues``, ``edited``, ``approved``, ``rejected``)."""
        path = self.client.project_path("forms", form_id, "submissions", instance_id)
        response = self.client.request("PATCH", path, json={"reviewState": state})
        return _expect_mapping(decode_json(response), f"submission {instance_id}")

    def get(self, form_id: str, instance_id: str) -> dict[str, Any]:
        """A submission's metadata (``reviewState``, ``submitterId``...)."""
        path = self.client.project_path("forms", form_id, "submissions", instance_id)
        return _expect_mapping(self.client.get_json(path), f"submission {instance_id}")

    def comments(self, form_id: str, instance_id: str) -> list[dict[str, Any]]:
        """The submission's comments (``body``, ``actorId``, ``createdAt``)."""
        path = self.client.project_path("forms", form_id, "submissions", instance_id, "comments")
        data = self.client.get_json(path)
        if not isinstance(data, list):
            raise CentralResponseError(f"Central's comments on {instance_id} are not a list")
        return data

    def add_comment(self, form_id: str, instance_id: str, body: str) -> None:
        """Add a comment (Central never edits or deletes one)."""
        path = self.client.project_path("forms", form_id, "submissions", instance_id, "comments")
        self.client.request("POST", path, json={"body": body})


class AttachmentService:
    """Files attached to a submission (``audit.csv``, photos...)."""

    def __init__(self, client: CentralClient) -> None:
        self.client = client

    def list(self, form_id: str, instance_id: str) -> list[dict[str, Any]]:
        """``[{"name": ..., "exists": bool}]`` for the current version of a submission."""
        path = self.client.project_path("forms", form_id, "submissions", instance_id, "attachments")
        data = self.client.get_json(path)
        if not isinstance(data, list):
            raise CentralResponseError(f"Central's attachment list of {instance_id} is not a list")
        return data

    def get(self, form_id: str, instance_id: str, name: str) -> bytes:
        """The content of one attachment."""
        path = self.client.project_path(
            "forms", form_id, "submissions", instance_id, "attachments", name
        )
        return self.client.request("GET", path).content


def decode_json(response: requests.Response) -> Any:
    """The JSON body of a response, or CentralResponseError naming the request."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        snippet = response.content[:40].decode("utf-8", errors="replace")
        raise CentralResponseError(
            f"Central answered {_safe(response.url)} with something that is not JSON"
            f" (HTTP {response.status_code}, starts {snippet!r})"
        ) from None


def _server_time(response: requests.Response) -> datetime | None:
    """The server's clock from the ``Date`` header, or None."""
    try:
        return parsedate_to_datetime(response.headers["Date"])
    except (KeyError, TypeError, ValueError):
        return None


def _expect_mapping(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise CentralResponseError(f"Central's answer for {what} is not a JSON object")
    return data


def _status_error(method: str, url: str, response: requests.Response) -> CentralError:
    message, code, detail = "", None, ""
    try:
        body = response.json()
        if isinstance(body, Mapping):
            message = str(body.get("message") or "")
            code = body.get("code")
            details = body.get("details")
            if isinstance(details, Mapping) and details.get("error"):
                detail = str(details["error"])  # e.g. pyxform's "[row : 5] ..." for 400.15
    except ValueError:
        pass
    text = f"Central answered HTTP {response.status_code} to {method} {_safe(url)}"
    if message:
        text += f": {' '.join(message.split())[:200]}"
    if detail:
        text += f" {' '.join(detail.split())[:300]}"
    if code is not None:
        text += f" ({code})"
    kind = CentralError
    if response.status_code in (401, 403):
        kind = CentralAuthError
    elif response.status_code == 404:
        kind = CentralNotFoundError
    error = kind(text)
    error.problem = str(code) if code is not None else None
    return error


def _auth_error(err: PyODKError) -> CentralError:
    response = next((a for a in err.args if isinstance(a, requests.Response)), None)
    status = getattr(response, "status_code", None)
    if status in (401, 403):
        return CentralAuthError(f"Central refused the login (HTTP {status}): check user/password")
    if status is not None:
        return CentralError(f"Central login failed with HTTP {status}")
    return CentralError("Central login failed: no token in the answer")


def _safe(url: str | None) -> str:
    """A URL without user info, query string (which may be long) or key, for messages."""
    if not url:
        return "?"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, redact(parts.path), "", ""))


_SECRET_SEGMENT = re.compile(r"/(key|sessions)/[^/?#\s]+")


def redact(text: str) -> str:
    """``text`` with app-user keys and session tokens in URL paths (``/key/{token}``,
    ``/sessions/{token}``) replaced by ``***``."""
    return _SECRET_SEGMENT.sub(r"/\1/***", text)


class _RedactTokens(logging.Filter):
    """Keep keys out of urllib3's request and retry messages, which name the request path."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(str(record.msg))
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


# A filter on a logger does not see records of its children, so each urllib3 logger that
# names a request path gets one.
for _name in ("urllib3.connectionpool", "urllib3.poolmanager", "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(_RedactTokens())
