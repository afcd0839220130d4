"""A small survey to deploy (two forms, an entity list, three enumerators) and a Central to
deploy it to: the in-process fake, or a real Central when POPSURVEY_CENTRAL_* are set (each
test then gets a project of its own, named after the time, since deploy manages every app
user of its project)."""

from __future__ import annotations

import csv
import time
import uuid
from pathlib import Path

from surveys.central import CentralClient
from surveys.sampling.assignment import entity_uuid
from tests.central.handles import FAST

HOUSEHOLD_FORM = """
| survey |
| | type | name | label | choice_filter |
| | text | enum | Enumerator code | |
| | select_one_from_file households.csv | hh | Household | enumerator = ${{enum}} |
| | integer | members | Members | |
{extra}| settings |
| | form_id | version |
| | {form_id} | 2027010101 |
"""

VISIT_FORM = """
| survey |
| | type | name | label |
| | select_one_from_file villages.csv | village | Village |
| | text | note | Note |
| settings |
| | form_id | version |
| | {form_id} | 1 |
"""

ROSTER = [
    ("e1", "王芳", "t1", "enumerator"),
    ("e2", "李娜", "t1", "enumerator"),
    ("s1", "张伟", "t2", "supervisor"),
]


def entity_row(
    hhid: str, enumerator: str, address: str | None = None, run: str = ""
) -> dict[str, str]:
    """One household of the entity list (UUID derived from the run and the household ID:
    a real Central refuses an entity UUID that any entity list on the server holds or held,
    so each test's project needs UUIDs of its own)."""
    name = entity_uuid(f"popsurvey-test{run}", hhid)
    address = address or f"{hhid} Main Street"
    return {
        "name": name,
        "label": f"{hhid} {address}",
        "hhid": hhid,
        "psu": hhid[:3],
        "stratum": hhid[:1],
        "enumerator": enumerator,
        "address": address,
    }


class Survey:
    """A survey folder: survey.toml, two questionnaires, villages.csv, entities.csv."""

    def __init__(self, folder: Path, url: str, project_name: str, suffix: str = "") -> None:
        self.folder, self.url, self.project_name = folder, url, project_name
        self.household_id, self.visit_id = f"hh{suffix}", f"visit{suffix}"
        self.roster = list(ROSTER)
        self.extra = ""
        self.versions: dict[str, str] = {}
        self.suffix = suffix
        self.entities = [self.household(f"1{i:02d}", "e1" if i < 3 else "e2") for i in range(5)]
        (folder / "forms").mkdir(parents=True, exist_ok=True)
        (folder / "forms" / "villages.csv").write_text("name,label\nv1,Village 1\nv2,Village 2\n")
        self.write()

    def household(self, hhid: str, enumerator: str, address: str | None = None) -> dict[str, str]:
        """One household of this survey's entity list."""
        return entity_row(hhid, enumerator, address, run=self.suffix)

    @property
    def toml(self) -> Path:
        return self.folder / "survey.toml"

    def write(self) -> None:
        """(Re)write every file from the attributes."""
        forms = self.folder / "forms"
        (forms / "household.md").write_text(
            HOUSEHOLD_FORM.format(form_id=self.household_id, extra=self.extra)
        )
        (forms / "visit.md").write_text(VISIT_FORM.format(form_id=self.visit_id))
        with (self.folder / "entities.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(entity_row("0", "e")))
            writer.writeheader()
            writer.writerows(self.entities)
        members = "".join(
            f'[[enumerators.members]]\nid = "{i}"\nname = "{n}"\narea = "1"\nteam = "{t}"\n'
            f'role = "{r}"\n'
            for i, n, t, r in self.roster
        )
        versions = "".join(f'{k} = "{v}"\n' for k, v in self.versions.items())
        self.toml.write_text(
            'id = "deploy-test"\ntitle = "Deploy test"\n'
            'questionnaires = ["forms/household.md", "forms/visit.md"]\n'
            f'[central]\nurl = "{self.url}"\nproject_name = "{self.project_name}"\n'
            f"{members}"
            f'[deploy]\nentities = "entities.csv"\n'
            f'[deploy.forms]\nenumerator = ["{self.household_id}", "{self.visit_id}"]\n'
            f'supervisor = ["{self.visit_id}"]\n'
            f"[deploy.versions]\n{versions}"
        )

    def config(self):  # type: ignore[no-untyped-def]
        from surveys.config import load_config

        return load_config(self.toml)


class Target:
    """Where the survey goes: the fake (``fake`` is its state) or a real Central."""

    def __init__(self, url: str, user: str, password: str, fake=None) -> None:  # type: ignore[no-untyped-def]
        self.url, self.user, self.password, self.fake = url, user, password, fake
        stamp = int(time.time() * 1000)
        self.project_name = f"popsurvey deploy test {stamp}"
        self.suffix = "" if fake is not None else f"_{stamp}"
        self.writes: list[tuple[str, str]] = []

    def client(self) -> CentralClient:
        """A client that records every write it sends (method, path)."""
        client = CentralClient(self.url, self.user, self.password, None, FAST)
        send = client.request

        def counting(method: str, path: str, **kwargs):  # type: ignore[no-untyped-def]
            if method not in ("GET", "HEAD"):
                self.writes.append((method, path))
            return send(method, path, **kwargs)

        client.request = counting  # type: ignore[method-assign]
        return client

    def env(self) -> dict[str, str]:
        """The account variables the CLI reads."""
        return {"POPSURVEY_CENTRAL_USER": self.user, "POPSURVEY_CENTRAL_PASSWORD": self.password}

    def survey(self, folder: Path) -> Survey:
        """A fresh survey folder pointing at this Central."""
        return Survey(folder, self.url, self.project_name, self.suffix)


def submit_as(server_url: str, form_id: str, version: str, answers: dict[str, str]) -> int:
    """Submit one submission over OpenRosa as Collect does with the QR code's server URL
    (``{base}/v1/key/{token}/projects/{id}``); returns 201, asserts otherwise."""
    import requests

    from surveys.simulate.openrosa import SubmitError, post_submission

    instance_id = f"uuid:{uuid.uuid4()}"
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in answers.items())
    xml = (
        f'<data id="{form_id}" version="{version}">{fields}'
        f"<meta><instanceID>{instance_id}</instanceID></meta></data>"
    ).encode()
    with requests.Session() as session:
        try:
            return post_submission(
                session,
                server_url + "/submission",
                xml=xml,
                attachments={},
                instance_id=instance_id,
            )
        except SubmitError as err:
            raise AssertionError(str(err)) from None
