"""Back-checks wired to survey.toml, the store and the sample (library:
:mod:`validation.backcheck`).

- draw: the main form's interviews (unit, enumerator, start) and whether any quality flag
  names them; units already drawn (the cumulative entity list in the output folder) or
  already back-checked (the back-check form's submissions in the store) are never drawn
  again. The entity list ``<backcheck_list>.csv`` grows with each draw.
- form: the back-check XLSForm from the questions marked ``bcheck_type`` in the stored
  questionnaire, plus ``[report] backcheck_variables``.
- compare: the back-check form's submissions (pulled like any form) against the originals;
  the workbook ``backcheck.xlsx`` and ``backcheck_enumerators.csv`` (read by ``report``:
  back-check error rates feed the risk score).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from forms.files import write_all_or_nothing
from forms.issues import Issue
from forms.model import FormModel
from surveys.config import SurveyConfig
from surveys.reporting.errors import ReportingError
from surveys.reporting.gather import _form_fields, stored_flags, submission_enumerators
from surveys.reporting.settings import ReportSettings
from surveys.sampling.assignment import entity_uuid
from surveys.store.engine import Store
from surveys.store.frames import analysis_frames
from surveys.store.writer import find_form, form_models
from validation.backcheck import (
    ENTITY_PROPERTIES,
    BackcheckComparison,
    BackcheckVariable,
    backcheck_xlsform,
    compare_backchecks,
    draw_backchecks,
    marked_variables,
)
from validation.report.inputs import OFFSET

ENUMERATOR_RATES = "backcheck_enumerators.csv"
"""Written by ``backcheck compare`` beside the report; read by ``report`` (risk score)."""
RESULTS = "backcheck.xlsx"


@dataclass
class DrawResult:
    """A back-check draw: the units drawn now, the whole entity list, where it was written."""

    drawn: pd.DataFrame
    entities: pd.DataFrame
    path: Path
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for people."""
        reasons = self.drawn["reason"].value_counts() if not self.drawn.empty else {}
        flagged, random = int(reasons.get("flagged", 0)), int(reasons.get("random", 0))
        return (
            f"{len(self.drawn)} unit(s) drawn for back-checks "
            f"({flagged} flagged, {random} at random) "
            f"from {self.drawn['enumerator'].nunique() if not self.drawn.empty else 0} "
            f"enumerator(s); {len(self.entities)} in the entity list {self.path}"
        )


def read_enumerator_rates(directory: Path) -> pd.DataFrame | None:
    """The per-enumerator back-check error rates saved in ``directory``, or None."""
    path = Path(directory) / ENUMERATOR_RATES
    if not path.is_file():
        return None
    table = pd.read_csv(path, dtype={"enumerator": str})
    return table[["enumerator", "error_rate", "compared"]]


def newest_model(store: Store, form_id: str) -> FormModel:
    """The FormModel of the newest stored version of ``form_id``."""
    with store.engine.connect() as conn:
        pk = find_form(conn, form_id)
        models = form_models(conn, pk) if pk is not None else {}
    if not models:
        raise ReportingError(f"form {form_id} has no stored questionnaire: pull or import it first")
    key = max(models, key=lambda v: (int(v), v) if v.isdigit() else (0, v))
    return models[key]


def survey_variables(model: FormModel, settings: ReportSettings) -> list[BackcheckVariable]:
    """The back-check variables: marked in the questionnaire, or in survey.toml."""
    variables = marked_variables(model, settings.backcheck_tolerances, settings.backcheck_variables)
    if not variables:
        raise ReportingError(
            f"{model.form_id}: no question is marked for back-checks: add a bcheck_type column "
            "(1, 2 or 3) to the survey sheet, or [report] backcheck_variables to survey.toml"
        )
    return variables


def original_interviews(store: Store, settings: ReportSettings) -> pd.DataFrame:
    """The main form's interviews: ``instance_id``, ``enumerator``, ``unit``, ``start``,
    whether an error or warning flag names them (``flagged``), and every answer column."""
    frames = analysis_frames(store, settings.form)
    main = frames.main
    if settings.unit not in main:
        raise ReportingError(
            f"form {settings.form} has no question '{settings.unit}' ([report] unit names the "
            "sampled unit's id)"
        )
    fields = _form_fields(store, settings.form)
    enumerator_of = submission_enumerators(store, settings.form)
    flags = stored_flags(store, settings.form)
    serious = flags[flags["severity"].isin(["error", "warning"])]
    flagged = set(serious["instance_id"].dropna())
    start = main[fields["start"]] if fields["start"] else main["submission_date"]
    local = start.astype("object").map(lambda v: OFFSET.sub("", v) if isinstance(v, str) else v)
    meta = pd.DataFrame(
        {
            "instance_id": main["__id"],
            "enumerator": main["__id"].map(enumerator_of),
            "unit": main[settings.unit]
            .astype("object")
            .map(lambda v: None if pd.isna(v) else str(v)),
            "start": pd.to_datetime(local, errors="coerce", format="mixed"),
            "flagged": main["__id"].isin(flagged),
        },
        index=main.index,
    )
    return pd.concat([meta, main.drop(columns=list(meta.columns), errors="ignore")], axis=1)


def backchecked_units(store: Store, settings: ReportSettings) -> set[str]:
    """Units with a back-check submission in the store (none when the form is not there)."""
    with store.engine.connect() as conn:
        if find_form(conn, settings.backcheck_form) is None:
            return set()
    frame = analysis_frames(store, settings.backcheck_form).main
    if "bc_orig_unit" not in frame:
        return set()
    return {str(u) for u in frame["bc_orig_unit"].dropna()}


def draw_sample(
    store: Store,
    config: SurveyConfig,
    settings: ReportSettings,
    out_dir: Path,
    *,
    seed: int,
    share: float | None = None,
    share_max: float | None = None,
) -> DrawResult:
    """Draw today's back-checks and write the cumulative entity list (module doc)."""
    interviews = original_interviews(store, settings)
    path = Path(out_dir) / f"{settings.backcheck_list}.csv"
    previous = (
        pd.read_csv(path, dtype=str, keep_default_na=False)
        if path.is_file()
        else pd.DataFrame(columns=["name", "label", *ENTITY_PROPERTIES])
    )
    done = set(previous["unit"]) | backchecked_units(store, settings)
    fieldwork = config.fieldwork
    drawn = draw_backchecks(
        interviews[
            [
                "instance_id",
                "enumerator",
                "unit",
                "start",
                "flagged",
                *(["psu"] if "psu" in interviews else []),
            ]
        ],
        share=share or config.quality.backcheck_share,
        share_max=share_max or config.quality.backcheck_share_max,
        first_days=settings.backcheck_first_days,
        fieldwork_start=fieldwork.start if fieldwork else None,
        done_units=done,
        seed=seed,
    )
    entities = pd.concat([previous, entity_rows(drawn, config.id)], ignore_index=True)
    write_all_or_nothing(out_dir, {path.name: entities.to_csv(index=False).encode("utf-8")})
    return DrawResult(drawn, entities, path)


def entity_rows(drawn: pd.DataFrame, survey_id: str) -> pd.DataFrame:
    """The back-check entity list rows of the drawn interviews (stable entity names)."""
    # version 4 UUIDs, as Central requires, distinct from the households' own entities
    names = [entity_uuid(f"backchecks/{survey_id}", u) for u in drawn["unit"]]
    dates = pd.to_datetime(drawn["start"], errors="coerce").dt.strftime("%Y-%m-%d").fillna("")
    return pd.DataFrame(
        {
            "name": names,
            "label": [
                f"{u} ({e})" for u, e in zip(drawn["unit"], drawn["enumerator"], strict=True)
            ],
            "unit": drawn["unit"].astype(str).to_numpy(),
            "enumerator": drawn["enumerator"].astype(str).to_numpy(),
            "instance_id": drawn["instance_id"].astype(str).to_numpy(),
            "interview_date": dates.to_numpy(),
            "psu": drawn["psu"].astype(str).to_numpy() if "psu" in drawn else "",
            "reason": drawn["reason"].to_numpy(),
        }
    )


def write_form(
    store: Store, settings: ReportSettings, out: Path, version: str | None = None
) -> tuple[Path, list[Issue]]:
    """Write the back-check XLSForm generated from the stored questionnaire."""
    model = newest_model(store, settings.form)
    variables = survey_variables(model, settings)
    data, issues = backcheck_xlsform(
        model,
        variables,
        list_name=settings.backcheck_list,
        form_id=settings.backcheck_form,
        version=version or dt.date.today().strftime("%Y%m%d"),
    )
    written = write_all_or_nothing(out.parent, {out.name: data})
    return written[0], issues


def compare(
    store: Store, settings: ReportSettings, out_dir: Path
) -> tuple[BackcheckComparison, list[Path]]:
    """Compare the stored back-checks with the originals; write the workbook and the
    per-enumerator rates (module doc)."""
    model = newest_model(store, settings.form)
    variables = survey_variables(model, settings)
    with store.engine.connect() as conn:
        if find_form(conn, settings.backcheck_form) is None:
            raise ReportingError(
                f"no back-check submissions in the store: pull the form {settings.backcheck_form}"
            )
    originals = original_interviews(store, settings).sort_values("start")
    checks = analysis_frames(store, settings.backcheck_form).main
    enumerator_of = submission_enumerators(store, settings.backcheck_form)
    checks = checks.assign(
        unit=checks.get("bc_orig_unit"),
        backchecker=checks.get("backchecker", checks["__id"].map(enumerator_of)).fillna(
            checks["__id"].map(enumerator_of)
        ),
    )
    found = checks["bc_found"].astype(str).isin(["1", "1.0"]) if "bc_found" in checks else True
    expected = _drawn_units(out_dir, settings)
    result = compare_backchecks(
        originals,
        checks[found],
        variables,
        expected_units=expected,
    )
    paths = write_all_or_nothing(
        out_dir,
        {
            RESULTS: _workbook(result),
            ENUMERATOR_RATES: result.enumerator_rates().to_csv(index=False).encode("utf-8"),
        },
    )
    return result, paths


def _drawn_units(out_dir: Path, settings: ReportSettings) -> list[str] | None:
    path = Path(out_dir) / f"{settings.backcheck_list}.csv"
    if not path.is_file():
        return None
    return list(pd.read_csv(path, dtype=str, keep_default_na=False)["unit"])


def _workbook(result: BackcheckComparison) -> bytes:
    """The comparison as bcstats users know it: enumerator, back-checker and variable
    statistics, then every difference."""
    import io

    buffer = io.BytesIO()
    differences = result.comparisons[result.comparisons["different"]]
    issues = pd.DataFrame(
        [i.to_dict() for i in result.issues], columns=["code", "severity", "message"]
    )
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        for name, table in (
            ("enumerator stats", result.by_enumerator),
            ("backchecker stats", result.by_backchecker),
            ("variable stats", result.by_variable),
            ("differences", differences),
            ("issues", issues[["code", "severity", "message"]]),
        ):
            table.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            sheet.freeze_panes(1, 0)
            sheet.autofilter(0, 0, max(len(table), 1), max(len(table.columns) - 1, 0))
            sheet.set_column(0, max(len(table.columns) - 1, 0), 16)
    return buffer.getvalue()
