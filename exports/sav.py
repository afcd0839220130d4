"""One value label set per choice list in a .sav, without moving its data.

Both writers write one value label set per variable (a type 3 record of labels followed by
its type 4 record naming the one variable). The format lets one set serve many variables
(the type 4 record lists them all: PSPP developers' guide, "System File Format", "Value
Labels Records"), so the sets with identical labels are merged into one record pair each.
The dictionary gets shorter, and the data must start right after it (no header field
points at the data): the bytes freed are filled with one "extra product info" extension
record (type 7, subtype 10: free text of any length), so only the dictionary is rewritten,
in place.
"""

from __future__ import annotations

import struct
from pathlib import Path

from exports.errors import ExportWriteError

_FILLER_SUBTYPE = 10
"""The filler: an "extra product info" record (free text, shown by SYSFILE INFO), which
PSPP and SPSS read without a warning where they warn about unknown subtypes."""
_FILLER_TEXT = b"popsurvey export: one value label set per choice list"
_DICTIONARY_LIMIT = 64 << 20


def share_value_labels(path: Path) -> tuple[int, int]:
    """Merge the identical value label sets of the .sav at ``path`` in place: the number
    of sets before and after. A file whose dictionary is not laid out as the writers lay
    it out (label records together, then documents and extension records), or whose merge
    frees too few bytes for the filler record, is left as it is."""
    with path.open("r+b") as handle:
        head = handle.read(176)
        if head[:4] not in (b"$FL2", b"$FL3") or len(head) < 176:
            raise ExportWriteError(f"{path.name}: not an SPSS system file")
        # the dictionary keeps its length: the data, compressed or not, and a .zsav's
        # offsets stay where they are
        order = "<" if struct.unpack_from("<i", head, 64)[0] in (2, 3) else ">"
        widths: list[int] = []
        records = _dictionary(handle, order, path, widths)
        kinds = [kind for kind, _, _ in records]
        if 3 not in kinds:
            return 0, 0
        first = kinds.index(3)
        tail = records[first:]
        handle.seek(tail[0][1])
        span = handle.read(tail[-1][2] - tail[0][1])
    base = tail[0][1]
    pieces = [(kind, span[a - base : b - base]) for kind, a, b in tail]
    order_ok = [kind for kind, _ in pieces] == sorted(
        (kind for kind, _ in pieces), key=lambda k: {3: 0, 4: 0, 6: 1, 7: 2, 999: 3}[k]
    )
    labels = b"".join(piece for kind, piece in pieces if kind in (3, 4))
    pairs = _label_pairs(labels, order) if order_ok else None
    if pairs is None:
        return 0, 0
    merged: dict[bytes, list[int]] = {}
    for entries, variables in pairs:
        if not variables or not all(0 < v <= len(widths) for v in variables):
            return 0, 0
        # one key per type and labels, whatever order the writer put the labels in
        numeric = widths[variables[0] - 1] == 0
        entries.sort(key=(lambda e: struct.unpack(f"{order}d", e[:8])[0]) if numeric else None)
        key = b"N" if numeric else b"S"
        body = struct.pack(f"{order}i", len(entries)) + b"".join(entries)
        merged.setdefault(key + body, []).extend(variables)
    if len(merged) == len(pairs):
        return len(pairs), len(pairs)
    records_out = [
        struct.pack(f"{order}i", 3)
        + body[1:]
        + struct.pack(f"{order}ii{len(variables)}i", 4, len(variables), *variables)
        for body, variables in merged.items()
    ]
    records_out += [piece for kind, piece in pieces if kind == 6]
    extensions = [piece for kind, piece in pieces if kind == 7]
    free = len(span) - sum(map(len, records_out)) - sum(map(len, extensions)) - 8
    if free < 16 + len(_FILLER_TEXT):
        return len(pairs), len(pairs)
    text = _FILLER_TEXT + b" " * (free - 16 - len(_FILLER_TEXT))
    filler = struct.pack(f"{order}iiii", 7, _FILLER_SUBTYPE, 1, len(text)) + text
    # extension records in ascending subtype order, as the format asks
    subtype = [struct.unpack_from(f"{order}i", piece, 4)[0] for piece in extensions]
    at = sum(1 for k in subtype if k < _FILLER_SUBTYPE)
    out = b"".join(records_out + extensions[:at] + [filler] + extensions[at:]) + pieces[-1][1]
    assert len(out) == len(span)
    with path.open("r+b") as handle:
        handle.seek(base)
        handle.write(out)
    return len(pairs), len(merged)


def _dictionary(handle, order: str, path: Path, widths: list[int]) -> list[tuple[int, int, int]]:
    """Records of the dictionary: (type, start, end) each; ``widths`` gets the width of
    each variable position (0 numeric, -1 a long string's continuation)."""
    records: list[tuple[int, int, int]] = []
    read = _reader(handle, order, path)
    while True:
        start = handle.tell()
        if start > _DICTIONARY_LIMIT:
            raise ExportWriteError(f"{path.name}: no end of dictionary found")
        kind = read("i")
        if kind == 2:
            width, has_label, missing = read("iii")
            widths.append(width)
            handle.seek(8 + 8, 1)  # formats, name
            if has_label:
                length = read("i")
                handle.seek((length + 3) // 4 * 4, 1)
            handle.seek(8 * abs(missing), 1)
        elif kind == 3:
            for _ in range(read("i")):
                handle.seek(8, 1)
                length = handle.read(1)[0]
                handle.seek((length + 1 + 7) // 8 * 8 - 1, 1)
        elif kind == 4:
            handle.seek(4 * read("i"), 1)
        elif kind == 6:
            handle.seek(80 * read("i"), 1)
        elif kind == 7:
            _, size, count = read("iii")
            handle.seek(size * count, 1)
        elif kind == 999:
            read("i")
            records.append((kind, start, handle.tell()))
            return records
        else:
            raise ExportWriteError(f"{path.name}: unknown dictionary record type {kind}")
        records.append((kind, start, handle.tell()))


def _reader(handle, order: str, path: Path):  # type: ignore[no-untyped-def]
    def read(fields: str):  # type: ignore[no-untyped-def]
        size = struct.calcsize(f"{order}{fields}")
        data = handle.read(size)
        if len(data) != size:
            raise ExportWriteError(f"{path.name}: the dictionary ends early")
        values = struct.unpack(f"{order}{fields}", data)
        return values[0] if len(values) == 1 else values

    return read


def _label_pairs(span: bytes, order: str) -> list[tuple[list[bytes], list[int]]] | None:
    """(the labels, each its value, length and padded text; the variable indices) per
    type 3 + type 4 pair, None if the records do not come in pairs."""
    pairs = []
    at = 0
    while at < len(span):
        (kind,) = struct.unpack_from(f"{order}i", span, at)
        if kind != 3:
            return None
        (count,) = struct.unpack_from(f"{order}i", span, at + 4)
        at += 8
        entries = []
        for _ in range(count):
            size = 8 + (span[at + 8] + 1 + 7) // 8 * 8
            entries.append(span[at : at + size])
            at += size
        kind, n = struct.unpack_from(f"{order}ii", span, at)
        if kind != 4:
            return None
        variables = list(struct.unpack_from(f"{order}{n}i", span, at + 8))
        at += 8 + 4 * n
        pairs.append((entries, variables))
    return pairs
