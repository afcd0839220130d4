"""One export: frames in, labelled files out (every dataset in every format asked, syntax,
codebook, log and provenance), all or nothing."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from exports.checksum import Checksums
from exports.codebook import codebook_markdown, codebook_xlsx
from exports.errors import ExportOptionsError
from exports.keys import arrow_key_rows, key_rows
from exports.options import DesignColumns, ExportOptions
from exports.plan import DatasetPlan, LabelSet, Variable, can_skip, plan_dataset
from exports.relevance import relevance_masks
from exports.syntax import DesignNames, jkn_replicates, spss_csplan, spss_syntax, stata_do
from exports.values import (
    DONT_KNOW,
    REFUSED,
    SKIPPED,
    Column,
    PreparedDataset,
    hash_values,
    new_salt,
    normalise_repeats,
    prepare_dataset,
)
from exports.words import words_for
from exports.writers import (
    write_csv,
    write_dta,
    write_parquet,
    write_sav,
    writers_text,
    writers_used,
)
from forms.codebook import resolve_language
from forms.issues import Issue, Severity
from forms.model import FormModel
from forms.naming import ExportColumn, NameRegistry, dataset_of

Progress = Callable[[int, "int | None"], None]
EXTENSIONS = {"sav": ".sav", "zsav": ".zsav", "dta": ".dta", "csv": ".csv", "parquet": ".parquet"}


@dataclass
class ExportResult:
    """What an export wrote and found."""

    files: list[Path]
    datasets: list[tuple[str, str, int, int]]
    """``(dataset, file stem, rows, variables)`` per dataset written."""
    issues: list[Issue]
    provenance: dict[str, object]
    log: list[str] = field(default_factory=list)

    def checksums(self) -> dict[str, str]:
        """File name -> SHA-256 of every file written (provenance JSON and log excluded)."""
        return {f["name"]: f["sha256"] for f in self.provenance["files"]}  # type: ignore[index]


def export_frames(
    form: FormModel,
    main: pd.DataFrame,
    repeats: Mapping[str, pd.DataFrame],
    out_dir: str | Path,
    options: ExportOptions | None = None,
    design: DesignColumns | None = None,
    *,
    progress: Progress | None = None,
    older: Sequence[FormModel] = (),
) -> ExportResult:
    """Export the store's analysis frames of ``form`` into ``out_dir``.

    ``main``/``repeats`` are :func:`surveys.store.frames.analysis_frames`' frames (or
    :mod:`forms.frames`' layout); ``design`` adds the weights and design variables to every
    dataset. Writes, per dataset (``<form>`` and ``<form>_<repeat>``), one file per format,
    and ``<form>.do``/``.sps`` syntax per dataset, ``<form>_csplan.sps``, the codebook
    (``<form>_codebook.xlsx``/``.md``), ``<form>_export.log`` and
    ``<form>_provenance.json``. Files appear all together or not at all.

    ``older``: the form's earlier versions, newest first: frame columns of questions only
    they have are exported too, labelled from the newest version having each.
    """
    options = options or ExportOptions()
    options.check()
    if design is not None:
        design.check()
    language = resolve_language(form, options.language)
    word = words_for(language)
    texts = {SKIPPED: word("skipped"), DONT_KNOW: "don't know", REFUSED: "refused"}
    stem = options.basename or form.form_id
    repeats = normalise_repeats(main, dict(repeats), form)
    _check_wide(form, options.wide)
    design_labels = _design_labels(design, word)
    main, repeats = _join_design(main, repeats, design)
    issues: list[Issue] = []
    log = [f"form {form.form_id} version {form.version}; language {language}"]
    log += [f"filter: {k}: {v}" for k, v in options.filters.items()]
    if {"sav", "zsav", "dta"} & set(options.formats):
        log.append(f"writer: {writers_text(writers_used(options.writer, options.formats))}")
    if "sav" in options.formats:
        log.append(f"sav compression: {options.sav_compression}")
    names = [None, *(r.name for r in form.repeats)]
    frames = {None: main, **repeats}
    sets: dict[str, LabelSet] = {}
    plans = [
        plan_dataset(
            form,
            name,
            language,
            options.codes,
            design_labels,
            sets,
            older=older,
            present=set(frames[name].columns),
        )
        for name in names
    ]
    # progress in variables: relevance (1), each variable prepared, then written per format
    sizes = {plan.name: len(plan.variables) for plan in plans}
    total = 1 + sum(sizes.values()) * (1 + len(options.formats))
    _tell(progress, 0, total)
    skip_questions = [
        q.name for q in form.elements if q.holds_data and not q.is_structure and can_skip(form, q)
    ]
    masks, relevance_issues = relevance_masks(form, main, repeats, skip_questions, options.today)
    issues += relevance_issues
    done = 1
    _tell(progress, done, total)
    prepared: list[PreparedDataset] = []
    for plan in plans:
        name = plan.name
        start = done
        dataset = prepare_dataset(
            plan,
            frames[name],
            _masks_of(form, name, masks),
            tick=lambda k, start=start: _tell(progress, start + k, total),
        )
        issues += dataset.issues + _unplanned(plan, frames[name], name)
        prepared.append(dataset)
        done = start + sizes[name]
        _tell(progress, done, total)
    salt = options.salt or new_salt()
    pii_log = _apply_pii(prepared, options.pii, salt)
    log.append(pii_log)
    prepared = _reshape_wide(form, prepared, options.wide, word, log)
    design_names = _with_jkn(DesignNames.of(design, _exported_design_names(prepared)), prepared)
    out_dir = Path(out_dir)
    files: list[tuple[str, Path]] = []
    anchor = _existing_dir(out_dir)
    with (
        tempfile.TemporaryDirectory(prefix=".popsurvey-export-", dir=anchor) as staging_dir,
        Checksums() as checksums,
    ):
        staging = Path(staging_dir)
        stems: list[tuple[PreparedDataset, str]] = []
        for dataset in prepared:
            file_stem = stem if dataset.name is None else f"{stem}_{dataset.name}"
            stems.append((dataset, file_stem))
            for fmt in options.formats:
                path = staging / f"{file_stem}{EXTENSIONS[fmt]}"
                share, rows = sizes.get(dataset.name, 0), max(dataset.rows, 1)

                def rows_written(n: int, start: int = done, share: int = share, rows=rows):
                    _tell(progress, min(start + share * n // rows, total), total)

                issues += _write(
                    fmt, dataset, path, form.title, texts, options, rows_written, checksums.open
                )
                checksums.start(path)  # hashed as written (checksums.open) or meanwhile
                files.append((path.name, path))
                done += sizes.get(dataset.name, 0)
                _tell(progress, min(done, total), total)
            files += _syntax_files(
                staging, file_stem, dataset, options, design_names, texts, stem, form.title
            )
        _tell(progress, total, total)
        origins = _origins(design, _exported_design_names(prepared))
        files += _codebooks(staging, stem, stems, options, form, design_names, texts, origins)
        issues = _unique(issues)
        log += [issue.one_line() for issue in issues]
        provenance = _provenance(
            form, language, options, design, stems, files, issues, checksums.digest
        )
        log_path = staging / f"{stem}_export.log"
        log_path.write_text("\n".join(log) + "\n", encoding="utf-8")
        json_path = staging / f"{stem}_provenance.json"
        json_path.write_text(
            json.dumps(provenance, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        files += [(log_path.name, log_path), (json_path.name, json_path)]
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for file_name, path in files:
            target = out_dir / file_name
            os.replace(path, target)
            written.append(target)
    summary = [(d.name or "main", s, d.rows, len(d.columns)) for d, s in stems]
    return ExportResult(written, summary, issues, provenance, log)


def _unplanned(plan: DatasetPlan, frame: pd.DataFrame, name: str | None) -> list[Issue]:
    """A warning naming the frame's columns no form version given has a variable for
    (extra columns of the caller, questions of versions not given)."""
    used = {v.column.source for v in plan.variables}
    multiples = {v.column.source.rsplit("/", 1)[0] for v in plan.variables if v.kind == "dummy"}
    extra = [
        str(c)
        for c in frame.columns
        if c not in used
        and not str(c).startswith("__")
        and not ("/" in str(c) and str(c).rsplit("/", 1)[0] in multiples)
    ]
    if not extra:
        return []
    return [
        Issue(
            "E105",
            Severity.WARNING,
            f"{name or 'main'}: columns of no form version given are not exported: "
            + ", ".join(extra),
        )
    ]


def _tell(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None and done <= total:
        progress(done, total)


def _existing_dir(path: Path) -> Path:
    anchor = path.absolute()
    while not anchor.exists():
        anchor = anchor.parent
    if not anchor.is_dir():
        raise NotADirectoryError(f"{anchor} is not a directory")
    return anchor


def _check_wide(form: FormModel, wide: tuple[str, ...]) -> None:
    for name in wide:
        repeat = form.get(name)
        if repeat is None or not repeat.is_repeat:
            known = ", ".join(r.name for r in form.repeats) or "none"
            raise ExportOptionsError(f"--wide {name}: no such repeat (repeats: {known})")
        if repeat.repeats:
            raise ExportOptionsError(
                f"--wide {name}: only repeats directly in the form can be reshaped wide "
                f"({name} is inside {repeat.repeats[-1].rsplit('/', 1)[1]})"
            )


def _design_labels(design: DesignColumns | None, word) -> dict[str, str]:
    if design is None:
        return {}
    labels = {design.weight: word("weight")}
    for role in ("strata", "psu", "fpc"):
        column = getattr(design, role)
        if column:
            labels[column] = word(role)
    for n, column in enumerate(design.replicates, 1):
        labels[column] = word("replicate", n=n)
    return labels


def _join_design(
    main: pd.DataFrame, repeats: dict[str, pd.DataFrame], design: DesignColumns | None
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    if design is None:
        return main, repeats
    table = design.data.drop_duplicates(design.key).set_index(design.key)[list(design.columns())]
    table.index = table.index.astype(str)

    def joined(frame: pd.DataFrame) -> pd.DataFrame:
        ids = frame["__id"].astype(str)
        rows = arrow_key_rows(table.index, ids)
        if rows is not None and len(rows) and rows.min() >= 0:
            extra = table.take(rows)  # every submission weighted: no reindex by text
        else:
            extra = table.reindex(ids.to_numpy())
        extra.index = frame.index
        keep = frame.drop(columns=[c for c in extra.columns if c in frame.columns])
        return pd.concat([keep, extra], axis=1)

    return joined(main), {name: joined(frame) for name, frame in repeats.items()}


def _masks_of(form: FormModel, dataset: str | None, masks: dict[str, np.ndarray]):
    return {
        name: mask
        for name, mask in masks.items()
        if form.get(name) is not None and dataset_of(form, form[name]) == dataset
    }


def _apply_pii(datasets: list[PreparedDataset], mode: str, salt: str) -> str:
    touched: list[str] = []
    for dataset in datasets:
        kept = []
        for column in dataset.columns:
            question = column.variable.question
            if question is None or not question.pii:
                kept.append(column)
                continue
            touched.append(column.variable.name)
            if mode == "drop":
                continue
            if mode == "hash":
                column.values = hash_values(column.values, salt)
                column.missing = None
                column.variable.kind = "string"
                column.variable.label_set = None
                column.variable.can_skip = False
                column.variable.label += " (salted hash)"
            kept.append(column)
        dataset.columns = kept
    if not touched:
        return "pii: no question is marked pii"
    what = {
        "drop": "dropped",
        "hash": "replaced by a salted SHA-256 hash (salt not stored)",
        "include": "INCLUDED as collected",
    }[mode]
    return f"pii: {', '.join(touched)} {what}"


def _reshape_wide(
    form: FormModel,
    datasets: list[PreparedDataset],
    wide: tuple[str, ...],
    word,
    log: list[str],
) -> list[PreparedDataset]:
    if not wide:
        return datasets
    main = datasets[0]
    registry = NameRegistry()
    for column in main.columns:
        registry.claim(column.variable.name)
    main_ids = pd.Index(next(c.values for c in main.columns if c.variable.column.source == "__id"))
    out = [main]
    for dataset in datasets[1:]:
        if dataset.name not in wide:
            out.append(dataset)
            continue
        by_source = {c.variable.column.source: c for c in dataset.columns}
        rows = key_rows(main_ids, by_source["__parent_key"].values)
        positions = by_source["__position"].values.astype(np.int64)
        most = int(positions.max()) if len(positions) else 0
        for k in range(1, most + 1):
            at = positions == k
            for column in dataset.columns:
                if column.variable.column.role in ("key", "design"):
                    continue
                main.columns.append(_wide_column(column, k, at, rows, main.rows, registry, word))
        log.append(f"wide: {dataset.name} reshaped into the main dataset ({most} positions)")
    return out


def _wide_column(
    column: Column, k: int, at: np.ndarray, rows: np.ndarray, size: int, registry, word
) -> Column:
    old = column.variable
    name = registry.claim(f"{old.name}_{k}")
    new_column = ExportColumn(name, f"{old.column.source}[{k}]", old.column.role, old.question)
    variable = Variable(
        new_column, word("position_of", label=old.label, n=k), old.kind, old.label_set
    )
    variable.can_skip = old.can_skip
    variable.relevance = old.relevance
    numeric = column.values.dtype.kind == "f"
    values = np.full(size, np.nan if numeric else None, dtype=column.values.dtype)
    values[rows[at]] = column.values[at]
    missing = None
    if column.missing is not None:
        missing = np.zeros(size, dtype=np.int8)
        missing[rows[at]] = column.missing[at]
    return Column(variable, values, missing)


def _with_jkn(names: DesignNames, datasets: list[PreparedDataset]) -> DesignNames:
    """JKn designs get each replicate's stratum and multiplier for Stata's svyset."""
    if (names.replicate_type or "").lower() != "jkn" or not (names.strata and names.psu):
        return names
    values = {c.variable.name: c.values for c in datasets[0].columns}
    found = jkn_replicates(
        values[names.weight],
        values[names.strata],
        values[names.psu],
        values.get(names.fpc) if names.fpc else None,
        [values[r] for r in names.replicates],
    )
    if found is None:
        return names
    return replace(names, replicate_strata=found[0], replicate_multipliers=found[1])


def _origins(design: DesignColumns | None, exported: dict[str, str]) -> dict[str, str]:
    """Design column -> where it comes from, for the columns exported."""
    if design is None:
        return {}
    return {c: design.origins[c] for c in design.columns() if c in design.origins and c in exported}


def _exported_design_names(datasets: list[PreparedDataset]) -> dict[str, str]:
    return {
        c.variable.column.source: c.variable.name
        for c in datasets[0].columns
        if c.variable.column.role == "design"
    }


def _write(
    fmt: str,
    dataset: PreparedDataset,
    path: Path,
    title: str,
    texts: dict[int, str],
    options: ExportOptions,
    rows_written: Callable[[int], object] | None = None,
    open_file: Callable[[Path], BinaryIO] | None = None,
) -> list[Issue]:
    label = title if dataset.name is None else f"{title}: {dataset.name}"
    if fmt in ("sav", "zsav"):
        return write_sav(
            dataset,
            path,
            compress=fmt == "zsav",
            file_label=label,
            skipped_text=texts[SKIPPED],
            skip_code=options.codes.skipped,
            writer=options.writer,
            sav_compression=options.sav_compression,
            rows_written=rows_written,
            open_file=open_file,
        )
    if fmt == "dta":
        return write_dta(
            dataset,
            path,
            file_label=label,
            texts=texts,
            writer=options.writer,
            rows_written=rows_written,
            open_file=open_file,
        )
    if fmt == "csv":
        write_csv(dataset, path)
    else:
        write_parquet(dataset, path)
    return []


def _syntax_files(
    staging: Path,
    file_stem: str,
    dataset: PreparedDataset,
    options: ExportOptions,
    design: DesignNames,
    texts: dict[int, str],
    stem: str,
    title: str,
) -> list[tuple[str, Path]]:
    out = []
    if "dta" in options.formats:
        path = staging / f"{file_stem}.do"
        label = title if dataset.name is None else f"{title}: {dataset.name}"
        text = stata_do(dataset, f"{file_stem}.dta", design, texts, label)
        path.write_text(text, encoding="utf-8")
        out.append((path.name, path))
    sav = next((f for f in options.formats if f in ("sav", "zsav")), None)
    if sav:
        plan = f"{stem}_csplan.sps" if design.weight else None
        text = spss_syntax(
            dataset, f"{file_stem}.{sav}", design, texts[SKIPPED], options.codes.skipped, plan
        )
        path = staging / f"{file_stem}.sps"
        path.write_text(text, encoding="utf-8")
        out.append((path.name, path))
        csplan = spss_csplan(f"{file_stem}.{sav}", f"{file_stem}.csaplan", design)
        if csplan:
            path = staging / f"{file_stem}_csplan.sps"
            path.write_text(csplan, encoding="utf-8")
            out.append((path.name, path))
    return out


def _codebooks(
    staging: Path,
    stem: str,
    stems: list[tuple[PreparedDataset, str]],
    options: ExportOptions,
    form: FormModel,
    design: DesignNames,
    texts: dict[int, str],
    origins: dict[str, str],
) -> list[tuple[str, Path]]:
    notes = [
        f"SPSS: don't know and refused keep their codes (user-missing); skipped questions are "
        f"{options.codes.skipped:g} (user-missing, '{texts[SKIPPED]}').",
        "Stata: don't know .d, refused .r, skipped .a; item missing is '.'.",
        "CSV/Parquet: codes kept, skipped and item missing empty.",
        "Text: an empty string is an empty answer or a skipped question (ODK stores both as "
        "empty): the relevance column tells whether the question was asked.",
        "Dates are on the device's clock (the time zone offset ODK records is dropped).",
    ]
    if design.weight:
        notes.append(
            f"Design: weight {design.weight}"
            + (f", strata {design.strata}" if design.strata else "")
            + (f", PSU {design.psu}" if design.psu else "")
            + (f", fpc {design.fpc}" if design.fpc else "")
            + (f", {len(design.replicates)} replicate weights" if design.replicates else "")
        )
    exported = {c.variable.column.source: c.variable.name for d, _ in stems for c in d.columns}
    notes += [f"{exported.get(s, s)}: {origin}" for s, origin in origins.items()]
    skipped = options.codes.skipped
    out = []
    for name, data in (
        (f"{stem}_codebook.xlsx", codebook_xlsx(stems, skipped, form.title, origins)),
        (f"{stem}_codebook.md", codebook_markdown(stems, skipped, form.title, notes, origins)),
    ):
        path = staging / name
        path.write_bytes(data)
        out.append((name, path))
    return out


def _unique(issues: list[Issue]) -> list[Issue]:
    return list(dict.fromkeys(issues))


def _provenance(
    form: FormModel,
    language: str | None,
    options: ExportOptions,
    design: DesignColumns | None,
    stems: list[tuple[PreparedDataset, str]],
    files: list[tuple[str, Path]],
    issues: list[Issue],
    digest: Callable[[Path], str],
) -> dict[str, object]:
    used = writers_used(options.writer, options.formats)
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "form_id": form.form_id,
        "form_version": form.version,
        "language": language,
        "formats": list(options.formats),
        "writer": writers_text(used) if used else None,
        "writers": used,
        "sav_compression": options.sav_compression if "sav" in options.formats else None,
        "pii": options.pii,
        "salt_given": options.salt is not None,
        "wide": list(options.wide),
        "missing_codes": {
            "dont_know": [str(c) for c in options.codes.dont_know],
            "refused": [str(c) for c in options.codes.refused],
            "skipped_spss": options.codes.skipped,
        },
        "filters": options.filters,
        "weighting": design.run if design is not None else None,
        "datasets": [
            {"dataset": d.name or "main", "file": s, "rows": d.rows, "variables": len(d.columns)}
            for d, s in stems
        ],
        "files": [
            {"name": name, "bytes": path.stat().st_size, "sha256": digest(path)}
            for name, path in files
        ],
        "warnings": len([i for i in issues if i.severity != Severity.INFO]),
    }


__all__ = ["DatasetPlan", "ExportResult", "export_frames"]
