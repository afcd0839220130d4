"""The example survey popsurvey ships: a commented survey.toml for Qingshan, a fictional
prefecture, with its frame, enumerator roster and the bundled questionnaires."""

from __future__ import annotations

import shutil
from pathlib import Path

from forms.files import write_atomic
from surveys.config import CONFIG_FILE
from surveys.data import DATA_DIR, FRAME_CSV, ROSTER_CSV
from surveys.errors import ConfigError

EXAMPLE = DATA_DIR / "survey_example.toml"


def bundled_questionnaires() -> list[Path]:
    """The questionnaires shipped with popsurvey (empty if the forms package has none)."""
    try:
        from forms.questionnaires import NAMES, bundled_questionnaire
    except ImportError:
        return []
    return [p for p in (bundled_questionnaire(n) for n in NAMES) if p.is_file()]


def write_example(directory: Path, *, force: bool = False) -> list[Path]:
    """Write survey.toml, the Qingshan frame, roster and questionnaires into ``directory``."""
    target = directory / CONFIG_FILE
    if target.exists() and not force:
        raise ConfigError(f"{target}: already exists (use --force to overwrite)")
    directory.mkdir(parents=True, exist_ok=True)
    copies = [
        (FRAME_CSV, directory / "frame" / FRAME_CSV.name),
        (ROSTER_CSV, directory / "enumerators.csv"),
        *((q, directory / "questionnaires" / q.name) for q in bundled_questionnaires()),
    ]
    written = []
    for source, destination in copies:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)
        written.append(destination)
    write_atomic(target, EXAMPLE.read_bytes())
    written.append(target)
    return written
