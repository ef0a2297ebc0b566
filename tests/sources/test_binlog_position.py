"""Binlog positions: the DMS native form, ordering, and resuming exactly where a read stopped."""

from __future__ import annotations

import re
import time

import pytest

from dersonlake.errors import BadInput, OperationFailed
from dersonlake.sources.mysql.binlog import BinlogPosition, BinlogReader, Commit, current_position
from tests.sources.binlog_helpers import SCHEMA, Cdc


def test_native_form_round_trips_and_bad_text_is_bad_input() -> None:
    pos = BinlogPosition.parse("mysql-bin.000024:373")
    assert (pos.file, pos.pos, str(pos)) == ("mysql-bin.000024", 373, "mysql-bin.000024:373")
    assert BinlogPosition.parse(" mysql-bin-changelog.157832:1975 ").file == "mysql-bin-changelog.157832"
    for bad in ("mysql-bin.000024", "mysql-bin.000024:", ":373", "mysql-bin:373", "2018-03-08T12:12:12"):
        with pytest.raises(BadInput, match="binlog position"):
            BinlogPosition.parse(bad)


def test_positions_order_by_file_number_then_offset_and_ignore_the_gtid() -> None:
    p = BinlogPosition.parse
    assert p("mysql-bin.000009:900") < p("mysql-bin.000010:4") < p("mysql-bin.000010:5")
    assert p("mysql-bin.999999:9") < p("mysql-bin.1000000:4")  # numeric, not text, order
    assert BinlogPosition("mysql-bin.000001", 4, "0-1-1") == BinlogPosition("mysql-bin.000001", 4, "0-1-9")


def test_current_position_is_show_master_status_with_the_gtid(cdc: Cdc) -> None:
    pos = current_position(cdc.params)
    with cdc.sandbox.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("SHOW MASTER STATUS")
        file, offset = cur.fetchone()[:2]
        cur.execute("SELECT @@gtid_binlog_pos")
        gtid = cur.fetchone()[0]
    assert (pos.file, pos.pos, pos.gtid) == (file, offset, gtid)
    assert re.fullmatch(r"0-1-\d+", pos.gtid)


def test_reading_from_a_recorded_position_gives_exactly_the_later_transactions_across_rotations(
    cdc: Cdc,
) -> None:
    start = cdc.position()
    for i in range(1, 4):
        cdc.sql(f"INSERT INTO cdc_t.items VALUES ({i}, 'before flush', {i})")
    middle = cdc.position()
    cdc.sql("FLUSH BINARY LOGS")
    for i in range(4, 7):
        cdc.sql(f"INSERT INTO cdc_t.items VALUES ({i}, 'after flush', {i})")
    cdc.sql("FLUSH BINARY LOGS")
    cdc.sql("INSERT INTO cdc_t.items VALUES (7, 'two files later', 7)")
    end = cdc.position()
    assert end.file != middle.file != start.file or end.file != start.file

    def ids(txs) -> list[int]:
        return [c.after["id"] for t in txs for c in t.changes]

    everything = cdc.read(start)
    assert ids(everything) == [1, 2, 3, 4, 5, 6, 7]
    assert ids(cdc.read(start, stop=middle)) == [1, 2, 3]
    assert ids(cdc.read(middle)) == [4, 5, 6, 7]
    # every commit position is a resume point: no duplicate, none missing
    for k, tx in enumerate(everything):
        assert ids(cdc.read(tx.position)) == [c.after["id"] for t in everything[k + 1 :] for c in t.changes]
    # (the server may log a binlog checkpoint after the last commit: end can be a little further)
    assert everything[-1].position <= end and everything[-1].gtid == end.gtid


def test_a_bounded_read_ends_at_the_position_it_started_with(cdc: Cdc) -> None:
    start = cdc.position()
    cdc.sql("INSERT INTO cdc_t.items VALUES (1, 'in', 1)")
    reader = BinlogReader(cdc.params, [(SCHEMA, "items")], start)
    seen = []
    for entry in reader:
        if isinstance(entry, Commit) and not seen:
            cdc.sql("INSERT INTO cdc_t.items VALUES (2, 'after the read began', 2)")  # left for the next read
        if isinstance(entry, Commit):
            seen.append(entry)
    assert len(seen) == 1
    assert [c.after["id"] for t in cdc.read(reader.position) for c in t.changes] == [2]


def test_purged_binlog_says_a_reload_is_needed(sandbox_factory) -> None:
    box = sandbox_factory("purge")
    params = box.params()
    with box.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE d")
        cur.execute("CREATE TABLE d.t (id INT PRIMARY KEY)")
        start = current_position(params)
        cur.execute("INSERT INTO d.t VALUES (1)")
        cur.execute("FLUSH BINARY LOGS")
        newest = current_position(params)
        deadline = time.monotonic() + 10
        while True:  # MariaDB keeps a log until its binlog checkpoint has moved past it
            cur.execute(f"PURGE BINARY LOGS TO '{newest.file}'")
            cur.execute("SHOW BINARY LOGS")
            if [row[0] for row in cur.fetchall()] == [newest.file]:
                break
            assert time.monotonic() < deadline, "the server kept the old binlog"
            time.sleep(0.1)

    with pytest.raises(OperationFailed, match=r"purged.*reload the tables") as failure:
        list(BinlogReader(params, [("d", "t")], start))
    assert str(start) in str(failure.value)
    with pytest.raises(OperationFailed, match="does not exist"):
        list(BinlogReader(params, [("d", "t")], BinlogPosition("mysql-bin.000099", 4)))
