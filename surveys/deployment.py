"""``deploy``: survey.toml, the questionnaires, the sample and the roster to a
:class:`~surveys.central.deploy.DeploySpec`, deployed, then the Collect QR codes written.

- Each questionnaire is uploaded as an XLSForm (a markdown or CSV XLSForm is converted to
  .xlsx first, so that Central keeps a spreadsheet ``pull`` can read each version from).
  Its version is ``deploy.versions.<form id>`` or, by default, derived from the content:
  the XLSForm's own version (if any), a dash and the first 8 hex digits of the SHA-256 of
  the form file and its plain attachments, so any change gives a new version.
- An attachment named like the entity list (``households.csv`` for ``households``) is
  served from the entity list; any other attachment is the file of that name next to the
  XLSForm or in its ``<stem>-media`` folder.
- The entity list is the sample's ``entities/<central.entity_list>.csv`` (written by
  ``popsurvey sample assign``): ``name`` is the entity UUID, ``label`` its label, every
  other column a property, plus ``visit_status`` (``open`` when created, then fieldwork's).
- Each enumerator gets an app user named by its code, with the forms of its role
  (``deploy.forms.<role>``; a role not listed there gets every questionnaire).
- ``app-users.csv`` in the output folder records every app user a deployment made or used
  for the roster (Central URL, project, actor id, name): an app user that leaves the
  roster is revoked only when it is recorded there, so the other app users of a shared
  project are left alone unless ``revoke_unlisted``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from forms import FormModel, read_form
from surveys.central.client import CentralClient
from surveys.central.collect_qr import Badge, write_badges, write_secret
from surveys.central.deploy import (
    AppUserSpec,
    DeployReport,
    DeploySpec,
    EntityRow,
    EntitySpec,
    FormSpec,
    deploy,
)
from surveys.central.errors import DeployError
from surveys.config import SurveyConfig

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS = "application/vnd.ms-excel"
VISIT_STATUS = "visit_status"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
"""Central accepts only version 4 UUIDs as entity names (central-backend lib/data/entity.js)."""
MEDIA_TYPES = ("image", "audio", "video", "big-image")
APP_USERS_FILE = "app-users.csv"
APP_USER_COLUMNS = ["central_url", "project_id", "app_user_id", "name"]


@dataclass
class DeployOutcome:
    """The deployment report and the secret files written (QR codes, sheets, tokens)."""

    report: DeployReport
    folder: Path
    written: list[Path]


def output_folder(config: SurveyConfig, given: Path | None = None) -> Path:
    """Where the QR codes and sheets go: ``given``, ``deploy.output`` or ``deploy/``."""
    if given is not None:
        return given
    configured = config.section("deploy").get("output")
    return config.directory / (configured or "deploy")


def deploy_survey(
    config: SurveyConfig,
    client: CentralClient,
    *,
    dry_run: bool = False,
    entities: Path | None = None,
    out: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    revoke_unlisted: bool = False,
) -> DeployOutcome:
    """Deploy the survey of ``config`` with ``client``; write the QR codes and the record of
    the app users (``app-users.csv``) unless a dry run. App users outside the roster are
    revoked when recorded, or all of them with ``revoke_unlisted``."""
    folder = output_folder(config, out)
    spec = replace(
        survey_spec(config, entities),
        managed_app_users=recorded_app_users(folder, client.base_url),
        revoke_unlisted=revoke_unlisted,
    )
    report = deploy(client, spec, dry_run=dry_run, progress=progress)
    if dry_run:
        return DeployOutcome(report, folder, [])
    recorded = record_app_users(
        folder, client.base_url, int(report.project_id or 0), report.app_user_ids
    )
    people = {e.id: e for e in config.enumerators}
    badges = [
        Badge(code, people[code].name, people[code].team, token)
        for code, token in sorted(report.tokens.items())
    ]
    written = write_badges(
        folder,
        badges,
        base_url=client.base_url,
        project_id=int(report.project_id),
        project_name=report.project_name or "",
        survey_title=config.title,
    )
    return DeployOutcome(report, folder, written + recorded)


def _read_app_users(folder: Path) -> list[dict[str, str]]:
    path = folder / APP_USERS_FILE
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for number, row in enumerate(rows, start=2):
        if list(row) != APP_USER_COLUMNS or not str(row["app_user_id"]).isdigit():
            raise DeployError(
                f"{path}: row {number}: not a record of deployed app users (columns "
                f"{','.join(APP_USER_COLUMNS)}, a numeric app_user_id): repair or remove it"
            )
    return rows


def recorded_app_users(folder: Path, base_url: str) -> frozenset[int]:
    """Ids of the app users that deployments to ``base_url`` made or used (Central's actor
    ids are unique on a server), from ``app-users.csv`` in ``folder``."""
    return frozenset(
        int(r["app_user_id"]) for r in _read_app_users(folder) if r["central_url"] == base_url
    )


def record_app_users(
    folder: Path, base_url: str, project_id: int, ids: Mapping[str, int]
) -> list[Path]:
    """Add the roster's app users (name -> id) to ``app-users.csv`` (rows are never
    removed); returns the file when it was rewritten."""
    rows = _read_app_users(folder)
    known = {(r["central_url"], int(r["app_user_id"])) for r in rows}
    added = [
        {"central_url": base_url, "project_id": str(project_id), "app_user_id": str(i),
         "name": name}
        for name, i in sorted(ids.items())
        if (base_url, i) not in known
    ]  # fmt: skip
    if not added:
        return []
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=APP_USER_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows([*rows, *added])
    path = folder / APP_USERS_FILE
    write_secret(path, text.getvalue().encode("utf-8"))
    return [path]


def survey_spec(config: SurveyConfig, entities: Path | None = None) -> DeploySpec:
    """What Central must hold for ``config`` (reads the forms and the entity list)."""
    if config.central is None:
        raise DeployError(f"{config.path.name}: no [central] section: nowhere to deploy")
    section = config.section("deploy")
    list_name = config.central.entity_list
    entity_path = _entity_path(config, entities)
    entity_spec = read_entity_list(entity_path, list_name) if entity_path.is_file() else None
    versions = dict(section.get("versions") or {})
    forms = []
    for path in config.questionnaires:
        try:
            forms.append(form_spec(path, versions, list_name if entity_spec else None))
        except DeployError as err:
            if entity_spec is None and f" {list_name}.csv " in str(err):
                raise DeployError(
                    f"{path.name} reads the entity list {list_name}.csv, but {entity_path}"
                    " does not exist: run `popsurvey sample assign` first"
                ) from None
            raise
    form_ids = tuple(f.form_id for f in forms)
    by_role = {role: tuple(ids) for role, ids in (section.get("forms") or {}).items()}
    for role, ids in by_role.items():
        unknown = [i for i in ids if i not in form_ids]
        if unknown:
            raise DeployError(
                f"{config.path.name}: deploy.forms.{role}: '{unknown[0]}' is not the form id"
                f" of a questionnaire ({', '.join(form_ids)})"
            )
    users = tuple(AppUserSpec(e.id, by_role.get(e.role, form_ids)) for e in config.enumerators)
    return DeploySpec(
        project_name=config.central.project_name or config.title,
        project_id=config.central.project_id,
        forms=tuple(forms),
        entities=entity_spec,
        app_users=users,
        keep_app_users=frozenset(section.get("keep_app_users") or ()),
    )


def _entity_path(config: SurveyConfig, given: Path | None) -> Path:
    if given is not None:
        return given
    configured = config.section("deploy").get("entities")
    if configured:
        return config.directory / configured
    from surveys.sampling.workflow import sample_directory

    return sample_directory(config) / "entities" / f"{config.central.entity_list}.csv"


def read_entity_list(path: Path, dataset: str) -> EntitySpec:
    """The entity list CSV (``name``, ``label``, properties) as an :class:`EntitySpec`."""
    import pandas as pd

    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise DeployError(f"{path}: cannot read the entity list ({err})") from None
    for column in ("name", "label"):
        if column not in table.columns:
            raise DeployError(f"{path}: no '{column}' column (write it with `sample assign`)")
    properties = [c for c in table.columns if c not in ("name", "label")]
    if VISIT_STATUS not in properties:
        properties.append(VISIT_STATUS)
        table[VISIT_STATUS] = "open"
    rows = []
    seen: set[str] = set()
    for number, record in enumerate(table.to_dict("records"), start=2):
        uuid = str(record["name"]).strip().lower()
        if not uuid or uuid in seen:
            raise DeployError(f"{path}: row {number}: name '{uuid}' is empty or repeated")
        if not UUID.fullmatch(uuid):
            raise DeployError(
                f"{path}: row {number}: name '{record['name']}' is not a version 4 UUID"
                " (Central accepts no other entity names; `popsurvey sample assign` writes them)"
            )
        if not str(record["label"]).strip():
            raise DeployError(f"{path}: row {number}: entity {uuid} has an empty label")
        seen.add(uuid)
        data = {p: str(record[p]) for p in properties}
        rows.append(EntityRow(uuid, str(record["label"]), data))
    return EntitySpec(dataset, tuple(properties), tuple(rows), source=path.name)


def form_spec(path: Path, versions: dict[str, str], entity_list: str | None) -> FormSpec:
    """The upload, version and attachments of one questionnaire."""
    model = read_form(path)
    raw = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        content, ctype = raw, XLSX
    elif suffix == ".xls":
        content, ctype = raw, XLS
    else:
        content, ctype = xlsx_of(path), XLSX
    entity_files, files, missing = set(), {}, []
    for name in expected_attachments(model):
        if entity_list is not None and name == f"{entity_list}.csv":
            entity_files.add(name)
            continue
        local = _local_file(path, name)
        if local is None:
            missing.append(name)
        else:
            files[name] = local
    if missing:
        raise DeployError(
            f"{path.name}: attachment {missing[0]} not found next to the XLSForm or in "
            f"{path.stem}-media/"
        )
    explicit = versions.get(model.form_id)
    digest = hashlib.sha256(raw)
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + files[name].read_bytes())
    for name in sorted(entity_files):
        digest.update(b"dataset:" + name.encode())
    derived = (
        f"{model.version}-{digest.hexdigest()[:8]}"
        if model.version
        else (f"h{digest.hexdigest()[:10]}")
    )
    return FormSpec(
        form_id=model.form_id,
        content=content,
        content_type=ctype,
        version=explicit or derived,
        files=files,
        entity_files=frozenset(entity_files),
        title=path.name,
        derived=explicit is None,
    )


def expected_attachments(model: FormModel) -> list[str]:
    """Files the form needs on the device: ``select_*_from_file`` lists, csv-external
    lists and media named in labels (what Central lists as the form's attachments)."""
    names: dict[str, None] = {}
    for question in model.elements:
        if question.file_name:
            names[question.file_name] = None
        if question.type == "csv-external":
            names[f"{question.name}.csv"] = None
        for value in question.media.values():
            names[value] = None
    for choice_list in getattr(model, "choice_lists", {}).values():
        for choice in getattr(choice_list, "choices", ()):
            for value in (getattr(choice, "media", None) or {}).values():
                names[value] = None
    return list(names)


def _local_file(form: Path, name: str) -> Path | None:
    for candidate in (form.parent / name, form.parent / f"{form.stem}-media" / name):
        if candidate.is_file():
            return candidate
    return None


def xlsx_of(path: Path) -> bytes:
    """A markdown or CSV XLSForm as an .xlsx workbook (same sheets, rows and columns)."""
    from openpyxl import Workbook
    from pyxform.xls2json_backends import get_xlsform

    source = get_xlsform(str(path), file_type=path.suffix.lower())
    book = Workbook()
    book.remove(book.active)
    for sheet in ("survey", "choices", "settings", "external_choices", "entities"):
        rows = getattr(source, sheet, None) or []
        if not rows:
            continue
        header: dict[str, None] = {}
        for part in (getattr(source, f"{sheet}_header", None) or [])[:1]:
            header.update(dict.fromkeys(part))
        for row in rows:
            header.update(dict.fromkeys(row))
        target = book.create_sheet(sheet)
        target.append(list(header))
        for row in rows:
            target.append([_cell(row.get(column)) for column in header])
    out = io.BytesIO()
    book.save(out)
    return _reproducible(out.getvalue())


def _reproducible(xlsx: bytes) -> bytes:
    """The workbook with fixed zip entry times and document dates, so that the same form
    gives the same bytes (Central's copy then compares equal to a new conversion)."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*",
                    rb"\g<1>2000-01-01T00:00:00Z",
                    data,
                )
            target.writestr(zipfile.ZipInfo(item.filename, (1980, 1, 1, 0, 0, 0)), data,
                            compress_type=zipfile.ZIP_DEFLATED)  # fmt: skip
    return out.getvalue()


def _cell(value: object) -> object:
    if isinstance(value, dict | list):  # pyxform nests translated columns
        return str(value)
    return value
