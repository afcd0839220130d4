"""A fixture household form (inline XLSForm markdown) and a seeded generator of its
submissions in the shape Central's OData gives them.

``household_form(extra=K)`` adds K text questions in a group: the same form, wider, for the
memory benchmark. The real fieldwork simulator lives elsewhere; this is test data only.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from forms import FormModel, read_markdown

BASE_FORM = """
| survey |
| | type | name | label |
| | start | start | |
| | end | end | |
| | audit | audit | |
| | text | hh_id | Household ID |
| | begin_group | resp | Respondent |
| | integer | age | Age |
| | select_one sex | sex | Sex |
| | decimal | income | Monthly income |
| | end_group | | |
| | select_multiple svc | services | Services used |
| | geopoint | gps | Location |
| | begin_repeat | member | Household member |
| | text | mname | Name |
| | integer | mage | Age |
| | begin_repeat | birth | Birth |
| | date | bdate | Date of birth |
| | select_one sex | bsex | Sex |
| | end_repeat | | |
| | end_repeat | | |
{extra}| choices |
| | list_name | name | label |
| | sex | 1 | Male |
| | sex | 2 | Female |
| | svc | health_record | Health record |
| | svc | health_edu | Health education |
| | svc | family_doctor | Family doctor |
| | svc | folic_acid | Folic acid |
| settings |
| | form_id | version |
| | {form_id} | {version} |
"""


def household_form(
    extra: int = 0, form_id: str = "household", version: str = "2026030101"
) -> FormModel:
    """The fixture form, with ``extra`` additional text questions in group ``more``."""
    return read_markdown(household_markdown(extra, form_id, version), name=f"{form_id}.md")


def household_markdown(
    extra: int = 0, form_id: str = "household", version: str = "2026030101"
) -> str:
    """The markdown XLSForm of :func:`household_form`."""
    rows = ""
    if extra:
        rows = "| | begin_group | more | More |\n"
        rows += "".join(f"| | text | x{i} | Extra {i} |\n" for i in range(extra))
        rows += "| | end_group | | |\n"
    return BASE_FORM.format(extra=rows, form_id=form_id, version=version)


def household_xlsx(
    extra: int = 0, form_id: str = "household", version: str = "2026030101"
) -> bytes:
    """:func:`household_form` as the .xlsx workbook a user would upload to Central."""
    import io

    from openpyxl import Workbook

    from tests.forms.xlsform_files import markdown_sheets

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in markdown_sheets(household_markdown(extra, form_id, version)).items():
        sheet = workbook.create_sheet(title=name)
        for row in rows:
            sheet.append([cell or None for cell in row])  # cells as text, version included
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def make_submission(rng: random.Random, extra: int = 0, *, audit: bool = False) -> dict[str, Any]:
    """One submission's data (no ``__id``/``__system``), seeded by ``rng``."""
    start = datetime(2026, 3, 1, 8, tzinfo=UTC) + timedelta(minutes=rng.randrange(60 * 24 * 30))
    end = start + timedelta(minutes=rng.randrange(15, 90))
    members = []
    for m in range(rng.randrange(1, 5)):
        births = [
            {
                "bdate": f"{rng.randrange(1990, 2025)}-{rng.randrange(1, 13):02d}-"
                f"{rng.randrange(1, 28):02d}",
                "bsex": str(rng.choice((1, 2))),
            }
            for _ in range(rng.choice((0, 0, 1, 2)))
        ]
        members.append({"mname": f"member {m + 1}", "mage": rng.randrange(0, 90), "birth": births})
    data: dict[str, Any] = {
        "start": start.astimezone(_CST).isoformat(timespec="milliseconds"),
        "end": end.astimezone(_CST).isoformat(timespec="milliseconds"),
        "hh_id": f"HH{rng.randrange(10**6):06d}",
        "resp": {
            "age": rng.randrange(15, 61),
            "sex": str(rng.choice((1, 2))),
            "income": round(rng.uniform(500, 20000), 2),
        },
        "services": " ".join(sorted(rng.sample(SERVICES, rng.randrange(0, 4)))) or None,
        "gps": {
            "type": "Point",
            "coordinates": [
                round(rng.uniform(100, 120), 6),
                round(rng.uniform(20, 40), 6),
                round(rng.uniform(0, 500), 1),
            ],
            "properties": {"accuracy": round(rng.uniform(3, 30), 1)},
        },
        "member": members,
    }
    if extra:
        data["more"] = {f"x{i}": f"answer {rng.randrange(10**6)}" for i in range(extra)}
    data["meta"] = {"instanceID": f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"}
    if audit:  # pyxform puts the audit log under meta, and so does Central's OData
        data["meta"]["audit"] = "audit.csv"
    return data


def make_audit_csv(rng: random.Random, data: dict[str, Any]) -> bytes:
    """A plausible audit log for ``data`` (form start, questions with track-changes, end)."""
    t = int(datetime.fromisoformat(data["start"]).timestamp() * 1000)
    lines = ["event,node,start,end,latitude,longitude,accuracy,old-value,new-value"]
    lines.append(f"form start,,{t},,,,,,")
    for node in ("/data/hh_id", "/data/resp/age", "/data/resp/sex", "/data/services"):
        dt = rng.randrange(2000, 40000)
        lines.append(f"question,{node},{t},{t + dt},30.1,110.2,5.0,,{rng.randrange(100)}")
        t += dt
    lines.append(f"form exit,,{t},,,,,,")
    return ("\n".join(lines) + "\n").encode()


SERVICES = ["health_record", "health_edu", "family_doctor", "folic_acid"]
_CST = __import__("datetime").timezone(timedelta(hours=8))


def edited(data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """An edit of ``data``: a changed answer, a new instanceID, ``deprecatedID`` set."""
    new = {**data, "resp": {**data["resp"], "age": rng.randrange(15, 61)}}
    new["meta"] = {
        "instanceID": f"uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}",
        "deprecatedID": data["meta"]["instanceID"],
    }
    return new


def seed(
    central: Any,
    project: int,
    model: FormModel,
    n: int,
    *,
    seed_value: int = 1,
    extra: int = 0,
    audit: bool = False,
    start: datetime | None = None,
) -> list[str]:
    """Submit ``n`` generated submissions straight into a :class:`FakeCentral`; their ids.
    ``start``: the first one's submission time (then one millisecond apart), else now."""
    rng = random.Random(seed_value)
    ids = []
    for i in range(n):
        data = make_submission(rng, extra, audit=audit)
        attachments = {"audit.csv": make_audit_csv(rng, data)} if audit else None
        sub = central.submit(
            project,
            model.form_id,
            data,
            submitter=f"enum{i % 7}",
            device_id=f"collect:{i % 11}",
            attachments=attachments,
            at=None if start is None else start + timedelta(milliseconds=i),
        )
        ids.append(sub.central_id)
    return ids
