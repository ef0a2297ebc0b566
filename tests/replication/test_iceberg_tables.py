"""Current-state Iceberg tables kept by real replication runs against the session MariaDB.

Every check reads the Iceberg table with plain pyiceberg (``load_catalog`` with the properties the
lake records) and compares it with the source table, row for row.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pyiceberg.catalog import load_catalog

from dersonlake.lake.iceberg import configured
from dersonlake.replication import status
from dersonlake.replication.cdc import CdcCapture, CdcState
from dersonlake.sandbox import seed
from dersonlake.sources.mysql.binlog_position import current_position

MAPPING = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": str(i),
            "rule-name": name,
            "rule-action": "include",
            "object-locator": {"schema-name": "shop", "table-name": name},
        }
        for i, name in enumerate(("ice_items", "ice_lines", "ice_nokey", "type_zoo"), start=1)
    ]
}
ICE_ONLY = {  # one rule: a DDL re-resolves the mapping over the altered table alone
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "ice",
            "rule-action": "include",
            "object-locator": {"schema-name": "shop", "table-name": "ice_%"},
        }
    ]
}
ICEBERG = {"tables": "iceberg"}
S3 = {"DataFormat": "parquet", "TimestampColumnName": "ts", "IncludeOpForFullLoad": True}


@pytest.fixture
def ice_tables(admin):
    def drop():
        with admin.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS shop.ice_items, shop.ice_lines, shop.ice_nokey")

    drop()
    with admin.cursor() as cur:
        cur.execute(
            "CREATE TABLE shop.ice_items (id INT PRIMARY KEY, name VARCHAR(20), qty DECIMAL(8,2),"
            " big BIGINT UNSIGNED, at TIMESTAMP(6) NULL DEFAULT NULL)"
        )
        cur.execute(
            "CREATE TABLE shop.ice_lines (order_id INT, line INT, note VARCHAR(20), PRIMARY KEY (order_id, line))"
        )
        cur.execute("CREATE TABLE shop.ice_nokey (v INT)")
        cur.execute(
            "INSERT INTO shop.ice_items VALUES (1, 'one', 1.50, 18446744073709551615, '2026-01-01 00:00:00.000001'),"
            " (2, 'two', 2, 0, NULL), (3, 'three', 3, 3, NULL)"
        )
        cur.execute("INSERT INTO shop.ice_lines VALUES (1, 1, 'a'), (1, 2, 'b'), (2, 1, 'c')")
        cur.execute("INSERT INTO shop.ice_nokey VALUES (1), (1)")
    yield
    drop()
    with admin.cursor() as cur:  # the seeded type_zoo is the session's: put back what a test changed
        cur.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION', SESSION time_zone = '+00:00'")
        cur.execute("DELETE FROM shop.type_zoo")
        seed._insert_type_zoo(cur)


def iceberg(loaded, name: str):
    """The table read with plain pyiceberg, through the properties the lake records."""
    catalog = load_catalog("derson", **configured(loaded.storage))
    return catalog.load_table(name)


def rows(loaded, name: str, key: list[str]) -> list[dict]:
    return iceberg(loaded, name).scan().to_arrow().sort_by([(k, "ascending") for k in key]).to_pylist()


def source(admin, table: str, columns: list[str], key: list[str]) -> list[dict]:
    with admin.cursor() as cur:
        cur.execute(f"SELECT {', '.join(columns)} FROM shop.{table} ORDER BY {', '.join(key)}")
        return [dict(zip(columns, r, strict=True)) for r in cur.fetchall()]


def items(admin) -> list[dict]:
    out = source(admin, "ice_items", ["id", "name", "qty", "big", "at"], ["id"])
    for r in out:  # TIMESTAMP: the session runs in UTC, Iceberg holds it as timestamptz
        r["at"] = r["at"].replace(tzinfo=dt.UTC) if r["at"] else None
        r["big"] = Decimal(r["big"])  # BIGINT UNSIGNED: decimal(20, 0)
    return out


def lines(admin) -> list[dict]:
    return source(admin, "ice_lines", ["order_id", "line", "note"], ["order_id", "line"])


def delta(loaded, start=None, run=CdcCapture):
    catalog = loaded.run.catalog()
    return run(
        arn=loaded.arn,
        plan=loaded.run.plan(catalog, "cdc"),
        catalog=catalog,
        endpoint=loaded.run.source(),
        storage=loaded.storage,
        s3=loaded.run.s3,
        store=loaded.store,
        start=start,
        replan=lambda c: loaded.run.plan(c, "cdc"),
    ).run()


def cdc_snapshots(loaded, name: str) -> list[dict]:
    return [
        s.summary.additional_properties
        for s in iceberg(loaded, name).snapshots()
        if s.summary.additional_properties.get("dersonlake.op") == "cdc"
    ]


def execute(admin, *statements: str) -> None:
    with admin.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def test_full_load_changes_and_delta_keep_each_iceberg_table_equal_to_the_source(
    load_owner_once, ice_tables, admin
):
    loaded = load_owner_once(mapping=MAPPING, s3=S3, target=ICEBERG)
    assert rows(loaded, "shop.ice_items", ["id"]) == items(admin)
    assert rows(loaded, "shop.ice_lines", ["order_id", "line"]) == lines(admin)
    start = current_position(loaded.run.source())
    execute(
        admin,
        "INSERT INTO shop.ice_items VALUES (4, 'four', 4.25, 9223372036854775808, '2026-06-01 12:00:00')",
        "UPDATE shop.ice_items SET name = 'uno', qty = qty + 1 WHERE id = 1",
        "DELETE FROM shop.ice_items WHERE id = 2",
        "UPDATE shop.ice_items SET id = 30 WHERE id = 3",  # a primary-key update
        "UPDATE shop.ice_lines SET line = 9 WHERE order_id = 1 AND line = 2",  # part of a composite key
        "BEGIN",  # one transaction over two tables
        "INSERT INTO shop.ice_items VALUES (5, 'five', 5, NULL, NULL), (6, 'six', 6, 6, NULL)",
        "DELETE FROM shop.ice_items WHERE id = 5",
        "INSERT INTO shop.ice_lines VALUES (6, 1, 'six')",
        "DELETE FROM shop.ice_lines WHERE order_id = 2",
        "COMMIT",
        "INSERT INTO shop.ice_items VALUES (2, 'two again', 2, 2, NULL)",  # a deleted key comes back
        "UPDATE shop.type_zoo SET c_bigint_u = 18446744073709551614, c_time = '-01:02:03' WHERE id = 3",
        "DELETE FROM shop.type_zoo WHERE id = 5",
    )
    outcome = delta(loaded, start)
    assert outcome.changes > 0 and not outcome.suspended
    assert rows(loaded, "shop.ice_items", ["id"]) == items(admin)
    assert rows(loaded, "shop.ice_lines", ["order_id", "line"]) == lines(admin)
    # one Iceberg commit for the batch, recording the position of the checkpoint it precedes
    (summary,) = cdc_snapshots(loaded, "shop.ice_items")
    assert summary["dersonlake.binlog-position"] == str(outcome.checkpoint.position)
    assert summary["dersonlake.last-cdc-file"] == outcome.checkpoint.stems["shop.ice_items"]
    zoo = {r["id"]: r for r in rows(loaded, "shop.type_zoo", ["id"])}
    assert sorted(zoo) == [1, 2, 3, 4]
    assert zoo[3]["c_bigint_u"] == Decimal(18446744073709551614) and zoo[3]["c_time"] == "-01:02:03"

    execute(admin, "UPDATE shop.ice_items SET name = 'later' WHERE id = 4")
    delta(loaded)  # the next delta run, from the checkpoint
    assert rows(loaded, "shop.ice_items", ["id"]) == items(admin)
    assert len(cdc_snapshots(loaded, "shop.ice_items")) == 2
    assert len(cdc_snapshots(loaded, "shop.ice_lines")) == 1  # nothing changed it: no snapshot


def test_a_table_without_a_key_gets_no_iceberg_table(load_owner_once, ice_tables):
    loaded = load_owner_once(mapping=MAPPING, s3=S3, target=ICEBERG)
    catalog = load_catalog("derson", **configured(loaded.storage))
    assert ("shop", "ice_nokey") not in catalog.list_tables("shop")
    assert ("shop", "ice_items") in catalog.list_tables("shop")


def zero_date(value):
    """The admin connection returns MySQL's zero dates as text; DMS (and so the lake) says NULL."""
    return None if isinstance(value, str) else value


def test_every_type_is_exact_in_the_iceberg_table(load_owner_once, ice_tables, admin):
    full_lobs = {"TargetMetadata": {"FullLobMode": True, "LimitedSizeLobMode": False}}
    loaded = load_owner_once(mapping=MAPPING, s3=S3, target=ICEBERG, settings=full_lobs)
    table = iceberg(loaded, "shop.type_zoo")
    types = {f.name: str(f.field_type) for f in table.schema().fields}
    assert types["c_bigint_u"] == "decimal(20, 0)"
    assert types["c_decimal_wide"] == "decimal(38, 10)"
    assert types["c_timestamp"] == "timestamptz" and types["c_datetime6"] == "timestamp"
    assert types["c_int_u"] == "long" and types["c_year"] == "int" and types["c_point"] == "binary"
    got = {r["id"]: r for r in table.scan().to_arrow().to_pylist()}
    with admin.cursor() as cur:
        cur.execute(
            "SELECT id, c_bigint_u, c_decimal_wide, c_timestamp, c_datetime6, c_set, c_json, c_blob,"
            " ST_AsWKB(c_point), c_time6, c_year, c_date FROM shop.type_zoo ORDER BY id"
        )
        for rid, big, wide, ts, dt6, set_, json_, blob, wkb, time6, year, date in cur.fetchall():
            r = got[rid]
            assert r["c_bigint_u"] == (None if big is None else Decimal(big))
            assert r["c_decimal_wide"] == wide
            ts, dt6, date = zero_date(ts), zero_date(dt6), zero_date(date)  # zero dates: NULL
            assert r["c_timestamp"] == (ts.replace(tzinfo=dt.UTC) if ts else None)
            assert r["c_datetime6"] == dt6
            assert r["c_set"] == set_ and r["c_blob"] == blob and r["c_date"] == date
            assert r["c_point"] == (bytes(wkb) if wkb is not None else None)  # WKB without MySQL's SRID
            assert r["c_year"] == year
            assert r["c_json"] == (None if json_ is None else json_)
            assert (r["c_time6"] is None) == (time6 is None)
    assert got[2]["c_time6"] == "838:59:58.999999" and got[1]["c_time6"] == "-00:00:01.500000"


def test_a_batch_applied_before_a_crash_is_not_applied_again(load_owner_once, ice_tables, admin, monkeypatch):
    loaded = load_owner_once(mapping=MAPPING, s3=S3, target=ICEBERG)
    start = current_position(loaded.run.source())
    execute(
        admin,
        "INSERT INTO shop.ice_items VALUES (7, 'seven', 7, 7, NULL)",
        "UPDATE shop.ice_items SET qty = qty * 10",
    )

    class Killed(BaseException):
        pass

    def die(*args, **kwargs):  # the process dies between the Iceberg commit and the checkpoint
        raise Killed

    monkeypatch.setattr(CdcState, "save", die)
    with pytest.raises(Killed):
        delta(loaded, start)
    monkeypatch.undo()
    assert len(cdc_snapshots(loaded, "shop.ice_items")) == 1
    assert CdcState(loaded.store).checkpoint(loaded.arn) is None  # no checkpoint: read again from start
    delta(loaded, start)
    assert len(cdc_snapshots(loaded, "shop.ice_items")) == 1  # recognised from the summary: skipped
    assert rows(loaded, "shop.ice_items", ["id"]) == items(admin)
    execute(admin, "DELETE FROM shop.ice_items WHERE id = 7")
    delta(loaded)
    assert len(cdc_snapshots(loaded, "shop.ice_items")) == 2
    assert rows(loaded, "shop.ice_items", ["id"]) == items(admin)


def test_ddl_evolves_the_schema_and_truncate_is_a_new_snapshot(load_owner_once, ice_tables, admin):
    execute(admin, "UPDATE shop.ice_lines SET note = CAST(order_id * 10 + line AS CHAR)")  # '11', '12', '21'
    loaded = load_owner_once(mapping=ICE_ONLY, s3=S3, target=ICEBERG)
    start = current_position(loaded.run.source())
    execute(
        admin,
        "ALTER TABLE shop.ice_items ADD COLUMN color VARCHAR(10)",
        "UPDATE shop.ice_items SET color = 'red' WHERE id = 1",
        "ALTER TABLE shop.ice_items DROP COLUMN big",
        "ALTER TABLE shop.ice_items MODIFY qty DECIMAL(12,2)",  # widened: an Iceberg promotion
        "INSERT INTO shop.ice_items VALUES (8, 'eight', 8, NULL, 'blue')",
        "ALTER TABLE shop.ice_lines MODIFY note INT",  # no promotion: the table is rewritten
        "UPDATE shop.ice_lines SET note = 5 WHERE order_id = 1 AND line = 1",
    )
    delta(loaded, start)
    table = iceberg(loaded, "shop.ice_items")
    assert [f.name for f in table.schema().fields] == ["id", "name", "qty", "at", "color"]
    assert str(table.schema().find_field("qty").field_type) == "decimal(12, 2)"
    got = rows(loaded, "shop.ice_items", ["id"])
    want = source(admin, "ice_items", ["id", "name", "qty", "at", "color"], ["id"])
    for r in want:
        r["at"] = r["at"].replace(tzinfo=dt.UTC) if r["at"] else None
    # as every DMS consumer sees an added column: null in rows not changed since it was added
    assert got == want
    assert str(iceberg(loaded, "shop.ice_lines").schema().find_field("note").field_type) == "int"
    # rows not changed since keep their values, cast to the new type (as `lake show` casts them)
    assert rows(loaded, "shop.ice_lines", ["order_id", "line"]) == lines(admin)
    assert [r["note"] for r in lines(admin)] == [5, 12, 21]

    before = iceberg(loaded, "shop.ice_items").current_snapshot().snapshot_id
    execute(
        admin, "TRUNCATE TABLE shop.ice_items", "INSERT INTO shop.ice_items VALUES (9, 'nine', 9, NULL, NULL)"
    )
    delta(loaded)
    table = iceberg(loaded, "shop.ice_items")
    assert [r["id"] for r in rows(loaded, "shop.ice_items", ["id"])] == [9]
    assert table.scan(snapshot_id=before).to_arrow().num_rows == 4  # the old snapshot still reads


def test_a_reload_is_a_new_snapshot_and_compaction_keeps_the_content(load_owner_once, ice_tables, admin):
    loaded = load_owner_once(mapping=MAPPING, s3=S3, target=ICEBERG)
    first = iceberg(loaded, "shop.ice_items").current_snapshot().snapshot_id
    execute(admin, "INSERT INTO shop.ice_items VALUES (10, 'ten', 10, 10, NULL)")
    load_owner_once(start_type=status.RELOAD_TARGET)
    table = iceberg(loaded, "shop.ice_items")
    assert table.current_snapshot().snapshot_id != first
    assert table.scan(snapshot_id=first).to_arrow().num_rows == 3
    assert rows(loaded, "shop.ice_items", ["id"]) == items(admin)

    start = current_position(loaded.run.source())
    for i in range(3):  # three batches: three data files and three delete files on the table
        execute(admin, f"UPDATE shop.ice_items SET qty = qty + 1, name = 'b{i}' WHERE id IN (1, 10)")
        delta(loaded, start if i == 0 else None)
    table = iceberg(loaded, "shop.ice_items")
    assert int(table.current_snapshot().summary["total-delete-files"]) == 3
    from dersonlake.replication.iceberg_sync import current_table

    plan = loaded.run.plan(loaded.run.catalog(), "cdc").table("shop", "ice_items")
    rewritten, _removed = current_table(loaded.storage, plan, None).compact()
    assert rewritten == 4
    table = iceberg(loaded, "shop.ice_items")
    assert int(table.current_snapshot().summary["total-delete-files"]) == 0
    assert len(table.snapshots()) == 1  # the older snapshots expired
    assert table.current_snapshot().summary["dersonlake.binlog-position"]  # the position is kept
    assert rows(loaded, "shop.ice_items", ["id"]) == items(admin)
    execute(admin, "DELETE FROM shop.ice_items WHERE id = 10")  # and changes apply after it
    delta(loaded)
    assert rows(loaded, "shop.ice_items", ["id"]) == items(admin)
