"""The Issue record: how every stage reports a problem in a form or in the data."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a problem is. ``error`` fails a check; ``warning`` and ``info`` inform."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Issue:
    """One problem: in a form (sheet, row) or in a submission (instance ID, enumerator).

    ``code`` is stable and documented (``L101``...); ``message`` is for people.
    """

    code: str
    severity: Severity
    message: str
    variable: str | None = None
    sheet: str | None = None
    row: int | None = None
    file: str | None = None
    instance_id: str | None = None
    enumerator: str | None = None
    value: str | None = None
    """The offending answer as text, for data problems (None when empty or not known)."""

    @property
    def place(self) -> str:
        """Where the problem is: ``file: sheet 'survey' row 7``, ``instance uuid:...,
        enumerator e01``, or the parts of those that are known."""
        where = []
        if self.sheet:
            where.append(f"sheet '{self.sheet}'" + (f" row {self.row}" if self.row else ""))
        if self.instance_id:
            where.append(f"instance {self.instance_id}")
        if self.enumerator:
            where.append(f"enumerator {self.enumerator}")
        return ": ".join(part for part in (self.file, ", ".join(where)) if part)

    def one_line(self) -> str:
        """``severity code place: message`` on one line."""
        place = self.place
        message = " ".join(self.message.split())
        return f"{self.severity.value} {self.code} {place + ': ' if place else ''}{message}"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["severity"] = self.severity.value
        return data
