"""The survey definition, ``survey.toml``: reading, validation and a typed, frozen view.

The file is parsed with :mod:`tomllib` and validated against the JSON Schema shipped in
``surveys/schema/`` (``survey.schema.json`` for the core sections, plus one
``sections/<name>.schema.json`` per section added by a later stage, merged at load time, so a
stage extends the file by dropping in its schema). Any problem raises
:class:`surveys.errors.ConfigError` with one line naming the file and the key path, e.g.
``survey.toml: sample.sise: unknown key (did you mean 'size'?)``.

Relative paths in the file are resolved against the file's directory. Credentials never go in
the file: Central's account comes from ``POPSURVEY_CENTRAL_USER`` /
``POPSURVEY_CENTRAL_PASSWORD`` or from a pyodk config file named by ``central.pyodk_config``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import json
import re
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema

from forms.model import FrozenDict
from surveys.errors import ConfigError

if TYPE_CHECKING:  # sampling (pandas, numpy) loads only when a [sample] or roster is read
    from surveys.sampling.design import SampleDesign

SCHEMA_DIR = Path(__file__).parent / "schema"
CONFIG_FILE = "survey.toml"
CREDENTIAL_KEYS = frozenset({"password", "token", "username", "user", "email", "secret"})
DEFAULT_TIMEZONE = "Asia/Shanghai"


# --- the typed view -----------------------------------------------------------------------


@dataclass(frozen=True)
class CentralConfig:
    """Where the survey lives on ODK Central (never the credentials)."""

    url: str
    project_id: int | None = None
    project_name: str | None = None
    pyodk_config: Path | None = None
    entity_list: str = "households"


@dataclass(frozen=True)
class FieldworkConfig:
    """Fieldwork dates in the survey's time zone."""

    start: dt.date
    end: dt.date
    timezone: str = DEFAULT_TIMEZONE
    reference_date: dt.date | None = None


@dataclass(frozen=True)
class CodesConfig:
    """Answer codes meaning don't know, refused and not applicable (numbers or choice names)."""

    dont_know: tuple[int | str, ...] = (98,)
    refused: tuple[int | str, ...] = (99,)
    not_applicable: tuple[int | str, ...] = ()


@dataclass(frozen=True)
class Enumerator:
    """One enumerator: ``id`` is their ODK Central app-user name; ``area`` their work area."""

    id: str
    name: str
    area: str
    team: str = ""
    supervisor: str = ""
    role: str = "enumerator"
    """Which forms the enumerator gets on Central (``deploy.forms``)."""


@dataclass(frozen=True)
class AssignmentConfig:
    """How sampled households are shared out among enumerators."""

    area: str | None = None
    mode: str = "psu"
    include_reserve: bool = True
    label: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()


@dataclass(frozen=True)
class QualityConfig:
    """Thresholds of the quality checks (defaults: DOMAIN.md section 3)."""

    near_duplicate_share: float = 0.85
    outlier_iqr_multiplier: float = 1.5
    outlier_sd_multiplier: float = 3.0
    duration_iqr_multiplier: float = 1.5
    gps_outlier_sd: float = 2.0
    gps_cluster_km: float = 0.1
    backcheck_share: float = 0.10
    backcheck_share_max: float = 0.20
    backcheck_error_rate: float = 0.10
    birth_interval_months: int = 9
    mother_child_age_gap: int = 12
    srb_range: tuple[float, float] = (100.0, 115.0)
    interviewer_rho: float = 0.03
    boundary_ages: tuple[int, ...] = (15, 50, 60)
    min_interviews: int = 10
    team_z: float = 3.5
    gps_accuracy_m: float = 50.0
    gps_distance_km: float = 1.0
    night_hours: tuple[int, int] = (22, 6)
    submission_delay_days: float = 7.0
    outlier_min_values: int = 20
    roles: Mapping[str, Any] = field(default_factory=FrozenDict)
    """Which variables play which part (``validation.quality.Roles``), over the defaults."""


@dataclass(frozen=True)
class WeightingTarget:
    """One calibration margin: population totals (or shares) per category of ``variable``."""

    variable: str
    margins: Mapping[str, float] | None = None
    file: Path | None = None
    kind: str = "count"


@dataclass(frozen=True)
class WeightingConfig:
    """How the survey is weighted (``popsurvey weight --survey``) and its calibration targets.

    ``form``: the questionnaire weighted (None: the command needs --form); ``classes``:
    non-response weighting classes; ``selection``: the number of eligible persons the
    respondent was drawn from (None: everyone eligible answers); ``age``: the variable an
    ``age_group`` target is derived from; ``trim``: bounds of the final weights;
    ``replicates``: replicate weights built with the base weights and carried through every
    step (``{"type": "JK1", "n": 50, "seed": 1}``).
    """

    targets: tuple[WeightingTarget, ...] = ()
    form: str | None = None
    classes: tuple[str, ...] = ("stratum",)
    selection: str | None = "n_elig"
    age: str = "c03_age"
    trim: tuple[float, float] | None = None
    replicates: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class SurveyConfig:
    """The whole survey definition. ``raw`` keeps the validated document for later sections."""

    id: str
    title: str
    path: Path
    questionnaires: tuple[Path, ...] = ()
    central: CentralConfig | None = None
    fieldwork: FieldworkConfig | None = None
    codes: CodesConfig = field(default_factory=CodesConfig)
    sample: SampleDesign | None = None
    enumerators: tuple[Enumerator, ...] = ()
    assignment: AssignmentConfig = field(default_factory=AssignmentConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    weighting: WeightingConfig = field(default_factory=WeightingConfig)
    raw: Mapping[str, Any] = field(default_factory=FrozenDict)

    @property
    def directory(self) -> Path:
        """The directory of survey.toml, against which relative paths are resolved."""
        return self.path.parent

    def section(self, name: str) -> Mapping[str, Any]:
        """The validated raw mapping of section ``name`` (empty if absent), for later stages."""
        return self.raw.get(name, FrozenDict())

    def enumerator(self, enumerator_id: str) -> Enumerator | None:
        """The enumerator with this id, or None."""
        return next((e for e in self.enumerators if e.id == enumerator_id), None)


# --- schema ---------------------------------------------------------------------------------


@functools.cache
def load_schema(schema_dir: Path = SCHEMA_DIR) -> dict[str, Any]:
    """The survey.toml JSON Schema: core sections plus every ``sections/*.schema.json``."""
    schema = json.loads((schema_dir / "survey.schema.json").read_text(encoding="utf-8"))
    for path in sorted((schema_dir / "sections").glob("*.schema.json")):
        name = path.name.removesuffix(".schema.json")
        if name in schema["properties"]:
            raise ConfigError(f"{path}: section '{name}' is already defined by the core schema")
        schema["properties"][name] = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def validate_document(
    document: Mapping[str, Any], source: str, schema_dir: Path = SCHEMA_DIR
) -> None:
    """Raise :class:`ConfigError` (one line: file, key path, problem) if ``document`` is invalid."""
    _refuse_credentials(document, source)
    validator = jsonschema.Draft202012Validator(
        load_schema(schema_dir), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(_jsonable(document)), key=_error_order)
    if errors:
        more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
        raise ConfigError(f"{source}: {_describe(errors[0])}{more}")


def _error_order(error: jsonschema.ValidationError) -> tuple[int, str]:
    """Report shallow errors first (a wrong key before what is under it), then by path."""
    return (len(error.absolute_path), _key_path(error.absolute_path))


def _refuse_credentials(document: Mapping[str, Any], source: str) -> None:
    """Credentials in the file are refused with a pointer to where they belong."""
    central = document.get("central")
    if isinstance(central, Mapping):
        for key in central:
            if key.lower() in CREDENTIAL_KEYS:
                raise ConfigError(
                    f"{source}: central.{key}: credentials never go in survey.toml; set "
                    "POPSURVEY_CENTRAL_USER and POPSURVEY_CENTRAL_PASSWORD or point "
                    "central.pyodk_config at a pyodk config file"
                )


def _jsonable(value: Any) -> Any:
    """TOML values as JSON types: dates and times become ISO strings."""
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def _key_path(path: Any) -> str:
    """``sample.stages[1].unit`` from a jsonschema path deque."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _describe(error: jsonschema.ValidationError) -> str:
    """One line for a schema error: key path, then what is wrong in user terms."""
    where = _key_path(error.absolute_path)
    prefix = f"{where}." if where else ""
    if error.validator == "additionalProperties":
        allowed = list(error.schema.get("properties", {}))
        patterns = list(error.schema.get("patternProperties", {}))
        extra = [
            k
            for k in error.instance
            if k not in allowed and not any(re.search(p, k) for p in patterns)
        ]
        key = extra[0] if extra else "?"
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(allowed)}"
        return f"{prefix}{key}: unknown key ({hint})"
    if error.validator == "required":
        match = re.match(r"'(.+)' is a required property", error.message)
        return f"{prefix}{match.group(1) if match else '?'}: required key is missing"
    what = where or "(top level)"
    if error.validator == "enum":
        options = ", ".join(repr(o) for o in error.validator_value)
        return f"{what}: {error.instance!r} is not one of {options}"
    if error.validator == "type":
        wanted = (
            error.validator_value
            if isinstance(error.validator_value, list)
            else [error.validator_value]
        )
        expected = " or ".join(TOML_TYPE_NAMES.get(t, t) for t in wanted)
        return f"{what}: expected {expected}, got {_toml_type(error.instance)} {error.instance!r}"
    if error.validator == "format":
        return f"{what}: {error.instance!r} is not a valid {error.validator_value} (YYYY-MM-DD)"
    if error.validator == "pattern":
        return f"{what}: {error.instance!r} does not match {error.validator_value}"
    return f"{what}: {' '.join(error.message.split())}"


TOML_TYPE_NAMES = {"object": "table", "number": "number", "null": "nothing"}
"""JSON Schema type names as a TOML user knows them."""


def _toml_type(value: Any) -> str:
    """The TOML name of a Python value's type."""
    names = {bool: "boolean", int: "integer", float: "float", str: "string", list: "array"}
    return "table" if isinstance(value, Mapping) else names.get(type(value), type(value).__name__)


# --- loading --------------------------------------------------------------------------------


def read_document(path: str | Path) -> dict[str, Any]:
    """Parse a TOML file; raise :class:`ConfigError` naming the file on any problem."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (run `popsurvey init` to write one)") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path.name}: not valid TOML: {err}") from err
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot read: {err}") from err


def load_config(path: str | Path = CONFIG_FILE) -> SurveyConfig:
    """Read, validate and type ``survey.toml``; raise :class:`ConfigError` on any problem."""
    path = Path(path).absolute()
    document = read_document(path)
    source = path.name
    validate_document(document, source)
    return build_config(document, path)


def build_config(document: Mapping[str, Any], path: Path) -> SurveyConfig:
    """The typed view of a document that passed the schema (semantic checks happen here)."""
    source = path.name
    base = path.parent
    return SurveyConfig(
        id=document["id"],
        title=document["title"],
        path=path,
        questionnaires=tuple(base / q for q in document.get("questionnaires", [])),
        central=_central(document.get("central"), base),
        fieldwork=_fieldwork(document.get("fieldwork"), source),
        codes=_codes(document.get("codes", {})),
        sample=_sample(document.get("sample"), base, source),
        enumerators=_enumerators(document.get("enumerators"), base, source),
        assignment=_assignment(document.get("assignment", {})),
        quality=_quality(document.get("quality", {}), source),
        weighting=_weighting(document.get("weighting", {}), base, source),
        raw=_freeze(_jsonable(document)),
    )


def _freeze(value: Any) -> Any:
    """Deep read-only copy: dicts become FrozenDicts, lists tuples."""
    if isinstance(value, Mapping):
        return FrozenDict({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _central(section: Mapping[str, Any] | None, base: Path) -> CentralConfig | None:
    """The [central] section."""
    if section is None:
        return None
    config = section.get("pyodk_config")
    return CentralConfig(
        url=section["url"].rstrip("/"),
        project_id=section.get("project_id"),
        project_name=section.get("project_name"),
        pyodk_config=(base / Path(config).expanduser()) if config else None,
        entity_list=section.get("entity_list", "households"),
    )


def _as_date(value: Any) -> dt.date:
    """A TOML date or an ISO date string as a date."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _fieldwork(section: Mapping[str, Any] | None, source: str) -> FieldworkConfig | None:
    """The [fieldwork] section: end not before start, a known time zone."""
    if section is None:
        return None
    start, end = _as_date(section["start"]), _as_date(section["end"])
    if end < start:
        raise ConfigError(f"{source}: fieldwork.end: {end} is before fieldwork.start {start}")
    timezone = section.get("timezone", DEFAULT_TIMEZONE)
    try:
        zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{source}: fieldwork.timezone: unknown time zone '{timezone}' (e.g. Asia/Shanghai)"
        ) from None
    reference = section.get("reference_date")
    return FieldworkConfig(start, end, timezone, _as_date(reference) if reference else None)


def _codes(section: Mapping[str, Any]) -> CodesConfig:
    """The [codes] section."""
    defaults = CodesConfig()
    return CodesConfig(
        dont_know=tuple(section.get("dont_know", defaults.dont_know)),
        refused=tuple(section.get("refused", defaults.refused)),
        not_applicable=tuple(section.get("not_applicable", defaults.not_applicable)),
    )


def _sample(section: Mapping[str, Any] | None, base: Path, source: str) -> SampleDesign | None:
    """The [sample] section as a :class:`SampleDesign`, with the cross-key rules checked."""
    if section is None:
        return None
    from surveys.sampling.design import HouseholdDesign, PersonDesign, SampleDesign, StageDesign

    stages = []
    for k, stage in enumerate(section["stages"]):
        if k == 0 and "per_unit" in stage:
            raise ConfigError(
                f"{source}: sample.stages[0].per_unit: the first stage's size comes from "
                "sample.n and the allocation"
            )
        if k > 0 and "per_unit" not in stage:
            raise ConfigError(f"{source}: sample.stages[{k}].per_unit: required key is missing")
        stages.append(
            StageDesign(
                unit=stage["unit"],
                method=stage.get("method", "systematic_pps"),
                per_unit=stage.get("per_unit"),
                label=stage.get("label"),
                sort_by=tuple(stage.get("sort_by", ())),
            )
        )
    allocation = section.get("allocation", "proportional")
    if allocation == "fixed" and "stratum_n" not in section:
        raise ConfigError(f"{source}: sample.stratum_n: required when allocation = 'fixed'")
    if allocation == "neyman" and "stratum_sd" not in section:
        raise ConfigError(f"{source}: sample.stratum_sd: required when allocation = 'neyman'")
    hh = section.get("households", {})
    persons = section.get("persons", {})
    sd = section.get("stratum_sd")
    return SampleDesign(
        frame=base / section["frame"],
        sheet=section.get("sheet"),
        strata=section["strata"],
        size=section["size"],
        n=section["n"],
        stages=tuple(stages),
        allocation=allocation,
        min_per_stratum=section.get("min_per_stratum", 2),
        power_exponent=section.get("power_exponent", 0.5),
        stratum_sd=FrozenDict(sd) if isinstance(sd, Mapping) else sd,
        stratum_n=FrozenDict(section["stratum_n"]) if "stratum_n" in section else None,
        seed=section.get("seed", 1),
        households=HouseholdDesign(
            method=hh.get("method", "systematic"),
            per_psu=hh.get("per_psu", 20),
            reserve=hh.get("reserve", 0),
            listing=base / hh["listing"] if "listing" in hh else None,
            listing_unit=hh.get("listing_unit"),
            listing_id=hh.get("listing_id", "hhid"),
            address=hh.get("address", "address"),
        ),
        persons=PersonDesign(
            method=persons.get("method", "none"), eligible=persons.get("eligible", "")
        ),
    )


def _enumerators(
    section: Mapping[str, Any] | None, base: Path, source: str
) -> tuple[Enumerator, ...]:
    """The roster: inline members, then the roster CSV; IDs must be unique."""
    if section is None:
        return ()
    people = [
        Enumerator(
            id=m["id"],
            name=m["name"],
            area=m["area"],
            team=m.get("team", ""),
            supervisor=m.get("supervisor", ""),
            role=m.get("role", "enumerator"),
        )
        for m in section.get("members", [])
    ]
    if "roster" in section:
        people += read_roster(base / section["roster"])
    seen: set[str] = set()
    for person in people:
        if person.id in seen:
            raise ConfigError(f"{source}: enumerators: duplicate enumerator id '{person.id}'")
        seen.add(person.id)
    return tuple(people)


ROSTER_COLUMNS = ("id", "name", "team", "supervisor", "area", "role")


def read_roster(path: str | Path) -> list[Enumerator]:
    """Read a roster CSV/XLSX (id, name, team, supervisor, area); errors name the row."""
    from surveys.sampling.errors import FrameError
    from surveys.sampling.frame import ROW, id_problems, raise_problems, read_table, require_columns

    path = Path(path)
    try:
        data = read_table(path)
        require_columns(data, ("id", "name", "area"), path.name)
        problems = id_problems(data, "id")
        raise_problems(problems, path.name)
    except FrameError as err:
        raise ConfigError(str(err)) from err
    people = []
    for record in data.to_dict("records"):
        for column in ("name", "area"):
            if not record[column]:
                raise ConfigError(
                    f"{path.name}: row {record[ROW]}: enumerator '{record['id']}': "
                    f"{column} is empty"
                )
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", record["id"]):
            raise ConfigError(
                f"{path.name}: row {record[ROW]}: id '{record['id']}' must be letters, digits, "
                "'_', '-' or '.' (it is the ODK Central app-user name)"
            )
        people.append(
            Enumerator(
                id=record["id"],
                name=record["name"],
                area=record["area"],
                team=record.get("team", ""),
                supervisor=record.get("supervisor", ""),
                role=record.get("role") or "enumerator",
            )
        )
    return people


def _assignment(section: Mapping[str, Any]) -> AssignmentConfig:
    """The [assignment] section."""
    return AssignmentConfig(
        area=section.get("area"),
        mode=section.get("mode", "psu"),
        include_reserve=section.get("include_reserve", True),
        label=tuple(section.get("label", ())),
        properties=tuple(section.get("properties", ())),
    )


def _quality(section: Mapping[str, Any], source: str) -> QualityConfig:
    """The [quality] section over the defaults."""
    values = dict(section)
    if "srb_range" in values:
        low, high = values["srb_range"]
        if low >= high:
            raise ConfigError(f"{source}: quality.srb_range: lower bound must be below upper")
        values["srb_range"] = (float(low), float(high))
    if "boundary_ages" in values:
        values["boundary_ages"] = tuple(values["boundary_ages"])
    if "night_hours" in values:
        values["night_hours"] = tuple(values["night_hours"])
    if "roles" in values:
        values["roles"] = _freeze(values["roles"])
    if values.get("backcheck_share", 0.1) > values.get("backcheck_share_max", 0.2):
        raise ConfigError(
            f"{source}: quality.backcheck_share: larger than quality.backcheck_share_max"
        )
    known = {f.name for f in dataclasses.fields(QualityConfig)}
    return QualityConfig(**{k: v for k, v in values.items() if k in known})


def _weighting(section: Mapping[str, Any], base: Path, source: str) -> WeightingConfig:
    """The [weighting] section: each target has inline margins or a CSV file, not both."""
    targets = []
    for k, target in enumerate(section.get("targets", [])):
        has_margins, has_file = "margins" in target, "file" in target
        if has_margins == has_file:
            raise ConfigError(
                f"{source}: weighting.targets[{k}]: give either 'margins' or 'file' (exactly one)"
            )
        targets.append(
            WeightingTarget(
                variable=target["variable"],
                margins=FrozenDict(target["margins"]) if has_margins else None,
                file=base / target["file"] if has_file else None,
                kind=target.get("kind", "count"),
            )
        )
    trim = section.get("trim")
    if trim is not None and trim[0] > trim[1]:
        raise ConfigError(f"{source}: weighting.trim: the lower bound is above the upper one")
    selection = section.get("selection", "n_elig")
    return WeightingConfig(
        tuple(targets),
        form=section.get("form"),
        classes=tuple(section.get("classes", ["stratum"])),
        selection=selection or None,
        age=section.get("age", "c03_age"),
        trim=tuple(trim) if trim is not None else None,
        replicates=FrozenDict(section["replicates"]) if "replicates" in section else None,
    )
