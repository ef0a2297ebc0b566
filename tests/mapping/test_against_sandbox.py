"""DMS table mappings resolved against the REAL catalog of the session sandbox's ``shop`` schema.

The other mapping tests use a hand-built catalog; these discover the catalog from the running
MariaDB (``discover_catalog``), so column types, keys, partitions and views are what the engine
will really see. Filters and parallel-load segments are not only resolved but executed: the
plan's WHERE with its bound parameters runs against the sandbox and its count must equal a count
made in Python from the seed's own formulas (``sandbox_data``), never from the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pymysql
import pytest
import sandbox_data
from mapping_helpers import FILE, mapping, sel, tr

from dersonlake.dms_types import DmsType
from dersonlake.errors import BadInput
from dersonlake.mapping import (
    Plan,
    TablePlan,
    parse_mapping,
    parse_task_settings,
    render,
    resolve,
    transform_batch,
)
from dersonlake.sources.catalog import Catalog
from dersonlake.sources.mysql import discover_catalog
from dersonlake.sources.mysql.connection import ConnectionParams, connect

TABLES = ["customers", "events_log", "order_items", "orders", "page_views", "type_zoo"]
ALL = [*TABLES, "v_paid_orders"]


@pytest.fixture(scope="module")
def real_catalog(shop_params: ConnectionParams) -> Catalog:
    return discover_catalog(shop_params, ["shop"])


@pytest.fixture(scope="module")
def db(shop_params: ConnectionParams) -> Iterator[pymysql.connections.Connection]:
    conn = connect(shop_params, database="shop")
    try:
        yield conn
    finally:
        conn.close()


def count(db: pymysql.connections.Connection, table: str, where: str, params: tuple[str, ...]) -> int:
    with db.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM shop.{table}" + (f" WHERE {where}" if where else ""), params)
        return int(cur.fetchone()[0])


def keys(db: pymysql.connections.Connection, sql: str, params: tuple[str, ...] = ()) -> list[tuple]:
    with db.cursor() as cur:
        cur.execute(sql, params)
        return [tuple(r) for r in cur.fetchall()]


def db_rows(db: pymysql.connections.Connection, table: str) -> list[dict[str, Any]]:
    with db.cursor(pymysql.cursors.DictCursor) as cur:
        cur.execute(f"SELECT * FROM shop.{table}")
        return list(cur.fetchall())


def plan_of(catalog: Catalog, *rules: dict, settings=None, **kw) -> Plan:
    return resolve(mapping(*rules), catalog, settings, **kw)


def only(plan: Plan) -> TablePlan:
    assert len(plan.tables) == 1, [t.source for t in plan.tables]
    return plan.tables[0]


def sources(plan: Plan) -> list[str]:
    return [t.source_table for t in plan.tables]


# --------------------------------------------------------------------------------------------------
# Selection rules: one case per rule-action, wildcard form and table-type, against the real tables.

SELECTION_CASES = [
    ("include %", [sel(1)], TABLES),
    ("include % table-type table", [sel(1, **{"object-locator": {"schema-name": "shop", "table-name": "%",
                                                                  "table-type": "table"}})], TABLES),
    ("include % table-type view", [sel(1, **{"object-locator": {"schema-name": "shop", "table-name": "%",
                                                                 "table-type": "view"}})], ["v_paid_orders"]),
    ("include % table-type all", [sel(1, **{"object-locator": {"schema-name": "shop", "table-name": "%",
                                                                "table-type": "all"}})], ALL),
    ("exclude wins over include", [sel(1), sel(2, table="order%", action="exclude")],
     ["customers", "events_log", "page_views", "type_zoo"]),
    ("exclude of an unselected table", [sel(1, table="orders"), sel(2, table="customers", action="exclude")],
     ["orders"]),
    ("explicit", [sel(1, table="order_items", action="explicit")], ["order_items"]),
    ("explicit view", [sel(1, action="explicit", **{"object-locator": {
        "schema-name": "shop", "table-name": "v_paid_orders", "table-type": "view"}})], ["v_paid_orders"]),
    ("explicit takes _ literally", [sel(1, table="order_items", action="explicit"),
                                    sel(2, table="orders", action="explicit")], ["order_items", "orders"]),
    ("% prefix", [sel(1, table="order%")], ["order_items", "orders"]),
    ("% suffix", [sel(1, table="%s")], ["customers", "order_items", "orders", "page_views"]),
    ("_ one character", [sel(1, table="_rders")], ["orders"]),
    ("_ counts characters", [sel(1, table="________")], ["type_zoo"]),  # 8 characters
    ("_ in the schema name", [sel(1, schema="sh_p", table="orders")], ["orders"]),
    ("[_] literal underscore", [sel(1, table="%[_]%")],
     ["events_log", "order_items", "page_views", "type_zoo"]),
    ("_ matches the s of orders", [sel(1, table="order_%")], ["order_items", "orders"]),
    ("[_] does not", [sel(1, table="order[_]%")], ["order_items"]),
    ("[a-d] range", [sel(1, table="[a-d]%")], ["customers"]),
    ("[ab] set", [sel(1, table="[cp]%")], ["customers", "page_views"]),
    ("[otv] set, all types", [sel(1, **{"object-locator": {"schema-name": "shop", "table-name": "[otv]%",
                                                          "table-type": "all"}})],
     ["order_items", "orders", "type_zoo", "v_paid_orders"]),
    ("names are case-sensitive", [sel(1, table="Orders"), sel(2, table="orders")], ["orders"]),
]  # fmt: skip


@pytest.mark.parametrize(("rules", "expected"), [pytest.param(r, e, id=i) for i, r, e in SELECTION_CASES])
def test_selection(real_catalog: Catalog, rules: list[dict], expected: list[str]) -> None:
    settings = parse_task_settings({"ErrorBehavior": {"FailOnNoTablesCaptured": False}})
    plan = plan_of(real_catalog, *rules, settings=settings)
    assert sorted(sources(plan)) == expected
    for t in plan.tables:
        assert t.kind == ("view" if t.source_table == "v_paid_orders" else "table")
    assert all("matches nothing (shop.Orders)" in w for w in plan.warnings)


def test_load_order_higher_first_then_by_name(real_catalog: Catalog) -> None:
    plan = plan_of(
        real_catalog,
        sel(1),
        sel(2, table="orders", **{"load-order": "10"}),
        sel(3, table="customers", **{"load-order": 5}),
        sel(4, table="page_views", **{"load-order": "2147483647"}),
    )
    assert sources(plan) == ["page_views", "orders", "customers", "events_log", "order_items", "type_zoo"]
    assert [t.load_order for t in plan.tables] == [2147483647, 10, 5, 0, 0, 0]
    assert plan.table("shop", "orders").selected_by == (1, 2)
    text = render(plan)
    assert text.startswith("1. shop.page_views -> shop.page_views  load-order 2147483647\n")
    assert "2. shop.orders -> shop.orders  load-order 10" in text


def test_cdc_task_leaves_the_view_out(real_catalog: Catalog) -> None:
    rule = sel(1, **{"object-locator": {"schema-name": "shop", "table-name": "%", "table-type": "all"}})
    assert sorted(sources(plan_of(real_catalog, rule, migration_type="full-load"))) == ALL
    plan = plan_of(real_catalog, rule, migration_type="cdc")
    assert sorted(sources(plan)) == TABLES
    assert plan.warnings == (
        "shop.v_paid_orders is a view: views are loaded only by full-load tasks; skipped",
    )


# --------------------------------------------------------------------------------------------------
# Filters: one case per operator (and AND / OR), executed against the sandbox.


def flt(column: str, *conds: dict) -> dict:
    return {"filter-type": "source", "column-name": column, "filter-conditions": list(conds)}


def op(operator: str, *values: Any) -> dict:
    cond: dict[str, Any] = {"filter-operator": operator}
    if len(values) == 1:
        cond["value"] = values[0]
    elif len(values) == 2:
        cond["start-value"], cond["end-value"] = values
    return cond


def _text(col: str, test: Callable[[str], bool]) -> Callable[[dict], bool]:
    """A test on a type_zoo temporal column, which the seed gives as text (zero dates included)."""
    return lambda r: r[col] is not None and test(r[col])


def _seconds(text: str) -> Decimal:
    """A MySQL TIME text ('-838:59:59', '25:00:00.000001') as signed seconds."""
    sign = -1 if text.startswith("-") else 1
    h, m, sec = text.lstrip("-").split(":")
    return sign * (int(h) * 3600 + int(m) * 60 + Decimal(sec))


# (id, table, filters, expected WHERE, expected params, independent row test)
FILTER_CASES: list[tuple[str, str, list[dict], str, tuple, Callable[[dict], bool]]] = [
    ("eq", "orders", [flt("status", op("eq", "paid"))],
     "`status` = %s", ("paid",), lambda r: r["status"] == "paid"),
    ("eq number", "orders", [flt("customer_id", op("eq", 42))],
     "`customer_id` = %s", ("42",), lambda r: r["customer_id"] == 42),
    ("eq non-ASCII", "customers", [flt("last_name", op("eq", "Müller"))],
     "`last_name` = %s", ("Müller",), lambda r: r["last_name"] == "Müller"),
    ("noteq", "orders", [flt("status", op("noteq", "cancelled"))],
     "`status` <> %s", ("cancelled",), lambda r: r["status"] != "cancelled"),
    ("noteq skips NULL", "orders", [flt("note", op("noteq", "order 7"))],
     "`note` <> %s", ("order 7",), lambda r: r["note"] is not None and r["note"] != "order 7"),
    ("lte decimal", "orders", [flt("amount", op("lte", "100"))],
     "`amount` <= %s", ("100",), lambda r: r["amount"] <= Decimal(100)),
    ("ste", "order_items", [flt("qty", op("ste", "2"))],
     "`qty` <= %s", ("2",), lambda r: r["qty"] <= 2),
    ("gte", "orders", [flt("customer_id", op("gte", "90"))],
     "`customer_id` >= %s", ("90",), lambda r: r["customer_id"] >= 90),
    ("gte bigint unsigned", "type_zoo", [flt("c_bigint_u", op("gte", "9223372036854775808"))],
     "`c_bigint_u` >= %s", ("9223372036854775808",),
     lambda r: r["c_bigint_u"] is not None and r["c_bigint_u"] >= 2**63),
    ("lte wide decimal", "type_zoo", [flt("c_decimal_wide", op("lte", "-0.5"))],
     "`c_decimal_wide` <= %s", ("-0.5",),
     lambda r: r["c_decimal_wide"] is not None and r["c_decimal_wide"] <= Decimal("-0.5")),
    ("between inclusive", "orders", [flt("id", op("between", "100", "250"))],
     "`id` BETWEEN %s AND %s", ("100", "250"), lambda r: 100 <= r["id"] <= 250),
    ("notbetween", "page_views", [flt("id", op("notbetween", 50, 149))],
     "`id` NOT BETWEEN %s AND %s", ("50", "149"), lambda r: not 50 <= r["id"] <= 149),
    ("null", "orders", [flt("note", op("null"))],
     "`note` IS NULL", (), lambda r: r["note"] is None),
    ("notnull", "customers", [flt("passport", op("notnull"))],
     "`passport` IS NOT NULL", (), lambda r: r["passport"] is not None),
    ("AND between filters", "orders", [flt("status", op("eq", "paid")), flt("amount", op("gte", "5000"))],
     "`status` = %s AND `amount` >= %s", ("paid", "5000"),
     lambda r: r["status"] == "paid" and r["amount"] >= 5000),
    ("AND of two negatives", "orders",
     [flt("status", op("noteq", "new")), flt("status", op("noteq", "paid"))],
     "`status` <> %s AND `status` <> %s", ("new", "paid"), lambda r: r["status"] in ("shipped", "cancelled")),
    ("OR inside a filter", "orders", [flt("status", op("eq", "new"), op("eq", "shipped"))],
     "(`status` = %s OR `status` = %s)", ("new", "shipped"), lambda r: r["status"] in ("new", "shipped")),
    ("OR with null", "customers", [flt("tags", op("eq", "vip"), op("null"))],
     "(`tags` = %s OR `tags` IS NULL)", ("vip",), lambda r: r["tags"] in ("vip", None)),
    ("OR of ranges AND eq", "order_items",
     [flt("order_id", op("lte", "10"), op("between", "1990", "2000")), flt("line_no", op("eq", "1"))],
     "(`order_id` <= %s OR `order_id` BETWEEN %s AND %s) AND `line_no` = %s", ("10", "1990", "2000", "1"),
     lambda r: (r["order_id"] <= 10 or 1990 <= r["order_id"] <= 2000) and r["line_no"] == 1),
    # Dates and datetimes, written as DMS documents them: 'YYYY-MM-DD' and 'YYYY-MM-DD HH:MM:SS'.
    ("date between", "page_views", [flt("viewed_on", op("between", "2024-01-10", "2024-01-20"))],
     "`viewed_on` BETWEEN %s AND %s", ("2024-01-10", "2024-01-20"),
     lambda r: date(2024, 1, 10) <= r["viewed_on"] <= date(2024, 1, 20)),
    ("date gte", "page_views", [flt("viewed_on", op("gte", "2024-02-15"))],
     "`viewed_on` >= %s", ("2024-02-15",), lambda r: r["viewed_on"] >= date(2024, 2, 15)),
    ("datetime gte", "orders", [flt("created_at", op("gte", "2024-01-10 12:00:00"))],
     "`created_at` >= %s", ("2024-01-10 12:00:00",), lambda r: r["created_at"] >= datetime(2024, 1, 10, 12)),
    ("datetime lte date", "customers", [flt("created_at", op("lte", "2023-03-01"))],
     "`created_at` <= %s", ("2023-03-01",), lambda r: r["created_at"] <= datetime(2023, 3, 1)),
    ("datetime(6) eq with micros", "customers", [flt("created_at", op("eq", "2023-01-06 08:00:00.005005"))],
     "`created_at` = %s", ("2023-01-06 08:00:00.005005",),
     lambda r: r["created_at"] == datetime(2023, 1, 6, 8, 0, 0, 5005)),
    ("timestamp notbetween", "customers",
     [flt("updated_at", op("notbetween", "2024-06-01 10:00:00", "2024-06-03 00:00:00"))],
     "`updated_at` NOT BETWEEN %s AND %s", ("2024-06-01 10:00:00", "2024-06-03 00:00:00"),
     lambda r: r["updated_at"] is not None
     and not datetime(2024, 6, 1, 10) <= r["updated_at"] <= datetime(2024, 6, 3)),
    ("datetime(3) no PK", "events_log", [flt("logged_at", op("between", "2024-03-01 00:00:05",
                                                             "2024-03-01 00:00:09"))],
     "`logged_at` BETWEEN %s AND %s", ("2024-03-01 00:00:05", "2024-03-01 00:00:09"),
     lambda r: datetime(2024, 3, 1, 0, 0, 5) <= r["logged_at"] <= datetime(2024, 3, 1, 0, 0, 9)),
    ("zero and partial dates", "type_zoo", [flt("c_date", op("gte", "2024-01-01"))],
     "`c_date` >= %s", ("2024-01-01",), _text("c_date", lambda v: v >= "2024-01-01")),
    ("date lte leaves out NULL", "type_zoo", [flt("c_date", op("lte", "2024-02-29"))],
     "`c_date` <= %s", ("2024-02-29",), _text("c_date", lambda v: v <= "2024-02-29")),
    ("timestamp gte", "type_zoo", [flt("c_timestamp", op("gte", "2024-01-01 00:00:00"))],
     "`c_timestamp` >= %s", ("2024-01-01 00:00:00",), _text("c_timestamp", lambda v: v >= "2024-01-01 00:00:00")),
    ("time(6) gte with micros", "type_zoo", [flt("c_time6", op("gte", "25:00:00.000001"))],
     "`c_time6` >= %s", ("25:00:00.000001",), _text("c_time6", lambda v: _seconds(v) >= Decimal("90000.000001"))),
    ("negative time(6) eq", "type_zoo", [flt("c_time6", op("eq", "-00:00:01.500000"))],
     "`c_time6` = %s", ("-00:00:01.500000",), _text("c_time6", lambda v: _seconds(v) == Decimal("-1.5"))),
    ("view", "v_paid_orders", [flt("amount", op("lte", "2000"))],
     "`amount` <= %s", ("2000",), lambda r: r["amount"] <= 2000),
]  # fmt: skip


def _locator(table: str) -> dict:
    loc = {"schema-name": "shop", "table-name": table}
    if table.startswith("v_"):
        loc["table-type"] = "view"
    return loc


@pytest.mark.parametrize(
    ("table", "filters", "where", "params", "keep"),
    [pytest.param(t, f, w, p, k, id=i) for i, t, f, w, p, k in FILTER_CASES],
)
def test_filter_where_selects_the_seeded_rows(
    real_catalog: Catalog,
    db: pymysql.connections.Connection,
    seed_rows: int,
    table: str,
    filters: list[dict],
    where: str,
    params: tuple,
    keep: Callable[[dict], bool],
) -> None:
    tp = only(plan_of(real_catalog, sel(1, filters=filters, **{"object-locator": _locator(table)})))
    assert (tp.where, tp.params) == (where, params)
    expected_rows = sandbox_data.rows(table, seed_rows)
    expected = sum(1 for r in expected_rows if keep(r))
    assert 0 < expected < len(expected_rows), "the case must select some rows and leave some out"
    assert count(db, table, tp.where, tp.params) == expected
    # The CDC row test of the same plan keeps the same rows of the real table.
    assert sum(1 for r in db_rows(db, table) if tp.passes(r)) == expected
    sql, sql_params = tp.select_sql()
    assert sql.endswith(f"FROM `shop`.`{table}` WHERE {where}") and sql_params == params


# Where the snapshot's WHERE (MySQL semantics) and a SQLite-like row test (dms.md §1.1) would keep
# different rows of the real tables, and the CDC row test ``TablePlan.passes`` copies MySQL exactly
# for the column's kind (filters.column_kind): these must agree.
AGREEING_EDGE_CASES = [
    # (id, table, filter, what a plain SQLite-like test got wrong)
    ("PAD SPACE collation", "type_zoo", flt("c_varchar", op("eq", "trailing")), "1 vs 0: 'trailing   '"),
    ("datetime vs date at midnight", "orders", flt("created_at", op("lte", "2024-01-14")),
     "1440 vs 1439: MySQL makes the constant 2024-01-14 00:00:00, text puts it before that"),
    ("negative TIME in text order", "type_zoo", flt("c_time", op("lte", "-00:00:01")),
     "1 vs 0: '-838:59:59' sorts after '-00:00:01' as text"),
    ("YEAR '0'", "type_zoo", flt("c_year", op("eq", "0")), "0 vs 1: MySQL reads the string '0' as year 2000"),
    ("BIT(1) against '1'", "type_zoo", flt("c_bit1", op("eq", "1")), "2 vs 0: PyMySQL gives b'\\x01'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("table", "filter_"), [pytest.param(t, f, id=i) for i, t, f, _ in AGREEING_EDGE_CASES]
)
def test_snapshot_and_cdc_agree_where_mysql_is_copied(
    real_catalog: Catalog, db: pymysql.connections.Connection, table: str, filter_: dict
) -> None:
    tp = only(plan_of(real_catalog, sel(1, table=table, filters=[filter_])))
    assert count(db, table, tp.where, tp.params) == sum(1 for r in db_rows(db, table) if tp.passes(r))


# Where they still disagree: case- and accent-insensitive collations (Unicode collation weights are
# not copied). Strict xfails, so each one fails the day the two agree; plan resolution warns.
DIVERGENT_CASES = [
    # (id, table, filter, (snapshot rows, CDC rows): what each side keeps today)
    ("case-insensitive collation", "orders", flt("status", op("eq", "PAID")), "500 vs 0: utf8mb4_unicode_ci"),
    ("accent-insensitive collation", "customers", flt("last_name", op("eq", "Muller")), "13 vs 0: ü = u"),
]  # fmt: skip


@pytest.mark.parametrize(("table", "filter_"), [pytest.param(t, f, id=i) for i, t, f, _ in DIVERGENT_CASES])
def test_insensitive_collation_filters_are_warned_about(
    real_catalog: Catalog, table: str, filter_: dict
) -> None:
    plan = plan_of(real_catalog, sel(1, table=table, filters=[filter_]))
    column = filter_["column-name"]
    warned = [w for w in plan.warnings if f"shop.{table}.{column} (collation utf8mb4_unicode_ci)" in w]
    assert len(warned) == 1, plan.warnings
    assert "rules[0].filters[0]" in warned[0] and "can select different rows" in warned[0]


def test_no_collation_warning_for_numbers_dates_or_null_tests(real_catalog: Catalog) -> None:
    plan = plan_of(
        real_catalog,
        sel(1, table="orders", filters=[flt("id", op("lte", "10")), flt("status", op("notnull"))]),
    )
    assert not [w for w in plan.warnings if "collation" in w], plan.warnings


@pytest.mark.parametrize(
    ("table", "filter_"),
    [
        pytest.param(t, f, id=i, marks=pytest.mark.xfail(strict=True, reason=f"snapshot vs CDC rows: {why}"))
        for i, t, f, why in DIVERGENT_CASES
    ],
)
def test_snapshot_and_cdc_agree_on_edge_values(
    real_catalog: Catalog, db: pymysql.connections.Connection, table: str, filter_: dict
) -> None:
    tp = only(plan_of(real_catalog, sel(1, table=table, filters=[filter_])))
    assert count(db, table, tp.where, tp.params) == sum(1 for r in db_rows(db, table) if tp.passes(r))


# --------------------------------------------------------------------------------------------------
# Transformations on the real tables: names, columns, DMS and Arrow types, keys.

C = {"schema-name": "shop", "table-name": "customers"}
ORD = {"schema-name": "shop", "table-name": "orders"}


def col_loc(table: str, column: str) -> dict:
    return {"schema-name": "shop", "table-name": table, "column-name": column}


TARGET_NAME_CASES = [
    # (id, rules after the selection, source table -> expected target schema.table)
    ("schema rename", [tr(10, "schema", "rename", {"schema-name": "shop"}, value="lake_shop")],
     {"orders": "lake_shop.orders", "page_views": "lake_shop.page_views"}),
    ("schema convert-uppercase", [tr(10, "schema", "convert-uppercase", {"schema-name": "%"})],
     {"orders": "SHOP.orders"}),
    ("schema convert-lowercase", [tr(10, "schema", "convert-lowercase", {"schema-name": "shop"})],
     {"orders": "shop.orders"}),
    ("schema remove-prefix", [tr(10, "schema", "remove-prefix", {"schema-name": "shop"}, value="sh")],
     {"orders": "op.orders", "v_paid_orders": "op.v_paid_orders"}),
    ("schema remove-suffix that does not fit", [tr(10, "schema", "remove-suffix", {"schema-name": "shop"},
                                                   value="_db")], {"orders": "shop.orders"}),
    ("schema add-prefix", [tr(10, "schema", "add-prefix", {"schema-name": "sh%"}, value="raw_")],
     {"customers": "raw_shop.customers"}),
    ("schema replace-suffix", [tr(10, "schema", "replace-suffix", {"schema-name": "shop"}, value="pping",
                                  old_value="p")], {"customers": "shopping.customers"}),
    ("table rename", [tr(10, "table", "rename", ORD, value="sales")],
     {"orders": "shop.sales", "order_items": "shop.order_items"}),
    ("table convert-uppercase", [tr(10, "table", "convert-uppercase", {"schema-name": "shop", "table-name": "%"})],
     {"orders": "shop.ORDERS", "v_paid_orders": "shop.V_PAID_ORDERS", "type_zoo": "shop.TYPE_ZOO"}),
    ("table convert-lowercase", [tr(10, "table", "convert-uppercase", {"schema-name": "shop", "table-name": "%"}),
                                 tr(9, "table", "convert-lowercase", {"schema-name": "shop", "table-name": "o%"})],
     {"orders": "shop.orders", "customers": "shop.CUSTOMERS"}),
    ("table add-prefix", [tr(10, "table", "add-prefix", {"schema-name": "shop", "table-name": "%"}, value="src_")],
     {"orders": "shop.src_orders", "v_paid_orders": "shop.src_v_paid_orders"}),
    ("table remove-prefix", [tr(10, "table", "remove-prefix", {"schema-name": "shop", "table-name": "%"},
                                value="order_")],
     {"order_items": "shop.items", "orders": "shop.orders"}),
    ("table replace-prefix", [tr(10, "table", "replace-prefix", {"schema-name": "shop", "table-name": "v[_]%"},
                                 value="view_", old_value="v_")],
     {"v_paid_orders": "shop.view_paid_orders", "type_zoo": "shop.type_zoo"}),
    ("table add-suffix", [tr(10, "table", "add-suffix", {"schema-name": "shop", "table-name": "[ep]%"},
                             value="_raw")],
     {"events_log": "shop.events_log_raw", "page_views": "shop.page_views_raw", "orders": "shop.orders"}),
    ("table remove-suffix", [tr(10, "table", "remove-suffix", {"schema-name": "shop", "table-name": "%"},
                                value="_log")], {"events_log": "shop.events", "customers": "shop.customers"}),
    ("table replace-suffix", [tr(10, "table", "replace-suffix", {"schema-name": "shop", "table-name": "%"},
                                 value="_history", old_value="_log")], {"events_log": "shop.events_history"}),
    ("lower rule-id wins", [tr(20, "table", "add-prefix", {"schema-name": "shop", "table-name": "%"}, value="b_"),
                            tr(11, "table", "add-prefix", {"schema-name": "shop", "table-name": "%"}, value="a_")],
     {"orders": "shop.a_orders"}),
]  # fmt: skip

ALL_LOCATOR = {"schema-name": "shop", "table-name": "%", "table-type": "all"}


@pytest.mark.parametrize(("rules", "expected"), [pytest.param(r, e, id=i) for i, r, e in TARGET_NAME_CASES])
def test_schema_and_table_naming(real_catalog: Catalog, rules: list[dict], expected: dict[str, str]) -> None:
    plan = plan_of(real_catalog, sel(1, **{"object-locator": ALL_LOCATOR}), *rules)
    assert len(plan.tables) == 7
    for source, target in expected.items():
        assert plan.table("shop", source).target == target


def cols(tp: TablePlan) -> list[tuple[str, str, str | None]]:
    """(output name, DMS type, source column) of each lake column."""
    return [(c.name, str(c.dms_type), c.source) for c in tp.columns]


CUSTOMER_COLS = [
    ("id", "INT4", "id"),
    ("first_name", "WSTRING(50)", "first_name"),
    ("last_name", "WSTRING(50)", "last_name"),
    ("email", "WSTRING(255)", "email"),
    ("passport", "WSTRING(9)", "passport"),
    ("status", "WSTRING(8)", "status"),
    ("tags", "WSTRING(24)", "tags"),
    ("created_at", "DATETIME", "created_at"),
    ("updated_at", "DATETIME", "updated_at"),
]


def renamed(changes: dict[str, str]) -> list[tuple[str, str, str]]:
    return [(changes.get(n, n), t, s) for n, t, s in CUSTOMER_COLS]


COLUMN_NAME_CASES = [
    ("no rules", [], CUSTOMER_COLS),
    ("rename", [tr(10, "column", "rename", col_loc("customers", "passport"), value="passport_no")],
     renamed({"passport": "passport_no"})),
    ("convert-uppercase", [tr(10, "column", "convert-uppercase", col_loc("customers", "%"))],
     [(n.upper(), t, s) for n, t, s in CUSTOMER_COLS]),
    ("convert-lowercase after uppercase", [tr(10, "column", "convert-uppercase", col_loc("customers", "%")),
                                          tr(5, "column", "convert-lowercase", col_loc("customers", "%_name"))],
     [(n if n.endswith("_name") else n.upper(), t, s) for n, t, s in CUSTOMER_COLS]),
    ("add-prefix", [tr(10, "column", "add-prefix", col_loc("customers", "%_at"), value="ts_")],
     renamed({"created_at": "ts_created_at", "updated_at": "ts_updated_at"})),
    ("remove-prefix", [tr(10, "column", "remove-prefix", col_loc("customers", "%"), value="first_")],
     renamed({"first_name": "name"})),
    ("replace-prefix", [tr(10, "column", "replace-prefix", col_loc("customers", "%"), value="family_",
                           old_value="last_")], renamed({"last_name": "family_name"})),
    ("add-suffix", [tr(10, "column", "add-suffix", col_loc("customers", "[ps]%"), value="_v1")],
     renamed({"passport": "passport_v1", "status": "status_v1"})),
    ("remove-suffix", [tr(10, "column", "remove-suffix", col_loc("customers", "%"), value="_at")],
     renamed({"created_at": "created", "updated_at": "updated"})),
    ("replace-suffix", [tr(10, "column", "replace-suffix", col_loc("customers", "%"), value="_utc",
                           old_value="_at")], renamed({"created_at": "created_utc", "updated_at": "updated_utc"})),
    ("data-type locator", [tr(10, "column", "add-suffix", {"schema-name": "shop", "table-name": "customers",
                                                           "data-type": "datetime"}, value="_ts")],
     renamed({"created_at": "created_at_ts", "updated_at": "updated_at_ts"})),
    ("remove-column", [tr(10, "column", "remove-column", col_loc("customers", "passport"))],
     [c for c in CUSTOMER_COLS if c[0] != "passport"]),
    ("remove-column wildcard", [tr(10, "column", "remove-column", col_loc("customers", "%_name"))],
     [c for c in CUSTOMER_COLS if not c[0].endswith("_name")]),
    ("include-column", [tr(10, "column", "include-column", col_loc("customers", "id")),
                        tr(11, "column", "include-column", col_loc("customers", "email"))],
     [c for c in CUSTOMER_COLS if c[0] in ("id", "email")]),
    ("include-column keeps a rename", [tr(10, "column", "include-column", col_loc("customers", "id")),
                                       tr(9, "column", "rename", col_loc("customers", "id"), value="customer_id"),
                                       tr(11, "column", "include-column", col_loc("customers", "id"))],
     [("customer_id", "INT4", "id")]),
    ("change-data-type", [tr(10, "column", "change-data-type", col_loc("customers", "id"),
                             data_type={"type": "int8"})],
     [("id", "INT8", "id"), *CUSTOMER_COLS[1:]]),
    ("change-data-type by data-type locator", [tr(10, "column", "change-data-type",
                                                  {"schema-name": "shop", "table-name": "customers",
                                                   "column-name": "%", "data-type": "datetime"},
                                                  data_type={"type": "string", "length": 26})],
     [c if c[1] != "DATETIME" else (c[0], "STRING(26)", c[2]) for c in CUSTOMER_COLS]),
    ("add-column", [tr(10, "column", "add-column", C, value="full_name",
                       expression="$first_name||' '||$last_name", data_type={"type": "string", "length": 101})],
     [*CUSTOMER_COLS, ("full_name", "STRING(101)", None)]),
]  # fmt: skip


@pytest.mark.parametrize(("rules", "expected"), [pytest.param(r, e, id=i) for i, r, e in COLUMN_NAME_CASES])
def test_column_rules_on_customers(real_catalog: Catalog, rules: list[dict], expected: list[tuple]) -> None:
    tp = only(plan_of(real_catalog, sel(1, table="customers"), *rules))
    assert cols(tp) == expected
    for c in tp.columns:
        assert c.arrow_type == _arrow(c.dms_type)
        if c.source is not None:
            assert c.source_type == real_catalog.table("shop", "customers").column(c.source).dms_type
    needed = {c.source for c in tp.columns if c.source} | {
        r for c in tp.columns if c.expression for r in c.expression.columns
    }
    assert set(tp.source_columns) == needed


def _arrow(t: DmsType) -> pa.DataType:
    return {
        "int4": pa.int32(),
        "int8": pa.int64(),
        "datetime": pa.timestamp("us"),
        "string": pa.string(),
        "wstring": pa.string(),
    }[t.name]


def test_types_of_every_real_column_family(real_catalog: Catalog) -> None:
    """The arrow types the plan gives the sandbox's type zoo (no rules: the source types)."""
    tp = only(plan_of(real_catalog, sel(1, table="type_zoo")))
    got = {c.name: (str(c.dms_type), c.arrow_type) for c in tp.columns}
    assert got["c_bigint_u"] == ("UINT8", pa.uint64())
    assert got["c_decimal_wide"] == ("NUMERIC(38,10)", pa.decimal128(38, 10))
    assert got["c_bit1"] == ("BOOLEAN", pa.bool_())
    assert got["c_time"] == ("STRING(10)", pa.string())
    assert got["c_year"] == ("INT2", pa.int16())
    assert got["c_json"] == ("CLOB", pa.string())
    assert got["c_longblob"] == ("BLOB", pa.binary())
    assert tp.lob.columns == ("c_mediumtext", "c_longtext", "c_mediumblob", "c_longblob", "c_json", "c_point")
    assert tp.lob.mode == "limited"


def test_wildcard_rules_pass_over_lob_columns(real_catalog: Catalog) -> None:
    tp = only(
        plan_of(
            real_catalog,
            sel(1, table="type_zoo"),
            tr(10, "column", "convert-uppercase", col_loc("type_zoo", "%")),
            tr(11, "column", "change-data-type", col_loc("type_zoo", "c_%"), data_type={"type": "string"}),
        )
    )
    lobs = {"c_mediumtext", "c_longtext", "c_mediumblob", "c_longblob", "c_json", "c_point"}
    for c in tp.columns:
        if c.source in lobs:
            assert (c.name, c.dms_type) == (c.source, c.source_type)
        else:
            assert c.name == c.source.upper()
    assert tp.column("C_INT").dms_type == DmsType("int4")  # the uppercase rule (id 10) won


def test_support_lobs_false_drops_the_real_lob_columns(real_catalog: Catalog) -> None:
    settings = parse_task_settings({"TargetMetadata": {"SupportLobs": False}})
    tp = only(plan_of(real_catalog, sel(1, table="type_zoo"), settings=settings))
    assert tp.lob.mode == "drop"
    assert len(tp.columns) == 42 - 6
    assert "c_json" not in tp.source_columns and "c_text" in tp.source_columns


OTHER_TABLE_CASES = [
    # (id, table, column rules, expected (name, DMS type, source) of every lake column)
    ("view: rename and change-data-type", "v_paid_orders",
     [tr(10, "column", "rename", col_loc("v_paid_orders", "amount"), value="paid_amount"),
      tr(11, "column", "change-data-type", col_loc("v_paid_orders", "created_at"), data_type={"type": "date"})],
     [("id", "INT8", "id"), ("customer_id", "INT4", "customer_id"), ("paid_amount", "NUMERIC(12,2)", "amount"),
      ("created_at", "DATE", "created_at")]),
    ("partitioned table: remove-column", "page_views",
     [tr(10, "column", "remove-column", col_loc("page_views", "path"))],
     [("id", "INT4", "id"), ("viewed_on", "DATE", "viewed_on")]),
    ("no PK: add-column from a header", "events_log",
     [tr(10, "column", "add-column", {"schema-name": "shop", "table-name": "events_log"}, value="seq",
         expression="$AR_H_CHANGE_SEQ", data_type={"type": "string", "length": 35})],
     [("logged_at", "DATETIME", "logged_at"), ("level", "WSTRING(10)", "level"),
      ("message", "WSTRING(65535)", "message"), ("seq", "STRING(35)", None)]),
    ("composite PK: uppercase", "order_items",
     [tr(10, "column", "convert-uppercase", col_loc("order_items", "%"))],
     [("ORDER_ID", "INT8", "order_id"), ("LINE_NO", "UINT2", "line_no"), ("SKU", "WSTRING(20)", "sku"),
      ("QTY", "UINT2", "qty"), ("PRICE", "NUMERIC(10,2)", "price")]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("table", "rules", "expected"), [pytest.param(t, r, e, id=i) for i, t, r, e in OTHER_TABLE_CASES]
)
def test_column_rules_on_other_tables(real_catalog: Catalog, table: str, rules: list, expected: list) -> None:
    tp = only(plan_of(real_catalog, sel(1, **{"object-locator": _locator(table)}), *rules))
    assert cols(tp) == expected
    assert tp.source_columns == tuple(c[2] for c in expected if c[2] is not None)


def test_change_data_type_on_orders_amount(real_catalog: Catalog) -> None:
    tp = only(
        plan_of(
            real_catalog,
            sel(1, table="orders"),
            tr(10, "column", "change-data-type", col_loc("orders", "amount"), data_type={"type": "string",
                                                                                        "length": "50"}),
            tr(11, "column", "change-data-type", col_loc("orders", "id"),
               data_type={"type": "numeric", "precision": 20, "scale": ""}),
        )
    )  # fmt: skip
    amount, oid = tp.column("amount"), tp.column("id")
    assert (str(amount.source_type), str(amount.dms_type), amount.arrow_type) == (
        "NUMERIC(12,2)",
        "STRING(50)",
        pa.string(),
    )
    assert (str(oid.dms_type), oid.arrow_type) == ("NUMERIC(20,0)", pa.decimal128(20, 0))
    assert "[was NUMERIC(12,2)]" in render(Plan((tp,), parse_task_settings({})))


# Keys: (id, table, extra rules, key columns (lake names), source key columns, origin)
KEY_CASES = [
    ("single PK", "orders", [], ("id",), ("id",), "primary-key"),
    ("composite PK", "order_items", [], ("order_id", "line_no"), ("order_id", "line_no"), "primary-key"),
    ("composite PK renamed", "order_items",
     [tr(10, "column", "add-prefix", col_loc("order_items", "%"), value="oi_")],
     ("oi_order_id", "oi_line_no"), ("order_id", "line_no"), "primary-key"),
    ("partitioned table PK", "page_views", [], ("id",), ("id",), "primary-key"),
    ("no PK", "events_log", [], (), (), "none"),
    ("view has no key", "v_paid_orders", [], (), (), "none"),
    ("define-primary-key on a table without one", "events_log",
     [tr(10, "table", "define-primary-key", {"schema-name": "shop", "table-name": "events_log"},
         primary_key_def={"name": "pk_events", "columns": ["logged_at", "level"]})],
     ("logged_at", "level"), ("logged_at", "level"), "define-primary-key"),
    ("define-primary-key replaces the PK", "customers",
     [tr(10, "table", "define-primary-key", C,
         primary_key_def={"name": "uq", "origin": "unique-index", "columns": ["email"]})],
     ("email",), ("email",), "define-primary-key"),
    ("key column removed: no lake key", "orders", [tr(10, "column", "remove-column", col_loc("orders", "id"))],
     (), ("id",), "primary-key"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("table", "rules", "key", "source_key", "origin"),
    [pytest.param(t, r, k, s, o, id=i) for i, t, r, k, s, o in KEY_CASES],
)
def test_keys(
    real_catalog: Catalog, table: str, rules: list, key: tuple, source_key: tuple, origin: str
) -> None:
    tp = only(plan_of(real_catalog, sel(1, **{"object-locator": _locator(table)}), *rules))
    assert (tp.key_columns, tp.source_key_columns, tp.key_origin) == (key, source_key, origin)


def customer_batch(db: pymysql.connections.Connection, tp: TablePlan) -> pa.RecordBatch:
    """The customers rows as the reader would hand them over: the plan's source columns, real values."""
    with db.cursor() as cur:
        cur.execute(tp.select_sql()[0] + " ORDER BY `id`", tp.select_sql()[1])
        data = cur.fetchall()
    columns = list(zip(*data, strict=True)) if data else [[] for _ in tp.source_columns]
    return pa.RecordBatch.from_arrays([pa.array(list(c)) for c in columns], names=list(tp.source_columns))


def test_add_column_expression_and_header_on_real_rows(real_catalog: Catalog, db) -> None:
    tp = only(
        plan_of(
            real_catalog,
            sel(1, table="customers"),
            tr(9, "column", "include-column", col_loc("customers", "id")),
            tr(10, "column", "add-column", C, value="full_name", expression="$first_name||' '||$last_name",
               data_type={"type": "string", "length": 101}),
            tr(11, "column", "add-column", C, value="op", expression="$AR_H_OPERATION",
               data_type={"type": "string", "length": 10}),
            tr(12, "column", "add-column", C, value="initial", expression="upper(substr($last_name, 1, 1))",
               data_type={"type": "wstring", "length": 1}),
        )
    )  # fmt: skip
    assert cols(tp) == [
        ("id", "INT4", "id"),
        ("full_name", "STRING(101)", None),
        ("op", "STRING(10)", None),
        ("initial", "WSTRING(1)", None),
    ]
    assert tp.source_columns == ("id", "first_name", "last_name")
    out = transform_batch(tp, customer_batch(db, tp)).to_pylist()
    expected = sandbox_data.customers()
    assert [r["id"] for r in out] == [c["id"] for c in expected]
    assert [r["full_name"] for r in out] == [f"{c['first_name']} {c['last_name']}" for c in expected]
    assert {r["op"] for r in out} == {"INSERT"}
    assert [r["initial"] for r in out] == [c["last_name"][0].upper() for c in expected]


MASK_CASES = [
    # (id, action, column, value, DMS type after, a check of the masked values against the seed's)
    ("digits-mask", "data-masking-digits-mask", "passport", "#", "WSTRING(9)",
     lambda got, want: got == (None if want is None else "P########")),
    ("digits-randomize", "data-masking-digits-randomize", "passport", None, "WSTRING(9)",
     lambda got, want: (got is None) == (want is None) and (got is None or (got[0] == "P" and got[1:].isdigit()))),
    ("hash-mask", "data-masking-hash-mask", "email", None, "WSTRING(255)",
     lambda got, want: len(got) == 64 and got != want and all(ch in "0123456789abcdef" for ch in got.lower())),
    ("digits-mask on an integer", "data-masking-digits-mask", "id", "0", "STRING", lambda got, want: got == "0" * len(
        str(want))),
]  # fmt: skip


@pytest.mark.parametrize(
    ("action", "column", "value", "dms_type", "check"),
    [pytest.param(a, c, v, t, k, id=i) for i, a, c, v, t, k in MASK_CASES],
)
def test_masking_on_real_rows(real_catalog: Catalog, db, action, column, value, dms_type, check) -> None:
    extra = {"value": value} if value is not None else {}
    tp = only(
        plan_of(
            real_catalog,
            sel(1, table="customers"),
            tr(10, "column", "include-column", col_loc("customers", column)),
            tr(20, "column", action, col_loc("customers", column), **extra),
        )
    )
    (c,) = tp.columns
    assert (c.name, str(c.dms_type), c.mask.kind, c.mask.char) == (
        column,
        dms_type,
        action.removeprefix("data-masking-"),
        value,
    )
    out = transform_batch(tp, customer_batch(db, tp)).column(0).to_pylist()
    want = [r[column] for r in sandbox_data.customers()]
    assert len(out) == len(want) == 100
    assert all(check(g, w) for g, w in zip(out, want, strict=True))


# --------------------------------------------------------------------------------------------------
# Table settings: parallel-load segments executed against the sandbox.


def ts(rule_id: int, table: str, **settings: Any) -> dict:
    rule = {
        "rule-type": "table-settings",
        "rule-id": rule_id,
        "rule-name": f"ts{rule_id}",
        "object-locator": {"schema-name": "shop", "table-name": table},
    }
    rule.update(settings)
    return rule


RANGE_CASES = [
    # (id, table, key columns to tell rows apart, parallel-load, filters, expected rows, NULL-segment rows)
    ("single column, named", "orders", ["id"],
     {"type": "ranges", "columns": ["id"], "boundaries": [["500"], [1000], ["1500"]],
      "segment-names": ["a", "b", "c", "d"]}, [], lambda r: True, 0),
    ("unnamed, with a filter", "orders", ["id"],
     {"type": "ranges", "columns": ["id"], "boundaries": [["700"], ["1400"]]},
     [flt("status", op("eq", "paid"))], lambda r: r["status"] == "paid", 0),
    ("composite with a short bound", "order_items", ["order_id", "line_no"],
     {"type": "ranges", "columns": ["order_id", "line_no"], "boundaries": [["100", "2"], ["1000"], ["1000", "3"]]},
     [], lambda r: True, 0),
    ("nullable column: NULL segment", "customers", ["id"],
     {"type": "ranges", "columns": ["passport"], "boundaries": [["P0030"], ["P0060"]]}, [], lambda r: True, 10),
    ("datetime column, no PK", "events_log", ["logged_at", "level", "message"],
     {"type": "ranges", "columns": ["logged_at"], "boundaries": [["2024-03-01 00:00:05"], ["2024-03-01 00:00:12"]]},
     [], lambda r: True, 0),
    ("date column", "page_views", ["id"],
     {"type": "ranges", "columns": ["viewed_on", "id"], "boundaries": [["2024-01-20"], ["2024-02-10", "100"]]},
     [], lambda r: True, 0),
    ("nullable date with zero dates", "type_zoo", ["id"],
     {"type": "ranges", "columns": ["c_date"], "boundaries": [["2024-01-01"]]}, [], lambda r: True, 1),
]  # fmt: skip


@pytest.mark.parametrize(
    ("table", "key", "pl", "filters", "keep", "nulls"),
    [pytest.param(t, k, p, f, e, n, id=i) for i, t, k, p, f, e, n in RANGE_CASES],
)
def test_range_segments_cover_the_table_once(
    real_catalog: Catalog, db, seed_rows: int, table, key, pl, filters, keep, nulls
) -> None:
    selection = sel(1, table=table, filters=filters) if filters else sel(1, table=table)
    tp = only(plan_of(real_catalog, selection, ts(30, table, **{"parallel-load": pl})))
    assert len(tp.segments) == len(pl["boundaries"]) + 2
    expected = sum(1 for r in sandbox_data.rows(table, seed_rows) if keep(r))
    seen: list[tuple] = []
    counts = []
    for seg in tp.segments:
        assert seg.where.count("%s") == len(seg.params)
        if tp.where:
            assert seg.where.startswith(tp.where + " AND ") and seg.params[: len(tp.params)] == tp.params
        got = keys(db, f"SELECT {', '.join(key)} FROM shop.{table} WHERE {seg.where}", seg.params)
        counts.append(len(got))
        seen += got
    assert len(seen) == len(set(seen)) == expected, "segments must be disjoint and cover every row"
    assert counts[-1] == nulls and tp.segments[-1].name in ("NULLS", f"SEGMENT{len(tp.segments)}")
    assert sum(1 for c in counts[:-1] if c) >= 2, "the boundaries should split the real data"
    names = pl.get("segment-names")
    if names:
        assert [s.name for s in tp.segments] == [*names, "NULLS"]
        assert [s.folder for s in tp.segments] == [*names, "NULLS"]
    else:
        assert [s.file_prefix for s in tp.segments] == [
            f"SEGMENT{k}_" for k in range(1, len(tp.segments) + 1)
        ]


def partition_count(db, seg) -> int:
    sql = f"SELECT COUNT(*) FROM shop.page_views PARTITION (`{seg.partition}`)"
    return keys(db, sql + (f" WHERE {seg.where}" if seg.where else ""), seg.params)[0][0]


def test_partitions_auto_uses_the_real_partitions(real_catalog: Catalog, db) -> None:
    assert real_catalog.table("shop", "page_views").partitions == ("p0", "p1", "p2", "p3")
    tp = only(
        plan_of(
            real_catalog,
            sel(1, table="page_views"),
            ts(30, "page_views", **{"parallel-load": {"type": "partitions-auto"}}),
        )
    )
    assert [(s.name, s.folder, s.partition, s.where) for s in tp.segments] == [
        (p, p, p, "") for p in ("p0", "p1", "p2", "p3")
    ]
    # PARTITION BY HASH (id) PARTITIONS 4: row id lives in partition p<id % 4>.
    rows = sandbox_data.page_views()
    for k, seg in enumerate(tp.segments):
        assert partition_count(db, seg) == sum(1 for r in rows if r["id"] % 4 == k) == 50


def test_partitions_list_with_a_filter(real_catalog: Catalog, db) -> None:
    selection = sel(1, table="page_views", filters=[flt("viewed_on", op("lte", "2024-01-31"))])
    pl = {"type": "partitions-list", "partitions": ["p3", "p1"]}
    tp = only(plan_of(real_catalog, selection, ts(30, "page_views", **{"parallel-load": pl})))
    assert [s.partition for s in tp.segments] == ["p3", "p1"]
    for seg in tp.segments:
        k = int(seg.partition[1])
        want = sum(
            1 for r in sandbox_data.page_views() if r["id"] % 4 == k and r["viewed_on"] <= date(2024, 1, 31)
        )
        assert 0 < partition_count(db, seg) == want < 50


def test_partitions_auto_on_a_table_without_partitions_warns(real_catalog: Catalog) -> None:
    plan = plan_of(
        real_catalog,
        sel(1, table="orders"),
        ts(30, "orders", **{"parallel-load": {"type": "partitions-auto"}}),
    )
    assert only(plan).segments == ()
    assert plan.warnings == ("shop.orders: parallel-load partitions-auto, but the table has no partitions",)


# --------------------------------------------------------------------------------------------------
# Bad input against the real catalog: one BadInput each, the whole message asserted.

NO_TABLES_ALLOWED = (
    "shop.customers, shop.events_log, shop.orders, shop.order_items, shop.page_views, shop.type_zoo"
)

ERROR_CASES = [
    ("filter on a missing column", [sel(1, table="orders", filters=[flt("amout", op("gte", "1"))])],
     f"{FILE}: rules[0].filters[0].column-name: shop.orders has no such column (got 'amout'); did you mean "
     "'amount'?; allowed: id, customer_id, amount, status, created_at, note"),
    ("filter on a real LOB column", [sel(1, table="type_zoo", filters=[flt("c_json", op("notnull"))])],
     f"{FILE}: rules[0].filters[0].column-name: filters must not be applied to LOB columns (c_json is CLOB) "
     "(got 'c_json')"),
    ("non-number on a DECIMAL column", [sel(1, table="orders", filters=[flt("amount", op("gte", "1,000"))])],
     f"{FILE}: rules[0].filters[0].filter-conditions[0].value: amount is NUMERIC(12,2), so the filter value must "
     "be a number (got '1,000'). write it without thousands separators or units, e.g. 1000 or 12.50"),
    ("non-number in an OR'd between", [sel(1, table="order_items", filters=[
        flt("qty", op("eq", "1"), op("between", "2", "ten"))])],
     f"{FILE}: rules[0].filters[0].filter-conditions[1].end-value: qty is UINT2, so the filter value must be a "
     "number (got 'ten'). write it without thousands separators or units, e.g. 1000 or 12.50"),
    ("wildcard in a filtered rule", [sel(1, table="order%", filters=[flt("id", op("eq", "1"))])],
     f"{FILE}: rules[0].object-locator.table-name: a rule with filters needs an exact schema and table name "
     "(got 'order%'). add a separate include rule naming the table exactly and put the filters there"),
    ("wildcard in an explicit rule", [sel(1, table="order[_]items", action="explicit")],
     f"{FILE}: rules[0].object-locator.table-name: an explicit rule selects exactly one table: no wildcards "
     "(got 'order[_]items'). use rule-action include to select by pattern"),
    ("wildcard in table-settings", [sel(1), ts(2, "page_%", **{"parallel-load": {"type": "partitions-auto"}})],
     f"{FILE}: rules[1].object-locator.table-name: Exact schema and table name required when using table "
     "settings rule (got 'page_%')"),
    ("wildcard in define-primary-key", [sel(1), tr(2, "table", "define-primary-key",
                                                  {"schema-name": "shop", "table-name": "events%"},
                                                  primary_key_def={"name": "pk", "columns": ["logged_at"]})],
     f"{FILE}: rules[1].object-locator: define-primary-key needs an exact schema and table name (got "
     "'shop.events%'). wildcards are not allowed with define-primary-key"),
    ("two tables to one target", [sel(1), tr(2, "table", "rename", {"schema-name": "shop", "table-name": "order%"},
                                              value="sales")],
     f"{FILE}: rules[1]: two source tables, shop.orders and shop.order_items, would both be written to "
     "shop.sales (got 'shop.sales'). DMS cannot map two source tables to one target table; change the "
     "renaming rules"),
    ("two tables to one target by case", [sel(1), tr(2, "table", "remove-prefix",
                                                      {"schema-name": "shop", "table-name": "%"}, value="v_paid_"),
                                          sel(3, **{"object-locator": {"schema-name": "shop", "table-name": "v%",
                                                                       "table-type": "view"}})],
     f"{FILE}: rules[1]: two source tables, shop.orders and shop.v_paid_orders, would both be written to "
     "shop.orders (got 'shop.orders'). DMS cannot map two source tables to one target table; change the "
     "renaming rules"),
    ("rule matches nothing", [sel(1), sel(2, table="Orders", action="explicit")],
     f"{FILE}: rules[1].object-locator: selection rule 's2' matches no table in the source (got "
     f"'shop.Orders'); did you mean 'shop.orders'?; allowed: {NO_TABLES_ALLOWED}. or set "
     "ErrorBehavior.FailOnNoTablesCaptured false"),
    ("view rule naming a table", [sel(1, **{"object-locator": {
        "schema-name": "shop", "table-name": "orders", "table-type": "view"}})],
     f"{FILE}: rules[0].object-locator: selection rule 's1' matches no view in the source (got 'shop.orders'). "
     "shop.orders is a table: set table-type "
     "to 'table' or 'all', or set ErrorBehavior.FailOnNoTablesCaptured false"),
    ("table rule naming a view", [sel(1, table="v_paid_orders", action="explicit")],
     f"{FILE}: rules[0].object-locator: selection rule 's1' matches no table in the source (got "
     "'shop.v_paid_orders'). shop.v_paid_orders is a view: set table-type to "
     "'view' or 'all', or set ErrorBehavior.FailOnNoTablesCaptured false"),
    ("change-data-type to an unknown type", [sel(1), tr(2, "column", "change-data-type", col_loc("orders", "amount"),
                                                        data_type={"type": "varchar", "length": 20})],
     f"{FILE}: rules[1].data-type.type: is not a DMS data type (got 'varchar'); allowed: bytes, date, time, "
     "datetime, int1, int2, int4, int8, numeric, real4, real8, string, uint1, uint2, uint4, uint8, wstring, blob, "
     "nclob, clob, boolean, set, list, map, tuple"),
    ("change-data-type near miss", [sel(1), tr(2, "column", "change-data-type", col_loc("orders", "amount"),
                                               data_type={"type": "strin"})],
     f"{FILE}: rules[1].data-type.type: is not a DMS data type (got 'strin'); did you mean 'string'?; allowed: "
     "bytes, date, time, datetime, int1, int2, int4, int8, numeric, real4, real8, string, uint1, uint2, uint4, "
     "uint8, wstring, blob, nclob, clob, boolean, set, list, map, tuple"),
    ("define-primary-key on a missing column", [sel(1), tr(2, "table", "define-primary-key",
                                                           {"schema-name": "shop", "table-name": "events_log"},
                                                           primary_key_def={"name": "pk",
                                                                            "columns": ["logged_at", "lvl"]})],
     f"{FILE}: rules[1].primary-key-def.columns[1]: shop.events_log has no such column (got 'lvl'); did you "
     "mean 'level'?; allowed: logged_at, level, message"),
    ("range on a missing column", [sel(1), ts(2, "orders", **{"parallel-load": {
        "type": "ranges", "columns": ["created"], "boundaries": [["2024-01-05"]]}})],
     f"{FILE}: rules[1].parallel-load.columns[0]: shop.orders has no such column (got 'created'); did you mean "
     "'created_at'?; allowed: id, customer_id, amount, status, created_at, note"),
    ("range on a real FLOAT column", [sel(1), ts(2, "type_zoo", **{"parallel-load": {
        "type": "ranges", "columns": ["c_float"], "boundaries": [["1"]]}})],
     f"{FILE}: rules[1].parallel-load.columns[0]: column 'c_float' is REAL8; ranges may not use DOUBLE, FLOAT or "
     "LOB columns (got 'c_float')"),
    ("partition that does not exist", [sel(1), ts(2, "page_views", **{"parallel-load": {
        "type": "partitions-list", "partitions": ["p0", "P1"]}})],
     f"{FILE}: rules[1].parallel-load.partitions[1]: shop.page_views has no such partition (got 'P1'); did you "
     "mean 'p1'?; allowed: p0, p1, p2, p3"),
    ("partitions of a table without any", [sel(1), ts(2, "orders", **{"parallel-load": {
        "type": "partitions-list", "partitions": ["p0"]}})],
     f"{FILE}: rules[1].parallel-load.partitions[0]: shop.orders has no such partition (got 'p0'); allowed: "
     "(the table is not partitioned)"),
    ("expression on a missing column", [sel(1), tr(2, "column", "add-column", C, value="x",
                                                   expression="$first_name||$lastname",
                                                   data_type={"type": "string", "length": 10})],
     f"{FILE}: rules[1].expression: the expression refers to a column that shop.customers does not have (got "
     "'$lastname'); did you mean 'last_name'?; allowed: id, first_name, last_name, email, passport, status, tags, "
     "created_at, updated_at"),
    ("add-column over an existing column", [sel(1), tr(2, "column", "add-column", C, value="email",
                                                       expression="$first_name", data_type={"type": "string"})],
     f"{FILE}: rules[1].value: add-column: table shop.customers already has a column with this name "
     "(got 'email')"),
    ("rename onto an existing column", [sel(1), tr(2, "column", "rename", col_loc("customers", "passport"),
                                                   value="email")],
     f"{FILE}: rules[1]: columns 'email' and 'passport' of shop.customers would both be named 'email' "
     "(got 'email')"),
    ("exact rule on a real LOB column", [sel(1), tr(2, "column", "rename", col_loc("type_zoo", "c_json"),
                                                    value="doc")],
     f"{FILE}: rules[1].rule-action: column 'c_json' is a LOB (CLOB); LOB columns can only be removed or included "
     "(got 'rename'); allowed: remove-column, include-column"),
]  # fmt: skip


@pytest.mark.parametrize(("rules", "message"), [pytest.param(r, m, id=i) for i, r, m in ERROR_CASES])
def test_bad_input_against_the_real_catalog(real_catalog: Catalog, rules: list[dict], message: str) -> None:
    with pytest.raises(BadInput) as err:
        resolve(parse_mapping({"rules": rules}, file=FILE), real_catalog)
    assert str(err.value) == message
    assert err.value.exit_code == 2


def test_no_tables_captured_false_warns_and_goes_on(real_catalog: Catalog) -> None:
    settings = parse_task_settings({"ErrorBehavior": {"FailOnNoTablesCaptured": False}})
    plan = plan_of(
        real_catalog, sel(1, table="orders"), sel(2, table="Orders", action="explicit"), settings=settings
    )
    assert sources(plan) == ["orders"]
    assert plan.warnings == ("rules[1]: selection rule 's2' matches nothing (shop.Orders)",)
    empty = plan_of(real_catalog, sel(1, schema="Shop"), settings=settings)
    assert empty.tables == ()
    assert empty.warnings == ("rules[0]: selection rule 's1' matches nothing (Shop.%)",)
    assert (
        render(empty)
        == "(no tables selected)\nwarning: rules[0]: selection rule 's1' matches nothing (Shop.%)"
    )


def test_the_whole_plan_renders(real_catalog: Catalog) -> None:
    """One mapping using every family at once, rendered: a smoke test of the real catalog end to end."""
    plan = plan_of(
        real_catalog,
        sel(1, **{"object-locator": ALL_LOCATOR}),
        sel(2, table="orders", filters=[flt("status", op("eq", "paid"))], **{"load-order": "5"}),
        tr(3, "schema", "rename", {"schema-name": "shop"}, value="lake"),
        tr(4, "column", "data-masking-hash-mask", col_loc("customers", "email")),
        ts(5, "page_views", **{"parallel-load": {"type": "partitions-auto"}}),
    )
    text = render(plan)
    assert text.splitlines()[0] == "1. shop.orders -> lake.orders  load-order 5"
    assert "   where: `status` = %s\n   params: ['paid']" in text
    assert "shop.v_paid_orders -> lake.v_paid_orders (view)" in text
    assert "[mask hash-mask]" in text
    assert "     p3         p3/" in text


def test_why_numeric_filters_must_be_numbers(db, seed_rows: int) -> None:
    """MySQL reads '1,000' as 1 in the snapshot's WHERE; the CDC row test finds no number in it and
    keeps nothing. A plan with such a filter would load different rows in the two phases, so
    ``resolve`` refuses it (the case "non-number on a DECIMAL column" above)."""
    amounts = [r["amount"] for r in sandbox_data.orders(seed_rows)]
    assert count(db, "orders", "`amount` >= %s", ("1,000",)) == sum(1 for a in amounts if a >= 1)
    assert sum(1 for a in amounts if a >= 1000) < sum(1 for a in amounts if a >= 1)


def test_cdc_value_forms_compare_like_the_driver_forms(real_catalog: Catalog) -> None:
    """CDC row images carry the full load's Arrow values (bool for BIT(1), TIME as text), not the
    driver's; both must pass the same way."""
    bit = only(plan_of(real_catalog, sel(1, table="type_zoo", filters=[flt("c_bit1", op("eq", "1"))])))
    assert (
        bit.passes({"c_bit1": True}) and bit.passes({"c_bit1": b"\x01"}) and not bit.passes({"c_bit1": False})
    )
    time = only(
        plan_of(real_catalog, sel(1, table="type_zoo", filters=[flt("c_time", op("lte", "-00:00:01"))]))
    )
    assert time.passes({"c_time": "-838:59:59"}) and not time.passes({"c_time": "00:00:00"})
