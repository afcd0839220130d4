"""A drawn and assigned Qingshan sample, shared by the simulator tests."""

from __future__ import annotations

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def survey(tmp_path_factory):
    from surveys.config import load_config
    from surveys.example import write_example
    from surveys.sampling.workflow import assign_configured_sample, draw_configured_sample

    folder = tmp_path_factory.mktemp("survey")
    write_example(folder, force=True)
    config = load_config(folder / "survey.toml")
    draw_configured_sample(config, synthetic_listing=True, seed=11)
    assigned = assign_configured_sample(config)
    entities = pd.read_csv(assigned.entity_list, dtype=str, keep_default_na=False)
    return config, entities


@pytest.fixture(scope="session")
def small_entities(survey):
    """About 240 households of 12 enumerators (keeps the per-record checks quick)."""
    _, entities = survey
    keep = sorted(entities["enumerator"].unique())[:12]
    return entities[entities["enumerator"].isin(keep)].reset_index(drop=True)
