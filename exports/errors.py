"""Exceptions of the exports package.

Problems in the data (a label cut to a format's limit, a code outside its choice list) are
:class:`forms.Issue` records in the export's result, never exceptions. These are raised
only when an export cannot be made as asked; the CLI turns them into one line.
"""

from __future__ import annotations


class ExportsError(Exception):
    """Base of every exception raised by the exports package."""


class ExportOptionsError(ExportsError):
    """Options that cannot be honoured (unknown format or language, a repeat that cannot be
    reshaped wide, a design column that is not in the weights)."""


class ExportDataError(ExportsError):
    """Frames that do not fit the form (a key column missing, a repeat row without parent)."""


class ExportWriteError(ExportsError):
    """A file that the format's writer refused (named, with the writer's reason)."""
