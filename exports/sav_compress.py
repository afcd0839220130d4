"""Compressed SPSS system files: the bytecode of compression 1 (.sav) and the zlib blocks of
compression 2 (.zsav), encoded with numpy a chunk of cases at a time.

The formats follow the PSPP developers' guide, "System File Format":

- **bytecode** ("Data Record"): each 8-byte slot of a case gets a command byte: ``value +
  100`` (1 to 251) for a whole number from -99 to 151, 255 for system missing, 254 for a
  string slot of 8 spaces, 253 for any other slot, whose 8 bytes follow as they are. Commands
  come in blocks of 8, each block followed by the raw slots of its 253s; the stream runs on
  across cases, and the last block is padded with command 0 (ignored). Chunks of whole
  blocks (rows x slots a multiple of 8, :func:`block_rows`) encode to the same stream
  whatever their size.
- **ZSAV** ("Compressed Data", ZLIB): the same stream cut into blocks of 0x3ff000 bytes,
  each compressed by zlib on its own, after a zlib data header (its own offset, the
  trailer's offset and length) and before a trailer (bias, block size and, per block, its
  offsets and sizes uncompressed and compressed). Each block is compressed in a thread
  (zlib lets go of the interpreter lock) while the next cases are encoded.

The numbers of a case are float64; a string slot holds the string's 8 bytes (the caller's
case buffer, :mod:`exports.spss_file`): :func:`commands` reads each slot as what the
variable says it is.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import BinaryIO, Protocol

import numpy as np

BIAS = 100
"""The compression bias of the header: command ``c`` from 1 to 251 is the number ``c - 100``."""
COMPRESSIONS = {"none": 0, "bytecode": 1, "zsav": 2}
"""Compression names and the header's codes."""
ZLIB_BLOCK_BYTES = 0x3FF000
"""Bytes of bytecode per zlib block (every block but the last), as SPSS and PSPP write."""
ZLIB_LEVEL = 1
"""zlib's compression level (PSPP's; measured: docs/EXPORTS.md)."""
_RAW, _SPACES, _SYSMIS = 253, 254, 255
_SPACE_SLOT = np.uint64(0x2020202020202020)
_SYSMIS_SLOT = np.array(-sys.float_info.max).view(np.uint64)[()]
_BYTE_SUM = np.uint64(0x0101010101010101)
_ZHEADER = struct.Struct("<qqq")
_BLOCK = struct.Struct("<qqii")


def block_rows(slots: int) -> int:
    """The fewest cases of ``slots`` slots that make whole blocks of 8 commands: chunks of
    a multiple of it encode to the same stream, however the cases are cut."""
    return 8 // math.gcd(max(slots, 1), 8)


def commands(cases: np.ndarray, text: np.ndarray) -> np.ndarray:
    """Each slot's command byte (uint8, rows x slots) for ``cases`` (float64, rows x
    slots) whose slots ``text`` (bool per slot) hold string bytes."""
    bits = cases.view(np.uint64)
    with np.errstate(invalid="ignore"):  # NaN, inf and big numbers: any int16, never equal
        small = cases.astype(np.int16)
    exact = small == cases  # the number itself compared: 1e-17 is not 0
    small += BIAS - 1
    exact &= small.view(np.uint16) <= 250  # from -99 to 151
    small += 1
    out = np.where(exact, small.astype(np.uint8), np.uint8(_RAW))
    out[bits == _SYSMIS_SLOT] = _SYSMIS
    if text.any():
        columns = np.flatnonzero(text)
        out[:, columns] = np.where(bits[:, columns] == _SPACE_SLOT, _SPACES, _RAW)
    return out


def bytecode(cases: np.ndarray, text: np.ndarray) -> np.ndarray:
    """The bytecode (uint8) of ``cases`` (float64, rows x slots; ``text``: string slots),
    as blocks of 8 commands each followed by the raw slots of its 253s; a last block short
    of 8 commands is padded with 0."""
    codes = commands(cases, text).reshape(-1)
    pad = -len(codes) % 8
    if pad:
        codes = np.concatenate([codes, np.zeros(pad, dtype=np.uint8)])
    is_raw = codes == _RAW
    raw = np.flatnonzero(is_raw)
    blocks = len(codes) // 8
    # 253s per block: the block's eight 0/1 bytes summed into the top byte of one product
    per_block = (is_raw.view(np.uint64) * _BYTE_SUM >> np.uint64(56)).view(np.int64)
    out = np.empty(blocks + len(raw), dtype=np.uint64)
    # block b's commands sit after the b blocks and the raw slots of the blocks before it;
    # the j-th raw slot (of block b) after b + 1 command words and the j raw slots before it
    out[np.arange(blocks) + (np.cumsum(per_block) - per_block)] = codes.view(np.uint64)
    out[(raw >> 3) + np.arange(1, len(raw) + 1)] = cases.view(np.uint64).reshape(-1)[raw]
    return out.view(np.uint8)


class CaseWriter(Protocol):
    """Takes a chunk of cases (float64, rows x slots) and writes it."""

    def __call__(self, cases: np.ndarray) -> None: ...


@contextmanager
def compressed_cases(
    handle: BinaryIO, compression: int, text: np.ndarray, data_at: int
) -> Iterator[CaseWriter]:
    """A writer of cases to ``handle`` as bytecode (``compression`` 1) or ZSAV (2), the
    dictionary's end at offset ``data_at``: chunks of whole blocks (:func:`block_rows`) but
    the last. ZSAV's data header is patched once the blocks are written (``handle`` must
    seek)."""
    if compression == COMPRESSIONS["bytecode"]:
        yield lambda cases: write_all(handle, bytecode(cases, text))
        return
    stream = _ZlibBlocks(handle, data_at)
    try:
        yield lambda cases: stream.add(bytecode(cases, text))
        stream.finish()
    finally:
        stream.close()


class _ZlibBlocks:
    """The bytecode stream in zlib blocks of :data:`ZLIB_BLOCK_BYTES`, each compressed in a
    thread while the next ones are encoded, written in order; header and trailer."""

    def __init__(self, handle: BinaryIO, data_at: int, level: int = ZLIB_LEVEL) -> None:
        self.handle, self.data_at, self.level = handle, data_at, level
        self.pending = bytearray()
        self.sizes: list[tuple[int, int]] = []  # per block: uncompressed, compressed bytes
        self.jobs: deque[tuple[int, Future[bytes]]] = deque()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="zsav-zlib")
        write_all(handle, _ZHEADER.pack(data_at, 0, 0))  # patched by finish()

    def add(self, data: np.ndarray) -> None:
        """Append bytecode; compress every block filled."""
        self.pending += memoryview(data)
        while len(self.pending) >= ZLIB_BLOCK_BYTES:
            with memoryview(self.pending) as view:  # one copy, owned by the compression
                block = bytes(view[:ZLIB_BLOCK_BYTES])
            del self.pending[:ZLIB_BLOCK_BYTES]
            self._compress(block)

    def _compress(self, block: bytes) -> None:
        if len(self.jobs) >= 2:  # at most two blocks in memory besides the one filling
            self._write_oldest()
        self.jobs.append((len(block), self.pool.submit(zlib.compress, block, self.level)))

    def _write_oldest(self) -> None:
        size, job = self.jobs.popleft()
        compressed = job.result()
        write_all(self.handle, compressed)
        self.sizes.append((size, len(compressed)))

    def finish(self) -> None:
        """Compress the last block (an empty one when there is no data, as PSPP writes),
        write every block, the trailer, and the header's trailer offset and length."""
        if self.pending or not (self.sizes or self.jobs):
            self._compress(bytes(self.pending))
            self.pending.clear()
        while self.jobs:
            self._write_oldest()
        blocks = [_BLOCK.pack(-BIAS, 0, ZLIB_BLOCK_BYTES, len(self.sizes))]  # same layout
        plain, packed = self.data_at, self.data_at + _ZHEADER.size
        for size, compressed in self.sizes:
            blocks.append(_BLOCK.pack(plain, packed, size, compressed))
            plain += size
            packed += compressed
        trailer = b"".join(blocks)
        write_all(self.handle, trailer)
        end = self.handle.tell()
        self.handle.seek(self.data_at + 8)
        write_all(self.handle, struct.pack("<qq", packed, len(trailer)))
        self.handle.seek(end)

    def close(self) -> None:
        """Stop the compression thread (blocks not yet compressed are dropped)."""
        for _, job in self.jobs:
            job.cancel()
        self.pool.shutdown(wait=True)


def write_all(handle: BinaryIO, data) -> None:  # type: ignore[no-untyped-def]
    """Write every byte of ``data`` (any buffer) to ``handle``, however many calls it takes."""
    view = memoryview(data).cast("B")
    while view:
        written = handle.write(view)
        if written is None:  # pragma: no cover - blocking files always write
            continue
        view = view[written:]


__all__ = [
    "BIAS",
    "COMPRESSIONS",
    "ZLIB_BLOCK_BYTES",
    "ZLIB_LEVEL",
    "block_rows",
    "bytecode",
    "commands",
    "compressed_cases",
    "write_all",
]
