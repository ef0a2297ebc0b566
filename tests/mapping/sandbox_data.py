"""What the session sandbox's ``shop`` tables hold, rebuilt in Python from ``dersonlake.sandbox.seed``.

The seed writes its generated tables with SQL formulas; these functions restate those formulas (and
reuse ``expected_order`` and ``TYPE_ZOO_ROWS``) so a test can count the rows a filter should select
without asking the database. Each row is a dict keyed by source column name.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from dersonlake.sandbox.seed import (
    CUSTOMER_ROWS,
    CUSTOMER_STATUSES,
    EVENTS_LOG_ROWS,
    FIRST_NAMES,
    LAST_NAMES,
    PAGE_VIEW_ROWS,
    TYPE_ZOO_ROWS,
    expected_order,
    type_zoo_row,
)

Row = dict[str, Any]


def customers() -> list[Row]:
    tags = ("", "vip", "newsletter,wholesale", "vip,newsletter")
    return [
        {
            "id": i,
            "first_name": FIRST_NAMES[i % len(FIRST_NAMES)],
            "last_name": LAST_NAMES[i % len(LAST_NAMES)],
            "email": f"customer{i}@example.com",
            "passport": None if i % 10 == 0 else "P" + f"{i * 7919 % 100_000_000:08d}",
            "status": CUSTOMER_STATUSES[i % 3],
            "tags": None if i % 7 == 0 else tags[i % 4],
            "created_at": datetime(2023, 1, 1, 8) + timedelta(days=i, microseconds=i * 1001),
            "updated_at": None if i % 3 == 0 else datetime(2024, 6, 1) + timedelta(hours=i),
        }
        for i in range(1, CUSTOMER_ROWS + 1)
    ]


def orders(n: int) -> list[Row]:
    return [vars(expected_order(i)) for i in range(1, n + 1)]


def order_items(n: int) -> list[Row]:
    return [
        {
            "order_id": o,
            "line_no": line,
            "sku": f"SKU-{(o * 31 + line) % 997:04d}",
            "qty": 1 + (o + line) % 5,
            "price": Decimal((o * 17 + line * 101) % 50_000) / 100,
        }
        for o in range(1, n + 1)
        for line in range(1, 2 + o % 3)
    ]


def events_log() -> list[Row]:
    return [
        {
            "logged_at": datetime(2024, 3, 1) + timedelta(seconds=i // 2),
            "level": ("INFO", "WARN", "ERROR")[i % 3],
            "message": None if i % 9 == 0 else f"event {i // 2}",
        }
        for i in range(1, EVENTS_LOG_ROWS + 1)
    ]


def page_views() -> list[Row]:
    return [
        {"id": i, "viewed_on": date(2024, 1, 1) + timedelta(days=i % 60), "path": f"/products/{i % 17}"}
        for i in range(1, PAGE_VIEW_ROWS + 1)
    ]


def type_zoo() -> list[Row]:
    """As inserted: temporal values are the strings MySQL was given (zero dates included)."""
    return [type_zoo_row(r["id"]) for r in TYPE_ZOO_ROWS]


def v_paid_orders(n: int) -> list[Row]:
    return [
        {k: o[k] for k in ("id", "customer_id", "amount", "created_at")}
        for o in orders(n)
        if o["status"] == "paid"
    ]


def rows(table: str, n: int) -> list[Row]:
    """The expected rows of ``shop.<table>`` after ``seed(rows=n)``."""
    makers = {
        "customers": customers,
        "orders": lambda: orders(n),
        "order_items": lambda: order_items(n),
        "events_log": events_log,
        "page_views": page_views,
        "type_zoo": type_zoo,
        "v_paid_orders": lambda: v_paid_orders(n),
    }
    return makers[table]()
