"""Central resources a deployment manages: projects, datasets (entity lists) with their
entities, and app users. One service per resource, as pyodk cuts them; each method is one
documented API call (https://docs.getodk.org/central-api/)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from surveys.central.errors import CentralResponseError

if TYPE_CHECKING:
    from surveys.central.client import CentralClient

BULK_SIZE = 1000
"""Entities per bulk-create request (a few hundred kB of JSON)."""


def _list(data: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(d, Mapping) for d in data):
        raise CentralResponseError(f"Central's {what} is not a JSON list of objects")
    return data


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise CentralResponseError(f"Central's answer for {what} is not a JSON object")
    return data


class ProjectService:
    """Projects on the server (``/v1/projects``)."""

    def __init__(self, client: CentralClient) -> None:
        self.client = client

    def list(self) -> list[dict[str, Any]]:
        """Every project the user can see (``id``, ``name``...)."""
        return _list(self.client.get_json("projects"), "project list")

    def get(self, project_id: int) -> dict[str, Any]:
        """One project (404 when it does not exist)."""
        return _object(self.client.get_json(f"projects/{int(project_id)}"), "the project")

    def create(self, name: str) -> dict[str, Any]:
        """``POST /v1/projects`` ``{"name"}`` (pyodk 1.3 does not wrap it)."""
        return _object(self.client.request_json("POST", "projects", json={"name": name}), name)


class DatasetService:
    """Datasets (entity lists) of the project and their entities."""

    def __init__(self, client: CentralClient) -> None:
        self.client = client

    def _path(self, name: str, *parts: str) -> str:
        return self.client.project_path("datasets", name, *parts)

    def list(self) -> list[dict[str, Any]]:
        """The project's published datasets (``name``...)."""
        return _list(self.client.get_json(self.client.project_path("datasets")), "dataset list")

    def get(self, name: str) -> dict[str, Any]:
        """A dataset's metadata, with ``properties`` (``name``, ``odataName``) and
        ``linkedForms``."""
        return _object(self.client.get_json(self._path(name)), f"dataset {name}")

    def create(self, name: str) -> None:
        """``POST .../datasets`` ``{"name"}``: an empty dataset (entities need no approval)."""
        path = self.client.project_path("datasets")
        self.client.request("POST", path, json={"name": name, "approvalRequired": False})

    def add_property(self, name: str, prop: str) -> None:
        """``POST .../datasets/{name}/properties`` ``{"name"}``."""
        self.client.request("POST", self._path(name, "properties"), json={"name": prop})

    def entity_rows(self, name: str, page_size: int = 10_000) -> Iterator[dict[str, Any]]:
        """Every live entity as the OData service shows it: ``__id``, ``label``, the
        properties (by OData name) and ``__system`` (``version``...), following
        ``@odata.nextLink`` to the end."""
        url: str | None = self.client.project_path("datasets", name) + ".svc/Entities"
        params: dict[str, str] | None = {"$top": str(page_size)}
        while url is not None:
            page = _object(self.client.get_json(url, params=params), f"entities of {name}")
            rows = page.get("value")
            if not isinstance(rows, list):
                raise CentralResponseError(f"Central's entity page of {name} has no value list")
            yield from rows
            link = page.get("@odata.nextLink")
            url, params = (self.client.server_url(link), None) if link else (None, None)

    def deleted_uuids(self, name: str) -> set[str]:
        """UUIDs of the dataset's deleted entities (``?deleted=true``), which Central will
        not let a new entity reuse (409.19) but can restore."""
        data = self.client.get_json(self._path(name, "entities"), params={"deleted": "true"})
        return {str(e["uuid"]) for e in _list(data, f"deleted entities of {name}")}

    def create_entities(
        self, name: str, entities: Sequence[Mapping[str, Any]], source: str
    ) -> None:
        """Bulk-create ``[{"uuid", "label", "data"}]`` in requests of :data:`BULK_SIZE`."""
        for start in range(0, len(entities), BULK_SIZE):
            chunk = list(entities[start : start + BULK_SIZE])
            body = {"entities": chunk, "source": {"name": source, "size": len(chunk)}}
            self.client.request("POST", self._path(name, "entities"), json=body)

    def update_entity(
        self,
        name: str,
        uuid: str,
        base_version: int | None,
        *,
        label: str | None = None,
        data: Mapping[str, str] | None = None,
    ) -> None:
        """``PATCH .../entities/{uuid}?baseVersion=``: Central answers 409.15 when the
        entity changed since ``base_version`` was read (None: ``?force=true``)."""
        body: dict[str, Any] = {}
        if label is not None:
            body["label"] = label
        if data:
            body["data"] = dict(data)
        path = self._path(name, "entities", uuid)
        params = {"force": "true"} if base_version is None else {"baseVersion": str(base_version)}
        self.client.request("PATCH", path, params=params, json=body)

    def delete_entity(self, name: str, uuid: str) -> None:
        """Soft-delete an entity (it leaves the form attachment)."""
        self.client.request("DELETE", self._path(name, "entities", uuid))

    def restore_entity(self, name: str, uuid: str) -> None:
        """Undo the deletion of an entity."""
        self.client.request("POST", self._path(name, "entities", uuid, "restore"))


class AppUserService:
    """App users of the project (Central's "field keys"): what Collect logs in as."""

    def __init__(self, client: CentralClient) -> None:
        self.client = client

    def list(self) -> list[dict[str, Any]]:
        """Every app user of the project; ``token`` is null once its access was revoked."""
        return _list(self.client.get_json(self.client.project_path("app-users")), "app users")

    def create(self, display_name: str) -> dict[str, Any]:
        """A new app user (no form access yet); its ``token`` is in the answer."""
        path = self.client.project_path("app-users")
        answer = self.client.request_json("POST", path, json={"displayName": display_name})
        return _object(answer, "the new app user")

    def revoke(self, token: str) -> None:
        """``DELETE /v1/sessions/{token}``: the key stops working, the app user (and who
        submitted what) stays."""
        self.client.request("DELETE", "sessions/" + self.client.session.urlquote(token))
