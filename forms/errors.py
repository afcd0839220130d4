"""Exceptions of the forms package.

Data problems found in a *valid* form (lint findings) are :class:`forms.issues.Issue`
records, not exceptions. Exceptions are for input that cannot be read as an XLSForm at all.
"""

from __future__ import annotations


class FormsError(Exception):
    """Base of every exception raised by the forms package."""


class XLSFormError(FormsError):
    """An XLSForm that cannot be read or converted; ``str()`` is one line naming the place."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.sheet = sheet
        self.row = row
        self.column = column
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """``file: sheet 'survey', row 7, column 'type': message`` with the known parts."""
        place = []
        if self.sheet:
            place.append(f"sheet '{self.sheet}'")
        if self.row is not None:
            place.append(f"row {self.row}")
        if self.column:
            place.append(f"column '{self.column}'")
        where = ", ".join(place)
        prefix = ": ".join(p for p in (self.file, where) if p)
        text = " ".join(self.message.split())
        return f"{prefix}: {text}" if prefix else text


class ExpressionError(FormsError):
    """An XLSForm expression (relevance, constraint, ...) that cannot be parsed."""


class UnknownLanguageError(FormsError):
    """A language asked for (``--lang zh``) that the form does not declare."""
