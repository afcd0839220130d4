"""What a Stata 118/119 file gets after its writer (pyreadstat or polars-readstat) has written
the data: the real variable names, one value label set per choice list shared by the
variables that use it, and the extended missing values ``.a``/``.d``/``.r``.

Neither writer can do these: both name a variable's value labels after the variable (one
set per variable), pyreadstat's set names overflow Stata's 32 bytes for long variable names,
and neither writes extended missing values from numbers (polars-readstat refuses values
beyond Stata's largest double; pyreadstat needs object columns, checked cell by cell). The
file's map (Stata's dta documentation, "Stata 118 format") locates each block: variable
names and value-label names are fixed-width fields rewritten in place, the value labels are
the file's last block (rewritten, then the map's two last offsets updated), and the data
block's cells of the missing answers are set through a memory map of the file, and only
those cells.
"""

from __future__ import annotations

import mmap
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from exports.errors import ExportWriteError
from exports.stata_file import STORAGE_TYPES, missing_values, name_field, value_label_table
from exports.values import DONT_KNOW, REFUSED, SKIPPED

WINDOW_BYTES = 64 << 20
"""Bytes of the file mapped at a time (a multiple of the map granularity)."""
LABEL_MISSING = 2_147_483_621
"""``.`` in a value label table (int32); ``.a`` is one more, ``.b`` two more..."""
_WIDTHS = {65526: 8, 65527: 4, 65528: 4, 65529: 2, 65530: 1, 32768: 8}
LETTERS = {DONT_KNOW: "d", REFUSED: "r", SKIPPED: "a"}


def missing_label_value(letter: str) -> int:
    """The number a value label table holds for ``.a`` ... ``.z``."""
    return LABEL_MISSING + 1 + ord(letter) - ord("a")


@dataclass(frozen=True)
class DtaMap:
    """Where the blocks of a Stata 118/119 file are, and its shape."""

    offsets: list[int]
    byte_order: str
    """``<`` or ``>``."""
    variables: int
    rows: int
    map_at: int
    """File offset of the first of the map's 14 offsets."""


def read_map(path: Path) -> DtaMap:
    """The map of a Stata 118/119 file (:class:`ExportWriteError` for another file)."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    start = head.find(b"<map>")
    if not re.search(rb"<release>11[89]</release>", head) or start < 0:
        raise ExportWriteError(f"{path.name}: not a Stata 118/119 file")
    order = "little" if b"<byteorder>LSF</byteorder>" in head else "big"
    k_at = head.find(b"<K>") + 3
    k_size = 2 if b"<release>118</release>" in head else 4
    variables = int.from_bytes(head[k_at : k_at + k_size], order)
    n_at = head.find(b"<N>") + 3
    rows = int.from_bytes(head[n_at : n_at + 8], order)
    at = start + len(b"<map>")
    offsets = [int.from_bytes(head[at + 8 * i : at + 8 * i + 8], order) for i in range(14)]
    return DtaMap(offsets, "<" if order == "little" else ">", variables, rows, at)


def rename_variables(path: Path, names: list[str]) -> None:
    """Write ``names`` into the ``<varnames>`` block (the writers got short stand-ins)."""
    layout = read_map(path)
    with path.open("r+b") as handle:
        handle.seek(layout.offsets[3])
        if handle.read(10) != b"<varnames>":
            raise ExportWriteError(f"{path.name}: <varnames> not where the map says")
        handle.write(b"".join(name_field(name) for name in names))


def write_value_labels(
    path: Path, sets: dict[str, dict[int, str]], users: dict[int, str], variables: int
) -> None:
    """Replace the file's value labels by ``sets`` (name -> value -> label) and attach set
    ``users[i]`` to variable ``i`` (every other variable gets none)."""
    layout = read_map(path)
    order = layout.byte_order
    names = b"".join(name_field(users.get(i, "")) for i in range(variables))
    tables = [b"<value_labels>"]
    for name, labels in sets.items():
        table = value_label_table(labels, order)
        tables += [
            b"<lbl>",
            np.array([len(table)], dtype=f"{order}i4").tobytes(),
            name_field(name),
            b"\0\0\0",
            table,
            b"</lbl>",
        ]
    tables.append(b"</value_labels>")
    tail = b"".join(tables)
    end = b"</stata_dta>"
    with path.open("r+b") as handle:
        handle.seek(layout.offsets[6])
        tag = b"<value_label_names>"
        if handle.read(len(tag)) != tag:
            raise ExportWriteError(f"{path.name}: <value_label_names> not where the map says")
        handle.write(names)
        handle.seek(layout.offsets[11])
        if handle.read(len(b"<value_labels>")) != b"<value_labels>":
            raise ExportWriteError(f"{path.name}: <value_labels> not where the map says")
        handle.seek(layout.offsets[11])
        handle.write(tail + end)
        handle.truncate()
        closing = layout.offsets[11] + len(tail)
        handle.seek(layout.map_at + 8 * 12)
        handle.write(np.array([closing, closing + len(end)], dtype=f"{order}u8").tobytes())


def set_extended_missing(path: Path, reasons: dict[int, np.ndarray]) -> None:
    """Set ``.d``/``.r``/``.a`` in the data block where ``reasons[i]`` (per row, for variable
    ``i``) says don't know, refused or skipped; the writer wrote ``.`` there.

    Only those cells are written: each variable's cells are a strided view of the file
    mapped into memory (offset: the data block, plus the row times the row's width, plus the
    variable's place in the row), set by one vectorised assignment per window of
    :data:`WINDOW_BYTES` (mapped pages count as the process's memory until unmapped); the
    rest of the data block is neither read nor copied. Variables may be stored as byte,
    int, long, float or double (Stata's missing values differ per type)."""
    layout = read_map(path)
    if not reasons or layout.rows == 0:
        return
    order = layout.byte_order
    with path.open("rb") as handle:
        handle.seek(layout.offsets[2] + len(b"<variable_types>"))
        types = np.frombuffer(handle.read(2 * layout.variables), dtype=f"{order}u2")
    widths = np.array([_WIDTHS.get(int(t), int(t)) for t in types], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(widths)[:-1]])
    row_width = int(widths.sum())
    data_at = layout.offsets[9] + len(b"<data>")
    if data_at + layout.rows * row_width > path.stat().st_size:
        raise ExportWriteError(f"{path.name}: the data block is shorter than the map says")
    for index in reasons:
        if int(types[index]) not in _MISSING_OF_TYPE:
            raise ExportWriteError(f"{path.name}: variable {index + 1} is not numeric")
    picked = {i: np.flatnonzero(why) for i, why in reasons.items()}
    step = max(1, WINDOW_BYTES // max(row_width, 1))
    with path.open("r+b") as handle:
        for first in range(0, layout.rows, step):
            last = min(layout.rows, first + step)
            start = data_at + first * row_width
            base = start - start % mmap.ALLOCATIONGRANULARITY
            length = data_at + last * row_width - base
            with mmap.mmap(handle.fileno(), length, offset=base) as mapped:
                for index, rows in picked.items():
                    low, high = np.searchsorted(rows, [first, last])
                    if low == high:
                        continue
                    here = rows[low:high]
                    code, missing = _MISSING_OF_TYPE[int(types[index])]
                    cells = np.ndarray(
                        (last - first,),
                        dtype=f"{order}{code}",
                        buffer=mapped,
                        offset=start - base + int(starts[index]),
                        strides=(row_width,),
                    )
                    cells[here - first] = missing[reasons[index][here]]
                    del cells  # the map cannot close while a view of it lives


def _missing_table(storage: str) -> np.ndarray:
    """Per reason (:data:`LETTERS`), the stored value of its letter in one storage type, as
    the unsigned bits :func:`set_extended_missing` writes."""
    letters = [LETTERS.get(reason, "") for reason in range(max(LETTERS) + 1)]
    values = missing_values(storage, letters)
    return values.view(f"<{_BITS[storage]}")


_BITS = {"byte": "i1", "int": "i2", "long": "i4", "float": "u4", "double": "u8"}
_MISSING_OF_TYPE = {
    STORAGE_TYPES[storage]: (bits, _missing_table(storage)) for storage, bits in _BITS.items()
}
