"""Back-checks wired to survey.toml, the store and the sample (library:
:mod:`validation.backcheck`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

ENUMERATOR_RATES = "backcheck_enumerators.csv"
"""Written by ``backcheck compare`` beside the report; read by ``report`` (risk score)."""


def read_enumerator_rates(directory: Path) -> pd.DataFrame | None:
    """The per-enumerator back-check error rates saved in ``directory``, or None."""
    path = Path(directory) / ENUMERATOR_RATES
    if not path.is_file():
        return None
    table = pd.read_csv(path, dtype={"enumerator": str})
    return table[["enumerator", "error_rate", "compared"]]
