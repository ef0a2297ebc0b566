"""Bad mappings: each raises one BadInput naming the file, the JSON path, the value and what is allowed."""

from __future__ import annotations

import json

import pytest
from mapping_helpers import FILE, mapping, sel, tr

from dersonlake.errors import BadInput
from dersonlake.mapping import load_mapping, parse_mapping, parse_task_settings, resolve

ORDERS = {"schema-name": "shop", "table-name": "orders"}


def with_(rule: dict, **changes) -> dict:
    out = json.loads(json.dumps(rule))
    for key, value in changes.items():
        out[key.replace("_", "-")] = value
    return out


def flt(column: str, *conds: dict) -> dict:
    return {"filter-type": "source", "column-name": column, "filter-conditions": list(conds)}


EQ = {"filter-operator": "eq", "value": "1"}

# (id, rules, the exact message)
SHAPE_CASES = [
    (
        "unknown rule key",
        [with_(sel(1), rule_acton="include")],
        f"{FILE}: rules[0].rule-acton: unknown key (got 'rule-acton'); did you mean 'rule-action'?; "
        "allowed: rule-type, "
        "rule-id, rule-name, rule-action, object-locator, load-order, filters",
    ),
    (
        "wrong rule-type",
        [with_(sel(1), rule_type="selections")],
        f"{FILE}: rules[0].rule-type: is not a valid rule-type (got 'selections'); did you mean "
        "'selection'?; allowed: "
        "selection, transformation, table-settings, post-processing",
    ),
    (
        "wrong selection action",
        [sel(1, action="Include")],
        f"{FILE}: rules[0].rule-action: is not a valid rule-action (got 'Include'); did you mean "
        "'include'?; allowed: "
        "include, exclude, explicit",
    ),
    (
        "wrong type of rule-id",
        [with_(sel(1), rule_id=True)],
        f"{FILE}: rules[0].rule-id: must be an integer (a number or a string of digits) (got True)",
    ),
    (
        "missing required key",
        [{k: v for k, v in sel(1).items() if k != "rule-name"}],
        f"{FILE}: rules[0]: missing required key 'rule-name'; allowed: rule-type, rule-id, rule-name, "
        "rule-action, "
        "object-locator, load-order, filters",
    ),
    (
        "duplicate rule-id",
        [sel(1), with_(sel(2, table="orders"), rule_id=1)],
        f"{FILE}: rules[1].rule-id: duplicate rule-id (also used by rules[0]) (got 1)",
    ),
    (
        "no selection rule",
        [tr(1, "schema", "rename", {"schema-name": "shop"}, value="x")],
        f"{FILE}: rules: a table mapping needs at least one selection rule. "
        'add {"rule-type": "selection", "rule-action": "include", ...}',
    ),
    (
        "explicit with wildcard",
        [sel(1, table="ord%", action="explicit")],
        f"{FILE}: rules[0].object-locator.table-name: an explicit rule selects exactly one table: no "
        "wildcards "
        "(got 'ord%'). use rule-action include to select by pattern",
    ),
    (
        "filters with wildcard table",
        [sel(1, table="%", filters=[flt("id", EQ)])],
        f"{FILE}: rules[0].object-locator.table-name: a rule with filters needs an exact schema and table "
        "name (got '%'). "
        "add a separate include rule naming the table exactly and put the filters there",
    ),
    (
        "filters on exclude",
        [sel(1), sel(2, table="orders", action="exclude", filters=[flt("id", EQ)])],
        f"{FILE}: rules[1].filters: filters apply only to rule-action include, not 'exclude'. "
        "move the filters to an include rule that names the table exactly",
    ),
    (
        "wrong filter operator",
        [
            sel(
                1,
                table="orders",
                filters=[flt("id", EQ, {"filter-operator": "btween", "start-value": 1, "end-value": 2})],
            )
        ],
        f"{FILE}: rules[0].filters[0].filter-conditions[1].filter-operator: is not a valid filter-operator "
        "(got 'btween'); "
        "did you mean 'between'?; allowed: eq, noteq, lte, ste, gte, between, notbetween, null, notnull",
    ),
    (
        "two negatives in one filter",
        [
            sel(
                1,
                table="orders",
                filters=[
                    flt("status", {"filter-operator": "noteq", "value": "A"}, {"filter-operator": "notnull"})
                ],
            )
        ],
        f"{FILE}: rules[0].filters[0].filter-conditions[1].filter-operator: a filter may hold at most one "
        "negative condition "
        "(noteq, notbetween, notnull) (got 'notnull'). conditions inside one filter are ORed; put each "
        "negative condition "
        "in its own filter to AND them",
    ),
    (
        "value missing",
        [sel(1, table="orders", filters=[flt("id", {"filter-operator": "gte"})])],
        f"{FILE}: rules[0].filters[0].filter-conditions[0]: operator 'gte' needs 'value'; allowed: value",
    ),
    (
        "value on null",
        [sel(1, table="orders", filters=[flt("id", {"filter-operator": "null", "value": "x"})])],
        f"{FILE}: rules[0].filters[0].filter-conditions[0].value: operator 'null' takes no 'value' (got "
        "'x'). "
        "null and notnull take no value",
    ),
    (
        "wildcard in filter column",
        [sel(1, table="orders", filters=[flt("i%", EQ)])],
        f"{FILE}: rules[0].filters[0].column-name: a filter needs an exact column name (got 'i%'). "
        "wildcards are not allowed in filters",
    ),
    (
        "wrong transformation action",
        [sel(1), tr(2, "column", "exclude-column", {**ORDERS, "column-name": "id"})],
        f"{FILE}: rules[1].rule-action: DMS has no exclude-column (got 'exclude-column'). use rule-action "
        "remove-column",
    ),
    (
        "action for the wrong target",
        [sel(1), tr(2, "schema", "remove-column", {"schema-name": "shop"})],
        f"{FILE}: rules[1].rule-target: rule-action 'remove-column' does not apply to rule-target 'schema' "
        "(got 'schema'); "
        "allowed: column",
    ),
    (
        "rename without value",
        [sel(1), tr(2, "table", "rename", ORDERS)],
        f"{FILE}: rules[1]: rule-action 'rename' needs 'value'",
    ),
    (
        "wrong data type",
        [
            sel(1),
            tr(2, "column", "change-data-type", {**ORDERS, "column-name": "id"}, data_type={"type": "strng"}),
        ],
        f"{FILE}: rules[1].data-type.type: is not a DMS data type (got 'strng'); did you mean 'string'?; "
        "allowed: bytes, "
        "date, time, datetime, int1, int2, int4, int8, numeric, real4, real8, string, uint1, uint2, uint4, "
        "uint8, wstring, "
        "blob, nclob, clob, boolean, set, list, map, tuple",
    ),
    (
        "define-primary-key with wildcard",
        [
            sel(1),
            tr(
                2,
                "table",
                "define-primary-key",
                {"schema-name": "shop", "table-name": "%"},
                primary_key_def={"name": "pk", "columns": ["id"]},
            ),
        ],
        f"{FILE}: rules[1].object-locator: define-primary-key needs an exact schema and table name (got "
        "'shop.%'). "
        "wildcards are not allowed with define-primary-key",
    ),
    (
        "table-settings with wildcard",
        [
            sel(1),
            {
                "rule-type": "table-settings",
                "rule-id": 3,
                "rule-name": "ts",
                "object-locator": {"schema-name": "shop", "table-name": "ord%"},
                "parallel-load": {"type": "none"},
            },
        ],
        f"{FILE}: rules[1].object-locator.table-name: Exact schema and table name required when using table "
        "settings rule "
        "(got 'ord%')",
    ),
    (
        "wrong parallel-load type",
        [
            sel(1),
            {
                "rule-type": "table-settings",
                "rule-id": 3,
                "rule-name": "ts",
                "object-locator": ORDERS,
                "parallel-load": {"type": "range"},
            },
        ],
        f"{FILE}: rules[1].parallel-load.type: is not a valid type (got 'range'); did you mean 'ranges'?; "
        "allowed: "
        "partitions-auto, partitions-list, ranges, none",
    ),
    (
        "segment-names count",
        [
            sel(1),
            {
                "rule-type": "table-settings",
                "rule-id": 3,
                "rule-name": "ts",
                "object-locator": ORDERS,
                "parallel-load": {
                    "type": "ranges",
                    "columns": ["id"],
                    "boundaries": [["5"]],
                    "segment-names": ["a"],
                },
            },
        ],
        f"{FILE}: rules[1].parallel-load.segment-names: 1 boundaries make 2 segments, so segment-names "
        "needs 2 names "
        "(got ['a'])",
    ),
    (
        "bad expression",
        [
            sel(1),
            tr(
                2,
                "column",
                "add-column",
                ORDERS,
                value="x",
                expression="first_name || 'a'",
                data_type={"type": "string"},
            ),
        ],
        f"{FILE}: rules[1].expression: is not a valid SQLite expression: no such column: first_name "
        "(got \"first_name || 'a'\"). refer to source columns as $name",
    ),
    (
        "unknown header",
        [
            sel(1),
            tr(
                2,
                "column",
                "add-column",
                ORDERS,
                value="x",
                expression="$AR_H_OPERATON",
                data_type={"type": "string"},
            ),
        ],
        f"{FILE}: rules[1].expression: unknown header column (got '$AR_H_OPERATON'); did you mean "
        "'AR_H_OPERATION'?; "
        "allowed: AR_H_STREAM_POSITION, AR_H_TIMESTAMP, AR_H_COMMIT_TIMESTAMP, AR_H_OPERATION, AR_H_USER, "
        "AR_H_CHANGE_SEQ",
    ),
    (
        "statement in expression",
        [
            sel(1),
            tr(
                2,
                "column",
                "add-column",
                ORDERS,
                value="x",
                expression="1; DROP TABLE t",
                data_type={"type": "string"},
            ),
        ],
        f"{FILE}: rules[1].expression: an expression must not contain ';' (only expressions, no statements) "
        "(got '1; DROP TABLE t')",
    ),
    (
        "unclosed bracket",
        [sel(1, table="tmp[_%")],
        f"{FILE}: rules[0].object-locator.table-name: unclosed '[' in a name pattern (got 'tmp[_%'). write "
        "[_] for a literal _",
    ),
    (
        "tag set too big",
        [
            sel(1),
            {
                "rule-type": "post-processing",
                "rule-id": 9,
                "rule-name": "p",
                "rule-action": "add-tag",
                "object-locator": {"schema-name": "%", "table-name": "%"},
                "tag-set": [{"key": f"k{i}", "value": "v"} for i in range(11)],
            },
        ],
        f"{FILE}: rules[1].tag-set: S3 allows at most 10 tags per object (got 11)",
    ),
    (
        "object-mapping",
        [sel(1), {"rule-type": "object-mapping", "rule-id": 2, "rule-name": "om"}],
        f"{FILE}: rules[1].rule-type: object-mapping rules are for DynamoDB, Kinesis and Kafka targets only "
        "(got 'object-mapping'); allowed: selection, transformation, table-settings, post-processing",
    ),
]


@pytest.mark.parametrize(("rules", "message"), [c[1:] for c in SHAPE_CASES], ids=[c[0] for c in SHAPE_CASES])
def test_document_errors_need_no_catalog(rules, message) -> None:
    with pytest.raises(BadInput) as err:
        mapping(*rules)
    assert str(err.value) == message
    assert err.value.file == FILE


CATALOG_CASES = [
    (
        "filter on a missing column",
        [sel(1, table="orders", filters=[flt("stauts", EQ)])],
        f"{FILE}: rules[0].filters[0].column-name: shop.orders has no such column (got 'stauts'); did you "
        "mean 'status'?; "
        "allowed: id, customer_id, status, amount, created_at, order_date",
    ),
    (
        "filter on a LOB",
        [sel(1, table="customers", filters=[flt("notes", EQ)])],
        f"{FILE}: rules[0].filters[0].column-name: filters must not be applied to LOB columns (notes is "
        "NCLOB) (got 'notes')",
    ),
    (
        "two tables to one target",
        [sel(1), tr(2, "table", "rename", {"schema-name": "shop", "table-name": "tmp%"}, value="tmp")],
        f"{FILE}: rules[1]: two source tables, shop.tmp_import and shop.tmpdata, would both be written to "
        "shop.tmp (got "
        "'shop.tmp'). DMS cannot map two source tables to one target table; change the renaming rules",
    ),
    (
        "a rule matching nothing",
        [sel(1, table="orders"), sel(2, table="ordres", action="explicit")],
        f"{FILE}: rules[1].object-locator: selection rule 's2' matches no table in the source (got "
        "'shop.ordres'); "
        "did you mean 'shop.orders'?; allowed: shop.customers, shop.orders, shop.order_items, shop.type_zoo, "
        "shop.events_log, shop.tmp_import, shop.tmpdata, crm.contacts. "
        "or set ErrorBehavior.FailOnNoTablesCaptured false",
    ),
    (
        "define-primary-key on a missing column",
        [
            sel(1),
            tr(
                2,
                "table",
                "define-primary-key",
                {"schema-name": "shop", "table-name": "events_log"},
                primary_key_def={"name": "pk", "columns": ["tss"]},
            ),
        ],
        f"{FILE}: rules[1].primary-key-def.columns[0]: shop.events_log has no such column (got 'tss'); did "
        "you mean 'ts'?; "
        "allowed: ts, kind, ref, payload",
    ),
    (
        "add-column over an existing column",
        [sel(1), tr(2, "column", "add-column", ORDERS, value="status", data_type={"type": "string"})],
        f"{FILE}: rules[1].value: add-column: table shop.orders already has a column with this name (got "
        "'status')",
    ),
    (
        "expression on a missing column",
        [
            sel(1),
            tr(
                2,
                "column",
                "add-column",
                ORDERS,
                value="x",
                expression="$amout * 2",
                data_type={"type": "real8"},
            ),
        ],
        f"{FILE}: rules[1].expression: the expression refers to a column that shop.orders does not have "
        "(got '$amout'); "
        "did you mean 'amount'?; allowed: id, customer_id, status, amount, created_at, order_date",
    ),
    (
        "range on a float column",
        [
            sel(1),
            {
                "rule-type": "table-settings",
                "rule-id": 3,
                "rule-name": "ts",
                "object-locator": {"schema-name": "shop", "table-name": "type_zoo"},
                "parallel-load": {"type": "ranges", "columns": ["ratio"], "boundaries": [["1"]]},
            },
        ],
        f"{FILE}: rules[1].parallel-load.columns[0]: column 'ratio' is REAL8; ranges may not use DOUBLE, "
        "FLOAT or LOB "
        "columns (got 'ratio')",
    ),
    (
        "missing partition",
        [
            sel(1),
            {
                "rule-type": "table-settings",
                "rule-id": 3,
                "rule-name": "ts",
                "object-locator": ORDERS,
                "parallel-load": {"type": "partitions-list", "partitions": ["p2025"]},
            },
        ],
        f"{FILE}: rules[1].parallel-load.partitions[0]: shop.orders has no such partition (got 'p2025'); "
        "did you mean 'p2024'?; allowed: p2023, p2024",
    ),
    (
        "renaming a LOB",
        [
            sel(1),
            tr(
                2,
                "column",
                "rename",
                {"schema-name": "shop", "table-name": "customers", "column-name": "notes"},
                value="n",
            ),
        ],
        f"{FILE}: rules[1].rule-action: column 'notes' is a LOB (NCLOB); LOB columns can only be removed or "
        "included "
        "(got 'rename'); allowed: remove-column, include-column",
    ),
    (
        "two columns with one name",
        [sel(1), tr(2, "column", "rename", {**ORDERS, "column-name": "amount"}, value="status")],
        f"{FILE}: rules[1]: columns 'status' and 'amount' of shop.orders would both be named 'status' (got "
        "'status')",
    ),
]


@pytest.mark.parametrize(
    ("rules", "message"), [c[1:] for c in CATALOG_CASES], ids=[c[0] for c in CATALOG_CASES]
)
def test_catalog_errors_surface_in_resolve(catalog, rules, message) -> None:
    parsed = mapping(*rules)  # the shape is fine
    with pytest.raises(BadInput) as err:
        resolve(parsed, catalog)
    assert str(err.value) == message


def test_nothing_selected_at_all(catalog) -> None:
    rule = sel(1, schema="sales")
    settings = parse_task_settings({"ErrorBehavior": {"FailOnNoTablesCaptured": False}})
    assert resolve(mapping(rule), catalog, settings).tables == ()
    with pytest.raises(BadInput, match=r"rules\[0\].object-locator: selection rule 's1' matches no table"):
        resolve(mapping(rule), catalog)


def test_file_errors(tmp_path) -> None:
    path = tmp_path / "mapping.json"
    path.write_text('{"rules": [', encoding="utf-8")
    with pytest.raises(BadInput) as err:
        load_mapping(path)
    assert str(err.value) == f"{path}: is not valid JSON: Expecting value at line 1 column 12"
    with pytest.raises(BadInput, match="cannot read the table-mapping file"):
        load_mapping(tmp_path / "nope.json")


def test_top_level_must_hold_rules() -> None:
    with pytest.raises(BadInput) as err:
        parse_mapping({"rule": []}, file="m.json")
    assert str(err.value) == "m.json: rule: unknown key (got 'rule'); did you mean 'rules'?; allowed: rules"
