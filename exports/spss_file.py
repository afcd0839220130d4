"""SPSS system files (.sav, uncompressed) written with numpy, a row chunk at a time.

The layout follows the PSPP developers' guide, "System File Format": the file header
(``$FL2``, compression 0), one variable record per 8-byte slot of a case (a string wider
than 8 bytes continues in records of type -1; one wider than 255 bytes is cut into
segments of 255 bytes each, every segment a string variable of its own, joined again by
the very long string record), one type 3 + type 4 record pair per distinct value label set
listing every variable that uses it, the extension records (machine integer and floating
point info, variable display parameters, long variable names, very long strings, character
encoding UTF-8), the dictionary's end (999), then the cases: 8-byte little-endian doubles
(system missing -DBL_MAX) and space-padded strings.

The cases are built in a preallocated buffer of about :data:`CHUNK_BYTES`, one column of a
row range at a time from the caller's sources, and written out: no full-size copy of any
column. Nothing here knows about surveys: names, labels, formats and values come in as
plain parameters.
"""

from __future__ import annotations

import struct
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from exports.errors import ExportWriteError
from exports.sav_compress import COMPRESSIONS, block_rows, compressed_cases, write_all

SYSMIS = -sys.float_info.max
"""The system-missing value (-DBL_MAX), what a NaN is written as."""
_HIGHEST = sys.float_info.max
_LOWEST = float(np.nextafter(-_HIGHEST, 0.0))
CHUNK_BYTES = 4 << 20
"""Bytes of cases built before each write (measured: bench/README.md, "Export")."""
MAX_STRING_BYTES = 32_767
"""The widest string SPSS holds."""
_SEGMENT_BYTES = 255  # a very long string's bytes per segment...
_SEGMENT_WIDTH = 252  # ...while each segment counts for 252 bytes of its width
_NAME_BYTES = 8
_LABEL_BYTES = 256  # as ReadStat writes; PSPP reads them whole
_VALUE_LABEL_BYTES = 120
_TABLE_BYTES = 32 << 20  # a string column's distinct texts laid out once up to this size
_PRODUCT = b"@(#) SPSS DATA FILE popsurvey"
_FORMAT_TYPES = {"A": 1, "F": 5, "DATE": 20, "TIME": 21, "DATETIME": 22}
_MEASURES = {"nominal": 1, "ordinal": 2, "scale": 3}
_ALIGNMENT = {"left": 0, "right": 1, "centre": 2}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_RESERVED = {"ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH"}


@dataclass(frozen=True)
class SavVariable:
    """One variable of a system file.

    ``width`` is 0 for a number, else the string's width in bytes (1 to 32,767);
    ``format`` the print and write format of a number (``F8.0``, ``DATE11``...; strings are
    always ``A<width>``); ``missing`` up to three discrete user-missing numbers;
    ``display_width`` the column width shown (default: 8 for numbers, the width up to 32
    for strings)."""

    name: str
    width: int = 0
    label: str = ""
    format: str = "F8.2"
    measure: str = "scale"
    missing: tuple[float, ...] = ()
    display_width: int | None = None


@dataclass(frozen=True)
class SavLabelSet:
    """Value labels (number -> text) shared by the numeric variables at ``variables``
    (positions in the file's variable list)."""

    labels: Mapping[float, str]
    variables: Sequence[int]


class SavTexts:
    """A string variable's values as one code per row (-1: no text) into its distinct
    texts: each distinct text is encoded once (for a large set of distinct texts, once
    more per chunk, so that no encoded copy of the whole column is held). NUL characters
    are dropped, as in the .dta files: readers disagree on them (ReadStat skips them, PSPP
    ends the text there)."""

    __slots__ = ("_width", "codes", "texts")

    def __init__(self, codes: np.ndarray, texts: Sequence[str]) -> None:
        self.codes = codes
        self.texts = list(texts)
        if "\0" in "".join(self.texts):
            self.texts = [t.replace("\0", "") for t in self.texts]
        self._width: int | None = None

    @classmethod
    def of(cls, values: np.ndarray) -> SavTexts:
        """The texts of an object array of ``str`` (None or NaN: no text)."""
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
        return cls(codes, [u if isinstance(u, str) else str(u) for u in uniques])

    @property
    def width(self) -> int:
        """The longest text in UTF-8 bytes, at least 1 (SPSS has no zero-width string)."""
        if self._width is None:
            self._width = max([1, *(len(t) if t.isascii() else _bytes(t) for t in self.texts)])
        return self._width


def _bytes(text: str) -> int:
    return len(text.encode("utf-8"))


Numbers = Callable[[int, int], np.ndarray]
"""A numeric variable's values of rows ``start:stop`` as float64 (NaN: system missing)."""
Source = Numbers | np.ndarray | SavTexts


def write_system_file(
    target: Path | str | BinaryIO,
    variables: Sequence[SavVariable],
    sources: Sequence[Source],
    rows: int,
    *,
    label_sets: Sequence[SavLabelSet] = (),
    file_label: str = "",
    created: datetime | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    compression: str = "none",
    rows_written: Callable[[int], object] | None = None,
) -> None:
    """Write an SPSS system file to ``target`` (a path, or a binary file open for writing:
    :meth:`exports.checksum.Checksums.open` hashes it as it is written), uncompressed or
    ``compression`` ``bytecode`` (.sav) or ``zsav`` (.zsav; ``target`` must seek:
    :mod:`exports.sav_compress`).

    ``sources`` gives each variable's values: for a number a float64 array or a function
    of a row range returning one (called once per chunk, so values can be computed on the
    fly), for a string a :class:`SavTexts` (or an object array of ``str``/None). Raises
    :class:`ExportWriteError` for a dictionary the format cannot hold."""
    if len(sources) != len(variables):
        raise ExportWriteError(f"{len(variables)} variables but {len(sources)} sources")
    if rows > 2**31 - 1:
        raise ExportWriteError(f"{rows} cases: a system file holds at most 2**31 - 1")
    if compression not in COMPRESSIONS:
        raise ExportWriteError(f"compression must be one of {', '.join(COMPRESSIONS)}")
    code = COMPRESSIONS[compression]
    layout = _Layout(variables)
    dictionary = _dictionary(layout, rows, label_sets, file_label, created or datetime.now(), code)
    columns = [
        _column(variable, source, rows, storage)
        for variable, source, storage in zip(variables, sources, layout.storage, strict=True)
    ]
    if hasattr(target, "write"):
        write_all(target, dictionary)
        _write_cases(
            target, layout, columns, rows, chunk_bytes, code, len(dictionary), rows_written
        )
        return
    with open(target, "wb", buffering=0) as handle:
        write_all(handle, dictionary)
        _write_cases(
            handle, layout, columns, rows, chunk_bytes, code, len(dictionary), rows_written
        )


class _Layout:
    """Where each variable sits in a case: its first 8-byte slot, its bytes, its segments'
    widths and short names."""

    def __init__(self, variables: Sequence[SavVariable]) -> None:
        self.variables = variables
        self.segments: list[list[int]] = []  # per variable: each segment's width (0: number)
        self.offsets: list[int] = []  # per variable: its first byte in a case
        self.storage: list[int] = []  # per variable: its bytes in a case
        at = 0
        for variable in variables:
            _check(variable)
            widths = _segment_widths(variable.width)
            self.segments.append(widths)
            self.offsets.append(at)
            size = sum(_round8(max(w, 1)) for w in widths)
            self.storage.append(size)
            at += size
        self.case_bytes = at
        self.short_names = _short_names([v.name for v in variables], self.segments)


def _check(variable: SavVariable) -> None:
    name = variable.name.encode("utf-8")
    if not name or len(name) > 64:
        raise ExportWriteError(f"SPSS variable name must have 1-64 bytes: '{variable.name}'")
    if not 0 <= variable.width <= MAX_STRING_BYTES:
        raise ExportWriteError(f"{variable.name}: string width {variable.width} out of range")
    if variable.width == 0 and len(variable.missing) > 3:
        raise ExportWriteError(f"{variable.name}: at most 3 missing values")
    if variable.measure not in _MEASURES:
        raise ExportWriteError(f"{variable.name}: unknown measure {variable.measure}")


def _segment_widths(width: int) -> list[int]:
    """Each segment's width: one for a number or a string up to 255 bytes; a very long
    string has one per 252 bytes of width, each 255 wide but the last."""
    if width <= _SEGMENT_BYTES:
        return [width]
    count = (width + _SEGMENT_WIDTH - 1) // _SEGMENT_WIDTH
    return [_SEGMENT_BYTES] * (count - 1) + [width - (count - 1) * _SEGMENT_WIDTH]


def _round8(n: int) -> int:
    return (n + 7) // 8 * 8


def _short_names(names: Sequence[str], segments: Sequence[list[int]]) -> list[list[bytes]]:
    """Unique 8-byte names for every segment, upper case as SPSS makes them: the long name
    cut to 8 bytes, or with a ``_2``, ``_3``... suffix when taken (or when it is another
    variable's long name: readers rename to long names one by one)."""
    longs = {name.upper().encode("utf-8") for name in names}
    taken: set[bytes] = set()
    tried: dict[bytes, int] = {}  # the last suffix number tried per base: no quadratic search
    out = []
    for name, widths in zip(names, segments, strict=True):
        own = name.upper().encode("utf-8")
        base = _cut(own, _NAME_BYTES)
        if not base[:1].isalpha() and base[:1] not in b"@#$" and base[:1] < b"\x80":
            base = _cut(b"V" + base, _NAME_BYTES)
        names_of = []
        for segment in range(len(widths)):
            candidate = base if segment == 0 else _suffixed(base, f"{segment}")
            key = base + b"%d" % segment
            while (
                candidate in taken
                or candidate.decode("utf-8") in _RESERVED
                or (candidate in longs and candidate != own)
            ):
                tried[key] = k = tried.get(key, 1) + 1
                candidate = _suffixed(base, f"_{k}" if segment == 0 else f"{segment}_{k}")
            taken.add(candidate)
            names_of.append(candidate)
        out.append(names_of)
    return out


def _suffixed(base: bytes, suffix: str) -> bytes:
    end = suffix.encode("ascii")
    # a 3-byte character does not fit beside "130_10": a V, not a name starting with a digit
    return (_cut(base, _NAME_BYTES - len(end)) or b"V") + end


def _cut(text: bytes, limit: int) -> bytes:
    """``text`` cut to ``limit`` bytes, never inside a UTF-8 character."""
    return text[:limit].decode("utf-8", errors="ignore").encode("utf-8")


def _dictionary(
    layout: _Layout,
    rows: int,
    label_sets: Sequence[SavLabelSet],
    file_label: str,
    created: datetime,
    compression: int = 0,
) -> bytes:
    parts = [_header(layout.case_bytes // 8, rows, file_label, created, compression)]
    parts += [_variable_records(layout, i) for i in range(len(layout.variables))]
    parts += [_value_labels(layout, label_set) for label_set in label_sets if label_set.labels]
    parts += [
        _extension(3, 4, struct.pack("<8i", 20, 0, 0, -1, 1, 1, 2, 65001)),
        _extension(4, 8, struct.pack("<3d", SYSMIS, _HIGHEST, _LOWEST)),
        _extension(11, 4, _display(layout)),
        _extension(13, 1, _long_names(layout)),
    ]
    very_long = _very_long_strings(layout)
    if very_long:
        parts.append(_extension(14, 1, very_long))
    parts.append(_extension(20, 1, b"UTF-8"))
    parts.append(struct.pack("<ii", 999, 0))
    return b"".join(parts)


def _header(
    case_slots: int, rows: int, file_label: str, created: datetime, compression: int = 0
) -> bytes:
    date = f"{created.day:02d} {_MONTHS[created.month - 1]} {created.year % 100:02d}"
    time = f"{created.hour:02d}:{created.minute:02d}:{created.second:02d}"
    label = _cut(file_label.encode("utf-8"), 64)
    return (
        (b"$FL3" if compression == COMPRESSIONS["zsav"] else b"$FL2")
        + _PRODUCT.ljust(60)
        + struct.pack("<iiiiid", 2, case_slots, compression, 0, rows, 100.0)
        + date.encode("ascii")
        + time.encode("ascii")
        + label.ljust(64)
        + b"\0\0\0"
    )


def _variable_records(layout: _Layout, index: int) -> bytes:
    variable = layout.variables[index]
    names = layout.short_names[index]
    out = []
    for segment, width in enumerate(layout.segments[index]):
        first = segment == 0
        # a string segment's format: A<its width>
        spec = _format_code(variable.format, variable.name) if width == 0 else 1 << 16 | width << 8
        label = _cut(variable.label.encode("utf-8"), _LABEL_BYTES) if first else b""
        missing = variable.missing if first and width == 0 else ()
        out.append(
            struct.pack(
                "<iiiiii8s",
                2,
                width,
                1 if label else 0,
                len(missing),
                spec,
                spec,
                names[segment].ljust(_NAME_BYTES),
            )
        )
        if label:
            out.append(struct.pack("<i", len(label)) + label.ljust((len(label) + 3) // 4 * 4))
        if missing:
            out.append(struct.pack(f"<{len(missing)}d", *missing))
        continuation = struct.pack("<iiiiii8s", 2, -1, 0, 0, 0, 0, b" " * 8)
        out.append(continuation * (_round8(max(width, 1)) // 8 - 1))
    return b"".join(out)


def _format_code(spec: str, name: str) -> int:
    """``F8.2``, ``DATE11``... as the system file's (type << 16) | (width << 8) | decimals."""
    kind = spec.rstrip("0123456789.")
    numbers = spec[len(kind) :].split(".")
    if kind not in _FORMAT_TYPES or not numbers[0].isdigit() or len(numbers) > 2:
        raise ExportWriteError(f"{name}: unknown SPSS format {spec}")
    decimals = int(numbers[1]) if len(numbers) == 2 and numbers[1] else 0
    return (_FORMAT_TYPES[kind] << 16) | (int(numbers[0]) << 8) | decimals


def _value_labels(layout: _Layout, label_set: SavLabelSet) -> bytes:
    for position in label_set.variables:
        if layout.variables[position].width != 0:
            name = layout.variables[position].name
            raise ExportWriteError(f"{name}: value labels of strings are not written")
    out = [struct.pack("<ii", 3, len(label_set.labels))]
    for value, text in sorted(label_set.labels.items()):
        label = _cut(text.encode("utf-8"), _VALUE_LABEL_BYTES)
        padded = (len(label) + 1 + 7) // 8 * 8 - 1
        out.append(struct.pack("<dB", float(value), len(label)) + label.ljust(padded))
    slots = [layout.offsets[p] // 8 + 1 for p in label_set.variables]
    out.append(struct.pack(f"<ii{len(slots)}i", 4, len(slots), *slots))
    return b"".join(out)


def _extension(subtype: int, size: int, data: bytes) -> bytes:
    return struct.pack("<iiii", 7, subtype, size, len(data) // size) + data


def _display(layout: _Layout) -> bytes:
    """Measure, column width and alignment of every segment."""
    out = []
    for variable, widths in zip(layout.variables, layout.segments, strict=True):
        numeric = variable.width == 0
        shown = variable.display_width or (8 if numeric else min(variable.width, 32))
        align = _ALIGNMENT["right" if numeric else "left"]
        out += [struct.pack("<iii", _MEASURES[variable.measure], shown, align)] * len(widths)
    return b"".join(out)


def _long_names(layout: _Layout) -> bytes:
    pairs = [
        names[0] + b"=" + variable.name.encode("utf-8")
        for variable, names in zip(layout.variables, layout.short_names, strict=True)
    ]
    return b"\t".join(pairs)


def _very_long_strings(layout: _Layout) -> bytes:
    return b"".join(
        names[0] + f"={variable.width:05d}".encode("ascii") + b"\0\t"
        for variable, names in zip(layout.variables, layout.short_names, strict=True)
        if variable.width > _SEGMENT_BYTES
    )


class _Texts:
    """A string column's bytes per case, laid out once per distinct text (or, for a large
    table of distinct texts, per chunk)."""

    def __init__(self, texts: SavTexts, width: int, storage: int) -> None:
        self.codes = texts.codes
        self.texts = texts.texts
        self.width, self.storage = width, storage
        self.table = None
        if (len(self.texts) + 1) * storage <= _TABLE_BYTES:
            self.table = _laid_out(_encoded([*self.texts, ""]), width, storage)

    def rows(self, start: int, stop: int) -> np.ndarray:
        codes = self.codes[start:stop]
        if self.table is not None:
            return self.table.take(codes, axis=0)  # code -1: the empty last row
        texts = self.texts
        chunk = _encoded([texts[c] if c >= 0 else "" for c in codes])
        return _laid_out(chunk, self.width, self.storage)


def _encoded(texts: Sequence[str]) -> list[bytes]:
    return [t.encode("utf-8") for t in texts]


def _laid_out(texts: Sequence[bytes], width: int, storage: int) -> np.ndarray:
    """Texts as rows of ``storage`` bytes, space-padded, a very long string's bytes 255 to
    each 256-byte segment."""
    if any(len(t) > width for t in texts):
        raise ExportWriteError(f"a text is longer than its variable's {width} bytes")
    packed = np.array(texts, dtype=f"S{width}").view(np.uint8).reshape(len(texts), width)
    lengths = np.fromiter(map(len, texts), dtype=np.intp, count=len(texts))
    packed = np.where(np.arange(width) < lengths[:, None], packed, np.uint8(32))
    if width <= _SEGMENT_BYTES and storage == _round8(width):
        out = np.full((len(texts), storage), 32, dtype=np.uint8)
        out[:, :width] = packed
        return out
    out = np.full((len(texts), storage), 32, dtype=np.uint8)
    at = np.arange(width)
    out[:, at // _SEGMENT_BYTES * 256 + at % _SEGMENT_BYTES] = packed
    return out


def _column(variable: SavVariable, source: Source, rows: int, storage: int):
    if variable.width == 0:
        if isinstance(source, SavTexts) or (
            isinstance(source, np.ndarray) and source.dtype.kind != "f"
        ):
            raise ExportWriteError(f"{variable.name}: numeric variable without numbers")
        if isinstance(source, np.ndarray):
            if len(source) != rows:
                raise ExportWriteError(f"{variable.name}: {len(source)} values for {rows} rows")
            array = source
            return lambda start, stop: array[start:stop]
        return source
    texts = source if isinstance(source, SavTexts) else SavTexts.of(np.asarray(source))
    if len(texts.codes) != rows:
        raise ExportWriteError(f"{variable.name}: {len(texts.codes)} values for {rows} rows")
    if texts.width > variable.width:
        raise ExportWriteError(
            f"{variable.name}: a text of {texts.width} bytes in a string of {variable.width}"
        )
    return _Texts(texts, variable.width, storage)


def _write_cases(
    handle: BinaryIO,
    layout: _Layout,
    columns: list,
    rows: int,
    chunk_bytes: int,
    compression: int = 0,
    data_at: int = 0,
    rows_written: Callable[[int], object] | None = None,
) -> None:
    """The cases, a chunk of rows at a time: numbers into their 8-byte slots (NaN made
    system missing once per run of adjacent numeric slots), strings into their bytes;
    compressed in chunks of whole bytecode blocks (the dictionary's end at ``data_at``)."""
    if compression:
        with compressed_cases(handle, compression, _text_slots(layout), data_at) as write:
            _compressed_chunks(write, layout, columns, rows, chunk_bytes, rows_written)
        return
    case_bytes = layout.case_bytes
    if rows == 0 or case_bytes == 0:
        return
    per_chunk = max(1, min(rows, chunk_bytes // case_bytes))
    buffer = np.empty((per_chunk, case_bytes // 8), dtype="<f8")
    numeric_runs = _numeric_runs(layout)
    for start in range(0, rows, per_chunk):
        stop = min(rows, start + per_chunk)
        write_all(handle, _fill(buffer, layout, columns, numeric_runs, start, stop))
        if rows_written is not None:
            rows_written(stop)


def _compressed_chunks(
    write: Callable[[np.ndarray], None],
    layout: _Layout,
    columns: list,
    rows: int,
    chunk_bytes: int,
    rows_written: Callable[[int], object] | None = None,
) -> None:
    """The cases built as for :func:`_write_cases`, in chunks of whole bytecode blocks."""
    slots = layout.case_bytes // 8
    if rows == 0 or slots == 0:
        return
    whole = block_rows(slots)
    per_chunk = max(whole, min(rows, chunk_bytes // layout.case_bytes) // whole * whole)
    buffer = np.empty((min(rows, per_chunk), slots), dtype="<f8")
    numeric_runs = _numeric_runs(layout)
    for start in range(0, rows, per_chunk):
        stop = min(rows, start + per_chunk)
        _fill(buffer, layout, columns, numeric_runs, start, stop)
        write(buffer[: stop - start])
        if rows_written is not None:
            rows_written(stop)


def _text_slots(layout: _Layout) -> np.ndarray:
    """Which 8-byte slots of a case hold string bytes."""
    text = np.zeros(layout.case_bytes // 8, dtype=bool)
    for variable, offset, storage in zip(
        layout.variables, layout.offsets, layout.storage, strict=True
    ):
        text[offset // 8 : (offset + storage) // 8] = variable.width != 0
    return text


def _fill(
    buffer: np.ndarray,
    layout: _Layout,
    columns: list,
    numeric_runs: list[tuple[int, int]],
    start: int,
    stop: int,
) -> memoryview:
    """Rows ``start:stop`` built in ``buffer``; their bytes."""
    n = stop - start
    as_bytes = buffer.view(np.uint8)
    for variable, offset, column in zip(layout.variables, layout.offsets, columns, strict=True):
        if variable.width == 0:
            buffer[:n, offset // 8] = column(start, stop)
        else:
            as_bytes[:n, offset : offset + column.storage] = column.rows(start, stop)
    for first, last in numeric_runs:
        block = buffer[:n, first:last]
        np.copyto(block, SYSMIS, where=np.isnan(block))
    return memoryview(as_bytes[:n]).cast("B")


def _numeric_runs(layout: _Layout) -> list[tuple[int, int]]:
    """Runs of adjacent numeric slots as (first, end) slot numbers."""
    runs: list[tuple[int, int]] = []
    for variable, offset in zip(layout.variables, layout.offsets, strict=True):
        if variable.width != 0:
            continue
        slot = offset // 8
        if runs and runs[-1][1] == slot:
            runs[-1] = (runs[-1][0], slot + 1)
        else:
            runs.append((slot, slot + 1))
    return runs


__all__ = [
    "CHUNK_BYTES",
    "MAX_STRING_BYTES",
    "SYSMIS",
    "SavLabelSet",
    "SavTexts",
    "SavVariable",
    "write_system_file",
]
