"""Every MySQL type of the seeded ``shop.type_zoo`` lands in the lake with the source's value.

The expected values come from an independent read of the source (PyMySQL over the text protocol,
session in UTC), put into DMS's conventions: zero dates become NULL, TIMESTAMP is UTC, TIME is text,
BIT(1) is a boolean and BIT(n) big-endian bytes. FLOAT is compared to 6 significant digits, because
the text protocol rounds it (the lake holds the exact stored float32).
"""

from __future__ import annotations

import pyarrow as pa
import pytest

from dersonlake.lake.reader import read_files
from dersonlake.sandbox.seed import TYPE_ZOO_ROWS
from dersonlake.sources.mysql.connection import connect
from dersonlake.sources.mysql.types import bit_value, time_text, zero_date_to_none

ZOO = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "zoo",
            "object-locator": {"schema-name": "shop", "table-name": "type_zoo"},
            "rule-action": "include",
        }
    ]
}
LOSSLESS = {"TargetMetadata": {"LimitedSizeLobMode": False}}


def expected_rows(sandbox) -> list[dict]:
    with connect(sandbox.params(["shop"]), database="shop", dict_rows=True) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT column_name, data_type, column_type, datetime_precision FROM information_schema.columns "
            "WHERE table_schema = 'shop' AND table_name = 'type_zoo'"
        )
        meta = {r["column_name"]: r for r in cur.fetchall()}
        cur.execute("SELECT * FROM type_zoo ORDER BY id")
        rows = cur.fetchall()
    out = []
    for row in rows:
        fixed = {}
        for name, value in row.items():
            m = meta[name]
            t = m["data_type"]
            if t in ("date", "datetime", "timestamp"):
                value = zero_date_to_none(value)
            elif t == "time":
                value = time_text(value, m["datetime_precision"] or 0)
            elif t == "bit":
                bits = int(m["column_type"][4:-1])
                value = bit_value(value, bits)
            elif isinstance(value, bytearray):
                value = bytes(value)
            fixed[name] = value
        out.append(fixed)
    return out


def assert_same(lake: list[dict], source: list[dict]) -> None:
    assert len(lake) == len(source) == len(TYPE_ZOO_ROWS)
    for got, want in zip(lake, source, strict=True):
        for column, value in want.items():
            if column == "c_float" and value is not None:
                assert got[column] == pytest.approx(value, rel=1e-5), column
            else:
                assert got[column] == value, f"row {want['id']} column {column}"


def test_type_zoo_parquet_equals_the_source(load_owner_once, sandbox):
    loaded = load_owner_once(mapping=ZOO, settings=LOSSLESS, s3={"DataFormat": "parquet"})
    assert loaded.outcome.failure is None and loaded.outcome.tables_errored == 0
    keys = [o.key for o in loaded.storage.list("shop/type_zoo")]
    assert keys == ["shop/type_zoo/LOAD00000001.parquet"]
    table = read_files(loaded.storage, keys, loaded.run.s3)
    assert table.schema.field("c_bigint_u").type == pa.uint64()
    assert table.schema.field("c_decimal_wide").type == pa.decimal128(38, 10)
    assert table.schema.field("c_timestamp").type == pa.timestamp("us")
    assert_same(table.sort_by("id").to_pylist(), expected_rows(sandbox))


@pytest.mark.parametrize(
    "csv",
    [
        {"DataFormat": "csv"},
        {"DataFormat": "csv", "CompressionType": "gzip", "AddColumnName": True},
        {"DataFormat": "csv", "CsvDelimiter": "|", "CsvNullValue": "\\N", "CsvRowDelimiter": "\r\n"},
    ],
)
def test_type_zoo_csv_equals_the_source(load_owner_once, sandbox, csv):
    loaded = load_owner_once(mapping=ZOO, settings=LOSSLESS, s3=csv)
    ext = "csv.gz" if csv.get("CompressionType") else "csv"
    keys = [o.key for o in loaded.storage.list("shop/type_zoo")]
    assert keys == [f"shop/type_zoo/LOAD00000001.{ext}"]
    catalog = loaded.run.catalog()
    schema = pa.schema([pa.field(c.name, c.arrow_type) for c in loaded.run.plan(catalog).tables[0].columns])
    table = read_files(loaded.storage, keys, loaded.run.s3, schema)
    assert_same(table.sort_by("id").to_pylist(), expected_rows(sandbox))


def test_default_dms_lob_mode_truncates_at_lob_max_size(load_owner_once):
    loaded = load_owner_once(mapping=ZOO, settings={}, s3={"DataFormat": "parquet"})
    table = read_files(loaded.storage, [o.key for o in loaded.storage.list("shop/type_zoo")], loaded.run.s3)
    longtext = table.sort_by("id").column("c_longtext").to_pylist()[1]
    assert len(longtext.encode()) <= 32 * 1024  # DMS's limited LOB mode: LobMaxSize = 32 KB
    assert len(TYPE_ZOO_ROWS[1]["c_longtext"].encode()) > 32 * 1024


def test_dates_with_a_zero_part_are_null_and_year_one_is_kept(load_owner_once, admin):
    """DMS writes zero dates as NULL; a zero year is a zero part too (the binlog reader gives NULL)."""
    with admin.cursor() as cur:
        cur.execute("SET SESSION sql_mode = ''")
        cur.execute("CREATE TABLE shop.odd_dates (id INT PRIMARY KEY, d DATE, dt DATETIME(6))")
        cur.execute(
            "INSERT INTO shop.odd_dates VALUES (1, '0000-01-01', '0000-01-01 10:00:00'), (2, '0000-00-00', '0000-00-00'),"
            " (3, '2024-00-10', '2024-02-00 01:02:03'), (4, '0001-01-01', '0001-01-01 00:00:00.000001')"
        )
    try:
        loaded = load_owner_once(
            mapping={
                "rules": [
                    {
                        "rule-type": "selection",
                        "rule-id": "1",
                        "rule-name": "d",
                        "object-locator": {"schema-name": "shop", "table-name": "odd_dates"},
                        "rule-action": "include",
                    }
                ]
            }
        )
        table = read_files(
            loaded.storage, [o.key for o in loaded.storage.list("shop/odd_dates")], loaded.run.s3
        )
        rows = {r["id"]: (r["d"], r["dt"]) for r in table.to_pylist()}
        assert rows[1] == rows[2] == rows[3] == (None, None)
        assert str(rows[4][0]) == "0001-01-01" and str(rows[4][1]) == "0001-01-01 00:00:00.000001"
    finally:
        with admin.cursor() as cur:
            cur.execute("DROP TABLE shop.odd_dates")
