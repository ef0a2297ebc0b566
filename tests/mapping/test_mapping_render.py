"""The canonical example of dms.md §1, resolved end to end and rendered for ``owners check``."""

from __future__ import annotations

from mapping_helpers import FILE, tr

from dersonlake.mapping import parse_mapping, render, resolve

CANONICAL = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "all-shop",
            "object-locator": {"schema-name": "shop", "table-name": "%"},
            "rule-action": "include",
        },
        {
            "rule-type": "selection",
            "rule-id": "2",
            "rule-name": "no-tmp",
            "object-locator": {"schema-name": "shop", "table-name": "tmp[_]%"},
            "rule-action": "exclude",
        },
        {
            "rule-type": "selection",
            "rule-id": "3",
            "rule-name": "orders",
            "object-locator": {"schema-name": "shop", "table-name": "orders"},
            "rule-action": "include",
            "load-order": "10",
            "filters": [
                {
                    "filter-type": "source",
                    "column-name": "created_at",
                    "filter-conditions": [{"filter-operator": "gte", "value": "2024-01-01"}],
                },
                {
                    "filter-type": "source",
                    "column-name": "status",
                    "filter-conditions": [
                        {"filter-operator": "eq", "value": "PAID"},
                        {"filter-operator": "null"},
                    ],
                },
            ],
        },
        tr(10, "schema", "rename", {"schema-name": "shop"}, value="lake_shop"),
        tr(
            17,
            "column",
            "change-data-type",
            {"schema-name": "shop", "table-name": "orders", "column-name": "amount"},
            data_type={"type": "string", "length": "50"},
        ),
        tr(
            19,
            "column",
            "add-column",
            {"schema-name": "shop", "table-name": "customers"},
            value="full_name",
            expression="$first_name||' '||$last_name",
            data_type={"type": "string", "length": 100},
        ),
        {
            "rule-type": "table-settings",
            "rule-id": "30",
            "rule-name": "pl",
            "object-locator": {"schema-name": "shop", "table-name": "orders"},
            "parallel-load": {
                "type": "ranges",
                "columns": ["id"],
                "boundaries": [["1000000"]],
                "segment-names": ["s1", "s2"],
            },
        },
        {
            "rule-type": "post-processing",
            "rule-id": "41",
            "rule-name": "41",
            "rule-action": "add-tag",
            "object-locator": {"schema-name": "%", "table-name": "orders"},
            "tag-set": [{"key": "t", "value": "${table-name}"}],
        },
    ]
}


def test_canonical_example_renders(catalog) -> None:
    plan = resolve(parse_mapping(CANONICAL, file=FILE), catalog)
    text = render(plan)
    first = text.split("\n2. ")[0]
    assert first == (
        "1. shop.orders -> lake_shop.orders  load-order 10\n"
        "   key: id  [primary-key]\n"
        "   where: `created_at` >= %s AND (`status` = %s OR `status` IS NULL)\n"
        "   params: ['2024-01-01', 'PAID']\n"
        "   id           INT8           int64                  <- id\n"
        "   customer_id  INT4           int32                  <- customer_id\n"
        "   status       WSTRING(20)    string                 <- status\n"
        "   amount       STRING(50)     string                 <- amount  [was NUMERIC(12,2)]\n"
        "   created_at   DATETIME       timestamp[us]          <- created_at\n"
        "   order_date   DATE           date32[day]            <- order_date\n"
        "   parallel-load ranges:\n"
        "     s1         s1/                `created_at` >= %s AND (`status` = %s OR `status` IS NULL) AND "
        "`id` IS NOT NULL"
        " AND `id` < %s  ['2024-01-01', 'PAID', '1000000']\n"
        "     s2         s2/                `created_at` >= %s AND (`status` = %s OR `status` IS NULL) AND "
        "`id` IS NOT NULL"
        " AND `id` >= %s  ['2024-01-01', 'PAID', '1000000']\n"
        "     NULLS      NULLS/             `created_at` >= %s AND (`status` = %s OR `status` IS NULL) AND "
        "`id` IS NULL"
        "  ['2024-01-01', 'PAID']\n"
        "   tags: t=orders"
    )
    assert [t.source for t in plan.tables] == [
        "shop.orders",
        "shop.customers",
        "shop.events_log",
        "shop.order_items",
        "shop.tmpdata",
        "shop.type_zoo",
    ]
    assert "   full_name   STRING(100)    string                 = $first_name||' '||$last_name" in text
    assert "   LOBs (limited, 32 KB): notes" in text
    assert "   key: (none)  [none]" in text  # events_log
