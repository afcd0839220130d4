"""Analysis frames: flattened groups, repeats keyed to parents, dummies, split geopoints,
each submission read with its own form version."""

from __future__ import annotations

import random

import pandas as pd

from surveys.importers.common import import_records
from surveys.store import open_store
from surveys.store.frames import analysis_frames
from tests.fake_central.fixture import household_form, make_submission


def record(data, version):
    return {
        **data,
        "__id": data["meta"]["instanceID"],
        "__system": {
            "formVersion": version,
            "submissionDate": "2026-03-02T00:00:00.000Z",
            "updatedAt": None,
            "reviewState": None,
            "edits": 0,
            "submitterId": "5",
            "submitterName": "enum",
        },
    }


def test_frames_from_two_form_versions(tmp_path):
    rng = random.Random(8)
    v1, v2 = household_form(version="1"), household_form(extra=2, version="2")
    old = [make_submission(rng) for _ in range(3)]
    new = [make_submission(rng, extra=2) for _ in range(2)]
    old[0]["services"] = "health_edu folic_acid"
    old[1]["services"] = None
    with open_store(str(tmp_path / "f.db")) as store:
        import_records(store, "household", [record(d, "1") for d in old], "test", model=v1)
        import_records(store, "household", [record(d, "2") for d in new], "test", model=v2)
        frames = analysis_frames(store, "household")
    main = frames.main
    assert len(main) == 5
    assert list(main["form_version"]) == ["1", "1", "1", "2", "2"]
    assert "age" in main and "resp" not in main  # group flattened, stable name
    assert main["x0"].isna().sum() == 3  # v2-only column, missing for v1 rows
    assert main.loc[0, "services"] == "health_edu folic_acid"
    for code in ("health_record", "health_edu", "family_doctor", "folic_acid"):
        assert f"services/{code}" in main  # every choice, not only those seen
    assert list(
        main.loc[0, [f"services/{c}" for c in ("health_edu", "folic_acid", "health_record")]]
    ) == [1, 1, 0]
    assert pd.isna(main.loc[1, "services/health_edu"])
    lon, lat, alt = old[2]["gps"]["coordinates"]
    assert (
        main.loc[2, "gps_latitude"],
        main.loc[2, "gps_longitude"],
        main.loc[2, "gps_altitude"],
    ) == (lat, lon, alt)
    assert main.loc[2, "gps_accuracy"] == old[2]["gps"]["properties"]["accuracy"]
    members = frames.repeats["member"]
    assert len(members) == sum(len(d["member"]) for d in old + new)
    assert set(members["__parent_key"]) <= set(main["__id"])
    births = frames.repeats["birth"]
    assert set(births["__parent_key"]) <= set(members["__key"])
    assert len(births) == sum(len(m["birth"]) for d in old + new for m in d["member"])


def test_coded_frames_hold_the_same_texts_as_codes(tmp_path):
    """``coded=True`` (what exports read): select_one and select_multiple columns are
    categoricals of the very texts the plain frames hold -- the list's codes first, then
    codes outside the list, no answer missing -- with the same dummies, in the main frame,
    in nested repeats and across form versions."""
    rng = random.Random(3)
    v1, v2 = household_form(version="1"), household_form(extra=1, version="2")
    old = [make_submission(rng) for _ in range(4)]
    new = [make_submission(rng, extra=1) for _ in range(3)]
    old[0]["resp"]["sex"] = "9"  # not in the list
    old[1]["resp"]["sex"] = None
    old[2]["resp"]["sex"] = ""
    new[0]["resp"]["sex"] = 2  # a number where ODK sends text
    with open_store(str(tmp_path / "f.db")) as store:
        import_records(store, "household", [record(d, "1") for d in old], "test", model=v1)
        import_records(store, "household", [record(d, "2") for d in new], "test", model=v2)
        plain = analysis_frames(store, "household")
        coded = analysis_frames(store, "household", coded=True)
    pairs = [(plain.main, coded.main)] + [
        (plain.repeats[name], coded.repeats[name]) for name in plain.repeats
    ]
    for text_frame, coded_frame in pairs:
        assert list(text_frame.columns) == list(coded_frame.columns)
        for column in text_frame.columns:
            a = text_frame[column].to_numpy(dtype=object)
            b = coded_frame[column].to_numpy(dtype=object)
            assert list(pd.isna(a)) == list(pd.isna(b)), column
            assert list(a[~pd.isna(a)]) == list(b[~pd.isna(b)]), column
    sex = coded.main["sex"]
    assert isinstance(sex.dtype, pd.CategoricalDtype)
    assert list(sex.cat.categories) == ["1", "2", "9"]
    assert list(sex[:3].isna()) == [False, True, True]
    assert sex[4] == "2"  # the number 2 sent by the first version-2 submission
    assert isinstance(coded.repeats["birth"]["bsex"].dtype, pd.CategoricalDtype)
    assert coded.main["hh_id"].dtype == object  # text questions stay text
    assert isinstance(coded.main["services"].dtype, pd.CategoricalDtype)
    assert coded.main["services/folic_acid"].dtype == "Int8"


def test_coded_column_keeps_every_answer():
    from forms.frames import coded_column, typed_column

    values = ["b", None, "a", "", "zz", 1, "b", 2.0, "1", float("nan")]
    column = coded_column(values, ("a", "b", "1"))
    assert list(column.cat.categories) == ["a", "b", "1", "zz", "2", "NaN"]
    texts = column.to_numpy(dtype=object)
    plain = typed_column(household_form()["sex"], values).to_numpy(dtype=object)
    assert [None if pd.isna(t) else t for t in texts] == list(plain)
    odd = coded_column(["a", ["x"], None], ("a",)).to_numpy(dtype=object)
    assert odd[0] == "a" and odd[1] == "['x']" and pd.isna(odd[2])  # kept as text
