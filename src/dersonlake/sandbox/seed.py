"""The sample owner's schema ``shop``: deterministic data covering every MySQL type family.

Everything a test needs to know about the seeded data is defined here once: the DDL, the
``type_zoo`` rows as Python values, and formulas that say what the generated tables hold
(``expected_order(i)``), so readers and lake tests compare against these instead of re-deriving
them. Re-running ``seed()`` drops and recreates the schema, so it is idempotent.

Bulk rows come from MariaDB's Sequence engine (``seq_1_to_N``), which makes 20 000 orders in well
under a second without a client-side loop. Seeding is written to the binlog like any other change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pymysql

SCHEMA = "shop"
DEFAULT_ORDER_ROWS = 20_000
CUSTOMER_ROWS = 100
EVENTS_LOG_ROWS = 40
PAGE_VIEW_ROWS = 200

ORDER_STATUSES = ("new", "paid", "shipped", "cancelled")
CUSTOMER_STATUSES = ("active", "inactive", "banned")
CUSTOMER_TAGS = ("vip", "newsletter", "wholesale")
FIRST_NAMES = ("Ana", "João", "Zoë", "Łukasz", "Søren", "Mårten", "Chloé", "Renée", "Ωmega 😀", "李雷")
LAST_NAMES = ("Silva", "Müller", "O'Brien", "Nguyễn", "Дмитриев", "Smith 🚀", "García", "Østergaard")
ORDERS_START = datetime(2024, 1, 1)

# Column definitions of shop.type_zoo, one per type family: (name, MySQL definition).
TYPE_ZOO_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "INT NOT NULL PRIMARY KEY"),
    ("c_tinyint", "TINYINT NULL"),
    ("c_tinyint_u", "TINYINT UNSIGNED NULL"),
    ("c_smallint", "SMALLINT NULL"),
    ("c_smallint_u", "SMALLINT UNSIGNED NULL"),
    ("c_mediumint", "MEDIUMINT NULL"),
    ("c_mediumint_u", "MEDIUMINT UNSIGNED NULL"),
    ("c_int", "INT NULL"),
    ("c_int_u", "INT UNSIGNED NULL"),
    ("c_bigint", "BIGINT NULL"),
    ("c_bigint_u", "BIGINT UNSIGNED NULL"),
    ("c_decimal", "DECIMAL(12,2) NULL"),
    ("c_decimal_wide", "DECIMAL(38,10) NULL"),
    ("c_decimal_int", "DECIMAL(10,0) NULL"),
    ("c_float", "FLOAT NULL"),
    ("c_double", "DOUBLE NULL"),
    ("c_bit1", "BIT(1) NULL"),
    ("c_bit12", "BIT(12) NULL"),
    ("c_bit64", "BIT(64) NULL"),
    ("c_char", "CHAR(10) NULL"),
    ("c_varchar", "VARCHAR(100) NULL"),
    ("c_tinytext", "TINYTEXT NULL"),
    ("c_text", "TEXT NULL"),
    ("c_mediumtext", "MEDIUMTEXT NULL"),
    ("c_longtext", "LONGTEXT NULL"),
    ("c_binary", "BINARY(4) NULL"),
    ("c_varbinary", "VARBINARY(16) NULL"),
    ("c_tinyblob", "TINYBLOB NULL"),
    ("c_blob", "BLOB NULL"),
    ("c_mediumblob", "MEDIUMBLOB NULL"),
    ("c_longblob", "LONGBLOB NULL"),
    ("c_json", "JSON NULL"),
    ("c_enum", "ENUM('new','paid','shipped','cancelled') NULL"),
    ("c_set", "SET('a','bb','ccc') NULL"),
    ("c_date", "DATE NULL"),
    ("c_datetime", "DATETIME NULL"),
    ("c_datetime6", "DATETIME(6) NULL"),
    ("c_timestamp", "TIMESTAMP NULL DEFAULT NULL"),
    ("c_time", "TIME NULL"),
    ("c_time6", "TIME(6) NULL"),
    ("c_year", "YEAR NULL"),
    ("c_point", "POINT NULL"),
)

_LONG_TEXT = "Derson Lake ✓ " * 5000  # 70 000 characters: more than DMS's 32 KB default LOB size
_BIG_BLOB = bytes(range(256)) * 300  # 76 800 bytes

# The type_zoo rows as inserted (temporal values as the strings MySQL takes, incl. zero dates; the
# session runs in UTC, so TIMESTAMP values are UTC). Row 4 is all NULL except the key.
TYPE_ZOO_ROWS: tuple[dict[str, Any], ...] = (
    {  # minimums and zero dates
        "id": 1, "c_tinyint": -128, "c_tinyint_u": 0, "c_smallint": -32768, "c_smallint_u": 0,
        "c_mediumint": -8388608, "c_mediumint_u": 0, "c_int": -2147483648, "c_int_u": 0,
        "c_bigint": -9223372036854775808, "c_bigint_u": 0,
        "c_decimal": Decimal("-9999999999.99"),
        "c_decimal_wide": Decimal("-9999999999999999999999999999.9999999999"),
        "c_decimal_int": Decimal("-9999999999"), "c_float": -1.5, "c_double": -1.7976931348623157e308,
        "c_bit1": 0, "c_bit12": 0, "c_bit64": 0,
        "c_char": "", "c_varchar": "", "c_tinytext": "", "c_text": "", "c_mediumtext": "", "c_longtext": "",
        "c_binary": b"\x00\x00\x00\x00", "c_varbinary": b"", "c_tinyblob": b"", "c_blob": b"",
        "c_mediumblob": b"", "c_longblob": b"",
        "c_json": "[]", "c_enum": "new", "c_set": "",
        "c_date": "0000-00-00", "c_datetime": "0000-00-00 00:00:00",
        "c_datetime6": "0000-00-00 00:00:00.000000",
        "c_timestamp": "0000-00-00 00:00:00", "c_time": "-838:59:59", "c_time6": "-00:00:01.500000",
        "c_year": 1901, "c_point": "POINT(0 0)",
    },
    {  # maximums
        "id": 2, "c_tinyint": 127, "c_tinyint_u": 255, "c_smallint": 32767, "c_smallint_u": 65535,
        "c_mediumint": 8388607, "c_mediumint_u": 16777215, "c_int": 2147483647, "c_int_u": 4294967295,
        "c_bigint": 9223372036854775807, "c_bigint_u": 18446744073709551615,
        "c_decimal": Decimal("9999999999.99"),
        "c_decimal_wide": Decimal("9999999999999999999999999999.9999999999"),
        "c_decimal_int": Decimal("9999999999"), "c_float": 3.4028234e38, "c_double": 1.7976931348623157e308,
        "c_bit1": 1, "c_bit12": 4095, "c_bit64": 18446744073709551615,
        "c_char": "ZZZZZZZZZZ", "c_varchar": "x" * 100, "c_tinytext": "t" * 255, "c_text": "é" * 20000,
        "c_mediumtext": _LONG_TEXT, "c_longtext": _LONG_TEXT + "end",
        "c_binary": b"\xff\xff\xff\xff", "c_varbinary": b"\xff" * 16, "c_tinyblob": b"\xfe" * 255,
        "c_blob": _BIG_BLOB[:65535], "c_mediumblob": _BIG_BLOB, "c_longblob": _BIG_BLOB + b"end",
        "c_json": '{"big": 18446744073709551615, "nested": {"list": [1, 2.5, null, true]}}',
        "c_enum": "cancelled", "c_set": "a,bb,ccc",
        "c_date": "9999-12-31", "c_datetime": "9999-12-31 23:59:59",
        "c_datetime6": "9999-12-31 23:59:59.999999",
        "c_timestamp": "2038-01-19 03:14:07", "c_time": "838:59:59", "c_time6": "838:59:58.999999",
        "c_year": 2155, "c_point": "POINT(-180 90)",
    },
    {  # everyday values, non-ASCII text
        "id": 3, "c_tinyint": 1, "c_tinyint_u": 42, "c_smallint": -300, "c_smallint_u": 300,
        "c_mediumint": -70000, "c_mediumint_u": 70000, "c_int": 123456, "c_int_u": 3000000000,
        "c_bigint": -42, "c_bigint_u": 9223372036854775808,
        "c_decimal": Decimal("-0.01"), "c_decimal_wide": Decimal("0.0000000001"),
        "c_decimal_int": Decimal("0"), "c_float": 0.25, "c_double": 3.141592653589793,
        "c_bit1": 1, "c_bit12": 2730, "c_bit64": 81985529216486895,
        "c_char": "ção 😀", "c_varchar": "Olá, mundo! 🌍 — ünïcödé", "c_tinytext": "emoji 🎉",
        "c_text": "line1\nline2\ttab \"quoted\" 'single' \\ backslash", "c_mediumtext": "中文字符",
        "c_longtext": "🙂" * 10, "c_binary": b"ab", "c_varbinary": b"\x00\x01\x02", "c_tinyblob": b"tiny",
        "c_blob": b"\x00blob\x00", "c_mediumblob": b"medium", "c_longblob": b"long",
        "c_json": '{"name": "Zoë 😀", "n": 1}', "c_enum": "paid", "c_set": "a,ccc",
        "c_date": "2024-02-29", "c_datetime": "2024-02-29 12:34:56",
        "c_datetime6": "2024-02-29 12:34:56.123456",
        "c_timestamp": "2024-02-29 12:34:56", "c_time": "12:34:56", "c_time6": "25:00:00.000001",
        "c_year": 2024, "c_point": "POINT(1.5 -2.25)",
    },
    {"id": 4},  # every nullable column NULL
    {  # a partly-zero date and the epoch edge
        "id": 5, "c_tinyint": 0, "c_tinyint_u": 1, "c_smallint": 0, "c_smallint_u": 1, "c_mediumint": 0,
        "c_mediumint_u": 1, "c_int": 0, "c_int_u": 1, "c_bigint": 0, "c_bigint_u": 1,
        "c_decimal": Decimal("0.00"), "c_decimal_wide": Decimal("-0.5"), "c_decimal_int": Decimal("1"),
        "c_float": 0.0, "c_double": -0.0, "c_bit1": 0, "c_bit12": 1, "c_bit64": 1,
        "c_char": " lead", "c_varchar": "trailing   ", "c_tinytext": "a", "c_text": "b", "c_mediumtext": "c",
        "c_longtext": "d", "c_binary": b"\x01", "c_varbinary": b" ", "c_tinyblob": b"\x00", "c_blob": b"b",
        "c_mediumblob": b"m", "c_longblob": b"l", "c_json": "null", "c_enum": "shipped", "c_set": "bb",
        "c_date": "2024-00-10", "c_datetime": "1000-01-01 00:00:00",
        "c_datetime6": "1970-01-01 00:00:00.000001",
        "c_timestamp": "1970-01-01 00:00:01", "c_time": "00:00:00", "c_time6": "-838:59:59.000000",
        "c_year": 0, "c_point": "POINT(0 0)",
    },
)  # fmt: skip

TABLE_DDL: dict[str, str] = {
    "customers": """
        CREATE TABLE shop.customers (
          id INT NOT NULL PRIMARY KEY,
          first_name VARCHAR(50) NOT NULL,
          last_name VARCHAR(50) NOT NULL,
          email VARCHAR(255) NOT NULL,
          passport CHAR(9) NULL,
          status ENUM('active','inactive','banned') NOT NULL DEFAULT 'active',
          tags SET('vip','newsletter','wholesale') NULL,
          created_at DATETIME(6) NOT NULL,
          updated_at TIMESTAMP NULL DEFAULT NULL,
          UNIQUE KEY uq_customers_email (email)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
    "orders": """
        CREATE TABLE shop.orders (
          id BIGINT NOT NULL PRIMARY KEY,
          customer_id INT NOT NULL,
          amount DECIMAL(12,2) NOT NULL,
          status ENUM('new','paid','shipped','cancelled') NOT NULL,
          created_at DATETIME NOT NULL,
          note VARCHAR(100) NULL,
          KEY ix_orders_customer (customer_id)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
    "order_items": """
        CREATE TABLE shop.order_items (
          order_id BIGINT NOT NULL,
          line_no SMALLINT UNSIGNED NOT NULL,
          sku VARCHAR(20) NOT NULL,
          qty SMALLINT UNSIGNED NOT NULL,
          price DECIMAL(10,2) NOT NULL,
          PRIMARY KEY (order_id, line_no)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
    "type_zoo": "CREATE TABLE shop.type_zoo (\n  "
    + ",\n  ".join(f"`{name}` {definition}" for name, definition in TYPE_ZOO_COLUMNS)
    + "\n) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci",
    "events_log": """
        CREATE TABLE shop.events_log (
          logged_at DATETIME(3) NOT NULL,
          level VARCHAR(10) NOT NULL,
          message TEXT NULL
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
    "page_views": """
        CREATE TABLE shop.page_views (
          id INT NOT NULL,
          viewed_on DATE NOT NULL,
          path VARCHAR(200) NOT NULL,
          PRIMARY KEY (id)
        ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci
        PARTITION BY HASH (id) PARTITIONS 4""",
}
VIEW_DDL: dict[str, str] = {
    "v_paid_orders": """
        CREATE VIEW shop.v_paid_orders AS
        SELECT id, customer_id, amount, created_at FROM shop.orders WHERE status = 'paid'""",
}
TABLES = tuple(TABLE_DDL)
VIEWS = tuple(VIEW_DDL)
TABLES_WITHOUT_PK = ("events_log",)
PARTITIONED_TABLES = {"page_views": ("p0", "p1", "p2", "p3")}


@dataclass(frozen=True)
class Order:
    """One generated ``shop.orders`` row."""

    id: int
    customer_id: int
    amount: Decimal
    status: str
    created_at: datetime
    note: str | None


def expected_order(i: int) -> Order:
    """``shop.orders`` row ``i`` (1-based) as ``seed()`` writes it: same formulas as the SQL."""
    return Order(
        id=i,
        customer_id=1 + (i * 7919) % CUSTOMER_ROWS,
        amount=Decimal((i * 3779) % 1_000_000) / 100,
        status=ORDER_STATUSES[i % 4],
        created_at=ORDERS_START + timedelta(minutes=i * 13),
        note=None if i % 5 == 0 else f"order {i}",
    )


def expected_order_items(order_rows: int) -> int:
    """How many ``shop.order_items`` rows: 1 to 3 lines per order (``1 + id % 3``)."""
    return sum(1 + i % 3 for i in range(1, order_rows + 1))


def expected_counts(order_rows: int = DEFAULT_ORDER_ROWS) -> dict[str, int]:
    """Rows per table (and view) after ``seed(rows=order_rows)``."""
    return {
        "customers": CUSTOMER_ROWS,
        "orders": order_rows,
        "order_items": expected_order_items(order_rows),
        "type_zoo": len(TYPE_ZOO_ROWS),
        "events_log": EVENTS_LOG_ROWS,
        "page_views": PAGE_VIEW_ROWS,
        "v_paid_orders": sum(1 for i in range(1, order_rows + 1) if i % 4 == 1),
    }


def _sql_list(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


# Generated tables: plain INSERT ... SELECT over sequences, so the data is the same on every run.
GENERATE_SQL: tuple[str, ...] = (
    f"""INSERT INTO shop.customers
          (id, first_name, last_name, email, passport, status, tags, created_at, updated_at)
        SELECT seq,
               ELT(1 + seq % {len(FIRST_NAMES)}, {_sql_list(FIRST_NAMES)}),
               ELT(1 + seq % {len(LAST_NAMES)}, {_sql_list(LAST_NAMES)}),
               CONCAT('customer', seq, '@example.com'),
               IF(seq % 10 = 0, NULL, CONCAT('P', LPAD(seq * 7919 % 100000000, 8, '0'))),
               ELT(1 + seq % 3, {_sql_list(CUSTOMER_STATUSES)}),
               IF(seq % 7 = 0, NULL, ELT(1 + seq % 4, '', 'vip', 'newsletter,wholesale', 'vip,newsletter')),
               TIMESTAMP('2023-01-01 08:00:00') + INTERVAL seq DAY + INTERVAL seq * 1001 MICROSECOND,
               IF(seq % 3 = 0, NULL, TIMESTAMP('2024-06-01 00:00:00') + INTERVAL seq HOUR)
        FROM seq_1_to_{CUSTOMER_ROWS}""",
    """INSERT INTO shop.orders (id, customer_id, amount, status, created_at, note)
        SELECT seq, 1 + (seq * 7919) % {customers}, ((seq * 3779) % 1000000) / 100,
               ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'cancelled'),
               TIMESTAMP('2024-01-01 00:00:00') + INTERVAL seq * 13 MINUTE,
               IF(seq % 5 = 0, NULL, CONCAT('order ', seq))
        FROM seq_1_to_{rows}""",
    """INSERT INTO shop.order_items (order_id, line_no, sku, qty, price)
        SELECT o.seq, l.seq, CONCAT('SKU-', LPAD((o.seq * 31 + l.seq) % 997, 4, '0')),
               1 + (o.seq + l.seq) % 5, ((o.seq * 17 + l.seq * 101) % 50000) / 100
        FROM seq_1_to_{rows} AS o JOIN seq_1_to_3 AS l ON l.seq <= 1 + o.seq % 3""",
    f"""INSERT INTO shop.events_log (logged_at, level, message)
        SELECT TIMESTAMP('2024-03-01 00:00:00') + INTERVAL (seq DIV 2) SECOND,
               ELT(1 + seq % 3, 'INFO', 'WARN', 'ERROR'),
               IF(seq % 9 = 0, NULL, CONCAT('event ', seq DIV 2))
        FROM seq_1_to_{EVENTS_LOG_ROWS}""",
    f"""INSERT INTO shop.page_views (id, viewed_on, path)
        SELECT seq, DATE('2024-01-01') + INTERVAL seq % 60 DAY, CONCAT('/products/', seq % 17)
        FROM seq_1_to_{PAGE_VIEW_ROWS}""",
)


@dataclass(frozen=True)
class SeedReport:
    """What ``seed()`` made: rows per table and the time it took."""

    counts: dict[str, int]
    seconds: float


def seed(conn: pymysql.connections.Connection, rows: int = DEFAULT_ORDER_ROWS) -> SeedReport:
    """(Re)create ``shop`` on an admin connection; ``rows`` orders (order_items about twice that)."""
    if rows < 1:
        raise ValueError("rows must be at least 1")
    started = time.monotonic()
    with conn.cursor() as cur:
        # Zero dates need a permissive sql_mode; UTC so TIMESTAMP values are stored as written.
        cur.execute("SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION', SESSION time_zone = '+00:00'")
        cur.execute(f"DROP DATABASE IF EXISTS {SCHEMA}")
        cur.execute(f"CREATE DATABASE {SCHEMA} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
        cur.execute(f"USE {SCHEMA}")  # seq_1_to_N resolves in the current database
        for ddl in TABLE_DDL.values():
            cur.execute(ddl)
        for ddl in VIEW_DDL.values():
            cur.execute(ddl)
        conn.begin()
        for sql in GENERATE_SQL:
            cur.execute(sql.format(rows=rows, customers=CUSTOMER_ROWS))
        _insert_type_zoo(cur)
        conn.commit()
        cur.execute(f"ANALYZE TABLE {', '.join(f'{SCHEMA}.{t}' for t in TABLES)}")
        cur.fetchall()
        counts = {}
        for name in (*TABLES, *VIEWS):
            cur.execute(f"SELECT COUNT(*) FROM {SCHEMA}.{name}")
            counts[name] = int(cur.fetchone()[0])
    return SeedReport(counts=counts, seconds=time.monotonic() - started)


def _insert_type_zoo(cur: Any) -> None:
    names = [name for name, _ in TYPE_ZOO_COLUMNS]
    for row in TYPE_ZOO_ROWS:
        values = [row.get(name) for name in names]
        placeholders = ["ST_GeomFromText(%s)" if name == "c_point" else "%s" for name in names]
        cur.execute(
            f"INSERT INTO {SCHEMA}.type_zoo ({', '.join(f'`{n}`' for n in names)}) "
            f"VALUES ({', '.join(placeholders)})",
            values,
        )


def type_zoo_row(row_id: int) -> dict[str, Any]:
    """The ``type_zoo`` row with ``id = row_id``, every column present (NULLs as None)."""
    row = next(r for r in TYPE_ZOO_ROWS if r["id"] == row_id)
    return {name: row.get(name) for name, _ in TYPE_ZOO_COLUMNS}


__all__ = [
    "DEFAULT_ORDER_ROWS",
    "SCHEMA",
    "TABLES",
    "TYPE_ZOO_COLUMNS",
    "TYPE_ZOO_ROWS",
    "VIEWS",
    "Order",
    "SeedReport",
    "expected_counts",
    "expected_order",
    "seed",
    "type_zoo_row",
]
