"""A deterministic OLTP-shaped source database for the multi-table full-load benchmark (issue #14).

22 tables, 3,966,283 rows at ``scale=1``: one of 2.84M rows with a composite ``(INT, DATE)``
primary key, one of 443k rows with a ``VARCHAR`` inside its composite key, two of ~300k rows and
18 small ones (the issue counts 22 tables but lists 20: the two more are small here), covering
ENUM, SET, YEAR, GEOMETRY, BLOB, TIMESTAMP, TIME and DECIMAL. Every value is a
function of the row number (MariaDB's SEQUENCE engine, ``md5``, modular arithmetic: no RAND()), so
two builds at the same scale hold the same bytes. ``scale`` multiplies every table's row count
(at least one row each), so a quick run at 0.05 has the same shape at 1/20th the size.

    python bench/multi_schema.py --scale 0.05     # builds (or checks) `shopbench` in the bench sandbox
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DATABASE = "shopbench"
STOCK_DAYS = 2840  # days per store in daily_stock: its key is (store_id, day)


@dataclass(frozen=True)
class BenchTable:
    """One table of the benchmark database: its DDL, the SELECT that fills it from ``seq``, its size."""

    name: str
    columns: str  # the body of CREATE TABLE
    fill: str  # SELECT list over ``seq`` (1..rows), in column order
    rows: int

    def sized(self, scale: float) -> int:
        return max(1, round(self.rows * scale))


TABLES: tuple[BenchTable, ...] = (
    BenchTable(
        "daily_stock",
        """store_id INT NOT NULL, day DATE NOT NULL, products INT NOT NULL, qty_on_hand INT NOT NULL,
        stock_value DECIMAL(14,2) NOT NULL, avg_price DECIMAL(10,4) NOT NULL, last_move DATETIME NULL,
        status ENUM('open','closed','audit') NOT NULL, PRIMARY KEY (store_id, day)""",
        f"""1 + (seq - 1) DIV {STOCK_DAYS}, '2018-01-01' + INTERVAL ((seq - 1) MOD {STOCK_DAYS}) DAY,
        seq MOD 5000, (seq * 7) MOD 100000, ((seq * 131) MOD 100000000) / 100, (seq MOD 999983) / 10000,
        IF(seq MOD 17 = 0, NULL, '2018-01-01' + INTERVAL (seq * 37) MOD 250000000 SECOND),
        ELT(1 + seq MOD 3, 'open', 'closed', 'audit')""",
        2_840_000,
    ),
    BenchTable(
        "order_lines",
        """order_no VARCHAR(24) NOT NULL, line_no SMALLINT NOT NULL, product_id INT NOT NULL,
        qty SMALLINT NOT NULL, unit_price DECIMAL(10,2) NOT NULL, discount DECIMAL(5,2) NULL,
        shipped_at DATETIME NULL, PRIMARY KEY (order_no, line_no)""",
        """CONCAT('ORD-', LPAD(1 + (seq - 1) DIV 3, 9, '0')), 1 + (seq - 1) MOD 3, 1 + seq MOD 20000,
        1 + seq MOD 12, (seq MOD 50000) / 100, IF(seq MOD 4 = 0, (seq MOD 3000) / 100, NULL),
        IF(seq MOD 9 = 0, NULL, '2021-01-01' + INTERVAL seq * 61 SECOND)""",
        443_000,
    ),
    BenchTable(
        "orders",
        """id BIGINT NOT NULL PRIMARY KEY, customer_id INT NOT NULL,
        status ENUM('new','paid','shipped','cancelled','returned') NOT NULL, created_at DATETIME NOT NULL,
        updated_at TIMESTAMP NOT NULL, total DECIMAL(12,2) NOT NULL, currency CHAR(3) NOT NULL,
        notes VARCHAR(200) NULL""",
        """seq, 1 + (seq * 13) MOD 300000,
        ELT(1 + seq MOD 5, 'new', 'paid', 'shipped', 'cancelled', 'returned'),
        '2021-01-01' + INTERVAL seq * 60 SECOND, '2021-01-01' + INTERVAL seq * 67 SECOND,
        (seq * 977 MOD 10000000) / 100, ELT(1 + seq MOD 3, 'EUR', 'USD', 'BRL'),
        IF(seq MOD 3 = 0, NULL, CONCAT('deliver ', REPEAT('x', seq MOD 40), ' ', MD5(seq)))""",
        300_000,
    ),
    BenchTable(
        "customers",
        """id INT NOT NULL PRIMARY KEY, email VARCHAR(120) NOT NULL, name VARCHAR(80) NOT NULL,
        country CHAR(2) NOT NULL, birth_date DATE NULL, created_at TIMESTAMP NOT NULL,
        tier ENUM('basic','silver','gold') NOT NULL, flags SET('newsletter','vip','blocked','b2b') NOT NULL,
        credit DECIMAL(10,2) NOT NULL""",
        """seq, CONCAT('c', seq, '@', LEFT(MD5(seq), 8), '.example'), CONCAT('Customer ', SHA1(seq)),
        ELT(1 + seq MOD 6, 'BR', 'PT', 'DE', 'US', 'FR', 'JP'),
        IF(seq MOD 11 = 0, NULL, '1950-01-01' + INTERVAL seq MOD 20000 DAY),
        '2015-01-01' + INTERVAL seq * 311 SECOND, ELT(1 + seq MOD 3, 'basic', 'silver', 'gold'), seq MOD 16,
        (seq MOD 1000000) / 100""",
        299_223,
    ),
    BenchTable(
        "products",
        """id INT NOT NULL PRIMARY KEY, sku CHAR(12) NOT NULL, name VARCHAR(100) NOT NULL,
        category_id SMALLINT NOT NULL, price DECIMAL(10,2) NOT NULL, weight DECIMAL(8,3) NULL,
        kind ENUM('physical','digital','service') NOT NULL, launched YEAR NOT NULL,
        active TINYINT(1) NOT NULL""",
        """seq, UPPER(LEFT(MD5(seq), 12)), CONCAT('Product ', seq, ' ', LEFT(SHA1(seq), 20)), 1 + seq MOD 500,
        (seq * 37 MOD 100000) / 100, IF(seq MOD 5 = 0, NULL, (seq MOD 90000) / 1000),
        ELT(1 + seq MOD 3, 'physical', 'digital', 'service'), 1990 + seq MOD 35, seq MOD 2""",
        20_000,
    ),
    BenchTable(
        "categories",
        "id SMALLINT NOT NULL PRIMARY KEY, parent_id SMALLINT NULL, name VARCHAR(60) NOT NULL",
        "seq, IF(seq <= 20, NULL, 1 + seq MOD 20), CONCAT('Category ', seq)",
        500,
    ),
    BenchTable(
        "suppliers",
        """id INT NOT NULL PRIMARY KEY, name VARCHAR(80) NOT NULL,
        regions SET('eu','us','asia','latam') NOT NULL, services SET('fast','bulk','cold','fragile') NULL,
        founded YEAR NULL, rating DECIMAL(3,2) NOT NULL""",
        """seq, CONCAT('Supplier ', MD5(seq)), 1 + seq MOD 15, IF(seq MOD 7 = 0, NULL, seq MOD 16),
        IF(seq MOD 9 = 0, NULL, 1901 + seq MOD 124), (seq MOD 500) / 100""",
        2_000,
    ),
    BenchTable(
        "stores",
        """id INT NOT NULL PRIMARY KEY, name VARCHAR(60) NOT NULL, location POINT NOT NULL,
        opened DATE NOT NULL, area_m2 DECIMAL(8,1) NOT NULL""",
        """seq, CONCAT('Store ', seq),
        ST_GeomFromText(CONCAT('POINT(', -50 + (seq MOD 100) / 3, ' ', -30 + (seq MOD 70) / 7, ')')),
        '2000-01-01' + INTERVAL seq * 5 DAY, (seq * 13 MOD 100000) / 10""",
        1_000,
    ),
    BenchTable(
        "warehouses",
        """id SMALLINT NOT NULL PRIMARY KEY, code CHAR(6) NOT NULL, area GEOMETRY NULL,
        capacity INT NOT NULL""",
        """seq, CONCAT('WH', LPAD(seq, 4, '0')),
        IF(seq MOD 10 = 0, NULL, ST_GeomFromText(CONCAT('POLYGON((0 0, ', seq, ' 0, ', seq, ' ', seq,
        ', 0 ', seq, ', 0 0))'))), seq * 1000""",
        120,
    ),
    BenchTable(
        "employees",
        """id INT NOT NULL PRIMARY KEY, store_id INT NOT NULL, name VARCHAR(80) NOT NULL,
        role ENUM('clerk','manager','driver','buyer') NOT NULL, hired DATE NOT NULL, birth_year YEAR NOT NULL,
        salary DECIMAL(10,2) NOT NULL, badge BLOB NULL""",
        """seq, 1 + seq MOD 1000, CONCAT('Employee ', LEFT(MD5(seq), 16)),
        ELT(1 + seq MOD 4, 'clerk', 'manager', 'driver', 'buyer'), '2005-01-01' + INTERVAL seq MOD 7000 DAY,
        1960 + seq MOD 45, 1500 + (seq * 7 MOD 800000) / 100, IF(seq MOD 3 = 0, NULL, UNHEX(MD5(seq)))""",
        8_000,
    ),
    BenchTable(
        "product_images",
        """id INT NOT NULL PRIMARY KEY, product_id INT NOT NULL, mime VARCHAR(20) NOT NULL,
        image MEDIUMBLOB NOT NULL""",
        """seq, 1 + seq MOD 20000, ELT(1 + seq MOD 2, 'image/png', 'image/jpeg'),
        UNHEX(REPEAT(MD5(seq), 20 + seq MOD 40))""",
        3_000,
    ),
    BenchTable(
        "price_history",
        """id BIGINT NOT NULL PRIMARY KEY, product_id INT NOT NULL, valid_from DATETIME(6) NOT NULL,
        price DECIMAL(12,4) NOT NULL""",
        """seq, 1 + seq MOD 20000, '2019-01-01' + INTERVAL seq * 1234567 MICROSECOND,
        (seq * 7919 MOD 100000000) / 10000""",
        30_000,
    ),
    BenchTable(
        "currencies",
        """code CHAR(3) NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL, rate DECIMAL(18,8) NOT NULL,
        updated TIMESTAMP NOT NULL""",
        """CONCAT(CHAR(65 + (seq - 1) DIV 26 MOD 26), CHAR(65 + (seq - 1) MOD 26), CHAR(65 + seq MOD 7)),
        CONCAT('Currency ', seq), (seq * 104729 MOD 1000000000) / 1000000,
        '2024-01-01' + INTERVAL seq HOUR""",
        150,
    ),
    BenchTable(
        "countries",
        """code CHAR(2) NOT NULL PRIMARY KEY, name VARCHAR(60) NOT NULL,
        region ENUM('africa','americas','asia','europe','oceania') NOT NULL, eu TINYINT(1) NOT NULL""",
        """CONCAT(CHAR(65 + (seq - 1) DIV 26), CHAR(65 + (seq - 1) MOD 26)), CONCAT('Country ', seq),
        ELT(1 + seq MOD 5, 'africa', 'americas', 'asia', 'europe', 'oceania'), seq MOD 7 = 0""",
        250,
    ),
    BenchTable(
        "holidays",
        """country CHAR(2) NOT NULL, day DATE NOT NULL, name VARCHAR(60) NOT NULL,
        PRIMARY KEY (country, day)""",
        """ELT(1 + (seq - 1) MOD 6, 'BR', 'PT', 'DE', 'US', 'FR', 'JP'),
        '2000-01-01' + INTERVAL (seq - 1) DIV 6 * 11 DAY, CONCAT('Holiday ', seq)""",
        1_200,
    ),
    BenchTable(
        "promotions",
        """id INT NOT NULL PRIMARY KEY, starts TIMESTAMP NOT NULL, ends TIMESTAMP NULL,
        channels SET('web','app','store','phone') NOT NULL, pct DECIMAL(5,2) NOT NULL""",
        """seq, '2022-01-01' + INTERVAL seq * 3 HOUR,
        IF(seq MOD 4 = 0, NULL, '2022-01-01' + INTERVAL seq * 3 + 48 HOUR), 1 + seq MOD 15,
        (seq MOD 5000) / 100""",
        800,
    ),
    BenchTable(
        "tax_rates",
        """country CHAR(2) NOT NULL, category_id SMALLINT NOT NULL, rate DECIMAL(6,4) NOT NULL,
        since YEAR NOT NULL, PRIMARY KEY (country, category_id)""",
        """ELT(1 + (seq - 1) MOD 6, 'BR', 'PT', 'DE', 'US', 'FR', 'JP'), 1 + (seq - 1) DIV 6,
        (seq * 31 MOD 3000) / 10000, 2000 + seq MOD 25""",
        600,
    ),
    BenchTable(
        "shipping_methods",
        """id TINYINT NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL,
        speed ENUM('economy','standard','express') NOT NULL, price DECIMAL(6,2) NOT NULL""",
        """seq, CONCAT('Method ', seq), ELT(1 + seq MOD 3, 'economy', 'standard', 'express'), seq * 1.25""",
        40,
    ),
    BenchTable(
        "audit_log",
        """id BIGINT NOT NULL PRIMARY KEY, at TIMESTAMP(3) NOT NULL, actor VARCHAR(40) NOT NULL,
        action ENUM('insert','update','delete','login') NOT NULL, payload BLOB NULL""",
        """seq, '2023-01-01' + INTERVAL seq * 60061000 MICROSECOND, CONCAT('user', seq MOD 300),
        ELT(1 + seq MOD 4, 'insert', 'update', 'delete', 'login'),
        IF(seq MOD 5 = 0, NULL, UNHEX(REPEAT(SHA1(seq), 1 + seq MOD 8)))""",
        15_000,
    ),
    BenchTable(
        "settings",
        "name VARCHAR(64) NOT NULL PRIMARY KEY, value TEXT NOT NULL, changed DATETIME NOT NULL",
        """CONCAT('setting.', LPAD(seq, 4, '0')), REPEAT(MD5(seq), 1 + seq MOD 10),
        '2020-06-01' + INTERVAL seq DAY""",
        200,
    ),
    BenchTable(
        "payment_methods",
        """id SMALLINT NOT NULL PRIMARY KEY, name VARCHAR(40) NOT NULL,
        kind ENUM('card','pix','transfer','wallet') NOT NULL, fee DECIMAL(5,3) NOT NULL""",
        "seq, CONCAT('Payment ', seq), ELT(1 + seq MOD 4, 'card', 'pix', 'transfer', 'wallet'),"
        " (seq MOD 500) / 100",
        30,
    ),
    BenchTable(
        "store_hours",
        """store_id INT NOT NULL, weekday TINYINT NOT NULL, opens TIME NOT NULL, closes TIME NOT NULL,
        PRIMARY KEY (store_id, weekday)""",
        """1 + (seq - 1) DIV 7, (seq - 1) MOD 7, SEC_TO_TIME(25200 + (seq MOD 5) * 1800),
        SEC_TO_TIME(64800 + (seq MOD 4) * 1800)""",
        1_170,
    ),
)

FULL_ROWS = sum(t.rows for t in TABLES)


def database(scale: float) -> str:
    """``shopbench`` at full size, ``shopbench_0_05`` at scale 0.05: sizes live side by side."""
    return DATABASE if scale == 1 else f"{DATABASE}_{scale:g}".replace(".", "_")


def total_rows(scale: float) -> int:
    return sum(t.sized(scale) for t in TABLES)


def build(admin, scale: float, *, log=print) -> dict[str, int]:
    """Create ``database(scale)`` in the server behind ``admin`` (a PyMySQL connection); tables
    already at the right size are kept. Returns each table's row count."""
    sizes = {}
    db = database(scale)
    with admin.cursor() as cur:
        cur.execute("SET SESSION sql_log_bin = 0")  # the benchmark reads tables, not the binlog
        cur.execute("SET SESSION time_zone = '+00:00'")
        cur.execute(f"CREATE DATABASE IF NOT EXISTS {db}")
        cur.execute(f"USE {db}")  # the SEQUENCE engine's seq_1_to_N tables live in the current database
        for t in TABLES:
            rows = t.sized(scale)
            cur.execute(f"CREATE TABLE IF NOT EXISTS {db}.{t.name} ({t.columns}) ENGINE=InnoDB")
            cur.execute(f"SELECT COUNT(*) FROM {db}.{t.name}")
            if cur.fetchone()[0] != rows:
                log(f"building {db}.{t.name} ({rows:,} rows)...")
                cur.execute(f"TRUNCATE {db}.{t.name}")
                cur.execute(f"INSERT INTO {db}.{t.name} SELECT {t.fill} FROM seq_1_to_{rows}")
                cur.execute(f"ANALYZE TABLE {db}.{t.name}")
                cur.fetchall()
            sizes[t.name] = rows
        admin.commit()
    return sizes


def warm(admin, scale: float) -> None:
    """Read every table once so the comparison starts from a warm buffer pool for every method."""
    db = database(scale)
    with admin.cursor() as cur:
        for t in TABLES:
            cur.execute(f"CHECKSUM TABLE {db}.{t.name}")
            cur.fetchall()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    args = parser.parse_args()
    from full_load import sandbox  # the benchmark's own sandbox

    box = sandbox()
    with box.admin_connection() as conn:
        sizes = build(conn, args.scale, log=lambda m: print(m, file=sys.stderr))
    print(f"{database(args.scale)}: {len(sizes)} tables, {sum(sizes.values()):,} rows (scale {args.scale})")


if __name__ == "__main__":
    main()
