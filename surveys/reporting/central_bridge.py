"""The report's and back-checks' few calls to ODK Central, through the deploy service.

The deploy service (``surveys.central.review``, ``client.datasets``, the credentials
helper) is where Central's resources live; this module only adapts the report's records to it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from surveys.config import SurveyConfig
from surveys.reporting.errors import ReportingError


@dataclass(frozen=True)
class Decision:
    """The review state (and comment) one submission (``__id``) should have in Central."""

    instance_id: str
    state: str
    comment: str | None = None


def central_client(config: SurveyConfig) -> Any:
    """A client of survey.toml's Central project, with the account from the environment
    (or the pyodk config file named in survey.toml, through the deploy service)."""
    from surveys.central import CentralClient, HttpPolicy
    from surveys.central.credentials import central_credentials
    from surveys.central.deploy import locate_project

    if config.central is None:
        raise ReportingError(f"{config.path.name}: no [central] section: no Central to write to")
    user, password = central_credentials(config.central.pyodk_config)
    project = config.central.project_id or os.environ.get("POPSURVEY_CENTRAL_PROJECT")
    client = CentralClient(config.central.url, user, password, project, HttpPolicy())
    if project is None:
        found = locate_project(client, None, config.central.project_name)
        if found is None:
            raise ReportingError(
                f"Central has no project '{config.central.project_name}': deploy the survey first"
            )
        client.project_id = found[0]
    return client


def write_decisions(client: Any, form_id: str, decisions: Sequence[Decision], progress=None) -> Any:
    """Make Central's review states and comments what ``decisions`` say, idempotently
    (the deploy service's ``write_reviews``); returns its result (``summary()``)."""
    from surveys.central.review import ReviewDecision, write_reviews

    wanted = [ReviewDecision(d.instance_id, d.state, d.comment) for d in decisions]
    return write_reviews(client, form_id, wanted, progress=progress)


def comment_bodies(client: Any, form_id: str, instance_id: str) -> list[str]:
    """The texts of a submission's comments in Central, oldest first."""
    found = sorted(
        client.submissions.comments(form_id, instance_id),
        key=lambda c: str(c.get("createdAt") or ""),
    )
    return [str(c.get("body") or "") for c in found]


def publish_entities(
    client: Any, dataset: str, table: pd.DataFrame, properties: Iterable[str], source: str
) -> int:
    """Create the entity list ``dataset`` (and its properties) if needed and add the rows of
    ``table`` (``name``, ``label``, properties) that it does not hold yet; returns how many
    were added. Never changes or deletes an entity already there."""
    datasets = client.datasets
    properties = list(properties)
    if dataset not in {d.get("name") for d in datasets.list()}:
        datasets.create(dataset)
    known = {str(p["name"]) for p in datasets.get(dataset).get("properties", [])}
    for prop in properties:
        if prop not in known:
            datasets.add_property(dataset, prop)
    present = {str(r["__id"]).removeprefix("uuid:") for r in datasets.entity_rows(dataset)}
    present |= datasets.deleted_uuids(dataset)
    new = [
        {"uuid": row["name"], "label": row["label"], "data": {p: str(row[p]) for p in properties}}
        for row in table.to_dict("records")
        if row["name"] not in present
    ]
    if new:
        datasets.create_entities(dataset, new, source)
    return len(new)
