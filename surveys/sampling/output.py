"""Writing a drawn sample to a directory, all at once, and reading it back.

Files: ``allocation.csv`` (per stratum), ``psu_probabilities.csv`` (every first-stage unit of
the frame with ``pi`` and whether it was selected), ``clusters.csv`` (selected final-stage
units with stage-wise and overall probabilities), ``households.csv`` (main and reserve
households), ``joint_psu.csv`` (``pi_ij`` of the selected PSUs, per stratum),
``issues.csv`` and ``sample.json`` (seed, methods, frame checksum, counts). The directory is
written next to its final place and swapped in, so a failed draw never leaves half a sample.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from forms.issues import Issue, Severity
from surveys.sampling.design import Sample, SampleDesign
from surveys.sampling.errors import SamplingError

TABLES = ("allocation", "psu_probabilities", "clusters", "households", "joint")
FILE_NAMES = {
    "allocation": "allocation.csv",
    "psu_probabilities": "psu_probabilities.csv",
    "clusters": "clusters.csv",
    "households": "households.csv",
    "joint": "joint_psu.csv",
}
NUMERIC = {
    "frame_units", "frame_size", "n", "certainty_units", "size", "pi", "pi_ij", "listed",
    "reserve_rank", "pi_cluster", "pi_within", "pi_household", "random_number",
}  # fmt: skip
BOOLEAN = {"certainty", "selected"}


def file_digest(path: Path) -> str:
    """SHA-256 of a file, to tie a sample to the exact frame it came from."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_design(design: SampleDesign) -> dict[str, Any]:
    """The design as JSON-ready data (paths as strings)."""
    data = asdict(design)

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return str(value) if isinstance(value, Path) else value

    return plain(data)


def write_sample(sample: Sample, design: SampleDesign, directory: str | Path) -> Path:
    """Write ``sample`` into ``directory`` (replacing a previous sample there) atomically."""
    target = Path(directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name in TABLES:
            getattr(sample, name).to_csv(staging / FILE_NAMES[name], index=False)
        issues = pd.DataFrame([i.to_dict() for i in sample.issues], columns=list(_issue_columns()))
        issues.to_csv(staging / "issues.csv", index=False)
        meta = {
            "design": describe_design(design),
            "frame_sha256": file_digest(Path(design.frame)),
            "counts": {
                "strata": len(sample.allocation),
                "psus": int(sample.psu_probabilities["selected"].sum()),
                "clusters": len(sample.clusters),
                "households_main": int((sample.households["role"] == "main").sum()),
                "households_reserve": int((sample.households["role"] == "reserve").sum()),
            },
        }
        (staging / "sample.json").write_text(
            json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _issue_columns() -> tuple[str, ...]:
    """Columns of issues.csv."""
    return tuple(Issue("X", Severity.INFO, "").to_dict())


def _swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging`` (keeping the old one until the new one is in place)."""
    old = None
    if target.exists():
        if not (target / "sample.json").exists() and any(target.iterdir()):
            raise SamplingError(
                f"{target}: exists and is not a sample directory; choose another --out"
            )
        old = target.with_name(f".{target.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        target.rename(old)
    staging.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_sample(directory: str | Path) -> tuple[Sample, dict[str, Any]]:
    """Read a sample directory written by :func:`write_sample`; return it and sample.json."""
    directory = Path(directory)
    meta_path = directory / "sample.json"
    if not meta_path.is_file():
        raise SamplingError(f"{directory}: no sample.json here; run `popsurvey sample draw`")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    tables = {name: _read_csv(directory / FILE_NAMES[name]) for name in TABLES}
    issues_table = _read_csv(directory / "issues.csv")
    issues = tuple(
        Issue(
            code=r["code"],
            severity=Severity(r["severity"]),
            message=r["message"],
            variable=r.get("variable") or None,
        )
        for r in issues_table.to_dict("records")
    )
    return Sample(**tables, issues=issues), meta


def _read_csv(path: Path) -> pd.DataFrame:
    """Read one table with identifiers as text and the known numeric columns as numbers."""
    if not path.is_file():
        raise SamplingError(f"{path}: missing from the sample directory")
    data = pd.read_csv(path, dtype=str, keep_default_na=False)
    for column in data.columns:
        if column in BOOLEAN:
            data[column] = data[column].isin(["True", "true", "1"])
        elif column in NUMERIC:
            data[column] = pd.to_numeric(data[column].replace("", None), errors="coerce")
    return data
