"""Table-settings (parallel-load, lob-settings) and post-processing tags, resolved into the plan."""

from __future__ import annotations

from mapping_helpers import mapping, sel

from dersonlake.mapping import resolve


def ts(rule_id: int, table: str, **settings) -> dict:
    rule = {
        "rule-type": "table-settings",
        "rule-id": rule_id,
        "rule-name": f"ts{rule_id}",
        "object-locator": {"schema-name": "shop", "table-name": table},
    }
    rule.update(settings)
    return rule


def segs(table) -> list[tuple]:
    return [(s.name, s.folder, s.file_prefix, s.where, s.params, s.partition) for s in table.segments]


def test_ranges_with_segment_names_exclusive_upper_bounds_and_a_null_segment(catalog) -> None:
    pl = {
        "type": "ranges",
        "columns": ["id"],
        "boundaries": [["1000000"], [2000000]],
        "segment-names": ["s1", "s2", "s3"],
    }
    table = resolve(
        mapping(sel(1, table="orders"), ts(30, "orders", **{"parallel-load": pl})), catalog
    ).tables[0]
    nn = "`id` IS NOT NULL"
    assert segs(table) == [
        ("s1", "s1", "", f"{nn} AND `id` < %s", ("1000000",), None),
        ("s2", "s2", "", f"{nn} AND `id` >= %s AND `id` < %s", ("1000000", "2000000"), None),
        ("s3", "s3", "", f"{nn} AND `id` >= %s", ("2000000",), None),
        ("NULLS", "NULLS", "", "`id` IS NULL", (), None),
    ]


def test_ranges_without_names_use_segment_file_prefixes_and_tuple_bounds(catalog) -> None:
    pl = {"type": "ranges", "columns": ["order_id", "line_no"], "boundaries": [["10", "5"]]}
    rules = [
        sel(
            1,
            table="order_items",
            filters=[
                {
                    "filter-type": "source",
                    "column-name": "qty",
                    "filter-conditions": [{"filter-operator": "gte", "value": "1"}],
                }
            ],
        ),
        ts(30, "order_items", **{"parallel-load": pl}),
    ]
    table = resolve(mapping(*rules), catalog).tables[0]
    nn = "`order_id` IS NOT NULL AND `line_no` IS NOT NULL"
    assert segs(table) == [
        (
            "SEGMENT1",
            None,
            "SEGMENT1_",
            f"`qty` >= %s AND {nn} AND (`order_id` < %s OR (`order_id` = %s AND `line_no` < %s))",
            ("1", "10", "10", "5"),
            None,
        ),
        (
            "SEGMENT2",
            None,
            "SEGMENT2_",
            f"`qty` >= %s AND {nn} AND (`order_id` > %s OR (`order_id` = %s AND `line_no` >= %s))",
            ("1", "10", "10", "5"),
            None,
        ),
        (
            "SEGMENT3",
            None,
            "SEGMENT3_",
            "`qty` >= %s AND (`order_id` IS NULL OR `line_no` IS NULL)",
            ("1",),
            None,
        ),
    ]


def test_partitions_auto_and_list(catalog) -> None:
    auto = resolve(
        mapping(sel(1, table="orders"), ts(30, "orders", **{"parallel-load": {"type": "partitions-auto"}})),
        catalog,
    ).tables[0]
    assert segs(auto) == [("p2023", "p2023", "", "", (), "p2023"), ("p2024", "p2024", "", "", (), "p2024")]
    listed = resolve(
        mapping(
            sel(1, table="orders"),
            ts(30, "orders", **{"parallel-load": {"type": "partitions-list", "partitions": ["p2024"]}}),
        ),
        catalog,
    ).tables[0]
    assert [s.partition for s in listed.segments] == ["p2024"]


def test_partitions_auto_on_an_unpartitioned_table_warns(catalog) -> None:
    plan = resolve(
        mapping(
            sel(1, table="customers"), ts(30, "customers", **{"parallel-load": {"type": "partitions-auto"}})
        ),
        catalog,
    )
    assert plan.tables[0].segments == ()
    assert plan.warnings == (
        "shop.customers: parallel-load partitions-auto, but the table has no partitions",
    )


def test_parallel_load_none_and_lob_settings(catalog) -> None:
    table = resolve(
        mapping(
            sel(1, table="type_zoo"),
            ts(
                30,
                "type_zoo",
                **{
                    "parallel-load": {"type": "none"},
                    "lob-settings": {"mode": "limited", "bulk-max-size": "64"},
                },
            ),
        ),
        catalog,
    ).tables[0]
    assert table.segments == ()
    assert (table.lob.table_settings.mode, table.lob.table_settings.bulk_max_size_kb) == ("limited", 64)


def tag_rule(rule_id: int, schema: str, table: str, tags: list[tuple[str, str]]) -> dict:
    return {
        "rule-type": "post-processing",
        "rule-id": rule_id,
        "rule-name": f"pp{rule_id}",
        "rule-action": "add-tag",
        "object-locator": {"schema-name": schema, "table-name": table},
        "tag-set": [{"key": k, "value": v} for k, v in tags],
    }


def test_tags_best_match_and_substitution(catalog) -> None:
    rules = [
        sel(1),
        tag_rule(
            41,
            "%",
            "%",
            [("dw-schema-name", "${schema-name}"), ("dw-schema-table", "my_prefix_${table-name}")],
        ),
        tag_rule(42, "shop", "orders", [("exact", "yes")]),
        tag_rule(43, "%", "%", [("loses", "to 41, the first of equals")]),
    ]
    plan = resolve(mapping(*rules), catalog)
    assert plan.table("shop", "orders").tags == (("exact", "yes"),)
    assert plan.table("shop", "customers").tags == (
        ("dw-schema-name", "shop"),
        ("dw-schema-table", "my_prefix_customers"),
    )
