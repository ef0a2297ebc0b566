"""A hand-built catalog shaped like the sandbox's shop schema, and helpers to build mappings."""

from __future__ import annotations

from typing import Any

from dersonlake.dms_types import DmsType
from dersonlake.mapping import Mapping, parse_mapping
from dersonlake.sources.catalog import Catalog, Column, Table

FILE = "owners/acme/mapping.json"


def col(
    name: str,
    ordinal: int,
    dms: str,
    *,
    nullable: bool = True,
    length: int | None = None,
    precision: int | None = None,
    scale: int | None = None,
    data_type: str = "x",
) -> Column:
    return Column(
        name,
        ordinal,
        data_type,
        data_type,
        nullable,
        DmsType(dms, length, precision, scale),
        length=length,
        precision=precision,
        scale=scale,
    )


def shop_catalog() -> Catalog:
    customers = Table(
        "shop",
        "customers",
        (
            col("id", 1, "int4", nullable=False),
            col("first_name", 2, "wstring", length=50),
            col("last_name", 3, "wstring", length=50),
            col("email", 4, "wstring", length=100),
            col("passport", 5, "wstring", length=20),
            col("created_at", 6, "datetime"),
            col("notes", 7, "nclob"),
        ),
        primary_key=("id",),
    )
    orders = Table(
        "shop",
        "orders",
        (
            col("id", 1, "int8", nullable=False),
            col("customer_id", 2, "int4", nullable=False),
            col("status", 3, "wstring", length=20),
            col("amount", 4, "numeric", precision=12, scale=2),
            col("created_at", 5, "datetime"),
            col("order_date", 6, "date"),
        ),
        primary_key=("id",),
        partitions=("p2023", "p2024"),
    )
    items = Table(
        "shop",
        "order_items",
        (
            col("order_id", 1, "int8", nullable=False),
            col("line_no", 2, "int4", nullable=False),
            col("sku", 3, "wstring", length=30),
            col("qty", 4, "int4"),
            col("price", 5, "numeric", precision=10, scale=2),
        ),
        primary_key=("order_id", "line_no"),
    )
    zoo = Table(
        "shop",
        "type_zoo",
        (
            col("id", 1, "int4", nullable=False),
            col("tiny", 2, "int1"),
            col("big_u", 3, "uint8"),
            col("ratio", 4, "real8"),
            col("dec", 5, "numeric", precision=20, scale=5),
            col("at", 6, "datetime"),
            col("day", 7, "date"),
            col("tm", 8, "string", length=8),
            col("flag", 9, "boolean"),
            col("bin", 10, "bytes", length=16),
            col("doc", 11, "clob"),
            col("big_blob", 12, "blob"),
            col("odd-name", 13, "wstring", length=10),
        ),
        primary_key=("id",),
    )
    events = Table(
        "shop",
        "events_log",
        (
            col("ts", 1, "datetime"),
            col("kind", 2, "wstring", length=20),
            col("ref", 3, "wstring", length=40),
            col("payload", 4, "clob"),
        ),
        unique_keys={"uq_ref": ("ref",)},
    )
    view = Table(
        "shop",
        "v_paid_orders",
        (
            col("id", 1, "int8"),
            col("customer_id", 2, "int4"),
            col("amount", 3, "numeric", precision=12, scale=2),
        ),
        kind="view",
    )
    tmp = Table("shop", "tmp_import", (col("id", 1, "int4"),))
    tmpdata = Table("shop", "tmpdata", (col("id", 1, "int4"),))
    contacts = Table(
        "crm",
        "contacts",
        (col("id", 1, "int4", nullable=False), col("name", 2, "wstring")),
        primary_key=("id",),
    )
    return Catalog((customers, orders, items, zoo, events, view, tmp, tmpdata, contacts))


def sel(
    rule_id: int | str, schema: str = "shop", table: str = "%", action: str = "include", **extra: Any
) -> dict:
    rule = {
        "rule-type": "selection",
        "rule-id": str(rule_id),
        "rule-name": f"s{rule_id}",
        "object-locator": {"schema-name": schema, "table-name": table},
        "rule-action": action,
    }
    rule.update(extra)
    return rule


def tr(rule_id: int, target: str, action: str, locator: dict, **extra: Any) -> dict:
    rule = {
        "rule-type": "transformation",
        "rule-id": str(rule_id),
        "rule-name": f"t{rule_id}",
        "rule-target": target,
        "object-locator": locator,
        "rule-action": action,
    }
    rule.update({k.replace("_", "-"): v for k, v in extra.items()})
    return rule


def mapping(*rules: dict) -> Mapping:
    return parse_mapping({"rules": list(rules)}, file=FILE)
