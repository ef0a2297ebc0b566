"""Our binlog client and decoder against a live MariaDB: layouts the type zoo does not reach,
compressed events, checksums off and on, a server restart mid-stream, GTID starts, timeouts.

Every test reads with the real replication protocol from the session sandbox (or a private one
for the restart); global settings changed here are restored in ``finally``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pyarrow as pa
import pytest

from dersonlake.errors import OperationFailed
from dersonlake.sources.mysql.binlog import BinlogPosition, BinlogReader, Change, Commit, changes_to_batch
from dersonlake.sources.mysql.binlog_client import BinlogConnection
from dersonlake.sources.mysql.binlog_events import EventDecoder, Gtid, Rows
from dersonlake.sources.mysql.binlog_framing import ALG_CRC32
from dersonlake.sources.mysql.binlog_position import current_position
from dersonlake.sources.mysql.connection import ConnectionParams
from dersonlake.sources.mysql.snapshot import SnapshotQuery, read_batches
from tests.sources.binlog_helpers import SCHEMA, Cdc

EDGES = """id INT PRIMARY KEY, d55 DECIMAL(5,5), d180 DECIMAL(18,0), d209 DECIMAL(20,9), d6530 DECIMAL(65,30),
  t3 TIME(3), t1 TIME(1), t6 TIME(6), t0 TIME, dt3 DATETIME(3), dt1 DATETIME(1), ts6 TIMESTAMP(6) NULL, y YEAR,
  m MEDIUMINT, mu MEDIUMINT UNSIGNED, bu BIGINT UNSIGNED, c255 CHAR(255), v300 VARCHAR(300),
  l1 VARCHAR(20) CHARACTER SET latin1, e ENUM('x','y'), s SET('p','q','r'), b BIT(9), b1 BIT(1),
  bin BINARY(4), f FLOAT, j JSON, lt LONGTEXT"""
EDGE_ROWS = [
    "(1, 0.12345, 123456789012345678, 12345678901.123456789, -1234567890123456789012345678901234.5, "
    "'-838:59:58.999', '-00:00:00.5', '12:34:56.000001', '-00:00:01', '2024-02-29 23:59:59.999', "
    "'1000-01-01 00:00:00.1', '2038-01-19 03:14:07.999999', 2155, -8388608, 16777215, 18446744073709551615, "
    "REPEAT('é', 255), REPEAT('ü', 300), 'Ærø', 'y', 'r,p', b'100000001', b'1', 'ab', 1.5, "
    "'{\"k\": [1, 2.5, \"x\"]}', REPEAT('long ', 20000))",
    "(2, -0.00001, -1, -0.000000001, 0, '-00:00:01.001', '838:59:59.9', '-12:00:00.000001', '838:59:59', "
    "'0000-00-00 00:00:00.000', '9999-12-31 23:59:59.9', '1970-01-01 00:00:01.000001', 0, 8388607, 0, 0, '', '', '', "
    "'', '', b'0', b'0', '', -0.25, '[]', '')",
    "(3" + ", NULL" * 26 + ")",
]


def full_load(cdc: Cdc, name: str) -> tuple[object, pa.Table]:
    table = cdc.table(name)
    query = SnapshotQuery(table, table.columns, key=("id",))
    return table, pa.Table.from_batches(list(read_batches(cdc.params, query)), schema=query.schema)


def assert_equal_to_full_load(cdc: Cdc, name: str, start: BinlogPosition) -> None:
    table, loaded = full_load(cdc, name)
    changes = [c for t in cdc.read(start, tables=[name]) for c in t.changes if isinstance(c, Change)]
    changes = list({c.row["id"]: c for c in changes}.values())  # each row's last image
    got = pa.Table.from_batches([changes_to_batch(table, table.columns, changes).data]).sort_by("id")
    assert got.num_rows == loaded.num_rows > 0
    for column in loaded.column_names:
        assert got.column(column).equals(loaded.column(column)), (
            column, got.column(column).to_pylist()[:3], loaded.column(column).to_pylist()[:3]
        )  # fmt: skip


@pytest.fixture
def edges(cdc: Cdc) -> Iterator[str]:
    cdc.sql(f"DROP TABLE IF EXISTS {SCHEMA}.edges", f"CREATE TABLE {SCHEMA}.edges ({EDGES})")
    yield "edges"


def test_edge_layouts_through_the_binlog_equal_the_full_load(cdc: Cdc, edges: str, row_decoder: str) -> None:
    """Decimal group boundaries, negative fractional TIMEs, 2-byte lengths, latin1, unsigned
    maximums, BIT, BINARY padding, JSON, a 100 KB text, NULLs: the values the full load gives."""
    start = cdc.position()
    cdc.sql(f"INSERT INTO {SCHEMA}.edges VALUES {', '.join(EDGE_ROWS)}")
    assert_equal_to_full_load(cdc, edges, start)


def test_mariadb_compressed_events_are_decoded(cdc: Cdc, edges: str, row_decoder: str) -> None:
    """log_bin_compress=ON: QUERY_COMPRESSED and *_ROWS_COMPRESSED events (AWS DMS refuses them)."""
    with cdc.sandbox.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.log_bin_compress, @@GLOBAL.log_bin_compress_min_len")
        saved = cur.fetchone()
        cur.execute("SET GLOBAL log_bin_compress = ON, GLOBAL log_bin_compress_min_len = 10")
    try:
        start = cdc.position()
        cdc.sql(f"INSERT INTO {SCHEMA}.edges VALUES {', '.join(EDGE_ROWS)}")
        cdc.sql(f"UPDATE {SCHEMA}.edges SET v300 = REPEAT('z', 300) WHERE id = 2")
        with cdc.sandbox.admin_connection() as conn, conn.cursor() as cur:
            cur.execute(f"SHOW BINLOG EVENTS IN '{start.file}' FROM {start.pos}")
            kinds = {row[2] for row in cur.fetchall()}
        assert {"Write_rows_compressed_v1", "Update_rows_compressed_v1"} <= kinds, kinds
        assert_equal_to_full_load(cdc, edges, start)
    finally:
        with cdc.sandbox.admin_connection() as conn, conn.cursor() as cur:
            cur.execute("SET GLOBAL log_bin_compress = %s, GLOBAL log_bin_compress_min_len = %s", saved)


def test_checksums_off_then_on_across_files(cdc: Cdc) -> None:
    """binlog_checksum=NONE and back to CRC32 (each switch starts a new file): one read across."""
    start = cdc.position()
    with cdc.sandbox.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.binlog_checksum")
        (saved,) = cur.fetchone()
        cur.execute("SET GLOBAL binlog_checksum = 'NONE'")
    try:
        cdc.sql(f"INSERT INTO {SCHEMA}.items VALUES (1, 'no checksum', 1)")
        with cdc.sandbox.admin_connection() as conn, conn.cursor() as cur:
            cur.execute("SET GLOBAL binlog_checksum = 'CRC32'")
        cdc.sql(f"INSERT INTO {SCHEMA}.items VALUES (2, 'crc32', 2)")
    finally:
        with cdc.sandbox.admin_connection() as conn, conn.cursor() as cur:
            cur.execute("SET GLOBAL binlog_checksum = %s", (saved,))
    txs = cdc.read(start)
    assert [c.after["name"] for t in txs for c in t.changes] == ["no checksum", "crc32"]
    assert txs[0].position.file != txs[1].position.file


def test_a_corrupted_event_is_refused_naming_its_position(cdc: Cdc) -> None:
    """A CRC32 mismatch stops the read with the position; nothing after it is passed on."""
    start = cdc.position()
    cdc.sql(f"INSERT INTO {SCHEMA}.items VALUES (7, 'seven', 7)")
    conn = BinlogConnection(cdc.params, 99001, read_timeout=10)
    conn.start(start.file, start.pos, blocking=False)
    decoder = EventDecoder(checksum=ALG_CRC32 if conn.checksum == "CRC32" else 0)
    try:
        events = list(conn.events())
    finally:
        conn.close()
    assert conn.checksum == "CRC32"
    rows = [raw for raw in events if raw[4] in (23, 30)]
    bad = bytearray(rows[-1])
    bad[-6] ^= 0x01  # a flipped bit in the row image
    for raw in events:
        if raw is rows[-1]:
            break
        list(decoder.decode(raw, "x"))
    with pytest.raises(ValueError, match=r"checksum mismatch .* at mysql-bin\.\d+:\d+"):
        list(decoder.decode(bytes(bad), f"{start.file}:{int.from_bytes(bad[13:17], 'little')}"))


def test_mariadb_gtid_start_streams_the_transactions_after_it(cdc: Cdc) -> None:
    cdc.sql(f"INSERT INTO {SCHEMA}.items VALUES (10, 'before', 1)")
    with cdc.sandbox.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.gtid_binlog_pos")
        (gtid,) = cur.fetchone()
    cdc.sql(f"INSERT INTO {SCHEMA}.items VALUES (11, 'after', 1)")
    conn = BinlogConnection(cdc.params, 99002, read_timeout=10)
    conn.start_mariadb_gtid(gtid, blocking=False)
    decoder = EventDecoder(checksum=ALG_CRC32 if conn.checksum == "CRC32" else 0)
    try:
        data = [e.data for raw in conn.events() for e in decoder.decode(raw, "stream")]
    finally:
        conn.close()
    gtids = [d.gtid for d in data if isinstance(d, Gtid)]
    domain, server, seq = gtid.split(",")[0].split("-")
    assert gtids[0] == f"{domain}-{server}-{int(seq) + 1}"
    names = [r.event.rows[0][0]["name"] for r in data if isinstance(r, Rows) and r.table.table == "items"]
    assert names[0] == "after" and "before" not in names


def test_a_server_that_never_answers_times_out_instead_of_hanging() -> None:
    """A listener that accepts TCP and never sends the greeting (a real socket, no mock)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        params = ConnectionParams(host="127.0.0.1", port=port, user="u", connect_timeout=1)
        began = time.monotonic()
        with pytest.raises(
            OperationFailed, match=rf"MySQL at 127.0.0.1:{port} accepted the connection but sent no greeting"
        ):
            BinlogConnection(params, 99003, read_timeout=1.5).start("mysql-bin.000001", 4, blocking=True)
        assert time.monotonic() - began < 10


def test_a_server_restart_mid_stream_loses_and_repeats_nothing(sandbox_factory) -> None:
    """A streaming read across a server restart: it reconnects from the last transaction boundary
    and yields every committed row exactly once, in order."""
    box = sandbox_factory("restart")
    with box.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE r")
        cur.execute("CREATE TABLE r.t (id INT PRIMARY KEY, v VARCHAR(20))")
    params = box.params(["r"])
    start = current_position(params)
    seen: list[int] = []
    files: set[str] = set()

    def write() -> None:
        def insert(first: int, last: int) -> None:
            with box.admin_connection() as conn, conn.cursor() as cur:
                for i in range(first, last + 1):
                    cur.execute("INSERT INTO r.t VALUES (%s, 'v')", (i,))

        insert(1, 30)
        deadline = time.monotonic() + 60
        while len(seen) < 30 and time.monotonic() < deadline:  # the reader is mid-stream
            time.sleep(0.05)
        box.stop(timeout=30)
        box.start()
        insert(31, 60)

    writer = threading.Thread(target=write)
    reader = BinlogReader(
        params,
        [("r", "t")],
        start,
        blocking=True,
        heartbeat=0.5,
        retries=30,
        should_stop=lambda: len(seen) >= 60,
    )
    writer.start()
    try:
        for item in reader:
            if isinstance(item, Change):
                seen.append(item.after["id"])
            elif isinstance(item, Commit):
                files.add(item.position.file)
    finally:
        writer.join(timeout=120)
    assert seen == list(range(1, 61))
    assert len(files) >= 2  # the restart started a new binlog file
