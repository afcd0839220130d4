"""Writing a simulation to disk in the layout ``popsurvey import`` reads.

::

    <out>/pages/<formId>/page-0001.json   {"value": [...], "@odata.nextLink": "..."}
    <out>/audits/<instanceID with ':' as '-'>/audit.csv
    <out>/ground_truth/<formId>.csv and .json   planted problems per enumerator
    <out>/ground_truth/<formId>.changes.csv     answer changes written into the audit logs

Every file is written to a temporary name and renamed, and pages are written last, so an
interrupted run never leaves a half page that looks complete.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from forms.files import safe_file_name, write_atomic
from surveys.simulate.fieldwork import SimulationResult

PAGE_SIZE = 1000


def audit_folder(instance_id: str) -> str:
    """The folder name of a submission's audit (``uuid:...`` -> ``uuid-...``), always one
    safe file name (:func:`forms.files.safe_file_name`) whatever the instance ID holds."""
    return safe_file_name(instance_id.replace(":", "-"), limit=200)


def form_folder(form_id: str) -> str:
    """The file name a form id is written under (the form id as a safe file name)."""
    return safe_file_name(form_id)


def _write_truth(out_dir: Path, form_id: str, truth: list[dict]) -> list[Path]:
    """ground_truth/<formId>.json (per enumerator) and .csv (one row per instance)."""
    json_path = out_dir / "ground_truth" / f"{form_folder(form_id)}.json"
    write_atomic(json_path, json.dumps(truth, ensure_ascii=False, indent=1).encode())
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["enumerator", "profile", "instance_id", "planted"])
    for row in truth:
        if not row["instance_ids"]:
            writer.writerow([row["enumerator"], row["profile"], "", row["planted"]])
        for instance_id in row["instance_ids"]:
            writer.writerow(
                [row["enumerator"], row["profile"], instance_id, row["details"][instance_id]]
            )
    csv_path = out_dir / "ground_truth" / f"{form_folder(form_id)}.csv"
    write_atomic(csv_path, buffer.getvalue().encode())
    return [json_path, csv_path]


def _write_changes(out_dir: Path, form_id: str, changes: list[tuple]) -> Path:
    """ground_truth/<formId>.changes.csv: every answer change written into an audit log."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["instance_id", "enumerator", "node", "old_value", "new_value"])
    writer.writerows(changes)
    path = out_dir / "ground_truth" / f"{form_id}.changes.csv"
    write_atomic(path, buffer.getvalue().encode())
    return path


def write_simulation(
    result: SimulationResult, out_dir: Path, *, page_size: int = PAGE_SIZE
) -> list[Path]:
    """Write pages, audits and the ground truth under ``out_dir``; returns the files."""
    form_id = result.form.form_id
    written: list[Path] = [_write_changes(out_dir, form_id, result.changes)]
    for instance_id, text in result.audits.items():
        path = out_dir / "audits" / audit_folder(instance_id) / "audit.csv"
        write_atomic(path, text.encode())
        written.append(path)
    written += _write_truth(out_dir, form_id, result.ground_truth())
    pages = [
        result.submissions[i : i + page_size] for i in range(0, len(result.submissions), page_size)
    ] or [[]]
    for number, records in enumerate(pages, start=1):
        page: dict = {"value": records}
        if number < len(pages):
            page["@odata.nextLink"] = (
                f"Submissions?$expand=*&$top={page_size}&$skiptoken=page-{number + 1:04d}"
            )
        path = out_dir / "pages" / form_folder(form_id) / f"page-{number:04d}.json"
        write_atomic(path, json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode())
        written.append(path)
    return written


@dataclass
class WriteSummary:
    """What :func:`simulate_to_directory` wrote."""

    form_id: str
    submissions: int = 0
    audits: int = 0
    planted: int = 0
    issues: list = field(default_factory=list)
    pages: int = 0
    timings: dict[str, float] = field(default_factory=dict)


class PageWriter:
    """Writes records as OData pages, one page at a time (``@odata.nextLink`` on every
    page but the last)."""

    def __init__(self, out_dir: Path, form_id: str, page_size: int = PAGE_SIZE) -> None:
        self.folder = out_dir / "pages" / form_folder(form_id)
        self.page_size = page_size
        self.pending: list[str] = []
        self.number = 0

    def add(self, encoded: list[str]) -> None:
        """Add JSON-encoded records; full pages are written once a later record exists."""
        self.pending.extend(encoded)
        while len(self.pending) > self.page_size:
            self.write_atomic(self.pending[: self.page_size], last=False)
            del self.pending[: self.page_size]

    def close(self) -> int:
        """Write the last page; returns the number of pages."""
        self.write_atomic(self.pending, last=True)
        self.pending = []
        return self.number

    def write_atomic(self, records: list[str], last: bool) -> None:
        self.number += 1
        link = ""
        if not last:
            link = (
                f',"@odata.nextLink":"Submissions?$expand=*&$top={self.page_size}'
                f'&$skiptoken=page-{self.number + 1:04d}"'
            )
        text = '{"value":[' + ",".join(records) + "]" + link + "}"
        write_atomic(self.folder / f"page-{self.number:04d}.json", text.encode())


def enumerator_chunks(table, chunk_size: int) -> list:
    """Households cut into chunks of whole enumerators (in enumerator order), each of at
    least ``chunk_size`` households but the last."""
    order = table.sort_values("enumerator", kind="stable")
    groups = [g for _, g in order.groupby("enumerator", sort=True)]
    chunks, current, size = [], [], 0
    for group in groups:
        current.append(group)
        size += len(group)
        if size >= chunk_size:
            chunks.append(current)
            current, size = [], 0
    if current:
        chunks.append(current)
    import pandas as pd

    return [pd.concat(c, ignore_index=True) for c in chunks]


def _simulate_chunk(job: tuple) -> tuple[list[str], list, list, dict[str, float]]:
    """Worker: simulate one chunk, write its audits, return encoded records and truth."""
    form, table, enumerators, out_dir, seed, kwargs = job
    from surveys.simulate.fieldwork import simulate_fieldwork

    result = simulate_fieldwork(form, table, enumerators, seed=seed, **kwargs)
    for instance_id, text in result.audits.items():
        write_atomic(out_dir / "audits" / audit_folder(instance_id) / "audit.csv", text.encode())
    encoded = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in result.submissions]
    return encoded, result.planted, result.issues, result.timings, result.changes


def simulate_to_directory(
    form,
    assignment,
    enumerators,
    out_dir: Path,
    *,
    seed: int,
    chunk_size: int = 25_000,
    workers: int = 1,
    page_size: int = PAGE_SIZE,
    profiles=None,
    profile_of=None,
    progress=None,
    **kwargs,
) -> WriteSummary:
    """Simulate in chunks of whole enumerators and write pages, audits and the ground
    truth as they come (bounded memory; ``workers`` processes). The output does not depend
    on ``workers``: chunk ``k`` uses the ``k``-th seed spawned from ``seed``.
    ``progress(households done, households)`` is called as each chunk is written."""
    import numpy as np

    from surveys.simulate.fieldwork import _household_rows, _roster
    from surveys.simulate.profiles import assign_profiles, ground_truth_rows

    table = _household_rows(assignment, kwargs.get("survey_id", "survey"))
    if profile_of is None:
        roster = _roster(enumerators, table, seed)
        profile_of = assign_profiles(sorted(roster), profiles, np.random.default_rng(seed))
    chunks = enumerator_chunks(table, chunk_size)
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(len(chunks))]
    jobs = [
        (form, chunk, list(enumerators), out_dir, s, {**kwargs, "profile_of": profile_of})
        for chunk, s in zip(chunks, seeds, strict=True)
    ]
    summary = WriteSummary(form.form_id)
    pages = PageWriter(out_dir, form.form_id, page_size)
    planted: list = []
    changes: list = []
    done = 0

    def advance(chunk) -> None:
        nonlocal done
        done += len(chunk)
        if progress is not None:
            progress(done, len(table))

    if progress is not None:
        progress(0, len(table))
    if workers > 1 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            results = pool.map(_simulate_chunk, jobs)
            for job, (encoded, chunk_planted, issues, timings, chunk_changes) in zip(
                jobs, results, strict=True
            ):
                _collect(summary, pages, planted, encoded, chunk_planted, issues, timings)
                changes.extend(chunk_changes)
                advance(job[1])
    else:
        for job in jobs:
            *parts, chunk_changes = _simulate_chunk(job)
            _collect(summary, pages, planted, *parts)
            changes.extend(chunk_changes)
            advance(job[1])
    _write_changes(out_dir, form.form_id, changes)
    summary.pages = pages.close()
    summary.audits = summary.submissions if "audit" in form else 0
    truth = ground_truth_rows(profile_of, planted)
    _write_truth(out_dir, form.form_id, truth)
    summary.planted = len(planted)
    return summary


def _collect(summary, pages, planted, encoded, chunk_planted, issues, timings) -> None:
    pages.add(encoded)
    summary.submissions += len(encoded)
    planted.extend(chunk_planted)
    summary.issues.extend(issues)
    for key, value in timings.items():
        summary.timings[key] = summary.timings.get(key, 0.0) + value


def simulate_survey(
    config,
    assigned,
    form,
    out_dir: Path | None = None,
    *,
    seed: int,
    profiles=None,
    demography=None,
) -> SimulationResult:
    """Simulate ``form``'s fieldwork for a configured survey (dates, don't-know codes and
    roster from survey.toml; ``assigned`` from ``assign_configured_sample``) and, with
    ``out_dir``, write pages, audits and the ground truth there."""
    from surveys.errors import ConfigError
    from surveys.simulate.fieldwork import simulate_fieldwork
    from surveys.simulate.models import Codes

    if config.fieldwork is None:
        raise ConfigError(f"{config.path.name}: fieldwork: start and end are needed to simulate")
    codes = Codes(
        dont_know=tuple(str(c) for c in config.codes.dont_know),
        refused=tuple(str(c) for c in config.codes.refused),
    )
    result = simulate_fieldwork(
        form,
        assigned,
        config.enumerators,
        seed=seed,
        start=config.fieldwork.start,
        end=config.fieldwork.end,
        survey_id=config.id,
        profiles=profiles,
        demography=demography,
        codes=codes,
    )
    if out_dir is not None:
        write_simulation(result, out_dir)
    return result
