"""Selection rules: which tables, in what order, and the WHERE each filter operator becomes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from mapping_helpers import mapping, sel

from dersonlake.mapping import default_task_settings, parse_task_settings, resolve, row_passes
from dersonlake.mapping.wildcards import matches


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("%", "anything", True),
        ("order%", "order_items", True),
        ("order%", "customers", False),
        ("o_ders", "orders", True),
        ("o_ders", "oders", False),
        ("tmp[_]%", "tmp_import", True),
        ("tmp[_]%", "tmpdata", False),
        ("tmp_%", "tmpdata", True),
        ("[a-d]%", "customers", True),
        ("[a-d]%", "orders", False),
        ("[ot]%", "orders", True),
        ("[ot]%", "customers", False),
        ("Orders", "orders", False),
        ("a.b", "axb", False),
    ],
)
def test_wildcards(pattern: str, name: str, expected: bool) -> None:
    assert matches(pattern, name) is expected


def names(plan) -> list[str]:
    return [t.source for t in plan.tables]


def test_include_all_tables_of_a_schema_skips_views(catalog) -> None:
    plan = resolve(mapping(sel(1)), catalog)
    assert names(plan) == [
        "shop.customers",
        "shop.events_log",
        "shop.order_items",
        "shop.orders",
        "shop.tmp_import",
        "shop.tmpdata",
        "shop.type_zoo",
    ]


def test_exclude_wins_over_include_and_literal_underscore(catalog) -> None:
    plan = resolve(mapping(sel(1), sel(2, table="tmp[_]%", action="exclude")), catalog)
    assert "shop.tmp_import" not in names(plan)
    assert "shop.tmpdata" in names(plan)


@pytest.mark.parametrize(
    ("table_type", "expected"),
    [
        ("view", ["shop.v_paid_orders"]),
        ("all", ["shop.order_items", "shop.orders", "shop.v_paid_orders"]),
        ("table", ["shop.order_items", "shop.orders"]),
    ],
)
def test_table_type(catalog, table_type: str, expected: list[str]) -> None:
    rule = sel(1, table="%order%")
    rule["object-locator"]["table-type"] = table_type
    assert names(resolve(mapping(rule), catalog)) == expected


def test_views_are_left_out_of_cdc_tasks(catalog) -> None:
    rule = sel(1, table="%order%")
    rule["object-locator"]["table-type"] = "all"
    plan = resolve(mapping(rule), catalog, migration_type="cdc")
    assert names(plan) == ["shop.order_items", "shop.orders"]
    assert any("v_paid_orders is a view" in w for w in plan.warnings)


def test_explicit_selects_exactly_one_table_with_underscores_taken_literally(catalog) -> None:
    plan = resolve(mapping(sel(1, table="order_items", action="explicit")), catalog)
    assert names(plan) == ["shop.order_items"]


def test_load_order_higher_first_then_name(catalog) -> None:
    plan = resolve(
        mapping(
            sel(1, schema="%"),
            sel(2, table="orders", **{"load-order": "10"}),
            sel(3, schema="crm", table="contacts", **{"load-order": 5}),
        ),
        catalog,
    )
    assert names(plan)[:3] == ["shop.orders", "crm.contacts", "shop.customers"]
    assert plan.tables[0].load_order == 10


def test_rule_id_as_number(catalog) -> None:
    rule = sel(1, table="orders")
    rule["rule-id"] = 7
    assert names(resolve(mapping(rule), catalog)) == ["shop.orders"]


def test_no_match_is_a_warning_when_fail_on_no_tables_captured_is_false(catalog) -> None:
    settings = parse_task_settings({"ErrorBehavior": {"FailOnNoTablesCaptured": False}})
    plan = resolve(mapping(sel(1, table="orders"), sel(2, table="nope%")), catalog, settings)
    assert names(plan) == ["shop.orders"]
    assert plan.warnings == ("rules[1]: selection rule 's2' matches nothing (shop.nope%)",)


def filtered(*filters: dict) -> list[dict]:
    return [sel(1, table="orders", filters=list(filters))]


def flt(column: str, *conditions: dict) -> dict:
    return {"filter-type": "source", "column-name": column, "filter-conditions": list(conditions)}


# one case per operator: (condition, SQL, params, a value that passes, a value that fails)
OPERATOR_CASES = [
    ({"filter-operator": "eq", "value": "PAID"}, "`status` = %s", ("PAID",), "PAID", "NEW"),
    ({"filter-operator": "noteq", "value": "PAID"}, "`status` <> %s", ("PAID",), "NEW", "PAID"),
    ({"filter-operator": "lte", "value": "M"}, "`status` <= %s", ("M",), "A", "Z"),
    ({"filter-operator": "ste", "value": "M"}, "`status` <= %s", ("M",), "M", "N"),
    ({"filter-operator": "gte", "value": "M"}, "`status` >= %s", ("M",), "M", "A"),
    (
        {"filter-operator": "between", "start-value": "B", "end-value": "D"},
        "`status` BETWEEN %s AND %s",
        ("B", "D"),
        "D",
        "E",
    ),
    (
        {"filter-operator": "notbetween", "start-value": "B", "end-value": "D"},
        "`status` NOT BETWEEN %s AND %s",
        ("B", "D"),
        "A",
        "C",
    ),
    ({"filter-operator": "null"}, "`status` IS NULL", (), None, "PAID"),
    ({"filter-operator": "notnull"}, "`status` IS NOT NULL", (), "PAID", None),
]


@pytest.mark.parametrize(
    ("cond", "sql", "params", "good", "bad"),
    OPERATOR_CASES,
    ids=[c[0]["filter-operator"] for c in OPERATOR_CASES],
)
def test_filter_operator(catalog, cond, sql, params, good, bad) -> None:
    table = resolve(mapping(*filtered(flt("status", cond))), catalog).tables[0]
    assert (table.where, table.params) == (sql, params)
    assert table.passes({"status": good}) is True
    assert table.passes({"status": bad}) is False


def test_filters_and_between_or_within(catalog) -> None:
    rules = [
        sel(1),
        sel(
            2,
            table="orders",
            **{"load-order": "10"},
            filters=[
                flt("created_at", {"filter-operator": "gte", "value": "2024-01-01"}),
                flt("status", {"filter-operator": "eq", "value": "PAID"}, {"filter-operator": "null"}),
            ],
        ),
    ]
    table = resolve(mapping(*rules), catalog).table("shop", "orders")
    assert table.where == "`created_at` >= %s AND (`status` = %s OR `status` IS NULL)"
    assert table.params == ("2024-01-01", "PAID")
    assert table.load_order == 10
    row = {"created_at": dt.datetime(2024, 3, 1, 10, 0), "status": None}
    assert table.passes(row)
    assert not table.passes({**row, "status": "NEW"})
    assert not table.passes({**row, "created_at": dt.datetime(2023, 12, 31, 23, 59, 59)})


def test_values_are_never_pasted_into_sql(catalog) -> None:
    evil = "x'; DROP TABLE orders; --"
    table = resolve(
        mapping(*filtered(flt("status", {"filter-operator": "eq", "value": evil}))), catalog
    ).tables[0]
    assert evil not in table.where
    assert table.params == (evil,)
    sql, params = table.select_sql()
    assert sql.startswith(
        "SELECT `id`, `customer_id`, `status`, `amount`, `created_at`, `order_date` FROM `shop`.`orders`"
    )
    assert params == (evil,)


@pytest.mark.parametrize(
    ("value", "cond", "expected"),
    [
        (dt.date(2024, 1, 1), {"filter-operator": "gte", "value": "2024-01-01"}, True),
        (dt.date(2023, 12, 31), {"filter-operator": "gte", "value": "2024-01-01"}, False),
        (dt.datetime(2024, 1, 1, 0, 0, 0), {"filter-operator": "eq", "value": "2024-01-01 00:00:00"}, True),
        # SQLite compares text: a datetime is not equal to a bare date, but sorts after it
        (dt.datetime(2024, 1, 1, 0, 0, 0), {"filter-operator": "eq", "value": "2024-01-01"}, False),
        (dt.datetime(2024, 1, 1, 0, 0, 0), {"filter-operator": "gte", "value": "2024-01-01"}, True),
        (
            dt.datetime(2024, 1, 1, 12),
            {"filter-operator": "between", "start-value": "2024-01-01", "end-value": "2024-01-02"},
            True,
        ),
        (Decimal("10.50"), {"filter-operator": "gte", "value": "10.5"}, True),
        (9, {"filter-operator": "lte", "value": "10"}, True),  # numbers compare as numbers, not as text
        (100, {"filter-operator": "lte", "value": "20"}, False),
        (100, {"filter-operator": "eq", "value": "abc"}, False),
        # TIME values arrive as timedelta and compare as MySQL's TIME text, fraction and sign included
        (dt.timedelta(hours=25, microseconds=1), {"filter-operator": "eq", "value": "25:00:00.000001"}, True),
        (dt.timedelta(hours=25, microseconds=1), {"filter-operator": "lte", "value": "25:00:00"}, False),
        (dt.timedelta(seconds=-1.5), {"filter-operator": "eq", "value": "-00:00:01.500000"}, True),
        (
            dt.timedelta(hours=-838, minutes=-59, seconds=-59),
            {"filter-operator": "eq", "value": "-838:59:59"},
            True,
        ),
        (dt.timedelta(hours=12), {"filter-operator": "eq", "value": "12:00:00"}, True),
    ],
)
def test_row_filter_uses_sqlite_comparison_semantics(value, cond, expected) -> None:
    from dersonlake.mapping.filters import parse_filters

    filters = parse_filters([flt("c", cond)], "filters")
    assert row_passes(filters, {"c": value}) is expected


def test_filters_of_every_matching_include_rule_apply(catalog) -> None:
    rules = [
        sel(1, table="orders", filters=[flt("status", {"filter-operator": "eq", "value": "PAID"})]),
        sel(2, table="orders", filters=[flt("amount", {"filter-operator": "gte", "value": 10})]),
    ]
    table = resolve(mapping(*rules), catalog, default_task_settings()).tables[0]
    assert (table.where, table.params) == ("`status` = %s AND `amount` >= %s", ("PAID", "10"))
    assert table.selected_by == (1, 2)
