"""A small simulated fertility fieldwork (8 enumerators) written as Central pages, shared by
the store and CLI tests of quality control."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from backends import any_store, store_url  # noqa: F401


@pytest.fixture(scope="session")
def fieldwork(tmp_path_factory):
    """(config, form, folder with pages/audits/ground truth, simulation result)."""
    from forms import read_form
    from forms.questionnaires import bundled_questionnaire
    from surveys.config import load_config
    from surveys.example import write_example
    from surveys.sampling.workflow import assign_configured_sample, draw_configured_sample
    from surveys.simulate import simulate_fieldwork, write_simulation

    folder = tmp_path_factory.mktemp("qcsurvey")
    write_example(folder, force=True)
    config = load_config(folder / "survey.toml")
    draw_configured_sample(config, synthetic_listing=True, seed=5)
    assigned = assign_configured_sample(config)
    entities = pd.read_csv(assigned.entity_list, dtype=str, keep_default_na=False)
    keep = sorted(entities["enumerator"].unique())[:8]
    entities = entities[entities["enumerator"].isin(keep)].reset_index(drop=True)
    form = read_form(bundled_questionnaire("fertility"))
    profile_of = dict.fromkeys(keep, "honest")
    profile_of[keep[0]] = "speeder"
    profile_of[keep[1]] = "duplicate_ids"
    result = simulate_fieldwork(
        form,
        entities,
        config.enumerators,
        seed=3,
        start=config.fieldwork.start,
        end=config.fieldwork.end,
        survey_id=config.id,
        profile_of=profile_of,
    )
    out = folder / "fieldwork"
    write_simulation(result, out)
    return config, form, out, result
