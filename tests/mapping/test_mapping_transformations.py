"""Transformation rules: one case per rule-action, asserting the resolved names, columns and types."""

from __future__ import annotations

import pyarrow as pa
import pytest
from mapping_helpers import mapping, sel, tr

from dersonlake.dms_types import DmsType
from dersonlake.mapping import parse_task_settings, resolve

SHOP = {"schema-name": "shop"}
ORDERS = {"schema-name": "shop", "table-name": "orders"}


def orders_col(column: str) -> dict:
    return {**ORDERS, "column-name": column}


def plan_of(catalog, *rules, table=("shop", "orders")):
    return resolve(mapping(sel(1), *rules), catalog).table(*table)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (tr(10, "schema", "rename", SHOP, value="lake_shop"), "lake_shop"),
        (tr(10, "schema", "convert-uppercase", SHOP), "SHOP"),
        (tr(10, "schema", "convert-lowercase", {"schema-name": "%"}), "shop"),
        (tr(10, "schema", "add-prefix", SHOP, value="raw_"), "raw_shop"),
        (tr(10, "schema", "remove-prefix", SHOP, value="sh"), "op"),
        (tr(10, "schema", "replace-prefix", SHOP, value="st", old_value="sh"), "stop"),
        (tr(10, "schema", "add-suffix", SHOP, value="_v1"), "shop_v1"),
        (tr(10, "schema", "remove-suffix", SHOP, value="op"), "sh"),
        (tr(10, "schema", "replace-suffix", SHOP, value="ip", old_value="op"), "ship"),
    ],
    ids=lambda v: v["rule-action"] if isinstance(v, dict) else v,
)
def test_schema_actions(catalog, rule, expected) -> None:
    assert plan_of(catalog, rule).target_schema == expected


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (tr(10, "table", "rename", ORDERS, value="sales"), "sales"),
        (tr(10, "table", "convert-uppercase", {"schema-name": "shop", "table-name": "%"}), "ORDERS"),
        (tr(10, "table", "convert-lowercase", ORDERS), "orders"),
        (
            tr(10, "table", "add-prefix", {"schema-name": "shop", "table-name": "%"}, value="src_"),
            "src_orders",
        ),
        (tr(10, "table", "remove-prefix", ORDERS, value="or"), "ders"),
        (tr(10, "table", "remove-prefix", ORDERS, value="xx"), "orders"),  # does not fit: unchanged
        (tr(10, "table", "replace-prefix", ORDERS, value="b", old_value="o"), "brders"),
        (tr(10, "table", "add-suffix", ORDERS, value="_bak"), "orders_bak"),
        (tr(10, "table", "remove-suffix", ORDERS, value="s"), "order"),
        (tr(10, "table", "replace-suffix", ORDERS, value="_v2", old_value="s"), "order_v2"),
    ],
    ids=lambda v: v["rule-action"] if isinstance(v, dict) else v,
)
def test_table_actions(catalog, rule, expected) -> None:
    table = plan_of(catalog, rule)
    assert (table.target_schema, table.target_table) == ("shop", expected)


def cols(table) -> list[tuple[str, str | None, str]]:
    return [(c.name, c.source, str(c.dms_type)) for c in table.columns]


@pytest.mark.parametrize(
    ("rule", "expected_names"),
    [
        (
            tr(10, "column", "rename", orders_col("amount"), value="total"),
            ["id", "customer_id", "status", "total", "created_at", "order_date"],
        ),
        (
            tr(10, "column", "convert-uppercase", orders_col("%")),
            ["ID", "CUSTOMER_ID", "STATUS", "AMOUNT", "CREATED_AT", "ORDER_DATE"],
        ),
        (
            tr(10, "column", "add-prefix", orders_col("%[_]%"), value="c_"),
            ["id", "c_customer_id", "status", "amount", "c_created_at", "c_order_date"],
        ),
        (
            tr(10, "column", "add-suffix", orders_col("status"), value="_code"),
            ["id", "customer_id", "status_code", "amount", "created_at", "order_date"],
        ),
        (
            tr(10, "column", "replace-suffix", orders_col("%"), value="_ts", old_value="_at"),
            ["id", "customer_id", "status", "amount", "created_ts", "order_date"],
        ),
        (
            tr(10, "column", "remove-column", orders_col("created%")),
            ["id", "customer_id", "status", "amount", "order_date"],
        ),
        (tr(10, "column", "include-column", orders_col("status")), ["status"]),
        (
            tr(10, "column", "convert-lowercase", orders_col("%")),
            ["id", "customer_id", "status", "amount", "created_at", "order_date"],
        ),
        (
            tr(10, "column", "remove-prefix", orders_col("%"), value="order_"),
            ["id", "customer_id", "status", "amount", "created_at", "date"],
        ),
        (
            tr(10, "column", "replace-prefix", orders_col("%"), value="cust_", old_value="customer_"),
            ["id", "cust_id", "status", "amount", "created_at", "order_date"],
        ),
        (
            tr(10, "column", "remove-suffix", orders_col("%"), value="_date"),
            ["id", "customer_id", "status", "amount", "created_at", "order"],
        ),
    ],
    ids=lambda v: v["rule-action"] if isinstance(v, dict) else "",
)
def test_column_actions(catalog, rule, expected_names) -> None:
    assert [c.name for c in plan_of(catalog, rule).columns] == expected_names


def test_include_column_repeated_keeps_source_order(catalog) -> None:
    table = plan_of(
        catalog,
        tr(11, "column", "include-column", orders_col("status")),
        tr(10, "column", "include-column", orders_col("id")),
    )
    assert [c.name for c in table.columns] == ["id", "status"]
    assert table.source_columns == ("id", "status")


def test_lower_rule_id_wins_per_object(catalog) -> None:
    table = plan_of(
        catalog,
        tr(20, "column", "rename", orders_col("amount"), value="loses"),
        tr(5, "column", "rename", orders_col("amount"), value="wins"),
        tr(30, "table", "rename", ORDERS, value="t30"),
        tr(12, "table", "add-prefix", {"schema-name": "%", "table-name": "%"}, value="p_"),
    )
    assert table.target_table == "p_orders"
    assert table.column("wins") is not None and table.column("loses") is None


def test_data_type_locator_matches_columns_by_type(catalog) -> None:
    rule = tr(
        10,
        "column",
        "change-data-type",
        {**ORDERS, "column-name": "%", "data-type": "datetime"},
        data_type={"type": "string", "length": 26},
    )
    table = plan_of(catalog, rule)
    assert table.column("created_at").dms_type == DmsType("string", 26)
    assert table.column("order_date").dms_type == DmsType("date")


def test_change_data_type(catalog) -> None:
    table = plan_of(
        catalog,
        tr(
            17,
            "column",
            "change-data-type",
            orders_col("amount"),
            data_type={"type": "string", "length": "50"},
        ),
    )
    amount = table.column("amount")
    assert (str(amount.dms_type), amount.arrow_type, str(amount.source_type)) == (
        "STRING(50)",
        pa.string(),
        "NUMERIC(12,2)",
    )


def test_change_data_type_numeric_precision_and_empty_scale(catalog) -> None:
    table = plan_of(
        catalog,
        tr(
            17,
            "column",
            "change-data-type",
            orders_col("amount"),
            data_type={"type": "numeric", "precision": 20, "scale": ""},
        ),
    )
    assert table.column("amount").arrow_type == pa.decimal128(20, 0)


def test_add_column_comes_after_source_columns(catalog) -> None:
    rule = tr(
        19,
        "column",
        "add-column",
        {"schema-name": "%", "table-name": "customers"},
        value="full_name",
        expression="$first_name||' '||$last_name",
        data_type={"type": "string", "length": 100},
    )
    table = plan_of(
        catalog,
        rule,
        tr(
            20,
            "column",
            "remove-column",
            {"schema-name": "shop", "table-name": "customers", "column-name": "%_name"},
        ),
        table=("shop", "customers"),
    )
    assert [c.name for c in table.columns] == ["id", "email", "passport", "created_at", "notes", "full_name"]
    added = table.columns[-1]
    assert (added.source, added.expression.text, str(added.dms_type)) == (
        None,
        "$first_name||' '||$last_name",
        "STRING(100)",
    )
    # removed columns the expression reads are still read from the source
    assert table.source_columns == (
        "id",
        "first_name",
        "last_name",
        "email",
        "passport",
        "created_at",
        "notes",
    )


def test_define_primary_key(catalog) -> None:
    rule = tr(
        18,
        "table",
        "define-primary-key",
        {"schema-name": "shop", "table-name": "events_log"},
        primary_key_def={"name": "pk", "origin": "unique-index", "columns": ["ts", "kind"]},
    )
    table = plan_of(catalog, rule, table=("shop", "events_log"))
    assert (table.key_columns, table.key_origin) == (("ts", "kind"), "define-primary-key")


@pytest.mark.parametrize(
    ("table_name", "key", "origin"),
    [
        ("order_items", ("order_id", "line_no"), "primary-key"),
        ("events_log", (), "none"),  # its unique key is on a nullable column: not a usable key
    ],
)
def test_keys_from_the_catalog(catalog, table_name, key, origin) -> None:
    table = plan_of(catalog, table=("shop", table_name))
    assert (table.key_columns, table.key_origin) == (key, origin)


def test_unique_not_null_key_is_used_when_there_is_no_pk(catalog) -> None:
    from dataclasses import replace

    from dersonlake.sources.catalog import Catalog

    events = catalog.table("shop", "events_log")
    ref = replace(events.columns[2], nullable=False)
    events = replace(events, columns=(*events.columns[:2], ref, events.columns[3]))
    table = resolve(mapping(sel(1, table="events_log")), Catalog((events,))).tables[0]
    assert (table.key_columns, table.key_origin) == (("ref",), "unique-index uq_ref")


def test_key_follows_renames(catalog) -> None:
    table = plan_of(catalog, tr(10, "column", "rename", orders_col("id"), value="order_id"))
    assert (table.key_columns, table.source_key_columns) == (("order_id",), ("id",))


@pytest.mark.parametrize(
    ("action", "value", "kind"),
    [
        ("data-masking-digits-mask", "#", "digits-mask"),
        ("data-masking-digits-randomize", None, "digits-randomize"),
        ("data-masking-hash-mask", None, "hash-mask"),
    ],
)
def test_masking_is_exempt_from_one_action_per_object(catalog, action, value, kind) -> None:
    locator = {"schema-name": "shop", "table-name": "customers", "column-name": "passport"}
    extra = {"value": value} if value else {}
    table = plan_of(
        catalog,
        tr(5, "column", "rename", locator, value="doc_no"),
        tr(20, "column", action, locator, **extra),
        table=("shop", "customers"),
    )
    col = table.column("doc_no")
    assert (col.mask.kind, col.mask.char, col.rule_ids) == (kind, value, (5, 20))


def test_masking_a_number_makes_it_a_string(catalog) -> None:
    table = plan_of(
        catalog, tr(20, "column", "data-masking-digits-mask", orders_col("customer_id"), value="*")
    )
    assert table.column("customer_id").arrow_type == pa.string()


def test_add_before_image_columns_is_accepted_with_a_note(catalog) -> None:
    rule = tr(
        40,
        "column",
        "add-before-image-columns",
        {"schema-name": "%", "table-name": "%"},
        before_image_def={"column-prefix": "BI_", "column-filter": "pk-only"},
    )
    plan = resolve(mapping(sel(1, table="orders"), rule), catalog)
    assert plan.tables[0].columns[0].name == "id"
    assert plan.warnings == (
        "rules[1]: add-before-image-columns is for Kinesis and Kafka targets; no effect on S3",
    )


def test_wildcard_rules_skip_lob_and_odd_named_columns(catalog) -> None:
    table = plan_of(
        catalog,
        tr(
            10,
            "column",
            "convert-uppercase",
            {"schema-name": "shop", "table-name": "type_zoo", "column-name": "%"},
        ),
        table=("shop", "type_zoo"),
    )
    names = [c.name for c in table.columns]
    assert "ID" in names and "doc" in names and "big_blob" in names and "odd-name" in names


def test_support_lobs_false_drops_lob_columns(catalog) -> None:
    settings = parse_task_settings({"TargetMetadata": {"SupportLobs": False}})
    table = resolve(mapping(sel(1, table="type_zoo")), catalog, settings).tables[0]
    assert "doc" not in [c.name for c in table.columns]
    assert (table.lob.mode, table.lob.columns) == ("drop", ("doc", "big_blob"))


def test_default_lob_handling_is_limited_32_kb(catalog) -> None:
    table = resolve(mapping(sel(1, table="type_zoo")), catalog).tables[0]
    assert (table.lob.mode, table.lob.max_size_kb, table.lob.columns) == ("limited", 32, ("doc", "big_blob"))


def test_limited_lob_mode_off_reads_lobs_whole(catalog) -> None:
    settings = parse_task_settings({"TargetMetadata": {"LimitedSizeLobMode": False}})
    table = resolve(mapping(sel(1, table="type_zoo")), catalog, settings).tables[0]
    assert (table.lob.mode, table.lob.columns) == ("full", ("doc", "big_blob"))


def test_arrow_types_of_source_columns(catalog) -> None:
    table = resolve(mapping(sel(1, table="type_zoo")), catalog).tables[0]
    got = {c.name: c.arrow_type for c in table.columns}
    assert got["big_u"] == pa.uint64()
    assert got["dec"] == pa.decimal128(20, 5)
    assert got["at"] == pa.timestamp("us")
    assert got["bin"] == pa.binary()
