"""Compressed system files (exports.sav_compress): the bytecode encoder against byte strings
worked out by hand from the PSPP developers' guide ("System File Format", "Data Record",
"Compressed Data"), and bytecode .sav and ZSAV files read back by pyreadstat (ReadStat) and
PSPP exactly as the uncompressed file is."""

from __future__ import annotations

import hashlib
import re
import struct
import threading
import zlib

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import exports.sav_compress
from exports import ExportOptions, export_frames
from exports.errors import ExportOptionsError, ExportWriteError
from exports.sav_compress import BIAS, ZLIB_BLOCK_BYTES, block_rows, bytecode, commands
from exports.spss_file import SYSMIS, SavTexts, SavVariable, write_system_file
from tests.exports.pspp import needs_pspp, run_pspp
from tests.exports.test_spss_file import CREATED, LONG_ZH, ZH_NAME, _sample

SPACES = np.frombuffer(b" " * 8, dtype="<f8")[0]
AB = np.frombuffer(b"ab      ", dtype="<f8")[0]
COMPRESSED = ("bytecode", "zsav")


def _double(value: float) -> bytes:
    return struct.pack("<d", value)


# -- the encoder, by hand --------------------------------------------------------------


def test_commands_of_numbers_and_strings():
    """1..251 for whole numbers -99..151 (value + bias 100), 255 system missing, 253 any
    other number; a string slot 254 when all spaces, else 253."""
    numbers = np.array([[1.0, -99.0, 151.0, 0.0, -0.0, 152.0, -100.0, 2.5, 1e-17, SYSMIS]])
    numbers = np.concatenate([numbers, [[np.inf, 98.0, -97.0, 100.0, 3.0, 4.0, 5, 6, 7, 8]]])
    got = commands(numbers, np.zeros(10, dtype=bool))
    assert got.tolist() == [
        [101, 1, 251, 100, 100, 253, 253, 253, 253, 255],
        [253, 198, 3, 200, 103, 104, 105, 106, 107, 108],
    ]
    text = np.array([[SPACES, AB, 1.0, SPACES]])
    assert commands(text, np.array([True, True, False, False])).tolist() == [[254, 253, 101, 253]]
    assert BIAS == 100


def test_one_block_with_its_raw_slots_after_it():
    """Three numbers and a string: the block's 8 commands (4 used, 4 of padding 0), then
    the raw slots of its 253s in order: 2.5, then the string's 8 bytes."""
    cases = np.array([[1.0, 2.5, SYSMIS, AB]])
    got = bytecode(cases, np.array([False, False, False, True])).tobytes()
    assert got == bytes([101, 253, 255, 253, 0, 0, 0, 0]) + _double(2.5) + b"ab      "


def test_the_stream_runs_on_across_cases():
    """Two cases of 5 slots (slot 2 a string): the first block holds case 1 and 3 commands
    of case 2, then its raw slots (of both cases); the second block the last 2 commands
    and 6 of padding, then its raw slot."""
    cases = np.array([[1.0, 1234.5, SPACES, 2.0, SYSMIS], [3.0, 7.0, AB, -1.0, 99.5]])
    got = bytecode(cases, np.array([False, False, True, False, False])).tobytes()
    assert got == (
        bytes([101, 253, 254, 102, 255, 103, 107, 253])
        + _double(1234.5)
        + b"ab      "
        + bytes([99, 253, 0, 0, 0, 0, 0, 0])
        + _double(99.5)
    )


def _spec_bytecode(cases: np.ndarray, text: np.ndarray) -> bytes:
    """The guide's "Data Record" compression, one slot at a time, as PSPP's writer loops."""
    out, block, raws = bytearray(), [], []
    for row in cases:
        for value, is_text in zip(row, text, strict=True):
            raw = struct.pack("<d", value)
            if is_text:
                code = 254 if raw == b" " * 8 else 253
            elif value == SYSMIS:
                code = 255
            elif -99 <= value <= 151 and value == int(value):
                code = int(value) + 100
            else:
                code = 253
            block.append(code)
            raws += [raw] if code == 253 else []
            if len(block) == 8:
                out += bytes(block) + b"".join(raws)
                block, raws = [], []
    if block:
        out += bytes(block + [0] * (8 - len(block))) + b"".join(raws)
    return bytes(out)


@pytest.mark.parametrize("seed", range(6))
def test_the_encoder_is_the_guide_s_loop(seed):
    """Random cases (whole numbers in and around -99..151, fractions, system missing,
    huge and tiny numbers, blank and non-blank string slots) of random shapes: the same
    bytes as the slot-by-slot loop."""
    rng = np.random.default_rng(seed)
    rows, slots = int(rng.integers(1, 40)), int(rng.integers(1, 30))
    pool = [0.0, -0.0, 1.0, -99.0, -100.0, 151.0, 152.0, 98.0, -97.0, 2.5, 1e-17, 1e300]
    cases = rng.choice([*pool, SYSMIS, -1e9, 151.5], size=(rows, slots))
    cases[rng.random((rows, slots)) < 0.2] = rng.normal(size=1)[0]
    text = rng.random(slots) < 0.3
    for column in np.flatnonzero(text):
        words = rng.choice([SPACES, AB, np.frombuffer("中文  ".encode(), "<f8")[0]], rows)
        cases[:, column] = words
    assert bytecode(cases, text).tobytes() == _spec_bytecode(cases, text)


def test_blocks_of_whole_rows():
    assert [block_rows(s) for s in (1, 2, 4, 6, 8, 331, 16, 0)] == [8, 4, 2, 4, 1, 8, 1, 8]
    rng = np.random.default_rng(3)
    cases = rng.choice([1.0, 2.5, SYSMIS, 1e9], size=(24, 6))
    text = np.zeros(6, dtype=bool)
    whole = bytecode(cases, text).tobytes()
    # chunks of block_rows(6) = 4 cases encode to the same stream as all at once
    assert b"".join(bytecode(cases[i : i + 4], text).tobytes() for i in range(0, 24, 4)) == whole


# -- files ----------------------------------------------------------------------------


def _write(path, rows: int = 7, chunk_bytes: int = 1 << 20, **options) -> None:
    variables, sources, label_sets, _ = _sample(max(rows, 5))  # its first 5 rows fixed
    sources = [source[:rows] for source in sources]
    write_system_file(
        path,
        variables,
        sources,
        rows,
        label_sets=label_sets,
        file_label="住户调查",
        created=CREATED,
        chunk_bytes=chunk_bytes,
        **options,
    )


def _data_start(raw: bytes) -> int:
    """The offset just after the dictionary's end record (999, 0)."""
    at = raw.index(struct.pack("<ii", 999, 0), 176)
    return at + 8


@pytest.mark.parametrize("rows", [0, 1, 7, 41])
@pytest.mark.parametrize("compression", COMPRESSED)
def test_pyreadstat_reads_what_the_uncompressed_file_holds(tmp_path, rows, compression):
    """Values, long and very long strings (Chinese cut across 255-byte segments), missing
    values, labels: the same as read from the uncompressed file."""
    _write(tmp_path / "plain.sav", rows, chunk_bytes=3000)
    _write(tmp_path / "packed.sav", rows, chunk_bytes=3000, compression=compression)
    plain, plain_meta = pyreadstat.read_sav(tmp_path / "plain.sav", user_missing=True)
    packed, meta = pyreadstat.read_sav(tmp_path / "packed.sav", user_missing=True)
    pd.testing.assert_frame_equal(packed, plain)
    assert meta.missing_ranges == plain_meta.missing_ranges
    assert meta.variable_value_labels == plain_meta.variable_value_labels
    assert meta.original_variable_types == plain_meta.original_variable_types
    assert meta.number_rows == rows and meta.file_label == "住户调查"
    code = struct.unpack_from("<i", (tmp_path / "packed.sav").read_bytes(), 72)[0]
    assert code == {"bytecode": 1, "zsav": 2}[compression]
    if rows:
        assert packed["notes"][0] == LONG_ZH and packed[ZH_NAME][0] == "王芳"


@pytest.mark.parametrize("compression", COMPRESSED)
def test_chunks_of_any_size_write_the_same_file(tmp_path, compression):
    written = []
    for chunk_bytes in (1, 3000, 1 << 20):
        path = tmp_path / f"c{chunk_bytes}.sav"
        _write(path, 41, chunk_bytes, compression=compression)
        written.append(path.read_bytes())
    assert written[0] == written[1] == written[2]


def test_header_codes_and_the_zlib_header_and_trailer(tmp_path, monkeypatch):
    """$FL2 and compression 1 / $FL3 and compression 2; the ZSAV data header (its own
    offset, the trailer's offset and length), blocks of the block size but the last, the
    trailer (bias -100, 0, block size, block count, each block's offsets and sizes); its
    blocks inflate to the bytecode file's data, byte for byte."""
    monkeypatch.setattr(exports.sav_compress, "ZLIB_BLOCK_BYTES", 200)  # cut mid-block
    _write(tmp_path / "b.sav", 41, 3000, compression="bytecode")
    _write(tmp_path / "z.zsav", 41, 3000, compression="zsav")
    bytecoded, zsav = (tmp_path / "b.sav").read_bytes(), (tmp_path / "z.zsav").read_bytes()
    assert bytecoded[:4] == b"$FL2" and zsav[:4] == b"$FL3"
    assert struct.unpack_from("<i", bytecoded, 72)[0] == 1
    assert struct.unpack_from("<i", zsav, 72)[0] == 2
    assert struct.unpack_from("<d", zsav, 84)[0] == 100.0
    start = _data_start(zsav)
    assert start == _data_start(bytecoded) and zsav[4:72] == bytecoded[4:72]
    assert zsav[76:start] == bytecoded[76:start]  # the same dictionary
    header_at, trailer_at, trailer_bytes = struct.unpack_from("<qqq", zsav, start)
    assert header_at == start and trailer_at + trailer_bytes == len(zsav)
    bias, zero, block_size, blocks = struct.unpack_from("<qqii", zsav, trailer_at)
    assert (bias, zero, block_size) == (-100, 0, 200) and trailer_bytes == 24 + 24 * blocks
    data = bytecoded[_data_start(bytecoded) :]
    assert blocks == -(-len(data) // 200) > 2
    inflated, plain_at, packed_at = [], start, start + 24
    for i in range(blocks):
        plain_ofs, packed_ofs, plain_size, packed_size = struct.unpack_from(
            "<qqii", zsav, trailer_at + 24 + 24 * i
        )
        assert (plain_ofs, packed_ofs) == (plain_at, packed_at)
        assert plain_size == (200 if i < blocks - 1 else len(data) - 200 * i)
        inflated.append(zlib.decompress(zsav[packed_ofs : packed_ofs + packed_size]))
        assert len(inflated[-1]) == plain_size
        plain_at, packed_at = plain_at + plain_size, packed_at + packed_size
    assert packed_at == trailer_at and b"".join(inflated) == data
    # blocks cut inside a command block and its raw slots: ReadStat reads on across them
    plain, _ = pyreadstat.read_sav(tmp_path / "b.sav")
    pd.testing.assert_frame_equal(pyreadstat.read_sav(tmp_path / "z.zsav")[0], plain)


def test_a_zsav_without_cases_has_one_empty_block(tmp_path):
    """As PSPP writes it: one zlib block of no data."""
    path = tmp_path / "empty.zsav"
    write_system_file(path, [SavVariable("a")], [np.empty(0)], 0, compression="zsav")
    raw = path.read_bytes()
    start = _data_start(raw)
    _, trailer_at, trailer_bytes = struct.unpack_from("<qqq", raw, start)
    assert trailer_bytes == 48 and trailer_at + 48 == len(raw)
    assert struct.unpack_from("<qqii", raw, trailer_at + 24)[2] == 0
    assert zlib.decompress(raw[start + 24 : trailer_at]) == b""
    assert len(pyreadstat.read_sav(path)[0]) == 0


def test_a_failing_source_stops_the_compression_thread(tmp_path):
    def numbers(start: int, stop: int) -> np.ndarray:
        if start:
            raise ExportWriteError("source failed")
        return np.arange(start, stop, dtype=np.float64) + 0.5

    before = threading.active_count()
    with pytest.raises(ExportWriteError, match="source failed"):
        write_system_file(
            tmp_path / "f.zsav",
            [SavVariable("x")],
            [numbers],
            100,
            chunk_bytes=80,
            compression="zsav",
        )
    assert threading.active_count() == before


def test_unknown_compression_is_refused(tmp_path):
    with pytest.raises(ExportWriteError, match="compression must be one of"):
        write_system_file(
            tmp_path / "x.sav", [SavVariable("a")], [np.zeros(1)], 1, compression="lz4"
        )
    with pytest.raises(ExportOptionsError, match="sav_compression"):
        ExportOptions(sav_compression="zsav").check()


def test_many_zlib_blocks_of_random_numbers(tmp_path):
    """Over 0x3ff000 bytes of bytecode (random numbers: every slot raw): two blocks, read
    back whole by ReadStat."""
    rng = np.random.default_rng(8)
    rows, columns = 9_000, 60
    values = rng.normal(size=(columns, rows))
    values[:, ::7] = np.nan
    values[3] = rng.integers(-120, 170, rows)
    path = tmp_path / "big.zsav"
    variables = [SavVariable(f"v{i}") for i in range(columns)] + [SavVariable("t", 3)]
    texts = SavTexts(rng.integers(-1, 2, rows), ["abc", "中"])
    write_system_file(path, variables, [*values, texts], rows, compression="zsav")
    raw = path.read_bytes()
    _, trailer_at, _ = struct.unpack_from("<qqq", raw, _data_start(raw))
    assert struct.unpack_from("<qqii", raw, trailer_at)[3] == 2
    assert ZLIB_BLOCK_BYTES == 0x3FF000
    data, _ = pyreadstat.read_sav(path)
    np.testing.assert_array_equal(data.iloc[:, :columns].to_numpy(), values.T)
    assert data["t"].tolist()[:20] == [["", "abc", "中"][c + 1] for c in texts.codes[:20]]


# -- the export ------------------------------------------------------------------------


def test_the_export_writes_bytecode_sav_and_its_own_zsav(tmp_path):
    from tests.exports.household import household_frames

    form, frames = household_frames()
    written = {}
    for name, options in {
        "default": ExportOptions(formats=("sav", "zsav"), salt="s"),
        "none": ExportOptions(formats=("sav",), salt="s", sav_compression="none"),
    }.items():
        out = tmp_path / name
        result = export_frames(form, frames.main, frames.repeats, out, options)
        written[name] = out, result
    out, result = written["default"]
    assert result.provenance["writers"] == {"sav": "popsurvey", "zsav": "popsurvey"}
    assert result.provenance["sav_compression"] == "bytecode"
    assert "sav compression: bytecode" in result.log
    for file in result.provenance["files"]:  # the .zsav's header patched: hashed again
        assert file["sha256"] == hashlib.sha256((out / file["name"]).read_bytes()).hexdigest()
    sav, zsav = (out / "household_export.sav").read_bytes(), (out / "household_export.zsav")
    assert struct.unpack_from("<i", sav, 72)[0] == 1
    assert struct.unpack_from("<i", zsav.read_bytes(), 72)[0] == 2
    plain_out, plain = written["none"]
    assert plain.provenance["sav_compression"] == "none"
    plain_sav = plain_out / "household_export.sav"
    assert struct.unpack_from("<i", plain_sav.read_bytes(), 72)[0] == 0
    expected, _ = pyreadstat.read_sav(plain_sav, user_missing=True)
    for path in (out / "household_export.sav", zsav):
        pd.testing.assert_frame_equal(pyreadstat.read_sav(path, user_missing=True)[0], expected)


@pytest.mark.parametrize("writer", ["pyreadstat", "polars-readstat"])
def test_the_readstat_writers_compress_as_asked(tmp_path, writer):
    pytest.importorskip(writer.replace("-", "_"))
    from tests.exports.household import household_frames

    form, frames = household_frames()
    for compression, code in (("bytecode", 1), ("none", 0)):
        out = tmp_path / compression
        options = ExportOptions(
            formats=("sav",), salt="s", writer=writer, sav_compression=compression
        )
        export_frames(form, frames.main, frames.repeats, out, options)
        raw = (out / "household_export.sav").read_bytes()
        assert struct.unpack_from("<i", raw, 72)[0] == code


# -- PSPP ------------------------------------------------------------------------------

_LIST = (
    "SET TVARS=NAMES.\n"
    "GET FILE='{name}'.\n"
    "DISPLAY DICTIONARY.\n"
    "LIST VARIABLES=submission_id consent edu age visit_date start duration nothing.\n"
    f"LIST VARIABLES={ZH_NAME}.\n"
    "COMPUTE note_length = LENGTH(RTRIM(notes)).\n"
    "FORMATS note_length (F8.0).\n"
    "LIST VARIABLES=note_length.\n"
    "DESCRIPTIVES VARIABLES=consent age /STATISTICS=MEAN.\n"
)


@needs_pspp
@pytest.mark.parametrize("rows", [0, 41])
def test_pspp_reads_the_same_cases_without_a_warning(tmp_path, rows):
    """PSPP lists the same cases from the bytecode and ZSAV files as from the uncompressed
    one, with no warning (its reader checks every offset and size of the ZSAV trailer)."""
    outputs = {}
    for compression in ("none", *COMPRESSED):
        name = f"{compression}.sav"
        _write(tmp_path / name, rows, 3000, compression=compression)
        info = run_pspp(tmp_path, f"SYSFILE INFO FILE='{name}'.\n")
        shown = re.search(r"^\|Compression\s*\|\s*(\w+)\s*\|$", info, re.MULTILINE)
        assert shown is not None, info
        assert shown[1] == {"none": "None", "bytecode": "SAV", "zsav": "ZSAV"}[compression]
        outputs[compression] = run_pspp(tmp_path, _LIST.format(name=name))
    assert outputs["bytecode"] == outputs["none"] == outputs["zsav"]
    if rows:
        assert "王芳" in outputs["none"] and "900" in outputs["none"]


@needs_pspp
def test_pspp_reads_two_zlib_blocks(tmp_path):
    rng = np.random.default_rng(9)
    rows = 9_000
    values = rng.normal(size=(60, rows))
    values[:, -1], values[0, -2] = 12.25, -3.5  # the last cases, in the second block
    variables = [SavVariable(f"v{i}") for i in range(60)]
    write_system_file(tmp_path / "big.zsav", variables, list(values), rows, compression="zsav")
    output = run_pspp(
        tmp_path,
        "GET FILE='big.zsav'.\nDESCRIPTIVES VARIABLES=v0 v59 /STATISTICS=MEAN.\n"
        "LIST VARIABLES=v0 v59 /CASES=FROM 8999 TO 9000.\n",
    )
    assert "|-3.50|" in output and "|12.25|12.25|" in output and str(rows) in output
