"""``status``: the survey manager's one screen: per form and enumerator, submissions on
Central and in the store, the last pull, entities open and closed, app users active.

Central is asked for each form's submissions (``__id`` and ``__system`` only, in large
pages), the entity list's rows and the app users; the store answers with one grouped
query per form. Nothing is written anywhere.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa

from surveys.central.client import CentralClient
from surveys.store import Store
from surveys.store.models import Form, Submission, SyncState

OPEN = ("open", "")


@dataclass
class FormStatus:
    """One form: its version on Central and counts on each side."""

    form_id: str
    version: str | None
    on_central: int
    in_store: int
    last_pull: datetime | None
    central_by_enumerator: Counter = field(default_factory=Counter)
    store_by_enumerator: Counter = field(default_factory=Counter)


@dataclass
class SurveyStatus:
    """Everything ``popsurvey status`` shows."""

    project_id: int
    project_name: str
    forms: list[FormStatus]
    entities_open: int | None
    entities_closed: int | None
    active_app_users: set[str]
    revoked_app_users: set[str]
    roster: list[str]

    def lines(self) -> list[str]:
        """The screen, as lines of text."""
        out = [f"project {self.project_id} '{self.project_name}'"]
        out.append(f"{'form':<20} {'version':<22} {'central':>8} {'store':>8}  last pull")
        for form in self.forms:
            pulled = form.last_pull.strftime("%Y-%m-%d %H:%M") if form.last_pull else "never"
            out.append(
                f"{form.form_id:<20} {form.version or '-':<22} {form.on_central:>8} "
                f"{form.in_store:>8}  {pulled}"
            )
        heads = "".join(f" {f.form_id[:16]:>17}" for f in self.forms)
        out.append(f"{'enumerator':<16} {'app user':<9}{heads}   (central/store)")
        names = list(self.roster) + sorted(
            {n for f in self.forms for n in f.central_by_enumerator} - set(self.roster)
        )
        for name in names:
            state = (
                "active"
                if name in self.active_app_users
                else ("revoked" if name in self.revoked_app_users else "none")
            )
            cells = "".join(
                f" {f'{f.central_by_enumerator[name]}/{f.store_by_enumerator[name]}':>17}"
                for f in self.forms
            )
            out.append(f"{name:<16} {state:<9}{cells}")
        if self.entities_open is not None:
            out.append(
                f"entities: {self.entities_open} open, {self.entities_closed} closed (visit_status)"
            )
        out.append(
            f"app users: {len(self.active_app_users)} active, {len(self.revoked_app_users)} revoked"
        )
        return out


def survey_status(
    client: CentralClient,
    store: Store | None,
    form_ids: list[str],
    *,
    roster: list[str],
    entity_list: str | None,
    project_name: str = "",
) -> SurveyStatus:
    """Gather the status of ``form_ids`` of the client's project (and of the store)."""
    users = client.app_users.list()
    names = {int(u["id"]): str(u.get("displayName")) for u in users}
    active = {str(u.get("displayName")) for u in users if u.get("token")}
    revoked = {str(u.get("displayName")) for u in users if not u.get("token")} - active
    on_server = {f["xmlFormId"]: f for f in client.forms.list()}
    forms = []
    for form_id in form_ids:
        meta = on_server.get(form_id)
        status = FormStatus(form_id, meta.get("version") if meta else None, 0, 0, None)
        if meta is not None:
            for page in client.submissions.odata_pages(
                form_id, select="__id,__system", expand=False
            ):
                for row in page.value:
                    submitter = (row.get("__system") or {}).get("submitterId")
                    who = _submitter(submitter, names, row)
                    status.central_by_enumerator[who] += 1
            status.on_central = sum(status.central_by_enumerator.values())
        if store is not None:
            _store_counts(store, status)
        forms.append(status)
    opened = closed = None
    if entity_list and any(d.get("name") == entity_list for d in client.datasets.list()):
        opened = closed = 0
        for row in client.datasets.entity_rows(entity_list):
            if str(row.get("visit_status") or "") in OPEN:
                opened += 1
            else:
                closed += 1
    return SurveyStatus(
        int(client.project_id or 0),
        project_name,
        forms,
        opened,
        closed,
        active,
        revoked,
        list(roster),
    )


def _submitter(submitter: object, names: dict[int, str], row: dict) -> str:
    try:
        return names.get(int(submitter), str(row["__system"].get("submitterName") or submitter))
    except (TypeError, ValueError):
        return str(submitter)


def _store_counts(store: Store, status: FormStatus) -> None:
    with store.engine.connect() as conn:
        form_pk = conn.execute(
            sa.select(Form.id).where(Form.xml_form_id == status.form_id)
        ).scalar_one_or_none()
        if form_pk is None:
            return
        rows = conn.execute(
            sa.select(Submission.submitter_name, sa.func.count())
            .where(Submission.form_id == form_pk, Submission.deleted.is_(False))
            .group_by(Submission.submitter_name)
        )
        for name, count in rows:
            status.store_by_enumerator[str(name)] += int(count)
        status.in_store = sum(status.store_by_enumerator.values())
        status.last_pull = conn.execute(
            sa.select(SyncState.last_pull_at).where(SyncState.form_id == form_pk)
        ).scalar_one_or_none()
