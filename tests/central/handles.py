"""One interface to seed and inspect a Central, fake or real, through its HTTP API only
(the Central client's services: the same calls ``popsurvey deploy`` makes).

The same pull tests run against the in-process fake and, when ``POPSURVEY_CENTRAL_URL``,
``POPSURVEY_CENTRAL_USER``, ``POPSURVEY_CENTRAL_PASSWORD`` and ``POPSURVEY_CENTRAL_PROJECT``
are set, against a real Central: every action below is a documented API call.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from forms import FormModel
from surveys.central import CentralClient, HttpPolicy
from tests.fake_central.xml import data_to_xml

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS = "application/vnd.ms-excel"
FAST = HttpPolicy(connect_timeout=2, read_timeout=5, retries=3, backoff=0.05, backoff_max=0.5)


class CentralHandle:
    """Seeds a form's submissions and reads Central's truth, over HTTP."""

    def __init__(self, url: str, user: str, password: str, project: int) -> None:
        self.url, self.user, self.password, self.project = url, user, password, project
        self.client = CentralClient(url, user, password, project, FAST)
        self.model: FormModel | None = None
        self.fake: Any = None
        """The :class:`FakeCentral` behind the URL, when it is the fake (seeded directly)."""
        self._root: dict[str, str] = {}  # instanceID -> __id, to address edits
        self._openrosa: Any = None  # (session, an app user's submission URL): submit_whole

    def make_client(self, policy: HttpPolicy = FAST) -> CentralClient:
        """A fresh client (what ``popsurvey pull`` would build)."""
        return CentralClient(self.url, self.user, self.password, self.project, policy)

    def publish(self, model: FormModel) -> str:
        """Create and publish the form from its XForm (pyxform), return its form id."""
        from pyxform.xls2xform import convert

        publish_xform(self.client, convert(xlsform=_markdown_of(model), file_type=".md").xform)
        self.model = model
        return model.form_id

    def publish_version(
        self,
        model: FormModel,
        xlsform: bytes | None = None,
        *,
        xls: bool = False,
        as_version: str | None = None,
    ) -> None:
        """Publish ``model`` as a new form, or as the next version of its form (``POST
        .../draft``, then ``.../draft/publish``, ``?version=as_version`` when given): from
        ``xlsform`` bytes (sent as ``.xls`` when ``xls``), which Central converts with
        pyxform-http and keeps, or from the XForm XML alone, for which it keeps no
        spreadsheet. The fake is seeded directly (with the model it parses submissions by)."""
        if self.fake is not None:
            kind = "xls" if xls else "xlsx"
            self.fake.add_form(
                self.project, model, version=as_version, xlsform=xlsform, xlsform_type=kind
            )
        else:
            self._upload(model, xlsform, xls, as_version)
        self.model = model if as_version is None else replace(model, version=as_version)

    def _upload(
        self, model: FormModel, xlsform: bytes | None, xls: bool, as_version: str | None
    ) -> None:
        if xlsform is None:
            from pyxform.xls2xform import convert

            body = convert(xlsform=_markdown_of(model), file_type=".md").xform.encode()
            headers = {"Content-Type": "application/xml"}
        else:
            body, headers = xlsform, {"Content-Type": XLS if xls else XLSX}
        forms = self.client.forms
        if model.form_id not in [f["xmlFormId"] for f in forms.list()]:
            forms.create(body, headers["Content-Type"], fallback_id=model.form_id, publish=True)
            return
        forms.create_draft(model.form_id, body, headers["Content-Type"])
        forms.publish_draft(model.form_id, as_version)

    def submit(self, data: dict[str, Any], audit: bytes | None = None) -> str:
        """Submit one submission (POST), or edit one when meta has deprecatedID (PUT to the
        submission, as Central's API requires); returns its ``__id``."""
        assert self.model is not None
        body = data_to_xml(data, self.model)
        deprecated = data["meta"].get("deprecatedID")
        path = self.client.project_path("forms", self.model.form_id, "submissions")
        if deprecated:
            path += "/" + self.client.session.urlquote(self._root[deprecated])
        answer = self.client.request(
            "PUT" if deprecated else "POST",
            path,
            data=body,
            headers={"Content-Type": "application/xml"},
        ).json()
        central_id = answer["instanceId"]
        self._root[data["meta"]["instanceID"]] = central_id
        if audit is not None:
            self.client.request(
                "POST",
                self.client.project_path(
                    "forms",
                    self.model.form_id,
                    "submissions",
                    central_id,
                    "attachments",
                    "audit.csv",
                ),
                data=audit,
                headers={"Content-Type": "text/csv"},
            )
        return central_id

    def submit_whole(self, data: dict[str, Any], audit: bytes | None = None) -> str:
        """Submit (or edit, when meta has deprecatedID) with its audit log in ONE request,
        as Collect does: an OpenRosa multipart POST by an app user of the form, so Central
        never holds the submission without its log (:meth:`submit` uploads the log in a
        second request). The fake is seeded directly. Returns the ``__id``."""
        assert self.model is not None
        files = {"audit.csv": audit} if audit is not None else None
        if self.fake is not None:
            return self.fake.submit(
                self.project, self.model.form_id, data, attachments=files
            ).central_id
        from surveys.simulate.openrosa import app_user_url, post_submission

        if self._openrosa is None:
            import requests

            user = self.add_app_user(f"openrosa {self.model.form_id}")
            self._openrosa = requests.Session(), app_user_url(self.url, user["token"], self.project)
        post_submission(
            *self._openrosa,
            xml=data_to_xml(data, self.model),
            attachments=files or {},
            instance_id=data["meta"]["instanceID"],
        )
        deprecated = data["meta"].get("deprecatedID")
        central_id = self._root[deprecated] if deprecated else data["meta"]["instanceID"]
        self._root[data["meta"]["instanceID"]] = central_id
        return central_id

    def review(self, central_id: str, state: str) -> None:
        """PATCH a review state."""
        assert self.model is not None
        self.client.submissions.set_review_state(self.model.form_id, central_id, state)

    def delete(self, central_id: str) -> None:
        """DELETE a submission (soft delete)."""
        assert self.model is not None
        self.client.request(
            "DELETE",
            self.client.project_path("forms", self.model.form_id, "submissions", central_id),
        )

    def truth(self) -> dict[str, tuple[str, str | None]]:
        """Central's live submissions: ``__id -> (instanceID, reviewState)``."""
        assert self.model is not None
        rows = {}
        for page in self.client.submissions.odata_pages(self.model.form_id, page_size=None):
            for r in page.value:
                rows[r["__id"]] = (r["meta"]["instanceID"], r["__system"]["reviewState"])
        return rows

    def add_app_user(self, name: str, *, assign: bool = True) -> dict[str, Any]:
        """Create an app user (``POST .../app-users``; its ``token`` is in the answer) and,
        unless ``assign`` is false, give it the app-user role on the handle's form."""
        user = self.client.app_users.create(name)
        if assign:
            assert self.model is not None
            self.client.forms.assign(self.model.form_id, int(user["id"]))
        return user

    def set_form_state(self, state: str) -> None:
        """PATCH the form's state (``open``, ``closing``, ``closed``)."""
        assert self.model is not None
        self.client.request(
            "PATCH", self.client.project_path("forms", self.model.form_id), json={"state": state}
        )

    def settle(self) -> None:
        """Let a real server's timestamps move on (the fake's clock is strictly monotonic)."""
        time.sleep(0.01)


def publish_xform(
    client: CentralClient, xform: str, files: Mapping[str, tuple[bytes, str]] | None = None
) -> str:
    """Create and publish a form from its XForm XML; returns its xmlFormId. With ``files``
    (name -> (content, content type), e.g. a ``select_one_from_file`` CSV) the form is
    created as a draft, the files go to the draft's attachments, and the draft is published,
    as Central requires."""
    xml = xform.encode()
    form_id = _xform_id(xform)
    created = client.forms.create(xml, "application/xml", fallback_id=form_id, publish=not files)
    form_id = created["xmlFormId"]
    if files:
        for name, (content, content_type) in files.items():
            client.forms.upload_draft_attachment(form_id, name, content, content_type)
        client.forms.publish_draft(form_id)
    return form_id


def _xform_id(xform: str) -> str:
    """The form id an XForm declares (its primary instance's ``id`` attribute)."""
    found = re.search(r'<instance>\s*<[^ >]+[^>]* id="([^"]+)"', xform)
    return found.group(1) if found else "form"


def _markdown_of(model: FormModel) -> str:
    """The fixture form's markdown source, with as many ``x{i}`` questions as the model."""
    from tests.fake_central.fixture import household_markdown

    extra = sum(1 for e in model.elements if re.fullmatch(r"x\d+", e.name))
    return household_markdown(extra, model.form_id, model.version or "")
