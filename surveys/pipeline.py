"""The demo pipeline: every stage that exists, run on the bundled questionnaires.

Each stage is a small function registered in :data:`DEMO_STAGES` that reads what earlier
stages left in the :class:`DemoRun` and returns a :class:`StageReport` (one summary line and
the paths it wrote). Later stages add themselves to the list.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forms.build import build_form, write_all_or_nothing
from forms.questionnaires import NAMES, bundled_questionnaire


@dataclass
class DemoRun:
    """Where the demo writes and what its stages have produced so far."""

    out_dir: Path
    seed: int = 20261122
    validate: bool = True
    products: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StageReport:
    """What one stage did: a title, a one-line summary and the files it wrote."""

    title: str
    summary: str
    paths: tuple[Path, ...] = ()


Stage = Callable[[DemoRun], StageReport]


def questionnaires_stage(run: DemoRun) -> StageReport:
    """Check and build the bundled questionnaires: XForm, FormModel JSON, zh/en codebooks."""
    forms_dir = run.out_dir / "forms"
    written: list[Path] = []
    notes = []
    for name in NAMES:
        result = build_form(
            bundled_questionnaire(name),
            validate=run.validate,
            codebook_formats=("md", "html", "xlsx"),
            language="zh",
        )
        outputs = dict(result.outputs)
        english = build_english_codebooks(result.form)
        outputs.update(english)
        written += write_all_or_nothing(forms_dir, outputs)
        run.products.setdefault("forms", {})[name] = result.form
        notes.append(
            f"{result.form.form_id} v{result.form.version}: "
            f"{sum(q.holds_data for q in result.form.questions)} variables, "
            f"{len(result.warnings)} warnings, ODK Validate {result.validate.value}"
        )
    return StageReport("questionnaires", "; ".join(notes), tuple(written))


def build_english_codebooks(form: Any) -> dict[str, bytes]:
    """English codebooks (md, html) to go beside the default-language ones."""
    from forms.codebook import render_codebook, resolve_language

    language = resolve_language(form, "en")
    return {
        f"{form.form_id}.codebook.en.{fmt}": render_codebook(form, language=language, fmt=fmt)
        for fmt in ("md", "html")
    }


def sample_stage(run: DemoRun) -> StageReport:
    """Write the example survey.toml for Qingshan, draw its sample from a synthetic listing,
    and assign households to enumerators (the entity list for ODK Central)."""
    from surveys.config import CONFIG_FILE, load_config
    from surveys.example import write_example
    from surveys.sampling.workflow import assign_configured_sample, draw_configured_sample

    survey_dir = run.out_dir / "survey"
    write_example(survey_dir, force=True, seed=run.seed)  # survey.toml says the seed used
    config = load_config(survey_dir / CONFIG_FILE)
    drawn = draw_configured_sample(config, synthetic_listing=True)
    assigned = assign_configured_sample(config)
    run.products.update(config=config, sample=drawn.sample, assignment=assigned.assigned)
    run.products["entity_list"] = assigned.entity_list
    psus = drawn.sample.psu_probabilities
    households = drawn.sample.households
    summary = (
        f"{int(psus['selected'].sum())} PSUs in {len(drawn.sample.allocation)} strata, "
        f"{int((households['role'] == 'main').sum())} households (+ reserves) assigned to "
        f"{assigned.assigned['enumerator'].nunique()} enumerators"
    )
    return StageReport(
        "sample", summary, (survey_dir / CONFIG_FILE, drawn.directory, assigned.entity_list)
    )


def fieldwork_stage(run: DemoRun) -> StageReport:
    """Simulate the fieldwork of the fertility survey: Central-shaped OData pages, audit
    logs and the ground truth of the problems planted by dishonest enumerator profiles."""
    from surveys.simulate import simulate_survey

    form = run.products["forms"]["fertility"]
    sim_dir = run.out_dir / "fieldwork"
    result = simulate_survey(
        run.products["config"], run.products["assignment"], form, sim_dir, seed=run.seed
    )
    run.products.update(simulation=result, fieldwork_dir=sim_dir)
    dishonest = sorted({p for p in result.profiles.values() if p != "honest"})
    summary = (
        f"{len(result.submissions)} submissions by {len(result.profiles)} enumerators "
        f"({len(dishonest)} planted problem profiles: {', '.join(dishonest) or 'none'})"
    )
    return StageReport("fieldwork", summary, (sim_dir,))


def store_stage(run: DemoRun) -> StageReport:
    """Import the simulated fieldwork into the embedded SQLite store (the offline import
    path, exactly as a Central export would go) and build the analysis frames."""
    from surveys.importers import import_json_pages
    from surveys.store import open_store
    from surveys.store.frames import analysis_frames

    db_path = run.out_dir / "popsurvey.db"
    db_path.unlink(missing_ok=True)
    form = run.products["forms"]["fertility"]
    with open_store(f"sqlite:///{db_path}") as store:
        imported = import_json_pages(store, run.products["fieldwork_dir"], form.form_id, form)
        frames = analysis_frames(store, form.form_id)
    run.products.update(db=f"sqlite:///{db_path}", frames=frames)
    repeats = ", ".join(f"{name}: {len(table)} rows" for name, table in frames.repeats.items())
    summary = f"{imported.summary()}; frames: {len(frames.main)} submissions, {repeats}"
    return StageReport("store", summary, (db_path,))


def validation_stage(run: DemoRun) -> StageReport:
    """Validate every stored submission against its form version's JSON Schema and the
    form's own logic (the households entity list given as the form's households.csv);
    issues go to the store's validation_issues."""
    import csv

    from surveys.store import open_store
    from surveys.store.issues import submissions_with_errors
    from surveys.validate import validate_form

    form = run.products["forms"]["fertility"]
    with open(run.products["entity_list"], encoding="utf-8-sig", newline="") as handle:
        households = list(csv.DictReader(handle))
    with open_store(run.products["db"]) as store:
        summary = validate_form(store, form.form_id, attachments={"households.csv": households})
        errors = submissions_with_errors(store, form.form_id)
    codes: dict[str, int] = {}
    for _, issue, _ in summary.issues:
        codes[issue.code] = codes.get(issue.code, 0) + 1
    run.products["submissions_with_errors"] = errors
    by_code = ", ".join(f"{code} {n}" for code, n in sorted(codes.items())) or "no issues"
    return StageReport("validation", f"{summary.line()} ({by_code})")


def quality_stage(run: DemoRun) -> StageReport:
    """Quality control per enumerator on the stored fieldwork (``popsurvey qc``): every flag
    to CSV/JSON, the risk ranking, and how it compares with the planted problems."""
    from surveys.quality import run_store_qc, write_outputs
    from surveys.store import open_store

    form = run.products["forms"]["fertility"]
    with open_store(run.products["db"]) as store:
        result = run_store_qc(store, form.form_id, run.products["config"])
    paths = write_outputs(result, run.out_dir / "qc")
    profiles = run.products["simulation"].profiles
    flagged = set(result.ranking.loc[result.ranking["flagged"], "enumerator"])
    planted = {e for e, p in profiles.items() if p != "honest"}
    honest = set(profiles) - planted
    summary = (
        f"{len(result.flags)} flags; {len(flagged)} of {len(result.ranking)} enumerators "
        f"flagged: {len(flagged & planted)} of {len(planted)} with a planted problem, "
        f"{len(flagged & honest)} of {len(honest)} honest"
    )
    lines = [summary]
    for row in result.ranking[result.ranking["flagged"]].itertuples():
        lines.append(
            f"    {row.enumerator} ({profiles.get(row.enumerator, '?')}): {row.reasons_en}"
        )
    return StageReport("quality", "\n".join(lines), tuple(paths))


def weighting_stage(run: DemoRun) -> StageReport:
    """Weight the simulated fertility survey as `popsurvey weight --survey` does (base
    weights 1 / pi_household from the sample, non-response adjustment within strata, times
    the number of eligible women, raking to the survey.toml margins), keep the run in the
    store, and estimate TFR, ASFRs, GFR, SRB, CPR and pre-pregnancy check coverage from the
    stored weights as `popsurvey estimate --survey` does."""
    survey_dir = run.out_dir / "survey"
    table, weighted, found = weight_and_estimate(run, survey_dir)
    columns = ["hhid", "stratum", "psu", "__id", "base_weight", "n_elig"]
    women = weighted.respondents
    written = _write_outputs(
        run,
        {
            "estimates.csv": _readable_csv(table),
            "weights.csv": women.frame()[[*columns, women.weight_column]],
        },
    )
    run.products.update(weights=women, estimates=table)
    row = table.set_index("indicator")
    tfr, srb, cpr = row.loc["TFR"], row.loc["SRB"], row.loc["CPR"]
    lines = [
        f"{_weighting_line(found)}; "
        f"TFR {tfr.estimate:.2f} ± {tfr.se:.2f}, SRB {srb.estimate:.1f} ± {srb.se:.1f}, "
        f"CPR {100 * cpr.estimate:.1f}% ± {100 * cpr.se:.1f}",
        *_table_lines(table),
        *(f"    {line}" for line in found["issues"]),
    ]
    return StageReport("weighting", "\n".join(lines), written)


def migrant_survey_stage(run: DemoRun) -> StageReport:
    """The migrant survey through every stage, on its own design (survey_migrants/): draw
    villages and neighbourhoods by their migrant counts and the migrant households listed
    in them, assign, simulate the fieldwork with the migrants questionnaire (one migrant
    answers per household), import into the store, weight (non-response within strata,
    raking to the floating population's province, sex and age margins) and estimate the
    service indicators (health record, family doctor, health education, migrant women's
    contraception and pre-pregnancy check) from the stored weights."""
    from surveys.config import CONFIG_FILE, load_config
    from surveys.example import write_example
    from surveys.importers import import_json_pages
    from surveys.sampling.workflow import assign_configured_sample, draw_configured_sample
    from surveys.simulate import simulate_survey
    from surveys.store import open_store

    survey_dir = run.out_dir / "survey_migrants"
    seed = run.seed + 1
    write_example(survey_dir, force=True, seed=seed, survey="migrants")
    config = load_config(survey_dir / CONFIG_FILE)
    drawn = draw_configured_sample(config, synthetic_listing=True)
    assigned = assign_configured_sample(config)
    form = run.products["forms"]["migrants"]
    sim_dir = run.out_dir / "fieldwork_migrants"
    result = simulate_survey(config, assigned.assigned, form, sim_dir, seed=seed)
    with open_store(run.products["db"]) as store:
        imported = import_json_pages(store, sim_dir, form.form_id, form)
    table, weighted, found = weight_and_estimate(run, survey_dir)
    migrants = weighted.respondents
    columns = ["hhid", "stratum", "psu", "__id", "base_weight", migrants.weight_column]
    written = _write_outputs(
        run,
        {
            "estimates_migrants.csv": _readable_csv(table),
            "weights_migrants.csv": migrants.frame()[columns],
        },
    )
    households = drawn.sample.households
    lines = [
        f"{int((households['role'] == 'main').sum())} migrant households in "
        f"{households['psu'].nunique()} villages/neighbourhoods; {len(result.submissions)} "
        f"submissions; {imported.summary()}",
        f"    {_weighting_line(found)}",
        *_table_lines(table),
        *(f"    {line}" for line in found["issues"]),
    ]
    return StageReport(
        "migrant survey", "\n".join(lines), (survey_dir / CONFIG_FILE, sim_dir, *written)
    )


def weight_and_estimate(run: DemoRun, survey_dir: Path) -> tuple[Any, Any, dict]:
    """Weight the survey of ``survey_dir`` on the demo's store and estimate its indicators
    from the stored weights: the commands' own library calls."""
    from surveys.config import CONFIG_FILE, load_config
    from surveys.sampling.workflow import sample_directory
    from surveys.store import open_store
    from surveys.survey_weighting import run_weighting, stored_design, survey_indicators

    config = load_config(survey_dir / CONFIG_FILE)
    form_id = config.weighting.form
    sample_dir = sample_directory(config, None)
    with open_store(run.products["db"]) as store:
        weighted, found = run_weighting(store, form_id, sample_dir, config.weighting)
        design, _, frames = stored_design(store, form_id, sample_dir)
    table, issues = survey_indicators(design, frames)
    found["issues"] += [issue.one_line() for issue in issues]
    return table, weighted, found


def _weighting_line(found: dict) -> str:
    outcomes = found["outcomes"]
    return (
        f"{found['respondents']} respondents weighted from {found['sampled households']} "
        f"sampled households ({outcomes.get('respondent', 0)} responding, "
        f"{outcomes.get('nonrespondent', 0)} non-responding, "
        f"{outcomes.get('ineligible', 0)} ineligible, "
        f"{outcomes.get('unknown', 0)} of unknown eligibility); design effect due to "
        f"weighting {found['deff due to weighting (Kish)']:.2f}"
    )


def _table_lines(table: Any) -> list[str]:
    lines = [f"    {'indicator':<36}{'estimate':>10}{'SE':>10}{'95% CI':>22}{'n':>6}"]
    for r in table.itertuples():
        note = f"  ({r.note})" if getattr(r, "note", "") else ""
        lines.append(
            f"    {r.indicator:<36}{r.estimate:>10.4f}{r.se:>10.4f}"
            f"{f'[{r.ci_low:.4f}, {r.ci_high:.4f}]':>22}{r.n:>6}{note}"
        )
    return lines


def _readable_csv(table: Any) -> Any:
    """Estimates rounded to 6 significant digits: a file people read."""
    from surveys.survey_weighting import rounded

    return rounded(table)


def _write_outputs(run: DemoRun, tables: dict[str, Any]) -> tuple[Path, ...]:
    return tuple(
        write_all_or_nothing(
            run.out_dir,
            {name: t.to_csv(index=False).encode("utf-8") for name, t in tables.items()},
        )
    )


def export_stage(run: DemoRun) -> StageReport:
    """Export the weighted fertility survey as labelled .sav and .dta (main table and one file
    per repeat), with the do-file, SPSS syntax, codebook and provenance."""
    from exports import ExportOptions
    from surveys.exporting import codes_from_config, export_from_store
    from surveys.store import open_store

    form = run.products["forms"]["fertility"]
    out = run.out_dir / "export"
    options = ExportOptions(formats=("sav", "dta"), codes=codes_from_config(run.products["config"]))
    with open_store(run.products["db"]) as store:  # as `popsurvey export`: the stored weights
        result = export_from_store(store, form.form_id, out, options)
    datasets = ", ".join(f"{stem}: {rows} rows x {n}" for _, stem, rows, n in result.datasets)
    run_info = result.provenance.get("weighting") or {}
    weights = f"weighting run {run_info.get('id', '?')}" if run_info else "no weights"
    summary = f"{datasets}; {len(result.issues)} warnings; {weights}"
    return StageReport("export", summary, (out,))


def report_stage(run: DemoRun) -> StageReport:
    """Write the survey manager's daily report from the store (the quality flags, the
    sample's progress, paradata, SRB and age heaping), in Chinese and English."""
    from surveys.reporting.gather import report_inputs
    from surveys.reporting.settings import report_settings
    from surveys.store import open_store
    from validation.report import write_report

    config = run.products["config"]
    with open_store(run.products["db"]) as store:
        inputs = report_inputs(
            store, config, report_settings(config), sample_dir=run.out_dir / "survey" / "sample"
        )
    written = []
    for language in ("zh", "en"):
        files = write_report(inputs, run.out_dir / "reports", language)
        written += [files.html, files.workbook, files.summary]
    totals = files.report.totals
    summary = (
        f"{totals['interviews']} interviews, {totals['flags']} flags on "
        f"{totals['flagged_interviews']} interviews; riskiest: "
        f"{files.report.enumerators['enumerator'].iloc[0]}"
    )
    return StageReport("report", summary, tuple(written))


DEMO_STAGES: list[Stage] = [
    questionnaires_stage,
    sample_stage,
    fieldwork_stage,
    store_stage,
    validation_stage,
    quality_stage,
    weighting_stage,
    migrant_survey_stage,
    export_stage,
    report_stage,
]
"""The stages `popsurvey demo` runs, in order."""


def run_demo(
    out_dir: Path,
    *,
    seed: int = 20261122,
    validate: bool = True,
    on_stage: Callable[[StageReport], None] | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> list[StageReport]:
    """Run every demo stage into ``out_dir``; ``on_stage`` is called after each one,
    ``progress(stages done, stages)`` before each one and at the end."""
    run = DemoRun(out_dir=out_dir, seed=seed, validate=validate)
    reports = []
    for done, stage in enumerate(DEMO_STAGES):
        if progress is not None:
            progress(done, len(DEMO_STAGES))
        report = stage(run)
        reports.append(report)
        if on_stage is not None:
            on_stage(report)
    if progress is not None:
        progress(len(DEMO_STAGES), len(DEMO_STAGES))
    return reports
