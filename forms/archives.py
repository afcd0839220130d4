"""Limits on what popsurvey decompresses: a small zip must not eat the memory.

An .xlsx questionnaire and Central's CSV export are zip archives. A hostile (or broken) one
can hold a 1 GiB sheet in 1 MB. Before anything is read, :func:`check_zip` compares the
sizes the archive declares with a limit, and Python's zip reader never inflates a member
past its declared size (it stops there and fails its CRC check), so the declared sizes bound
what is read.

The limits (see docs/SECURITY.md):

- every member together unzips to at most :func:`max_unzipped` bytes: by default 1 GiB for
  data (a CSV export) and 100 MiB for a questionnaire workbook, raised with
  ``--max-unzipped SIZE`` or the ``POPSURVEY_MAX_UNZIPPED`` environment variable;
- a member larger than 10 MiB that unzips to more than 100 times its compressed size is
  refused as a zip bomb unless the limit was raised explicitly (real workbooks and CSV
  exports compress about 5-30 times).
"""

from __future__ import annotations

import os
import re
import zipfile
from typing import IO

from forms.errors import FormsError

ENVIRONMENT_VARIABLE = "POPSURVEY_MAX_UNZIPPED"
DEFAULT_MAX_UNZIPPED = 1 << 30
FORM_MAX_UNZIPPED = 100 << 20
MAX_RATIO = 100
RATIO_CHECKED_ABOVE = 10 << 20
HOW_TO_RAISE = f"raise it with --max-unzipped SIZE or {ENVIRONMENT_VARIABLE}=SIZE, e.g. 4GB"

_chosen: int | None = None
_UNITS = {"": 1, "b": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?\s*$", re.I)


class ArchiveLimitError(FormsError):
    """An archive that would unzip past the limit; ``str()`` names the file and the limit."""


def parse_size(text: str) -> int:
    """``"4GB"`` -> 4e9, ``"512MiB"`` -> 512 * 2**20, ``"1000"`` -> 1000 bytes."""
    match = _SIZE.match(str(text))
    if match is None:
        raise ValueError(f"{text!r} is not a size (use e.g. 500MB, 2GB, 1GiB)")
    number, unit, binary = match.groups()
    unit = unit.lower()
    factor = 1024 ** "kmgt".index(unit) * 1024 if binary and unit else _UNITS[unit]
    return int(float(number) * factor)


def format_size(size: int) -> str:
    """``1073741824`` -> ``"1.0 GiB"``."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def set_max_unzipped(size: int | None) -> None:
    """Set the limit for this process (the ``--max-unzipped`` option); None: the default."""
    global _chosen
    _chosen = size


def max_unzipped(default: int = DEFAULT_MAX_UNZIPPED) -> tuple[int, bool]:
    """The limit in bytes and whether it was chosen (option or environment) rather than
    ``default``."""
    if _chosen is not None:
        return _chosen, True
    configured = os.environ.get(ENVIRONMENT_VARIABLE)
    if configured:
        try:
            return parse_size(configured), True
        except ValueError as err:
            raise ArchiveLimitError(f"{ENVIRONMENT_VARIABLE}: {err}") from None
    return default, False


def check_zip(archive: zipfile.ZipFile, label: str, *, default: int = DEFAULT_MAX_UNZIPPED) -> None:
    """Refuse ``archive`` (named ``label`` in the message) before reading it when it would
    unzip past the limit (``default`` unless one was chosen), or holds a member compressed
    like a zip bomb."""
    limit, chosen = max_unzipped(default)
    total = 0
    for info in archive.infolist():
        total += info.file_size
        if total > limit:
            raise ArchiveLimitError(
                f"{label}: unzips to more than the limit of {format_size(limit)} "
                f"(at member {info.filename!r}); {HOW_TO_RAISE}"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if not chosen and info.file_size > RATIO_CHECKED_ABOVE and ratio > MAX_RATIO:
            raise ArchiveLimitError(
                f"{label}: member {info.filename!r} unzips to {format_size(info.file_size)}, "
                f"{ratio:.0f} times its compressed size (the limit is {MAX_RATIO}:1 above "
                f"{format_size(RATIO_CHECKED_ABOVE)}); if you trust the file, {HOW_TO_RAISE}"
            )


def check_zip_file(
    source: str | os.PathLike[str] | IO[bytes], label: str, *, default: int = FORM_MAX_UNZIPPED
) -> None:
    """:func:`check_zip` on the zip file (path or binary file object) ``source``; nothing
    when it is not a zip."""
    try:
        if not zipfile.is_zipfile(source):  # type: ignore[arg-type]
            return
        with zipfile.ZipFile(source) as archive:  # type: ignore[arg-type]
            check_zip(archive, label, default=default)
    except (OSError, zipfile.BadZipFile):
        return  # not readable as a zip: the reader reports it
    finally:
        if hasattr(source, "seek"):
            source.seek(0)
