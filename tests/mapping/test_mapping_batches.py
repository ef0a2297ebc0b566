"""transform_batch: projection, renames, casts, masking, LOB truncation and add-column expressions."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from decimal import Decimal

import pyarrow as pa
import pytest
from mapping_helpers import mapping, sel, tr

from dersonlake.mapping import full_load_headers, resolve, transform_batch
from dersonlake.mapping.expressions import replace_chars

CUSTOMERS = {"schema-name": "shop", "table-name": "customers"}


def customers_batch() -> pa.RecordBatch:
    return pa.RecordBatch.from_pydict(
        {
            "id": pa.array([1, 2, 3], pa.int32()),
            "first_name": pa.array(["Ana", "Bo", None], pa.string()),
            "last_name": pa.array(["Lima", "Ek", "Zed"], pa.string()),
            "email": pa.array(["a@x", "b@x", "c@x"], pa.string()),
            "passport": pa.array(["C6BGJ566669K", None, "77"], pa.string()),
            "created_at": pa.array(
                [dt.datetime(2024, 1, 2, 3, 4, 5), None, dt.datetime(2023, 5, 6)], pa.timestamp("us")
            ),
            "notes": pa.array(["n1", "n2", "n3"], pa.string()),
        }
    )


def plan_for(catalog, *rules, table="customers"):
    return resolve(mapping(sel(1, table=table), *rules), catalog).tables[0]


def add(rule_id: int, name: str, expression: str, dtype: dict, table: dict = CUSTOMERS) -> dict:
    return tr(rule_id, "column", "add-column", table, value=name, expression=expression, data_type=dtype)


def test_projection_rename_and_removal(catalog) -> None:
    table = plan_for(
        catalog,
        tr(10, "column", "rename", {**CUSTOMERS, "column-name": "email"}, value="mail"),
        tr(11, "column", "remove-column", {**CUSTOMERS, "column-name": "notes"}),
    )
    out = transform_batch(table, customers_batch())
    assert out.schema.names == ["id", "first_name", "last_name", "mail", "passport", "created_at"]
    assert out.column("mail").to_pylist() == ["a@x", "b@x", "c@x"]


def test_change_data_type_casts(catalog) -> None:
    table = plan_for(
        catalog,
        tr(
            10, "column", "change-data-type", {**CUSTOMERS, "column-name": "id"}, data_type={"type": "string"}
        ),
    )
    out = transform_batch(table, customers_batch())
    assert out.schema.field("id").type == pa.string()
    assert out.column("id").to_pylist() == ["1", "2", "3"]


def test_digits_mask(catalog) -> None:
    table = plan_for(
        catalog,
        tr(20, "column", "data-masking-digits-mask", {**CUSTOMERS, "column-name": "passport"}, value="#"),
    )
    assert transform_batch(table, customers_batch()).column("passport").to_pylist() == [
        "C#BGJ######K",
        None,
        "##",
    ]


def test_digits_randomize_keeps_non_digits(catalog) -> None:
    table = plan_for(
        catalog, tr(20, "column", "data-masking-digits-randomize", {**CUSTOMERS, "column-name": "passport"})
    )
    got = transform_batch(table, customers_batch(), rng=random.Random(7)).column("passport").to_pylist()
    assert got[1] is None
    assert [c for c in got[0] if not c.isdigit()] == list("CBGJK") and len(got[0]) == 12


def test_hash_mask_is_unsalted_sha256(catalog) -> None:
    table = plan_for(
        catalog, tr(20, "column", "data-masking-hash-mask", {**CUSTOMERS, "column-name": "passport"})
    )
    got = transform_batch(table, customers_batch()).column("passport").to_pylist()
    assert got == [hashlib.sha256(b"C6BGJ566669K").hexdigest(), None, hashlib.sha256(b"77").hexdigest()]


def test_digits_mask_on_a_number(catalog) -> None:
    table = plan_for(
        catalog, tr(20, "column", "data-masking-digits-mask", {**CUSTOMERS, "column-name": "id"}, value="*")
    )
    assert transform_batch(table, customers_batch()).column("id").to_pylist() == ["*", "*", "*"]


STRING = {"type": "string", "length": 100}


@pytest.mark.parametrize(
    ("expression", "dtype", "expected"),
    [
        (
            "$first_name||' '||$last_name",
            STRING,
            ["Ana Lima", "Bo Ek", None],
        ),  # vectorised; NULL || x is NULL
        ("upper($last_name)", STRING, ["LIMA", "EK", "ZED"]),
        ("coalesce($first_name, '?')", STRING, ["Ana", "Bo", "?"]),
        ("$id * 10", {"type": "int8"}, [10, 20, 30]),
        ("CASE WHEN $id > 1 THEN 'big' ELSE 'small' END", STRING, ["small", "big", "big"]),
        ("replaceChars($last_name, 'LiEk', '12')", STRING, ["12ma", "12", "Zed"]),
        (
            "hash_sha256($email)",
            STRING,
            [hashlib.sha256(x.encode()).hexdigest() for x in ("a@x", "b@x", "c@x")],
        ),
        ("date($created_at)", {"type": "date"}, [dt.date(2024, 1, 2), None, dt.date(2023, 5, 6)]),
        ("$created_at > '2024-01-01'", {"type": "boolean"}, [True, None, False]),
        ("$AR_H_OPERATION", STRING, ["INSERT"] * 3),
        ("operation_indicator('D', 'U', 'I')", {"type": "string", "length": 1}, ["I"] * 3),
        ("$AR_M_SOURCE_SCHEMA||'.'||$AR_M_SOURCE_TABLE_NAME", STRING, ["shop.customers"] * 3),
        ("$AR_H_STREAM_POSITION", STRING, ["", "", ""]),
        ("round($id / 3.0, 2)", {"type": "real8"}, [0.33, 0.67, 1.0]),
    ],
)
def test_add_column_expressions(catalog, expression, dtype, expected) -> None:
    table = plan_for(catalog, add(30, "extra", expression, dtype))
    out = transform_batch(table, customers_batch(), headers=full_load_headers(dt.datetime(2024, 1, 1)))
    assert out.schema.names[-1] == "extra"
    assert out.column("extra").to_pylist() == expected


def test_cdc_headers_per_row(catalog) -> None:
    table = plan_for(
        catalog,
        add(30, "flag", "operation_indicator('D', 'U', 'I')", {"type": "string"}),
        add(31, "op", "$AR_H_OPERATION", {"type": "string"}),
    )
    headers = {**full_load_headers(), "AR_H_OPERATION": ["INSERT", "UPDATE", "DELETE"]}
    out = transform_batch(table, customers_batch(), headers=headers)
    assert out.column("flag").to_pylist() == ["I", "U", "D"]
    assert out.column("op").to_pylist() == ["INSERT", "UPDATE", "DELETE"]


def test_expression_on_decimals_uses_numeric_affinity(catalog) -> None:
    table = plan_for(
        catalog,
        add(30, "big", "$amount >= 10", {"type": "boolean"}, {"schema-name": "shop", "table-name": "orders"}),
        table="orders",
    )
    batch = pa.RecordBatch.from_pydict(
        {
            "id": pa.array([1, 2], pa.int64()),
            "customer_id": pa.array([1, 1], pa.int32()),
            "status": pa.array(["PAID", "NEW"]),
            "amount": pa.array([Decimal("9.99"), Decimal("10.00")], pa.decimal128(12, 2)),
            "created_at": pa.array([None, None], pa.timestamp("us")),
            "order_date": pa.array([None, None], pa.date32()),
        }
    )
    assert transform_batch(table, batch).column("big").to_pylist() == [False, True]


def test_add_column_without_expression_is_null(catalog) -> None:
    table = plan_for(
        catalog, tr(30, "column", "add-column", CUSTOMERS, value="empty", data_type={"type": "int4"})
    )
    assert transform_batch(table, customers_batch()).column("empty").to_pylist() == [None, None, None]


def test_limited_lob_mode_truncates_at_lob_max_size(catalog) -> None:
    from dersonlake.mapping import parse_task_settings

    settings = parse_task_settings({"TargetMetadata": {"LobMaxSize": 1}})
    table = resolve(mapping(sel(1, table="customers")), catalog, settings).tables[0]
    batch = customers_batch().set_column(6, "notes", pa.array(["é" * 600, "short", None]))
    notes = transform_batch(table, batch).column("notes").to_pylist()
    assert (len(notes[0].encode()), notes[1], notes[2]) == (1024, "short", None)


def test_replace_chars_cycles_through_the_replacements() -> None:
    assert replace_chars("abcde", "abcd", "123") == "1231e"
