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
    write_example(survey_dir, force=True)
    config = load_config(survey_dir / CONFIG_FILE)
    drawn = draw_configured_sample(config, synthetic_listing=True, seed=run.seed)
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


def weighting_stage(run: DemoRun) -> StageReport:
    """Weight the simulated fertility survey (base weights 1 / pi_household from the sample,
    non-response adjustment within strata, times the number of eligible women, raking to the
    survey.toml margins) and estimate TFR, ASFRs, SRB, CPR and pre-pregnancy check coverage
    with their standard errors and 95% intervals."""
    from surveys.analysis import (
        fertility_estimates,
        household_design,
        rake_to_config,
        respondent_design,
        sampled_households,
    )

    config = run.products["config"]
    frames = run.products["frames"]
    households, issues = household_design(
        sampled_households(run.out_dir / "survey" / "sample"), frames.main
    )
    women = respondent_design(households, classes="stratum", selection="n_elig")
    if config.weighting.targets:
        women = rake_to_config(women, config.weighting)
        raking = f"raked to {', '.join(t.variable for t in config.weighting.targets)}"
    else:
        raking = "no [weighting] targets in survey.toml: not raked"
    table, fertility_issues = fertility_estimates(women, frames.repeats["d_hist"])
    columns = ["hhid", "stratum", "psu", "__id", "base_weight", "n_elig", women.weight_column]
    estimates_path, weights_path = write_all_or_nothing(
        run.out_dir,
        {
            "estimates.csv": table.to_csv(index=False).encode("utf-8"),
            "weights.csv": women.frame()[columns].to_csv(index=False).encode("utf-8"),
        },
    )
    run.products.update(weights=women, estimates=table)
    row = table.set_index("indicator")
    tfr, srb, cpr = row.loc["TFR"], row.loc["SRB"], row.loc["CPR"]
    outcomes = households.data["outcome"].value_counts()
    lines = [
        f"{women.n} women weighted from {households.n} sampled households "
        f"({int(outcomes.get('respondent', 0))} responding, "
        f"{int(outcomes.get('nonrespondent', 0))} non-responding, "
        f"{int(outcomes.get('ineligible', 0))} ineligible, "
        f"{int(outcomes.get('unknown', 0))} of unknown eligibility); {raking}; "
        f"TFR {tfr.estimate:.2f} ± {tfr.se:.2f}, SRB {srb.estimate:.1f} ± {srb.se:.1f}, "
        f"CPR {100 * cpr.estimate:.1f}% ± {100 * cpr.se:.1f}",
        f"    {'indicator':<22}{'estimate':>10}{'SE':>10}{'95% CI':>22}{'n':>6}",
    ]
    for r in table.itertuples():
        lines.append(
            f"    {r.indicator:<22}{r.estimate:>10.4f}{r.se:>10.4f}"
            f"{f'[{r.ci_low:.4f}, {r.ci_high:.4f}]':>22}{r.n:>6}"
        )
    lines += [f"    {issue.one_line()}" for issue in issues + fertility_issues]
    return StageReport("weighting", "\n".join(lines), (estimates_path, weights_path))


DEMO_STAGES: list[Stage] = [
    questionnaires_stage,
    sample_stage,
    fieldwork_stage,
    store_stage,
    validation_stage,
    weighting_stage,
]
"""The stages `popsurvey demo` runs, in order."""


def run_demo(
    out_dir: Path,
    *,
    seed: int = 20261122,
    validate: bool = True,
    on_stage: Callable[[StageReport], None] | None = None,
) -> list[StageReport]:
    """Run every demo stage into ``out_dir``; ``on_stage`` is called after each one."""
    run = DemoRun(out_dir=out_dir, seed=seed, validate=validate)
    reports = []
    for stage in DEMO_STAGES:
        report = stage(run)
        reports.append(report)
        if on_stage is not None:
            on_stage(report)
    return reports
