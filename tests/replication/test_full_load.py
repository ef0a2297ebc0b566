"""Full load: layout and names as DMS writes them, mapping rules in the files, local and S3 alike,
prep modes, statistics, and the error cases each with one clear message."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from dersonlake.errors import OperationFailed
from dersonlake.lake.reader import read_files
from dersonlake.replication import status
from dersonlake.replication.status import describe_task, table_statistics


def sel(rule_id, table, **extra):
    return {
        "rule-type": "selection",
        "rule-id": str(rule_id),
        "rule-name": f"s{rule_id}",
        "object-locator": {"schema-name": "shop", "table-name": table},
        "rule-action": "include",
        **extra,
    }


def tr(rule_id, target, action, locator, **extra):
    return {
        "rule-type": "transformation",
        "rule-id": str(rule_id),
        "rule-name": f"t{rule_id}",
        "rule-target": target,
        "object-locator": {"schema-name": "shop", **locator},
        "rule-action": action,
        **extra,
    }


def keys(storage, prefix=""):
    return [o.key for o in storage.list(prefix)]


def test_whole_schema_layout_statistics_and_describe(load_owner_once, seed_report):
    loaded = load_owner_once()
    counts = seed_report.counts
    tables = loaded.tables()
    assert loaded.outcome.failure is None
    for name in ("customers", "orders", "order_items", "type_zoo", "events_log", "page_views"):
        stats = tables[f"shop.{name}"]
        assert stats["state"] == status.TABLE_COMPLETED
        assert stats["full_load_rows"] == counts[name]
        assert keys(loaded.storage, f"shop/{name}") == [f"shop/{name}/LOAD00000001.parquet"]
    assert "shop.v_paid_orders" not in tables  # views need table-type view or all
    task = describe_task(loaded.task(), loaded.store.table_stats(loaded.arn))
    assert task["Status"] == "stopped" and task["StopReason"] == "Stop Reason FULL_LOAD_ONLY_FINISHED"
    stats = task["ReplicationTaskStats"]
    assert (stats["FullLoadProgressPercent"], stats["TablesLoaded"], stats["TablesErrored"]) == (100, 6, 0)
    assert {"StartDate", "FreshStartDate", "StopDate", "FullLoadStartDate", "FullLoadFinishDate"} <= set(
        stats
    )
    one = table_statistics(tables["shop.orders"])
    assert (
        one["TableState"] == "Table completed"
        and one["FullLoadRows"] == counts["shop.orders" if "shop.orders" in counts else "orders"]
    )


def test_views_load_as_tables_when_selected(load_owner_once, admin):
    loaded = load_owner_once(
        mapping={
            "rules": [
                sel(
                    1,
                    "v_paid_orders",
                    **{
                        "object-locator": {
                            "schema-name": "shop",
                            "table-name": "v_paid_orders",
                            "table-type": "view",
                        }
                    },
                )
            ]
        }
    )
    with admin.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM shop.v_paid_orders")
        (count,) = cur.fetchone()
    table = read_files(loaded.storage, keys(loaded.storage, "shop/v_paid_orders"), loaded.run.s3)
    assert table.num_rows == count > 0


def test_range_segments_named_and_unnamed_and_null_rows_are_not_dropped(load_owner_once, admin):
    with admin.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS shop.nullable_ranges (id INT PRIMARY KEY, k INT NULL)")
        cur.execute("DELETE FROM shop.nullable_ranges")
        cur.execute("INSERT INTO shop.nullable_ranges VALUES (1, 5), (2, 15), (3, NULL), (4, 25), (5, NULL)")
    try:
        mapping = {
            "rules": [
                sel(1, "orders"),
                sel(2, "nullable_ranges"),
                {
                    "rule-type": "table-settings",
                    "rule-id": "3",
                    "rule-name": "pl",
                    "object-locator": {"schema-name": "shop", "table-name": "orders"},
                    "parallel-load": {
                        "type": "ranges",
                        "columns": ["id"],
                        "boundaries": [["500"], ["1500"]],
                        "segment-names": ["low", "mid", "high"],
                    },
                },
                {
                    "rule-type": "table-settings",
                    "rule-id": "4",
                    "rule-name": "pl2",
                    "object-locator": {"schema-name": "shop", "table-name": "nullable_ranges"},
                    "parallel-load": {"type": "ranges", "columns": ["k"], "boundaries": [["10"], ["20"]]},
                },
            ]
        }
        loaded = load_owner_once(mapping=mapping)
        assert keys(loaded.storage, "shop/orders") == [
            "shop/orders/high/LOAD00000001.parquet",
            "shop/orders/low/LOAD00000001.parquet",
            "shop/orders/mid/LOAD00000001.parquet",
        ]
        low = read_files(loaded.storage, ["shop/orders/low/LOAD00000001.parquet"], loaded.run.s3)
        assert max(low.column("id").to_pylist()) == 499  # exclusive upper bound
        got = keys(loaded.storage, "shop/nullable_ranges")
        assert got == [f"shop/nullable_ranges/SEGMENT{k}_LOAD00000001.parquet" for k in (1, 2, 3, 4)]
        nulls = read_files(loaded.storage, [got[3]], loaded.run.s3)
        assert sorted(nulls.column("id").to_pylist()) == [3, 5]  # DMS would drop these rows
        assert loaded.tables()["shop.nullable_ranges"]["full_load_rows"] == 5
    finally:
        with admin.cursor() as cur:
            cur.execute("DROP TABLE shop.nullable_ranges")


def test_partitions_auto_writes_one_folder_per_partition(load_owner_once, seed_report):
    mapping = {
        "rules": [
            sel(1, "page_views"),
            {
                "rule-type": "table-settings",
                "rule-id": "2",
                "rule-name": "pa",
                "object-locator": {"schema-name": "shop", "table-name": "page_views"},
                "parallel-load": {"type": "partitions-auto"},
            },
        ]
    }
    loaded = load_owner_once(mapping=mapping)
    got = keys(loaded.storage, "shop/page_views")
    assert got == [f"shop/page_views/p{i}/LOAD00000001.parquet" for i in range(4)]
    assert (
        read_files(loaded.storage, got, loaded.run.s3).num_rows
        == loaded.tables()["shop.page_views"]["full_load_rows"]
        > 0
    )


def test_max_file_size_rotates_load_files_with_hex_counter(load_owner_once):
    loaded = load_owner_once(
        mapping={"rules": [sel(1, "orders")]}, s3={"DataFormat": "csv", "MaxFileSize": 1}
    )
    got = keys(loaded.storage, "shop/orders")
    assert len(got) > 16
    assert got == [f"shop/orders/LOAD{i:08X}.csv" for i in range(1, len(got) + 1)]
    assert "shop/orders/LOAD0000000A.csv" in got and "shop/orders/LOAD00000010.csv" in got


def test_mapping_rules_take_effect_in_the_files(load_owner_once):
    mapping = {
        "rules": [
            sel(
                1,
                "customers",
                filters=[
                    {
                        "filter-type": "source",
                        "column-name": "id",
                        "filter-conditions": [
                            {"filter-operator": "between", "start-value": "10", "end-value": "19"}
                        ],
                    }
                ],
            ),
            tr(2, "schema", "rename", {}, value="crm"),
            tr(3, "table", "convert-uppercase", {"table-name": "customers"}),
            tr(4, "column", "remove-column", {"table-name": "customers", "column-name": "email"}),
            tr(
                5,
                "column",
                "rename",
                {"table-name": "customers", "column-name": "first_name"},
                value="given_name",
            ),
            tr(
                6,
                "column",
                "data-masking-digits-mask",
                {"table-name": "customers", "column-name": "passport"},
                value="#",
            ),
            tr(
                7,
                "column",
                "add-column",
                {"table-name": "customers"},
                value="full_name",
                expression="$first_name||' '||$last_name",
                **{"data-type": {"type": "string", "length": 120}},
            ),
            tr(
                8,
                "column",
                "change-data-type",
                {"table-name": "customers", "column-name": "id"},
                **{"data-type": {"type": "string", "length": 20}},
            ),
        ]
    }
    loaded = load_owner_once(
        mapping=mapping,
        s3={"DataFormat": "parquet", "IncludeOpForFullLoad": True, "TimestampColumnName": "ingested_at"},
    )
    got = keys(loaded.storage)
    assert got == ["crm/CUSTOMERS/LOAD00000001.parquet"]
    table = read_files(loaded.storage, got, loaded.run.s3)
    assert table.schema.names[:3] == ["Op", "ingested_at", "id"]
    assert "email" not in table.schema.names and "given_name" in table.schema.names
    assert table.schema.names[-1] == "full_name"
    rows = table.to_pylist()
    assert sorted(int(r["id"]) for r in rows) == list(range(10, 20))
    assert {r["Op"] for r in rows} == {"I"}
    for r in rows:
        assert r["full_name"] == f"{r['given_name']} {r['last_name']}"
        assert r["passport"] is None or not any(ch.isdigit() for ch in r["passport"])
        assert len(r["ingested_at"]) == 26  # yyyy-MM-dd HH:mm:ss.SSSSSS


def test_empty_result_writes_no_objects(load_owner_once):
    mapping = {
        "rules": [
            sel(
                1,
                "orders",
                filters=[
                    {
                        "filter-type": "source",
                        "column-name": "id",
                        "filter-conditions": [{"filter-operator": "gte", "value": "999999999"}],
                    }
                ],
            )
        ]
    }
    loaded = load_owner_once(mapping=mapping)
    assert keys(loaded.storage) == []
    assert loaded.tables()["shop.orders"]["state"] == status.TABLE_COMPLETED


@pytest.mark.parametrize(
    ("mode", "kept"), [("DROP_AND_CREATE", False), ("TRUNCATE_BEFORE_LOAD", False), ("DO_NOTHING", True)]
)
def test_target_table_prep_mode(load_owner_once, tmp_path, mode, kept):
    stray = tmp_path / "lake" / "shop" / "customers" / "old-file.csv"
    stray.parent.mkdir(parents=True)
    stray.write_text("old")
    load_owner_once(
        mapping={"rules": [sel(1, "customers")]}, settings={"FullLoadSettings": {"TargetTablePrepMode": mode}}
    )
    assert stray.exists() is kept
    assert (tmp_path / "lake/shop/customers/LOAD00000001.parquet").exists()


def test_s3_target_gets_the_same_objects_as_a_local_folder(load_owner_once, s3, tmp_path):
    bucket = f"lake-{uuid.uuid4().hex[:10]}"
    s3.client().create_bucket(Bucket=bucket)
    remote = load_owner_once(
        name="remote", uri=f"s3://{bucket}/raw/mysql", target={"endpoint_url": s3.url, "region": s3.region}
    )
    local = load_owner_once(name="local", uri=str(tmp_path / "local-lake"))
    assert keys(remote.storage) == keys(local.storage)
    listed = s3.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert all(o["Key"].startswith("raw/mysql/shop/") for o in listed)
    for key in keys(local.storage):
        assert read_files(remote.storage, [key], remote.run.s3).equals(
            read_files(local.storage, [key], local.run.s3)
        )


def vanishing_table(load_owner_once, admin, **owner):
    """Load ``customers`` and ``vanishing``, which is dropped after the catalog is read: a real table error."""
    with admin.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS shop.vanishing (id INT PRIMARY KEY)")
        cur.execute("INSERT IGNORE INTO shop.vanishing VALUES (1), (2)")
    from dersonlake.config import load_owner
    from dersonlake.replication.prepared_owner import prepare
    from tests.replication.conftest import write_owner

    folder = write_owner(
        load_owner_once.root,
        load_owner_once.sandbox,
        mapping={"rules": [sel(1, "customers"), sel(2, "vanishing")]},
        **owner,
    )
    run = prepare(load_owner("acme", folder.parent))

    def discover_then_drop():
        catalog = run.catalog()
        with admin.cursor() as cur:
            cur.execute("DROP TABLE shop.vanishing")
        return catalog

    return load_owner_once(discover=discover_then_drop)


def test_table_error_suspends_the_table_and_the_others_finish(load_owner_once, admin):
    loaded = vanishing_table(load_owner_once, admin)
    tables = loaded.tables()
    assert tables["shop.customers"]["state"] == status.TABLE_COMPLETED
    assert tables["shop.vanishing"]["state"] == status.TABLE_ERROR
    assert "doesn't exist" in tables["shop.vanishing"]["error"]
    assert loaded.outcome.failure is None
    assert keys(loaded.storage, "shop/vanishing") == []  # nothing half-written
    assert loaded.task()["status"] == status.STOPPED
    assert (
        describe_task(loaded.task(), loaded.store.table_stats(loaded.arn))["ReplicationTaskStats"][
            "TablesErrored"
        ]
        == 1
    )


def test_table_error_with_stop_task_policy_fails_the_task(load_owner_once, admin):
    loaded = vanishing_table(
        load_owner_once, admin, settings={"ErrorBehavior": {"TableErrorPolicy": "STOP_TASK"}}
    )
    task = loaded.task()
    assert task["status"] == status.FAILED and task["stop_reason"] == status.STOP_FATAL_ERROR
    assert task["last_failure"].startswith("shop.vanishing: ")


@pytest.fixture
def mixed_values(admin):
    """A table whose ``v`` holds numbers and two words: a cast to int4 fails on 2 of 6 records."""
    with admin.cursor() as cur:
        cur.execute("CREATE TABLE shop.mixed_values (id INT PRIMARY KEY, v VARCHAR(10))")
        cur.execute("INSERT INTO shop.mixed_values VALUES (1,'1'),(2,'2'),(3,'x'),(4,'4'),(5,'y'),(6,NULL)")
    yield {
        "rules": [
            sel(1, "mixed_values"),
            tr(
                2,
                "column",
                "change-data-type",
                {"table-name": "mixed_values", "column-name": "v"},
                **{"data-type": {"type": "int4"}},
            ),
        ]
    }
    with admin.cursor() as cur:
        cur.execute("DROP TABLE shop.mixed_values")


def test_data_errors_are_logged_and_skipped_by_default(load_owner_once, mixed_values):
    loaded = load_owner_once(mapping=mixed_values)
    row = loaded.tables()["shop.mixed_values"]
    assert row["state"] == status.TABLE_COMPLETED
    assert row["error_rows"] == 2
    assert row["full_load_rows"] == 4  # rows written, not rows read
    table = read_files(loaded.storage, keys(loaded.storage, "shop/mixed_values"), loaded.run.s3)
    assert sorted(table.to_pylist(), key=lambda r: r["id"]) == [
        {"id": 1, "v": 1},
        {"id": 2, "v": 2},
        {"id": 4, "v": 4},
        {"id": 6, "v": None},
    ]


@pytest.mark.parametrize(
    ("errors", "table_state", "task_status"),
    [
        ({"DataErrorPolicy": "SUSPEND_TABLE"}, status.TABLE_ERROR, status.STOPPED),
        ({"DataErrorPolicy": "STOP_TASK"}, None, status.FAILED),
        ({"DataErrorPolicy": "LOG_ERROR", "DataErrorEscalationCount": 2}, status.TABLE_ERROR, status.STOPPED),
        (
            {"DataErrorPolicy": "IGNORE_RECORD", "DataErrorEscalationCount": 3},
            status.TABLE_COMPLETED,
            status.STOPPED,
        ),
    ],
)
def test_data_error_policies_and_escalation(load_owner_once, mixed_values, errors, table_state, task_status):
    loaded = load_owner_once(mapping=mixed_values, settings={"ErrorBehavior": errors})
    assert loaded.task()["status"] == task_status
    if table_state:
        assert loaded.tables()["shop.mixed_values"]["state"] == table_state
    if task_status == status.FAILED:
        assert "cannot be converted" in loaded.task()["last_failure"]


def test_missing_bucket_fails_with_one_line_and_writes_nothing(load_owner_once, s3):
    with pytest.raises(
        OperationFailed, match=r"the bucket 'no-such-bucket' is not usable \(404.*\): create it first"
    ):
        load_owner_once(uri="s3://no-such-bucket/x", target={"endpoint_url": s3.url, "region": s3.region})


def test_unwritable_lake_folder_fails_with_one_line(load_owner_once, tmp_path):
    (tmp_path / "blocked").write_text("a file where the lake folder should be")
    with pytest.raises(OperationFailed, match=r"the lake folder .*/blocked is not writable"):
        load_owner_once(uri=str(tmp_path / "blocked"))


def test_refused_login_fails_with_one_line_without_the_password(load_owner_once, tmp_path):
    wrong = tmp_path / "wrong-password"
    wrong.write_text("not-the-password-xyz")
    with pytest.raises(OperationFailed) as info:
        load_owner_once(password_file=str(wrong))
    message = str(info.value)
    assert "Access denied" in message and "not-the-password-xyz" not in message
    assert "\n" not in message


def test_decimals_are_exact(load_owner_once, admin):
    loaded = load_owner_once(mapping={"rules": [sel(1, "orders")]})
    table = read_files(loaded.storage, keys(loaded.storage, "shop/orders"), loaded.run.s3)
    with admin.cursor() as cur:
        cur.execute("SELECT SUM(amount) FROM shop.orders")
        (total,) = cur.fetchone()
    assert sum(table.column("amount").to_pylist(), Decimal(0)) == total
