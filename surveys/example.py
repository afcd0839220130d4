"""The example survey popsurvey ships: a commented survey.toml for Qingshan, a fictional
prefecture, with its frame, enumerator roster and the bundled questionnaires."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from forms.files import write_atomic
from surveys.config import CONFIG_FILE
from surveys.data import DATA_DIR, FRAME_CSV, ROSTER_CSV
from surveys.errors import ConfigError

EXAMPLE = DATA_DIR / "survey_example.toml"
EXAMPLES = {"fertility": EXAMPLE, "migrants": DATA_DIR / "survey_migrants_example.toml"}
"""The example surveys: the fertility survey (``popsurvey init``) and the migrant survey."""


def bundled_questionnaires() -> list[Path]:
    """The questionnaires shipped with popsurvey (empty if the forms package has none)."""
    try:
        from forms.questionnaires import NAMES, bundled_questionnaire
    except ImportError:
        return []
    return [p for p in (bundled_questionnaire(n) for n in NAMES) if p.is_file()]


def write_example(
    directory: Path, *, force: bool = False, seed: int | None = None, survey: str = "fertility"
) -> list[Path]:
    """Write survey.toml, the Qingshan frame, roster and questionnaires into ``directory``;
    ``seed`` replaces the example's sample seed (so the file says the seed a draw uses);
    ``survey`` is the example survey (:data:`EXAMPLES`)."""
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
    if survey not in EXAMPLES:
        raise ConfigError(f"no example survey {survey!r} (one of {', '.join(EXAMPLES)})")
    text = EXAMPLES[survey].read_text("utf-8")
    if seed is not None:
        text = re.sub(r"(?m)^seed = \d+", f"seed = {int(seed)}", text, count=1)
    write_atomic(target, text.encode("utf-8"))
    written.append(target)
    return written
