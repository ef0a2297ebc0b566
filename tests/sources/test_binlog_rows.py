"""Our row decoder (``binlog_rows``) gives exactly python-mysql-replication's values.

Each rows event is decoded both ways from the same bytes: first by ``decode_rows`` (which leaves the
library's packet untouched), then by the library's ``ev.rows`` with the reader's SET repair. The
type zoo covers every type family with minimums, maximums, zero dates and NULLs; ``edges`` adds
the layouts the zoo does not reach (decimal group boundaries, negative fractional times, 2-byte
string lengths, latin1). The one difference allowed: an empty binary value is ``b""`` here, where
the library's ``b"".decode("binary")`` returns ``""`` (CPython does not look an empty decode's codec
up); ``binlog_batches`` turns both into ``b""``.
"""

from __future__ import annotations

import random
from importlib.metadata import version
from typing import Any

import pytest
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.constants import FIELD_TYPE
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

from dersonlake.sources.mysql.binlog_position import BinlogPosition
from dersonlake.sources.mysql.binlog_reader import _repair
from dersonlake.sources.mysql.binlog_rows import LIBRARY_VERSION, decode_rows, decoder_for
from tests.sources.binlog_helpers import Cdc

EDGES = """id INT PRIMARY KEY, d55 DECIMAL(5,5), d180 DECIMAL(18,0), d209 DECIMAL(20,9), d6530 DECIMAL(65,30),
  t3 TIME(3), t1 TIME(1), t6 TIME(6), dt3 DATETIME(3), dt1 DATETIME(1), ts6 TIMESTAMP(6) NULL, y YEAR,
  m MEDIUMINT, c255 CHAR(255), v300 VARCHAR(300), l1 VARCHAR(20) CHARACTER SET latin1, e ENUM('x','y'),
  s SET('p','q','r'), b BIT(9)"""
EDGE_ROWS = [
    "(1, 0.12345, 123456789012345678, 12345678901.123456789, -1234567890123456789012345678901234.5, "
    "'-838:59:58.999', '-00:00:00.5', '12:34:56.000001', '2024-02-29 23:59:59.999', '1000-01-01 00:00:00.1', "
    "'2038-01-19 03:14:07.999999', 2155, -8388608, REPEAT('é', 255), REPEAT('ü', 300), 'Ærø', 'y', 'r,p', b'100000001')",
    "(2, -0.00001, -1, -0.000000001, 0, '-00:00:01.001', '838:59:59.9', '-12:00:00.000001', "
    "'0000-00-00 00:00:00.000', '9999-12-31 23:59:59.9', '1970-01-01 00:00:01.000001', 0, 8388607, '', '', '', "
    "'', '', b'0')",
    "(3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)",
]


def both_ways(cdc: Cdc, start: BinlogPosition, table: str) -> tuple[list[Any], list[Any], int]:
    """(our rows, the library's rows, events decoded by us) of ``table``'s events since ``start``."""
    p = cdc.params
    stream = BinLogStreamReader(
        connection_settings={"host": p.host, "port": p.port, "user": p.user, "password": p.password},
        server_id=4343, log_file=start.file, log_pos=start.pos, resume_stream=True, blocking=False,
        only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent], only_tables=[table],
        only_schemas=["cdc_t"], freeze_schema=True, enable_logging=False,
    )  # fmt: skip
    ours, theirs, fast = [], [], 0
    cache: dict[int, Any] = {}
    try:
        for ev in stream:
            decoder = decoder_for(ev, cache)
            assert decoder is not None, f"{table}: event not decoded by binlog_rows"
            fast += 1
            ours += decode_rows(ev, decoder)
            sets = [(c.name, c.set_values or []) for c in ev.columns if c.type == FIELD_TYPE.SET]
            for row in ev.rows:
                if isinstance(ev, UpdateRowsEvent):
                    before = _repair(row["before_values"], row["before_none_sources"], sets)
                    theirs.append((before, _repair(row["after_values"], row["after_none_sources"], sets)))
                else:
                    theirs.append((_repair(row["values"], row["none_sources"], sets), None))
    finally:
        stream.close()
    return ours, theirs, fast


def assert_identical(ours: list[Any], theirs: list[Any]) -> None:
    assert len(ours) == len(theirs)
    for mine, lib in zip(ours, theirs, strict=True):
        for image, expected in zip(mine, lib, strict=True):
            if expected is None:
                assert image is None
                continue
            assert list(image) == list(expected)
            for name, value in expected.items():
                got = image[name]
                if value == "" and got == b"":  # the library's quirk: b"".decode("binary") is ""
                    continue
                assert (type(got), got) == (type(value), value), (name, got, value)


def test_the_library_is_the_version_whose_internals_we_read() -> None:
    # binlog_rows reads RowsEvent/packet internals: a new version must be re-checked with this file
    assert version("mysql-replication") == LIBRARY_VERSION


def test_type_zoo_rows_decode_exactly_as_the_library_does(cdc: Cdc) -> None:
    cdc.sql("DROP TABLE IF EXISTS cdc_t.zoo", "CREATE TABLE cdc_t.zoo LIKE shop.type_zoo")
    start = cdc.position()
    cdc.sql(
        "INSERT INTO cdc_t.zoo SELECT * FROM shop.type_zoo",
        "UPDATE cdc_t.zoo SET id = id + 100",
        "DELETE FROM cdc_t.zoo",
    )

    ours, theirs, fast = both_ways(cdc, start, "zoo")

    assert fast >= 3 and len(ours) == 15  # big rows take an event each
    assert_identical(ours, theirs)


def test_edge_layouts_decode_exactly_as_the_library_does(cdc: Cdc) -> None:
    cdc.sql("DROP TABLE IF EXISTS cdc_t.edges", f"CREATE TABLE cdc_t.edges ({EDGES}) DEFAULT CHARSET=utf8mb4")
    start = cdc.position()
    cdc.sql(
        f"INSERT INTO cdc_t.edges VALUES {', '.join(EDGE_ROWS)}",
        "UPDATE cdc_t.edges SET d209 = -d209, t3 = '00:00:00', s = 'q' WHERE id < 3",
        "DELETE FROM cdc_t.edges WHERE id = 2",
    )

    ours, theirs, _ = both_ways(cdc, start, "edges")

    assert len(ours) == 3 + 2 + 1
    assert ours[0][0]["d6530"] < 0 and ours[0][0]["t3"].total_seconds() < 0  # the edges were written
    assert_identical(ours, theirs)


def test_a_minimal_image_goes_back_to_the_library(cdc: Cdc) -> None:
    cdc.sql("INSERT INTO cdc_t.items VALUES (1, 'x', 1)")
    start = cdc.position()
    cdc.sql("SET SESSION binlog_row_image = 'MINIMAL'", "UPDATE cdc_t.items SET qty = 2 WHERE id = 1")
    p = cdc.params
    stream = BinLogStreamReader(
        connection_settings={"host": p.host, "port": p.port, "user": p.user, "password": p.password},
        server_id=4344, log_file=start.file, log_pos=start.pos, resume_stream=True, blocking=False,
        only_events=[UpdateRowsEvent], only_tables=["items"], only_schemas=["cdc_t"], freeze_schema=True,
    )  # fmt: skip
    try:
        events = list(stream)
        assert len(events) == 1
        assert decoder_for(events[0], {}) is None
    finally:
        stream.close()


def test_random_decimals_of_every_group_layout_decode_exactly_as_the_library_does(cdc: Cdc) -> None:
    shapes = [(1, 0), (7, 7), (9, 1), (10, 3), (17, 8), (19, 9), (27, 18), (30, 4), (65, 0), (65, 30)]
    rng = random.Random(4)
    cdc.sql(
        "DROP TABLE IF EXISTS cdc_t.decimals",
        "CREATE TABLE cdc_t.decimals (id INT PRIMARY KEY, "
        + ", ".join(f"d{p}_{s} DECIMAL({p},{s})" for p, s in shapes)
        + ")",
    )
    rows = []
    for i in range(60):
        values = []
        for p, s in shapes:
            digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, p)))
            text = digits if s == 0 else f"{digits[:-s] or '0'}.{digits[-s:].rjust(s, '0')}"
            values.append(("-" if rng.random() < 0.5 else "") + text)
        rows.append(f"({i}, {', '.join(values)})")
    start = cdc.position()
    cdc.sql(f"INSERT INTO cdc_t.decimals VALUES {', '.join(rows)}")

    ours, theirs, _ = both_ways(cdc, start, "decimals")

    assert len(ours) == 60
    assert_identical(ours, theirs)


def test_bytes_that_do_not_add_up_raise_instead_of_giving_wrong_rows(cdc: Cdc) -> None:
    """The guard behind the reader's fallback to the library: a decoder of another layout (here the
    3-column ``items`` read with ``notes``' 2 columns) ends off the event's end and says so."""
    cdc.sql("INSERT INTO cdc_t.notes VALUES (1, 'n')")
    start = cdc.position()
    cdc.sql(
        "INSERT INTO cdc_t.items VALUES (1, 'x', 1), (2, 'y', 2)", "INSERT INTO cdc_t.notes VALUES (2, 'm')"
    )
    p = cdc.params
    stream = BinLogStreamReader(
        connection_settings={"host": p.host, "port": p.port, "user": p.user, "password": p.password},
        server_id=4345, log_file=start.file, log_pos=start.pos, resume_stream=True, blocking=False,
        only_events=[WriteRowsEvent], only_tables=["items", "notes"], only_schemas=["cdc_t"], freeze_schema=True,
    )  # fmt: skip
    try:
        items, notes = list(stream)
        wrong = decoder_for(notes, {})
        assert wrong is not None and decode_rows(notes, wrong) == [({"id": 2, "body": "m"}, None)]
        with pytest.raises((ValueError, IndexError)):
            decode_rows(items, wrong)
        assert [r["values"] for r in items.rows] == [
            {"id": 1, "name": "x", "qty": 1},
            {"id": 2, "name": "y", "qty": 2},
        ]
    finally:
        stream.close()
