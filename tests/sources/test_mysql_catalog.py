"""Catalog discovery against the seeded sandbox."""

from __future__ import annotations

import pytest

from dersonlake.errors import OperationFailed
from dersonlake.sandbox import seed as shop
from dersonlake.sources.mysql import discover_catalog
from dersonlake.sources.mysql.catalog import SYSTEM_SCHEMAS
from dersonlake.sources.mysql.connection import ConnectionParams


@pytest.fixture(scope="module")
def catalog(shop_params):
    return discover_catalog(shop_params)


def test_tables_views_and_keys(catalog) -> None:
    assert "MariaDB" in catalog.server_version
    assert catalog.schemas == ("shop",)
    assert {t.name for t in catalog.tables} == {*shop.TABLES, *shop.VIEWS}
    kinds = {t.name: t.kind for t in catalog.tables}
    assert kinds["v_paid_orders"] == "view" and kinds["orders"] == "table"

    assert catalog.table("shop", "orders").primary_key == ("id",)
    assert catalog.table("shop", "order_items").primary_key == ("order_id", "line_no")
    assert catalog.table("shop", "events_log").primary_key == ()
    customers = catalog.table("shop", "customers")
    assert customers.unique_keys == {"uq_customers_email": ("email",)}
    assert customers.engine == "InnoDB"
    assert catalog.table("shop", "page_views").partitions == ("p0", "p1", "p2", "p3")
    assert catalog.table("shop", "orders").partitions == ()


def test_sizes_are_estimates(catalog, seed_rows) -> None:
    orders = catalog.table("shop", "orders")
    assert seed_rows * 0.5 <= orders.approx_rows <= seed_rows * 1.5
    assert orders.data_bytes > 0
    view = catalog.table("shop", "v_paid_orders")
    assert (view.approx_rows, view.data_bytes, view.engine) == (0, 0, None)


def test_columns_in_order_with_full_types(catalog) -> None:
    orders = catalog.table("shop", "orders")
    assert [c.name for c in orders.columns] == ["id", "customer_id", "amount", "status", "created_at", "note"]
    assert [c.ordinal for c in orders.columns] == [1, 2, 3, 4, 5, 6]
    amount = orders.column("amount")
    assert (amount.column_type, amount.precision, amount.scale, amount.nullable) == (
        "decimal(12,2)",
        12,
        2,
        False,
    )
    assert orders.column("note").nullable
    status = catalog.table("shop", "customers").column("status")
    assert status.column_type == "enum('active','inactive','banned')" and status.charset == "utf8mb4"
    assert catalog.table("shop", "type_zoo").column("c_bigint_u").unsigned
    assert catalog.table("shop", "type_zoo").column("c_datetime6").datetime_precision == 6
    json_col = catalog.table("shop", "type_zoo").column("c_json")
    assert (json_col.data_type, json_col.column_type) == (
        "json",
        "json",
    )  # MariaDB's LONGTEXT alias seen through


def test_generated_columns_are_flagged(admin, shop_params) -> None:
    with admin.cursor() as cur:
        cur.execute("CREATE DATABASE IF NOT EXISTS catalog_probe")
        cur.execute(
            "CREATE OR REPLACE TABLE catalog_probe.g (id INT PRIMARY KEY, a INT, "
            "b INT AS (a * 2) VIRTUAL, c INT AS (a + 1) PERSISTENT)"
        )
    try:
        probe = discover_catalog(shop_params, schemas=["catalog_probe"]).table("catalog_probe", "g")
        assert [c.generated for c in probe.columns] == [False, False, True, True]
    finally:
        with admin.cursor() as cur:
            cur.execute("DROP DATABASE catalog_probe")


def test_all_schemas_exclude_system_ones(sandbox) -> None:
    everything = discover_catalog(sandbox.params())
    assert "shop" in everything.schemas
    assert not SYSTEM_SCHEMAS & set(everything.schemas)


def test_unreachable_server_is_operation_failed(sandbox) -> None:
    bad = ConnectionParams(host="127.0.0.1", port=sandbox.port, user="nobody", password="nope-secret")
    with pytest.raises(OperationFailed, match="cannot connect") as info:
        discover_catalog(bad)
    assert "nope-secret" not in str(info.value)
