"""DDL during CDC (dms.md §4.4): handled per ChangeProcessingDdlHandlingPolicy; new files carry the
new schema, old files keep theirs, ``Ddls`` counted, the lake's merged state equals the source;
what cannot be applied suspends only that table."""

from __future__ import annotations

import pytest

from dersonlake.errors import OperationFailed
from dersonlake.lake.current_state import current_state
from dersonlake.lake.reader import read_object
from dersonlake.replication import status
from dersonlake.replication.cdc import CdcCapture
from dersonlake.sources.mysql.binlog_position import current_position

MAPPING = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "d",
            "rule-action": "include",
            "object-locator": {"schema-name": "shop", "table-name": "ddl_%"},
        }
    ]
}
TABLES = ("ddl_items", "ddl_other", "ddl_new")


@pytest.fixture
def ddl_tables(admin):
    def drop():
        with admin.cursor() as cur:
            for t in TABLES:
                cur.execute(f"DROP TABLE IF EXISTS shop.{t}")

    drop()
    with admin.cursor() as cur:
        cur.execute("CREATE TABLE shop.ddl_items (id INT PRIMARY KEY, name VARCHAR(20), n INT, at DATE)")
        cur.execute("INSERT INTO shop.ddl_items VALUES (1, 'one', 1, '2026-01-01'), (2, 'two', 2, NULL)")
        cur.execute("CREATE TABLE shop.ddl_other (id INT PRIMARY KEY, v INT)")
        cur.execute("INSERT INTO shop.ddl_other VALUES (1, 1)")
    yield
    drop()


def delta(loaded, start=None):
    catalog = loaded.run.catalog()
    return CdcCapture(
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


def execute(admin, *statements):
    with admin.cursor() as cur:
        for sql in statements:
            cur.execute(sql)


def source(admin, table, columns):
    with admin.cursor() as cur:
        cur.execute(f"SELECT {', '.join(columns)} FROM shop.{table} ORDER BY id")
        return [dict(zip(columns, r, strict=True)) for r in cur.fetchall()]


def cdc_files(loaded, table):
    keys = sorted(o.key for o in loaded.storage.list(f"shop/{table}") if "/LOAD" not in o.key)
    return [(k, read_object(loaded.storage, k, loaded.run.s3)) for k in keys]


def lake(loaded, table):
    return current_state(loaded.storage, "shop", table, ["id"], loaded.run.s3)


def test_alter_column_add_drop_modify_rename_each_starts_files_with_the_new_schema(
    load_owner_once, ddl_tables, admin
):
    loaded = load_owner_once(mapping=MAPPING)
    start = current_position(loaded.run.source())
    steps = [
        ("ALTER TABLE shop.ddl_items ADD COLUMN note VARCHAR(10)", "INSERT INTO shop.ddl_items VALUES (3, 'three', 3, NULL, 'n3')"),
        ("ALTER TABLE shop.ddl_items DROP COLUMN at", "UPDATE shop.ddl_items SET note = 'n1' WHERE id = 1"),
        ("ALTER TABLE shop.ddl_items MODIFY n BIGINT", "INSERT INTO shop.ddl_items VALUES (4, 'four', 5000000000, 'n4')"),
        ("ALTER TABLE shop.ddl_items RENAME COLUMN name TO label", "DELETE FROM shop.ddl_items WHERE id = 2"),
    ]  # fmt: skip
    execute(admin, "INSERT INTO shop.ddl_items VALUES (5, 'five', 5, '2026-05-05')")
    for i, (ddl, change) in enumerate(steps):
        execute(admin, ddl, change)
        delta(loaded, start if i == 0 else None)  # one DDL per delta run: each schema is exact
    files = cdc_files(loaded, "ddl_items")
    names = [t.schema.names[1:] for _k, t in files]  # after Op
    assert names == [
        ["id", "name", "n", "at"],  # the insert before the ALTER: the old schema
        ["id", "name", "n", "at", "note"],
        ["id", "name", "n", "note"],
        ["id", "name", "n", "note"],
        ["id", "label", "n", "note"],
    ]
    assert (
        str(files[3][1].schema.field("n").type) == "int64"
        and str(files[2][1].schema.field("n").type) == "int32"
    )
    stats = loaded.tables()["shop.ddl_items"]
    assert stats["ddls"] == 4 and stats["state"] != status.TABLE_ERROR
    state = lake(loaded, "ddl_items")
    assert state.schema.names == ["id", "label", "n", "note"]
    # A rename is a drop and an add for the files: rows not changed since show NULL under the new
    # name (as with an added column: a DMS consumer sees the same); every other value is the source's.
    expected = source(admin, "ddl_items", ["id", "label", "n", "note"])
    unchanged_since_rename = {1, 3, 4, 5}
    for row in expected:
        if row["id"] in unchanged_since_rename:
            row["label"] = None
    assert state.to_pylist() == expected
    assert delta(loaded).files == 0  # the next run starts from the lake's definition, nothing to redo


def test_several_alters_in_one_run_decode_each_change_with_the_columns_of_its_moment(
    load_owner_once, ddl_tables, admin
):
    loaded = load_owner_once(mapping=MAPPING)
    start = current_position(loaded.run.source())
    execute(
        admin,
        "ALTER TABLE shop.ddl_items ADD COLUMN note VARCHAR(10)",
        "UPDATE shop.ddl_items SET note = 'a', n = 10 WHERE id = 1",
        "ALTER TABLE shop.ddl_items DROP COLUMN at",
        "INSERT INTO shop.ddl_items VALUES (3, 'three', 3, 'c')",
        "ALTER TABLE shop.ddl_items RENAME COLUMN name TO label",
        "UPDATE shop.ddl_items SET label = 'TWO' WHERE id = 2",
    )
    outcome = delta(loaded, start)
    assert not outcome.suspended
    files = cdc_files(loaded, "ddl_items")
    assert [t.schema.names[1:] for _k, t in files] == [
        ["id", "name", "n", "at", "note"],
        ["id", "name", "n", "note"],
        ["id", "label", "n", "note"],
    ]
    assert files[0][1].column("at").to_pylist()[0].isoformat() == "2026-01-01"  # the dropped column's value
    expected = source(admin, "ddl_items", ["id", "label", "n", "note"])
    for row in expected:  # not changed since the rename: NULL under the new name (see the test above)
        row["label"] = None if row["id"] != 2 else row["label"]
    assert lake(loaded, "ddl_items").to_pylist() == expected
    assert loaded.tables()["shop.ddl_items"]["ddls"] == 3


def test_truncate_deletes_the_tables_objects_and_later_changes_rebuild_it(load_owner_once, ddl_tables, admin):
    loaded = load_owner_once(mapping=MAPPING)
    start = current_position(loaded.run.source())
    execute(
        admin,
        "INSERT INTO shop.ddl_items VALUES (3, 'three', 3, NULL)",
        "TRUNCATE TABLE shop.ddl_items",
        "INSERT INTO shop.ddl_items VALUES (7, 'seven', 7, NULL)",
        "UPDATE shop.ddl_other SET v = 2",
    )
    outcome = delta(loaded, start)
    assert not outcome.suspended
    keys = [o.key for o in loaded.storage.list("shop/ddl_items")]
    assert len(keys) == 1 and "/LOAD" not in keys[0]  # the LOAD file and the earlier CDC file are gone
    assert lake(loaded, "ddl_items").to_pylist() == source(admin, "ddl_items", ["id", "name", "n", "at"])
    assert lake(loaded, "ddl_other").to_pylist() == [{"id": 1, "v": 2}]
    assert loaded.tables()["shop.ddl_items"]["ddls"] == 1


def test_drop_and_create_table_during_cdc(load_owner_once, ddl_tables, admin):
    loaded = load_owner_once(mapping=MAPPING)
    start = current_position(loaded.run.source())
    execute(
        admin,
        "DROP TABLE shop.ddl_other",
        "CREATE TABLE shop.ddl_new (id INT PRIMARY KEY, label VARCHAR(10))",
        "INSERT INTO shop.ddl_new VALUES (1, 'a'), (2, 'b')",
        "UPDATE shop.ddl_new SET label = 'B' WHERE id = 2",
        "CREATE TABLE shop.unselected_new (id INT PRIMARY KEY)",
        "INSERT INTO shop.unselected_new VALUES (1)",
    )
    try:
        outcome = delta(loaded, start)
    finally:
        execute(admin, "DROP TABLE IF EXISTS shop.unselected_new")
    assert not outcome.suspended
    assert loaded.storage.list("shop/ddl_other") == []  # HandleSourceTableDropped: its objects deleted
    assert loaded.tables()["shop.ddl_other"]["state"] == status.TABLE_DOES_NOT_EXIST
    assert lake(loaded, "ddl_new").to_pylist() == [{"id": 1, "label": "a"}, {"id": 2, "label": "B"}]
    new = loaded.tables()["shop.ddl_new"]
    assert (new["inserts"], new["updates"], new["ddls"]) == (2, 1, 1)
    assert loaded.storage.list("shop/unselected_new") == []


def test_unsupported_ddl_or_policy_false_suspends_only_that_table(load_owner_once, ddl_tables, admin):
    policy = {"ChangeProcessingDdlHandlingPolicy": {"HandleSourceTableTruncated": False}}
    execute(admin, "CREATE TABLE shop.ddl_new (id INT PRIMARY KEY)")
    # a task that captures changes: its reload records where CDC goes on (a full-load task's does not)
    loaded = load_owner_once(mapping=MAPPING, settings=policy, migration_type="full-load-and-cdc")
    start = current_position(loaded.run.source())
    execute(
        admin,
        "INSERT INTO shop.ddl_items VALUES (3, 'three', 3, NULL)",
        "TRUNCATE TABLE shop.ddl_items",
        "INSERT INTO shop.ddl_items VALUES (8, 'eight', 8, NULL)",
        "RENAME TABLE shop.ddl_new TO shop.ddl_new2",
        "RENAME TABLE shop.ddl_new2 TO shop.ddl_new",
        "INSERT INTO shop.ddl_new VALUES (2)",
        "INSERT INTO shop.ddl_other VALUES (2, 2)",
    )
    outcome = delta(loaded, start)
    assert set(outcome.suspended) == {"shop.ddl_items", "shop.ddl_new"}
    assert "HandleSourceTableTruncated is false" in outcome.suspended["shop.ddl_items"]
    assert "RENAME TABLE is not supported" in outcome.suspended["shop.ddl_new"]
    assert lake(loaded, "ddl_other").to_pylist() == [{"id": 1, "v": 1}, {"id": 2, "v": 2}]  # went on
    tables = loaded.tables()
    assert tables["shop.ddl_items"]["state"] == status.TABLE_ERROR
    assert "reload the table" in tables["shop.ddl_items"]["error"]
    # what came before the DDL is in the lake; nothing after it
    assert [r["id"] for r in lake(loaded, "ddl_items").to_pylist()] == [1, 2, 3]
    # the table stays suspended in the next run (until reloaded); others would go on
    execute(admin, "INSERT INTO shop.ddl_items VALUES (9, 'nine', 9, NULL)")
    again = delta(loaded)
    assert set(again.suspended) == {"shop.ddl_items", "shop.ddl_new"} and again.files == 0
    # the way out: reload; the DDL and the changes the new LOAD files hold are not applied again
    reloaded = load_owner_once(start_type=status.RELOAD_TARGET)
    assert reloaded.outcome.tables_loaded == 3
    after = delta(loaded)
    assert not after.suspended
    for table, columns in (
        ("ddl_items", ["id", "name", "n", "at"]),
        ("ddl_new", ["id"]),
        ("ddl_other", ["id", "v"]),
    ):
        assert lake(loaded, table).to_pylist() == source(admin, table, columns)
    assert all(" error" not in r["state"] for r in loaded.tables().values())


def test_a_table_created_while_the_run_reads_is_captured_from_its_create(load_owner_once, ddl_tables, admin):
    """The run discovered its tables before the CREATE (as a streaming run does): the reader starts
    capturing the new table at its CREATE."""
    loaded = load_owner_once(mapping=MAPPING)
    start = current_position(loaded.run.source())
    catalog = loaded.run.catalog()  # before the table exists
    run = CdcCapture(
        arn=loaded.arn,
        plan=loaded.run.plan(catalog, "cdc"),
        catalog=catalog,
        endpoint=loaded.run.source(),
        storage=loaded.storage,
        s3=loaded.run.s3,
        store=loaded.store,
        start=start,
        replan=lambda c: loaded.run.plan(c, "cdc"),
    )
    execute(
        admin,
        "CREATE TABLE shop.ddl_new (id INT PRIMARY KEY, label VARCHAR(10))",
        "INSERT INTO shop.ddl_new VALUES (1, 'a'), (2, 'b')",
        "DELETE FROM shop.ddl_new WHERE id = 1",
    )
    outcome = run.run()
    assert not outcome.suspended
    assert lake(loaded, "ddl_new").to_pylist() == [{"id": 2, "label": "b"}]
    new = loaded.tables()["shop.ddl_new"]
    assert (new["inserts"], new["deletes"], new["ddls"], new["state"]) == (2, 1, 1, status.TABLE_COMPLETED)


def test_truncate_fails_the_task_with_apply_error_fail_on_truncation_ddl(load_owner_once, ddl_tables, admin):
    settings = {"ErrorBehavior": {"ApplyErrorFailOnTruncationDdl": True}}
    loaded = load_owner_once(mapping=MAPPING, settings=settings)
    start = current_position(loaded.run.source())
    execute(admin, "TRUNCATE TABLE shop.ddl_items")
    with pytest.raises(OperationFailed, match="ApplyErrorFailOnTruncationDdl is true"):
        delta(loaded, start)
    assert len(loaded.storage.list("shop/ddl_items")) == 1  # nothing deleted: the LOAD file stays
    # a reload gets past it: the TRUNCATE is before the new snapshot, so it is not applied again
    execute(admin, "INSERT INTO shop.ddl_items VALUES (4, 'four', 4, NULL)")
    assert load_owner_once(start_type=status.RELOAD_TARGET).outcome.tables_loaded == 2
    assert not delta(loaded, start).suspended  # no checkpoint was saved: from the same start again
    assert lake(loaded, "ddl_items").to_pylist() == source(admin, "ddl_items", ["id", "name", "n", "at"])
    assert [r["id"] for r in lake(loaded, "ddl_items").to_pylist()] == [4]
