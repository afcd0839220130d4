"""Stata .dta files of format 118 (Stata 14 and later, UTF-8), written with numpy.

The file (Stata's dta documentation, "format 118") is a header (release, byte order, the
numbers of variables K and observations N, the dataset label, a time stamp), a map of 14
file offsets, the variables' types, names (129 bytes each), sort list, display formats (57
bytes), value-label set names (129), variable labels (321) and characteristics, then the
data (N rows of fixed width), the strLs (GSO records of the long texts) and the value label
sets. Every block's size is known before the data is written (text widths from the
distinct texts), so the map is written once, in order, and the file is written front to
back with no seek: a hash can follow it as it is written.

The data is written a chunk of rows at a time from one structured numpy buffer (row-major,
one field per variable at its place in the row), each variable's stored values for the
chunk asked from its :class:`StataVariable` as they are needed: no full-size copy of the
data is made. Stored values are in the variable's storage type with missing values already
as Stata's bit patterns (:func:`missing_values`).

This module knows the file format only: plain names, types, labels and arrays.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol

import numpy as np

from exports.errors import ExportWriteError

CHUNK_BYTES = 4 << 20
"""Bytes of data rows filled and written at a time (measured: see docs/EXPORTS.md)."""
NAME_FIELD = 129
"""Bytes of a variable name or value-label set name field (32 characters in UTF-8, NUL)."""
FORMAT_FIELD = 57
LABEL_FIELD = 321
DATASET_LABEL_BYTES = 320
MAX_STR = 2045
"""The longest fixed-width string (``str2045``); longer texts are strLs."""
MAX_VARIABLES = 32_767
"""Format 118's K is 2 bytes (format 119 has 4)."""
STRL = 32768
STORAGE_TYPES = {"double": 65526, "float": 65527, "long": 65528, "int": 65529, "byte": 65530}
"""Type codes of the numeric storage types; a ``str#`` is its width, a strL 32768."""
NUMPY_TYPES = {"byte": "<i1", "int": "<i2", "long": "<i4", "float": "<f4", "double": "<f8"}
DEFAULT_FORMATS = {
    "byte": "%8.0g",
    "int": "%8.0g",
    "long": "%12.0g",
    "float": "%9.0g",
    "double": "%10.0g",
}
LARGEST_DOUBLE = float.fromhex("0x1.fffffffffffffp+1022")
"""Stata's largest nonmissing double (beyond it: missing values)."""
_MISSING_BITS = {
    # "Representation of numbers": "." then .a, .b... .z at a fixed step, as unsigned bits
    "byte": (101, 1, "<i1"),
    "int": (32_741, 1, "<i2"),
    "long": (2_147_483_621, 1, "<i4"),
    "float": (0x7F000000, 0x800, "<u4"),
    "double": (0x7FE0000000000000, 0x010000000000, "<u8"),
}
_GSO_TEXT = 130
"""GSO type of a NUL-terminated text (129: binary)."""
_GSO_HEAD = struct.Struct("<3sIQBI")
"""A GSO record before its text: "GSO", v, o, type, length (the NUL included)."""
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def missing_values(storage: str, letters: Iterable[str]) -> np.ndarray:
    """Stata's missing values of a numeric storage type, one per letter (``""`` for ``.``,
    ``"a"`` for ``.a``...), as an array of that type holding their bit patterns."""
    system, step, bits = _MISSING_BITS[storage]
    codes = [system + (ord(x) - ord("a") + 1) * step if x else system for x in letters]
    return np.array(codes, dtype=bits).view(NUMPY_TYPES[storage])


@dataclass(frozen=True)
class Texts:
    """A text variable: its distinct texts in UTF-8 (no NUL) and, per row, the position of
    its text among them (-1: no text, stored as an empty string)."""

    codes: np.ndarray
    texts: list[bytes]

    @property
    def longest(self) -> int:
        """Bytes of the longest text (0 when there is none)."""
        return max(map(len, self.texts), default=0)


class Stored(Protocol):
    """The stored values of one numeric variable for rows ``start:stop``."""

    def __call__(self, start: int, stop: int) -> np.ndarray: ...


@dataclass(frozen=True)
class StataVariable:
    """One variable as the file holds it.

    ``storage`` is ``byte``, ``int``, ``long``, ``float``, ``double`` (then ``stored`` gives
    its values for a row range, of :data:`NUMPY_TYPES`' type, missing values as
    :func:`missing_values` gives them) or ``text`` (then ``texts``; stored as ``str#`` of
    the longest text's width, or as strL when that is over :data:`MAX_STR` bytes).
    ``format`` "" is Stata's default for the type; ``value_labels`` names the variable's
    value label set ("" for none)."""

    name: str
    storage: str
    stored: Stored | None = None
    texts: Texts | None = None
    label: str = ""
    format: str = ""
    value_labels: str = ""


def write_stata_file(
    handle: BinaryIO,
    variables: list[StataVariable],
    rows: int,
    *,
    value_labels: dict[str, dict[int, str]] | None = None,
    label: str = "",
    timestamp: datetime | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    rows_written: Callable[[int], object] | None = None,
) -> int:
    """Write a format-118 file of ``rows`` observations to ``handle``, front to back; return
    the bytes written. ``value_labels``: set name -> value -> text (values are int32, the
    texts at most 32,000 bytes); ``label`` is the dataset label (80 characters);
    ``rows_written(n)`` is told the rows written so far after each chunk (progress).
    :class:`ExportWriteError` for what format 118 cannot hold."""
    if len(variables) > MAX_VARIABLES:
        raise ExportWriteError(
            f"{len(variables)} variables: a Stata 118 file holds at most {MAX_VARIABLES}"
        )
    columns = [_layout(index, variable) for index, variable in enumerate(variables)]
    row_width = sum(column.width for column in columns)
    sets = value_labels or {}
    head = _metadata(variables, columns, rows, label, timestamp or datetime.now())
    gso_bytes = sum(_gso_size(text) for column in columns for _, text in column.gsos)
    tail = _value_label_block(sets) + b"</stata_dta>"
    offsets = _offsets(head, rows * row_width, gso_bytes, len(tail))
    written = _Writer(handle)
    written(head.bytes(offsets))
    written(b"<data>")
    _write_data(written, columns, rows, row_width, chunk_bytes, rows_written)
    written(b"</data><strls>")
    for batch in _gso_batches(columns):
        written(batch)
    written(b"</strls>")
    written(tail)
    if written.count != offsets[-1]:
        raise ExportWriteError(f"wrote {written.count} bytes where the map says {offsets[-1]}")
    return written.count


class _Writer:
    """Writes bytes to the sink and counts them."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle, self.count = handle, 0

    def __call__(self, data: bytes | memoryview) -> None:
        self.handle.write(data)
        self.count += len(data) if isinstance(data, bytes) else data.nbytes


@dataclass
class _Column:
    """A variable's place in the file: type code, bytes per row, and its row-range values."""

    code: int
    width: int
    dtype: str
    values: Callable[[int, int], np.ndarray]
    format: str
    gsos: list[tuple[int, bytes]]
    """The strL texts' (v,o) keys and texts, in key order."""


def _layout(index: int, variable: StataVariable) -> _Column:
    if variable.storage in STORAGE_TYPES:
        if variable.stored is None:
            raise ValueError(f"{variable.name}: a numeric variable needs its stored values")
        return _Column(
            STORAGE_TYPES[variable.storage],
            np.dtype(NUMPY_TYPES[variable.storage]).itemsize,
            NUMPY_TYPES[variable.storage],
            variable.stored,
            variable.format or DEFAULT_FORMATS[variable.storage],
            [],
        )
    if variable.storage != "text" or variable.texts is None:
        raise ValueError(f"{variable.name}: unknown storage {variable.storage}")
    texts = variable.texts
    longest = texts.longest
    if longest <= MAX_STR:
        width = max(longest, 1)
        table = np.array([*texts.texts, b""], dtype=f"S{width}")  # code -1: the last, empty
        values = _taker(table, texts.codes)
        return _Column(width, width, f"S{width}", values, variable.format or f"%{width}s", [])
    keys, gsos = _strl_keys(index + 1, texts)
    return _Column(STRL, 8, "<u8", _taker(keys, texts.codes), variable.format or "%9s", gsos)


def _taker(table: np.ndarray, codes: np.ndarray) -> Callable[[int, int], np.ndarray]:
    def values(start: int, stop: int) -> np.ndarray:
        return table.take(codes[start:stop])

    return values


def _strl_keys(variable: int, texts: Texts) -> tuple[np.ndarray, list[tuple[int, bytes]]]:
    """Each distinct text's 8-byte (v,o) reference (v: the variable, o: the first row
    holding the text, both from 1; 0 for an empty text) and the GSO records' keys and texts.
    The reference is v in its 2 low bytes and o in its 6 high ones (little-endian)."""
    first = np.full(len(texts.texts), -1, dtype=np.int64)
    seen, rows = np.unique(texts.codes, return_index=True)
    first[seen[seen >= 0]] = rows[seen >= 0]
    keys = np.zeros(len(texts.texts) + 1, dtype="<u8")
    gsos = []
    for position, text in enumerate(texts.texts):
        if text and first[position] >= 0:
            key = variable | (int(first[position]) + 1) << 16
            keys[position] = key
            gsos.append((key, text))
    return keys, gsos


def _gso_size(text: bytes) -> int:
    return _GSO_HEAD.size + len(text) + 1


def _gso_batches(columns: list[_Column], batch_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The GSO records of every strL in (o, v) order (the order of their keys), joined into
    batches of about ``batch_bytes``."""
    records = sorted((key, text) for column in columns for key, text in column.gsos)
    batch: list[bytes] = []
    size = 0
    for key, text in records:
        head = _GSO_HEAD.pack(b"GSO", key & 0xFFFF, key >> 16, _GSO_TEXT, len(text) + 1)
        batch.append(head + text + b"\0")
        size += len(batch[-1])
        if size >= batch_bytes:
            yield b"".join(batch)
            batch, size = [], 0
    if batch:
        yield b"".join(batch)


@dataclass
class _Metadata:
    """Header, map and descriptor blocks: the bytes before the data, with the map's slot."""

    before_map: bytes
    after_map: list[bytes]
    """variable_types, varnames, sortlist, formats, value_label_names, variable_labels,
    characteristics."""

    def bytes(self, offsets: list[int]) -> bytes:
        """The whole block with ``offsets`` as the map."""
        table = np.array(offsets, dtype="<u8").tobytes()
        return self.before_map + b"<map>" + table + b"</map>" + b"".join(self.after_map)


def _metadata(
    variables: list[StataVariable],
    columns: list[_Column],
    rows: int,
    label: str,
    timestamp: datetime,
) -> _Metadata:
    k = len(variables)
    label_bytes = _cut(label[:80], DATASET_LABEL_BYTES)
    stamp = (
        f"{timestamp.day:02d} {_MONTHS[timestamp.month - 1]} {timestamp.year:04d} "
        f"{timestamp.hour:02d}:{timestamp.minute:02d}"
    ).encode("ascii")
    header = b"".join(
        [
            b"<stata_dta><header><release>118</release><byteorder>LSF</byteorder>",
            b"<K>" + np.array([k], "<u2").tobytes() + b"</K>",
            b"<N>" + np.array([rows], "<u8").tobytes() + b"</N>",
            b"<label>" + np.array([len(label_bytes)], "<u2").tobytes() + label_bytes + b"</label>",
            b"<timestamp>" + bytes([len(stamp)]) + stamp + b"</timestamp></header>",
        ]
    )
    blocks = [
        _tag("variable_types", np.array([c.code for c in columns], "<u2").tobytes()),
        _tag("varnames", b"".join(name_field(v.name) for v in variables)),
        _tag("sortlist", bytes(2 * (k + 1))),
        _tag("formats", b"".join(_padded(c.format, FORMAT_FIELD) for c in columns)),
        _tag("value_label_names", b"".join(name_field(v.value_labels) for v in variables)),
        _tag("variable_labels", b"".join(_padded(v.label, LABEL_FIELD) for v in variables)),
        b"<characteristics></characteristics>",
    ]
    return _Metadata(header, blocks)


def _offsets(head: _Metadata, data_bytes: int, gso_bytes: int, tail_bytes: int) -> list[int]:
    """The map: stata_data, map, the seven descriptor blocks, data, strls, value_labels,
    </stata_dta>, end of file."""
    offsets = [0, len(head.before_map)]
    at = offsets[1] + len(b"<map>") + 14 * 8 + len(b"</map>")
    for block in head.after_map:
        offsets.append(at)
        at += len(block)
    data = at
    strls = data + len(b"<data>") + data_bytes + len(b"</data>")
    value_labels = strls + len(b"<strls>") + gso_bytes + len(b"</strls>")
    close = value_labels + tail_bytes - len(b"</stata_dta>")
    return [*offsets, data, strls, value_labels, close, close + len(b"</stata_dta>")]


def _write_data(
    written: _Writer,
    columns: list[_Column],
    rows: int,
    row_width: int,
    chunk_bytes: int,
    rows_written: Callable[[int], object] | None = None,
) -> None:
    """The data rows, ``chunk_bytes`` at a time through one reused structured buffer."""
    if not rows or not row_width:
        return
    starts = np.cumsum([0] + [c.width for c in columns[:-1]]).tolist()
    layout = np.dtype(
        {
            "names": [f"v{i}" for i in range(len(columns))],
            "formats": [c.dtype for c in columns],
            "offsets": starts,
            "itemsize": row_width,
        }
    )
    step = max(1, min(rows, chunk_bytes // row_width))
    buffer = np.zeros(step, dtype=layout)
    fields = [(buffer[f"v{i}"], column.values) for i, column in enumerate(columns)]
    raw = buffer.view(np.uint8)
    for start in range(0, rows, step):
        stop = min(rows, start + step)
        if stop - start < step:  # the last chunk
            fields = [(field[: stop - start], values) for field, values in fields]
        for field, values in fields:
            field[...] = values(start, stop)
        written(memoryview(raw[: (stop - start) * row_width]))
        if rows_written is not None:
            rows_written(stop)


def _value_label_block(sets: dict[str, dict[int, str]]) -> bytes:
    parts = [b"<value_labels>"]
    for name, labels in sets.items():
        odd = [v for v in labels if not -(2**31) < v < 2**31]
        if odd:
            raise ExportWriteError(f"value label set {name}: {odd[0]} is not a Stata long")
        table = value_label_table(labels)
        parts += [
            b"<lbl>",
            np.array([len(table)], dtype="<i4").tobytes(),
            name_field(name),
            b"\0\0\0",
            table,
            b"</lbl>",
        ]
    parts.append(b"</value_labels>")
    return b"".join(parts)


def value_label_table(labels: dict[int, str], order: str = "<") -> bytes:
    """One value label table: n, text length, offsets, values, texts (NUL-ended)."""
    values = sorted(labels)
    texts = [labels[v].replace("\0", "").encode("utf-8") + b"\0" for v in values]
    offsets = np.cumsum([0] + [len(t) for t in texts[:-1]]) if texts else np.array([])
    head = np.array([len(values), sum(len(t) for t in texts)], dtype=f"{order}i4").tobytes()
    return (
        head
        + np.asarray(offsets, dtype=f"{order}i4").tobytes()
        + np.asarray(values, dtype=f"{order}i4").tobytes()
        + b"".join(texts)
    )


def name_field(name: str) -> bytes:
    """A name in its 129-byte field (cut to 128 bytes, NUL-padded)."""
    return _padded(name, NAME_FIELD)


def _padded(text: str, size: int) -> bytes:
    encoded = _cut(text, size - 1)
    return encoded + bytes(size - len(encoded))


def _cut(text: str, limit: int) -> bytes:
    """``text`` in UTF-8 (NULs dropped), cut to ``limit`` bytes, never inside a character."""
    encoded = text.replace("\0", "").encode("utf-8")
    if len(encoded) <= limit:
        return encoded
    return encoded[:limit].decode("utf-8", errors="ignore").encode("utf-8")


def _tag(name: str, content: bytes) -> bytes:
    return f"<{name}>".encode("ascii") + content + f"</{name}>".encode("ascii")
