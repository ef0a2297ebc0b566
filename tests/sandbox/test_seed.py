"""The seeded ``shop`` schema holds exactly what ``sandbox.seed`` says it holds."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from dersonlake.sandbox import seed as shop
from dersonlake.sources.mysql.connection import connect


def test_counts_match_the_formulas(seed_report, seed_rows) -> None:
    assert seed_report.counts == shop.expected_counts(seed_rows)
    assert seed_report.seconds < 30


def test_generated_orders_match_expected_order(shop_params, seed_rows) -> None:
    sample = (1, 2, 5, 777, seed_rows)
    with connect(shop_params, database="shop") as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT id, customer_id, amount, status, created_at, note FROM orders "
            f"WHERE id IN ({','.join(map(str, sample))}) ORDER BY id"
        )
        rows = cur.fetchall()
        cur.execute("SELECT SUM(amount) FROM orders")
        total = cur.fetchone()[0]
    assert [shop.Order(*row) for row in rows] == [shop.expected_order(i) for i in sample]
    assert total == sum(shop.expected_order(i).amount for i in range(1, seed_rows + 1))


def test_type_zoo_extremes_and_nulls(shop_params) -> None:
    with connect(shop_params, database="shop") as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT c_bigint_u, c_bigint, c_decimal_wide, c_bit1, c_bit12, c_bit64, c_char, c_json, c_set, "
            "c_time, c_time6, c_year, CAST(c_date AS CHAR), CAST(c_timestamp AS CHAR) "
            "FROM type_zoo ORDER BY id"
        )
        rows = cur.fetchall()
        cur.execute("SELECT * FROM type_zoo WHERE id = 4")
        all_null = cur.fetchone()
    low, high, everyday, _null, _partly_zero = rows
    assert high[0] == 18446744073709551615 and low[1] == -9223372036854775808
    assert high[2] == Decimal("9999999999999999999999999999.9999999999")
    assert low[2] == Decimal("-9999999999999999999999999999.9999999999")
    assert (high[3], high[4], high[5]) == (b"\x01", b"\x0f\xff", b"\xff" * 8)
    assert everyday[6] == "ção 😀" and "😀" in everyday[7]
    assert high[8] == "a,bb,ccc"
    assert low[9] == -dt.timedelta(hours=838, minutes=59, seconds=59) and high[9] == dt.timedelta(
        hours=838, minutes=59, seconds=59
    )
    assert low[10] == -dt.timedelta(seconds=1.5) and everyday[10] == dt.timedelta(hours=25, microseconds=1)
    assert (low[12], low[13]) == (
        "0000-00-00",
        "0000-00-00 00:00:00",
    )  # zero dates are there for readers to NULL
    assert _partly_zero[12] == "2024-00-10"
    assert all_null[0] == 4 and all(value is None for value in all_null[1:])


def test_reseeding_is_idempotent(admin, seed_rows) -> None:
    def checksums() -> dict[str, int]:
        with admin.cursor() as cur:
            cur.execute(f"CHECKSUM TABLE {', '.join(f'shop.{t}' for t in shop.TABLES)}")
            return {name: value for name, value in cur.fetchall()}

    before = checksums()
    report = shop.seed(admin, rows=seed_rows)
    assert report.counts == shop.expected_counts(seed_rows)
    assert checksums() == before


def test_definitions_cover_every_type_family() -> None:
    ddl = " ".join(definition.split("(")[0].split()[0] for _, definition in shop.TYPE_ZOO_COLUMNS).upper()
    for family in (
        "TINYINT", "SMALLINT", "MEDIUMINT", "INT", "BIGINT", "DECIMAL", "FLOAT", "DOUBLE", "BIT", "CHAR",
        "VARCHAR", "TINYTEXT", "TEXT", "MEDIUMTEXT", "LONGTEXT", "BINARY", "VARBINARY", "TINYBLOB", "BLOB",
        "MEDIUMBLOB", "LONGBLOB", "JSON", "ENUM", "SET", "DATE", "DATETIME", "TIMESTAMP", "TIME", "YEAR",
        "POINT",
    ):  # fmt: skip
        assert family in ddl.split(), family


def test_cli_default_rows_is_the_seed_default() -> None:
    from dersonlake.cli.sandbox_cmd import DEFAULT_ORDER_ROWS

    assert DEFAULT_ORDER_ROWS == shop.DEFAULT_ORDER_ROWS
