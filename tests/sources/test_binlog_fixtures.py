"""Recorded MySQL 8.0 / 8.4 / 9.x binlogs (tests/fixtures/mysql8-binlogs, see its README) decoded
by our reader: through ``dump_changes`` (what ``binlog dump`` prints) and through
``BinlogFileReader`` (the CDC items), with the compiled and the pure-Python row decoder.

Expected values are what the writing statements put there; where the rust_mysql_common test suite
asserts the same rows (mysql-enum-string-set: ENUM index 1, SET bits 0b101) the values agree.
python-mysql-replication 1.0.17, the reader we replaced, loses or crashes on most of these files
(README): each test here names what it pins.
"""

from __future__ import annotations

import datetime as dt
import json
import struct
from pathlib import Path
from typing import Any

import pytest

from dersonlake.errors import OperationFailed
from dersonlake.sources.mysql.binlog_dump import dump_changes
from dersonlake.sources.mysql.binlog_events import EventDecoder, Gtid, GtidSet, Rows
from dersonlake.sources.mysql.binlog_file import read_file_events
from dersonlake.sources.mysql.binlog_items import Begin, Change, Commit, Ddl
from dersonlake.sources.mysql.binlog_json import apply_json_diffs, parse_json_diffs
from dersonlake.sources.mysql.binlog_reader import BinlogFileReader
from dersonlake.sources.mysql.binlog_table_map import TableMap

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mysql8-binlogs"
ALL_FILES = sorted(
    p.name for p in FIXTURES.iterdir() if p.suffix != ".md" and not p.name.startswith("LICENSE")
)


def dump(name: str, **kwargs: Any) -> list[dict[str, Any]]:
    records = list(dump_changes([FIXTURES / name], **kwargs))
    json.dumps(records)  # every record is JSON as printed
    return records


def items(name: str, table: tuple[str, str]) -> list[Any]:
    return list(BinlogFileReader([FIXTURES / name], [table]))


def changes(name: str, table: tuple[str, str]) -> list[Change]:
    return [i for i in items(name, table) if isinstance(i, Change)]


def test_every_fixture_file_is_covered_here() -> None:
    assert ALL_FILES == [
        "binlog-invisible-columns.000001", "binlog_transaction_with_GTID_TAG.000001", "json-opaque.binlog",
        "json.binlog.000001", "minimal_row_metadata.000001", "mysql-enum-string-set.000001", "time_issue.000001",
        "transaction_compression.000001", "vector.binlog",
    ]  # fmt: skip


def test_compressed_transaction_rows_are_not_skipped(row_decoder: str) -> None:
    """TRANSACTION_PAYLOAD (zstd): the rows the old library dropped without an error."""
    [record] = dump("transaction_compression.000001")
    assert record["schema"] == "test" and record["table"] == "tb1" and record["op"] == "I"
    assert record["after"] == {"@1": 1}
    assert record["commit_time"] == "2023-09-19 21:31:49.445737"  # from the 8.0 GTID event
    found = items("transaction_compression.000001", ("test", "tb1"))
    kinds = [type(i).__name__ for i in found]
    assert kinds == ["Begin", "Change", "Commit", "Checkpoint"]
    assert found[1].after == {"@1": 1}
    assert str(found[2].position) == "transaction_compression.000001:431"  # after the payload event


def test_json_documents_inserts_and_full_updates(row_decoder: str) -> None:
    records = dump("json.binlog.000001")
    assert [r["op"] for r in records] == ["I"] * 6 + ["U"] * 12
    assert records[0]["after"] == {
        "@1": 1, "@2": '{"age": 24, "data": "xxxxxxxxxx", "name": "Joe"}', "@3": "Joe", "@4": 24,
    }  # fmt: skip
    assert records[6]["after"]["@2"] == '{"age": 25, "data": "xxxxxxxxxx", "name": "Joe"}'


def test_partial_json_update_with_minimal_image_prints_the_diff(row_decoder: str) -> None:
    """PARTIAL_UPDATE_ROWS with binlog_row_image=MINIMAL: the before image lacks the document, so
    the change shows as mysqlbinlog shows it; CDC refuses such events (not a full row)."""
    partial = dump("json.binlog.000001")[12:]
    assert partial[0]["before"] == {"@1": 1}
    assert partial[0]["after"] == {"@2": "JSON_REPLACE(@2, '$.age', 26)", "@3": "Joe", "@4": 26}
    assert [r["after"]["@4"] for r in partial] == [26, 34, 42, 26, 34, 42]
    with pytest.raises(
        OperationFailed, match=r"json.binlog.000001:3980 .*lacks columns @1, @2, @3, @4.*binlog_row_image"
    ):
        items("json.binlog.000001", ("mysql", "t"))


def test_partial_json_diff_applied_to_the_before_document() -> None:
    """With a full before image the diff is applied: the lake gets the whole document."""
    decoder = EventDecoder()
    raw = dict(read_file_events(FIXTURES / "json.binlog.000001"))
    for offset in sorted(raw):
        for event in decoder.decode(raw[offset], f"json.binlog.000001:{offset}"):
            if offset == 3750:
                assert isinstance(event.data, Rows) and event.type == 39
    body = raw[3750][19:-4]
    start = body.index(b"$.age") - 2  # the diff of the first row: REPLACE, path, value
    diffs = parse_json_diffs(body[start : start + 11])
    assert diffs == [(0, "$.age", 26)]
    before = '{"age": 25, "data": "xxxxxxxxxx", "name": "Joe"}'
    assert apply_json_diffs(before, diffs) == '{"age": 26, "data": "xxxxxxxxxx", "name": "Joe"}'
    assert apply_json_diffs('{"a": [1, 2]}', [(1, "$.a[1]", 9), (2, "$.a[0]", None)]) == '{"a": [9, 2]}'
    assert apply_json_diffs('{"a": 1.50}', [(1, '$."b c"', "x")]) == '{"a": 1.50, "b c": "x"}'


def test_json_opaque_scalars_print_as_mysql_prints_them(row_decoder: str) -> None:
    """DECIMAL/DATE/DATETIME/TIME opaques, a TIME over 24 h (the old library raised ValueError)."""
    values = [r["after"]["a"] for r in dump("json-opaque.binlog")]
    assert values == [
        '{"a": "base64:type15:VQ=="}',
        '{"b": "2012-03-18"}',
        '{"c": "2012-03-18 11:30:45.000000"}',
        '{"c": "87:31:46.654321"}',
        '{"d": 123.456}',
        '{"e": 9.00}',
        '{"e": [0, 1, true, false]}',
        '{"e": null}',
    ]


def test_enum_set_and_long_strings_with_full_metadata(row_decoder: str) -> None:
    inserted, updated, deleted = dump("mysql-enum-string-set.000001")
    digits = "0123456789" * 10
    # as rust_mysql_common's binlog test asserts it
    f2 = (
        "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
        "0123456789012345678901234567801234567890123456789012345678901234567890123456789012345678901234567890"
        "12345678901234567890123456789012345678901234567890123456780123456789012345678901234567890123456789"
    )
    assert inserted["gtid"] == "93e95066-a2f4-11ec-9b69-9657f0ae95e2:3"
    assert inserted["after"] == {"f1": digits, "f2": f2, "f3": "var1", "f4": "one,three", "f5": "0123456789"}
    assert updated["before"] == inserted["after"]
    assert updated["after"] == {"f1": "field1", "f2": "field_2", "f3": "variant2", "f4": "two,four", "f5": f2}
    assert deleted["op"] == "D" and deleted["before"] == updated["after"] and deleted["after"] is None
    cdc = changes("mysql-enum-string-set.000001", ("mysql", "t"))
    assert [(c.op, c.before, c.after) for c in cdc] == [
        ("I", None, inserted["after"]), ("U", inserted["after"], updated["after"]), ("D", updated["after"], None)
    ]  # fmt: skip


def test_ddl_and_gtids_of_80_events_become_items() -> None:
    found = items("mysql-enum-string-set.000001", ("mysql", "t"))
    ddl = next(i for i in found if isinstance(i, Ddl))
    assert ddl.table == "t" and ddl.sql.startswith("CREATE TABLE t(f1 CHAR(128)")
    commits = [i for i in found if isinstance(i, Commit)]
    assert [c.gtid for c in commits] == [f"93e95066-a2f4-11ec-9b69-9657f0ae95e2:{n}" for n in (2, 3, 4, 5)]
    assert str(commits[-1].position) == "mysql-enum-string-set.000001:3331"
    begins = [i for i in found if isinstance(i, Begin)]
    assert str(begins[1].position) == "mysql-enum-string-set.000001:791"


def test_invisible_columns_are_decoded_with_their_visibility(row_decoder: str) -> None:
    records = dump("binlog-invisible-columns.000001")
    assert [r["after"] for r in records] == [
        {"f1": 1, "f2": 2, "f3": -3, "f4": "4", "f5": "base64:BQ==", "f6": 6000000000},
        {"f1": None, "f2": None, "f3": -33, "f4": "44", "f5": "base64:VQ==", "f6": None},
        {"f1": 111, "f2": 222, "f3": -333, "f4": "444", "f5": "base64:VQ==", "f6": None},
    ]
    tables = [e.data for e in _events("binlog-invisible-columns.000001") if isinstance(e.data, TableMap)]
    assert [c.visible for c in tables[0].columns] == [False, False, True, True, True, False]


def test_minimal_metadata_unsigned_int_above_2_31(row_decoder: str) -> None:
    [record] = dump("minimal_row_metadata.000001")
    assert record["after"] == {"@1": 1, "@3": "a", "@5": 3230202323}


def test_negative_time(row_decoder: str) -> None:
    [record] = dump("time_issue.000001")
    assert record["after"] == {"@1": "-507:48:27"}
    [change] = changes("time_issue.000001", ("noria", "t"))
    assert change.after["@1"] == -dt.timedelta(hours=507, minutes=48, seconds=27)


def test_tagged_gtid_and_84_previous_gtids(row_decoder: str) -> None:
    """MySQL 9.6: GTID_TAGGED_LOG_EVENT and the tagged PREVIOUS_GTIDS (the old library asserted)."""
    [record] = dump("binlog_transaction_with_GTID_TAG.000001")
    assert record["gtid"] == "55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3"
    assert record["after"] == {"@1": 3, "@2": 100, "@3": "250.00"}
    assert record["commit_time"] == "2026-02-06 09:04:47.207196"
    data = [e.data for e in _events("binlog_transaction_with_GTID_TAG.000001")]
    previous = next(d for d in data if isinstance(d, GtidSet))
    assert (
        previous.text
        == "55778904-0299-11f1-b1b8-4ef0c4956feb:1-13,55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:1-2"
    )
    gtid = next(d for d in data if isinstance(d, Gtid))
    assert gtid.transaction_length == 296
    [commit] = [
        i
        for i in items("binlog_transaction_with_GTID_TAG.000001", ("test", "orders"))
        if isinstance(i, Commit)
    ]
    assert commit.gtid == "55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3"


def test_vector_columns_and_primary_key_metadata(row_decoder: str) -> None:
    records = dump("vector.binlog", tables=["dtb.foo"])
    assert [r["after"]["id"] for r in records] == [1, 2, 1, 2]
    floats = [struct.unpack("<3f", _unb64(r["after"]["vector_column"])) for r in records[:2]]
    assert [tuple(round(x, 5) for x in f) for f in floats] == [(1.1, 2.2, 3.3), (1.0, -1.0, 0.0)]
    tables = {e.data.table: e.data for e in _events("vector.binlog") if isinstance(e.data, TableMap)}
    assert tables["bar"].primary_key == [0]
    assert [c.dimensions for c in tables["bar"].columns] == [None, 2, None, 4]
    bar = dump("vector.binlog", tables=["dtb.bar"])
    assert [r["op"] for r in bar] == ["I", "I", "I", "I", "D", "I"]
    assert bar[1]["after"]["foo"] == "base64:YmFy"  # VARBINARY 'bar'


def test_start_and_stop_positions_and_table_filter() -> None:
    everything = dump("mysql-enum-string-set.000001")
    assert dump("mysql-enum-string-set.000001", start=1560) == everything[1:]
    assert dump("mysql-enum-string-set.000001", stop=1560) == everything[:1]
    assert dump("mysql-enum-string-set.000001", tables=["mysql.other"]) == []


def _events(name: str) -> list[Any]:
    decoder = EventDecoder()
    return [
        e
        for offset, raw in read_file_events(FIXTURES / name)
        for e in decoder.decode(raw, f"{name}:{offset}")
    ]


def _unb64(text: str) -> bytes:
    import base64

    assert text.startswith("base64:")
    return base64.b64decode(text[len("base64:") :])
