"""One interface to seed and inspect a Central, fake or real, through its HTTP API only.

The same pull tests run against the in-process fake and, when ``POPSURVEY_CENTRAL_URL``,
``POPSURVEY_CENTRAL_USER``, ``POPSURVEY_CENTRAL_PASSWORD`` and ``POPSURVEY_CENTRAL_PROJECT``
are set, against a real Central: every action below is a documented API call.
"""

from __future__ import annotations

import time
from typing import Any

from forms import FormModel
from surveys.central import CentralClient, HttpPolicy
from tests.fake_central.xml import data_to_xml

FAST = HttpPolicy(connect_timeout=2, read_timeout=5, retries=3, backoff=0.05, backoff_max=0.5)


class CentralHandle:
    """Seeds a form's submissions and reads Central's truth, over HTTP."""

    def __init__(self, url: str, user: str, password: str, project: int) -> None:
        self.url, self.user, self.password, self.project = url, user, password, project
        self.client = CentralClient(url, user, password, project, FAST)
        self.model: FormModel | None = None
        self._root: dict[str, str] = {}  # instanceID -> __id, to address edits

    def make_client(self, policy: HttpPolicy = FAST) -> CentralClient:
        """A fresh client (what ``popsurvey pull`` would build)."""
        return CentralClient(self.url, self.user, self.password, self.project, policy)

    def publish(self, model: FormModel) -> str:
        """Create and publish the form from its XForm (pyxform), return its form id."""
        from pyxform.xls2xform import convert

        xform = convert(xlsform=_markdown_of(model), file_type="md").xform
        self.client.request(
            "POST",
            self.client.project_path("forms"),
            params={"publish": "true"},
            data=xform.encode(),
            headers={"Content-Type": "application/xml"},
        )
        self.model = model
        return model.form_id

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

    def settle(self) -> None:
        """Let a real server's timestamps move on (the fake's clock is strictly monotonic)."""
        time.sleep(0.01)


def _markdown_of(model: FormModel) -> str:
    """The fixture form's markdown source (kept on the model's ``source`` by the fixture)."""
    from tests.fake_central.fixture import BASE_FORM

    return BASE_FORM.format(extra="", form_id=model.form_id, version=model.version)
