"""Truncated, corrupt and random bytes fed to the binlog decoder: a ``BinlogCorrupt`` naming the
position, or correct output, and never another exception, a hang or a silently skipped event.

hypothesis drives the inputs (bounded: a fixed number of examples, each with a deadline); the
recorded MySQL files are the seeds, decoded with checksums (a flipped bit is caught by CRC32) and
with the checksums stripped off (so the row, JSON and Table_map parsers meet the bad bytes).
"""

from __future__ import annotations

import contextlib
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dersonlake.sources.mysql.binlog_dump import dump_changes
from dersonlake.sources.mysql.binlog_events import EventDecoder, Rows
from dersonlake.sources.mysql.binlog_file import read_file_events
from dersonlake.sources.mysql.binlog_framing import BinlogCorrupt
from dersonlake.sources.mysql.binlog_json import parse_json_binary
from dersonlake.sources.mysql.binlog_rows_event import parse_rows_event

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mysql8-binlogs"
SEEDS = ["mysql-enum-string-set.000001", "json.binlog.000001", "json-opaque.binlog", "transaction_compression.000001",
         "vector.binlog", "binlog_transaction_with_GTID_TAG.000001"]  # fmt: skip
FUZZ = settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _without_checksums(data: bytes) -> bytes:
    """The file with every event's CRC32 cut off and the FDE saying "no checksum"."""
    out = bytearray(data[:4])
    pos = 4
    while pos < len(data):
        size = struct.unpack_from("<I", data, pos + 9)[0]
        event = bytearray(data[pos : pos + size - 4])
        struct.pack_into("<I", event, 9, size - 4)
        if event[4] == 15:  # Format_description: its algorithm byte is now the last one
            event[-1] = 0
        out += event
        pos += size
    return bytes(out)


def _decode_all(path: Path) -> int:
    try:
        return sum(1 for _ in dump_changes([path]))
    except BinlogCorrupt as exc:
        assert f"at {path.name}:" in str(exc), str(exc)  # names the file and the offset
        return -1


@pytest.mark.parametrize("strip", [False, True], ids=["crc32", "no-checksum"])
@FUZZ
@given(seed=st.sampled_from(SEEDS), data=st.data())
def test_flipped_bytes_give_a_positioned_error_or_output(tmp_path_factory, strip, seed, data) -> None:
    raw = (FIXTURES / seed).read_bytes()
    if strip:
        raw = _without_checksums(raw)
    flips = data.draw(
        st.lists(
            st.tuples(st.integers(4, len(raw) - 1), st.integers(1, 255)),
            min_size=1,
            max_size=4,
            unique_by=lambda f: f[0],
        )
    )
    bad = bytearray(raw)
    for at, mask in flips:
        bad[at] ^= mask
    path = tmp_path_factory.mktemp("fuzz") / seed
    path.write_bytes(bytes(bad))
    if not strip:
        assert _decode_all(path) == -1  # CRC32 catches every flipped bit
    else:
        _decode_all(path)


@FUZZ
@given(seed=st.sampled_from(SEEDS), data=st.data())
def test_truncated_files_end_with_a_positioned_error(tmp_path_factory, seed, data) -> None:
    raw = (FIXTURES / seed).read_bytes()
    cut = data.draw(st.integers(5, len(raw) - 1))
    boundaries = {offset + len(event) for offset, event in read_file_events(FIXTURES / seed)}
    path = tmp_path_factory.mktemp("cut") / seed
    path.write_bytes(raw[:cut])
    result = _decode_all(path)
    if cut not in boundaries:
        assert result == -1


@FUZZ
@given(body=st.binary(max_size=600))
def test_random_rows_event_bodies_never_crash(body: bytes) -> None:
    decoder = EventDecoder()
    tables = {}
    for offset, raw in read_file_events(FIXTURES / "mysql-enum-string-set.000001"):
        for event in decoder.decode(raw, f"x:{offset}"):
            if isinstance(event.data, Rows):
                tables[event.type] = event.data.table
    table = next(iter(tables.values()))
    for event_type in (30, 31, 32, 39, 166, 170):
        prefix = (
            table.table_id.to_bytes(6, "little") + b"\x01\x00" + (b"\x02\x00" if event_type != 166 else b"")
        )
        try:
            parse_rows_event(event_type, prefix + body, 10 if event_type != 166 else 8, table, "x:1")
        except BinlogCorrupt as exc:
            assert exc.where == "x:1"


@FUZZ
@given(data=st.binary(min_size=1, max_size=400))
def test_random_json_binary_raises_value_error_only(data: bytes) -> None:
    with contextlib.suppress(ValueError):
        parse_json_binary(data)


def test_deeply_nested_json_is_an_error_not_a_crash() -> None:
    inner = struct.pack("<HH", 0, 4)  # an empty small array
    for _ in range(5000):  # each level: one element, the array inside it at offset 7
        inner = struct.pack("<HH", 1, 7 + len(inner)) + b"\x02" + struct.pack("<H", 7) + inner
    doc = b"\x02" + inner
    with pytest.raises(ValueError, match="malformed binary JSON"):
        parse_json_binary(doc)


def test_an_unknown_event_type_stops_the_read_instead_of_being_skipped(tmp_path: Path) -> None:
    """A rows event re-typed 99 (not flagged ignorable, checksum recomputed): the reader must not
    pass over what may be row changes."""
    raw = bytearray((FIXTURES / "mysql-enum-string-set.000001").read_bytes())
    at = 1077  # the WRITE_ROWS event
    size = struct.unpack_from("<I", raw, at + 9)[0]
    raw[at + 4] = 99
    struct.pack_into("<I", raw, at + size - 4, zlib.crc32(bytes(raw[at : at + size - 4])))
    path = tmp_path / "unknown.000001"
    path.write_bytes(bytes(raw))
    with pytest.raises(BinlogCorrupt, match=r"unknown binlog event type 99 .* at unknown.000001:1077"):
        list(dump_changes([path]))


_EMPTY_IMAGES = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2_000_000_000, 2_000_000_000))  # a runaway decoder dies here
from pathlib import Path
from dersonlake.sources.mysql.binlog_events import EventDecoder, Rows
from dersonlake.sources.mysql.binlog_file import read_file_events
from dersonlake.sources.mysql.binlog_framing import BinlogCorrupt
from dersonlake.sources.mysql.binlog_rows_event import parse_rows_event, row_decoder_name
decoder = EventDecoder()
table = next(
    event.data.table
    for offset, raw in read_file_events(Path(sys.argv[1]))
    for event in decoder.decode(raw, f"x:{offset}")
    if isinstance(event.data, Rows)
)
count = len(table.columns)
body = bytes([count]) + bytes((count + 7) // 8) + b"\\x00\\x01"
prefix = table.table_id.to_bytes(6, "little") + b"\\x01\\x00\\x02\\x00"
try:
    parse_rows_event(30, prefix + body, 10, table, "x:1")
except BinlogCorrupt as exc:
    print(row_decoder_name(), exc)
"""


@pytest.mark.parametrize("pure", ["0", "1"], ids=["compiled", "pure-python"])
def test_a_rows_event_with_no_column_present_is_an_error_not_an_endless_loop(pure: str) -> None:
    """Found by the fuzzer: a columns-present bitmap of zeros makes every row image zero bytes long,
    and a decoder that does not notice appends rows until memory runs out (a child process with a
    memory limit, so a regression fails this test instead of the machine)."""
    env = {**os.environ, "DERSONLAKE_PURE_PYTHON": pure}
    done = subprocess.run(
        [sys.executable, "-c", _EMPTY_IMAGES, str(FIXTURES / "mysql-enum-string-set.000001")],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    decoder = "pure-python" if pure == "1" else "compiled"
    assert done.stdout.startswith(decoder) and "x:1" in done.stdout, done.stdout
