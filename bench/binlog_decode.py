"""Binlog decode rate on this machine: python-mysql-replication bare, and our own reader.

Writes two workloads into a private sandbox's binlog (ROW, FULL image, binlog_row_metadata=FULL),
then reads each back and reports rows/s (median of ``--runs``):

  single   ``--rows`` single-row INSERTs then ``--rows``/2 single-row UPDATEs, 1 000 per transaction
           (a stored procedure: one Table_map + one rows event per row, as OLTP writes)
  multi    the same rows as INSERT ... SELECT / UPDATE of 1 000-row ranges (one event per ~8 KB)

Readers:

  lib          BinLogStreamReader, file/pos, non-blocking, only rows events, every ``ev.rows``
               iterated (reference/deps.md §4's method: the library's ceiling)
  lib-frozen   the same with ``freeze_schema=True`` (Table_map parsed once per table id)
  reader       dersonlake's BinlogReader (Begin/Change/Commit items; our own client and decoder,
               compiled row loop; DERSONLAKE_PURE_PYTHON=1 measures the pure-Python one)
  reader+arrow the reader plus ``changes_to_batch`` every 10 000 changes (what CDC will pay)

  python bench/binlog_decode.py [--rows 50000] [--runs 3] [--only lib,reader]

The sandbox lives in .derson/bench-binlog-sandbox and is left running for re-runs (stop it with
``derson-lake sandbox stop`` pointed at that folder, or kill its mariadbd). Timings are never tests.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

READERS = ("lib", "lib-frozen", "reader", "reader+arrow")
DDL = """CREATE TABLE bench_binlog.{name} (
  id BIGINT PRIMARY KEY, a INT NOT NULL, b CHAR(32) NOT NULL, c DOUBLE NOT NULL, d DATETIME NOT NULL,
  e DECIMAL(12,2) NOT NULL, f VARCHAR(200) NOT NULL) ENGINE=InnoDB"""
ROW = """seq, seq % 100000, md5(seq), seq / 7.0, '2020-01-01' + INTERVAL seq SECOND, (seq % 1000000) / 100,
  concat(repeat('x', seq % 50), md5(seq))"""
SINGLE_PROC = f"""CREATE PROCEDURE bench_binlog.fill_single(n INT)
BEGIN
  DECLARE seq INT DEFAULT 1;
  START TRANSACTION;
  WHILE seq <= n DO
    INSERT INTO bench_binlog.single VALUES ({ROW});
    IF seq % 1000 = 0 THEN COMMIT; START TRANSACTION; END IF;
    SET seq = seq + 1;
  END WHILE;
  COMMIT;
  SET seq = 1;
  START TRANSACTION;
  WHILE seq <= n DIV 2 DO
    UPDATE bench_binlog.single SET a = a + 1, f = 'updated' WHERE id = seq;
    IF seq % 1000 = 0 THEN COMMIT; START TRANSACTION; END IF;
    SET seq = seq + 1;
  END WHILE;
  COMMIT;
END"""


def prepare(rows: int):
    """Fill both workloads; returns {workload: (start, stop, rows)} positions around each."""
    from dersonlake.sandbox.server import Sandbox
    from dersonlake.sources.mysql.binlog import current_position

    box = Sandbox(ROOT / ".derson" / "bench-binlog-sandbox")
    box.start()
    params = box.params()
    spans = {}
    with box.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("DROP DATABASE IF EXISTS bench_binlog")
        cur.execute("CREATE DATABASE bench_binlog")
        cur.execute(SINGLE_PROC)
        for name in ("single", "multi"):
            cur.execute(DDL.format(name=name))
        cur.execute("FLUSH BINARY LOGS")
        start = current_position(params)
        cur.execute("CALL bench_binlog.fill_single(%s)", (rows,))
        spans["single"] = (start, current_position(params), rows + rows // 2)
        start = current_position(params)
        for low in range(1, rows + 1, 1000):
            high = min(rows, low + 999)
            cur.execute(f"INSERT INTO bench_binlog.multi SELECT {ROW} FROM seq.seq_{low}_to_{high}")
        for low in range(1, rows // 2 + 1, 1000):
            high = min(rows // 2, low + 999)
            update = "UPDATE bench_binlog.multi SET a = a + 1, f = 'updated' WHERE id BETWEEN %s AND %s"
            cur.execute(update, (low, high))
        spans["multi"] = (start, current_position(params), rows + rows // 2)
    return box, params, spans


def read_lib(params, start, stop, frozen: bool) -> int:
    from pymysqlreplication import BinLogStreamReader
    from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

    stream = BinLogStreamReader(
        connection_settings={"host": params.host, "port": params.port, "user": params.user,
                             "passwd": params.password},
        server_id=4242, log_file=start.file, log_pos=start.pos, resume_stream=True, blocking=False,
        end_log_pos=stop.pos if stop.file == start.file else None,
        only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent], freeze_schema=frozen,
        enable_logging=False,
    )  # fmt: skip
    rows = 0
    try:
        for event in stream:
            if (stream.log_file, stream.log_pos) > (stop.file, stop.pos):
                break
            rows += len(event.rows)
    finally:
        stream.close()
    return rows


def read_ours(params, start, stop, arrow: bool) -> int:
    from dersonlake.sources.mysql import discover_catalog
    from dersonlake.sources.mysql.binlog import BinlogReader, Change, changes_to_batch

    tables = discover_catalog(params, ["bench_binlog"]).tables
    by_name = {t.name: t for t in tables}
    rows = 0
    pending: list[Change] = []
    for item in BinlogReader(params, tables, start, stop=stop):
        if isinstance(item, Change):
            rows += 1
            if arrow:
                pending.append(item)
                if len(pending) >= 10_000:
                    table = by_name[pending[0].table]
                    changes_to_batch(table, table.columns, pending)
                    pending.clear()
    return rows


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", default=",".join(READERS))
    args = parser.parse_args()
    readers = [r for r in args.only.split(",") if r]
    rows = args.rows
    print(f"preparing {rows:,} inserted + {rows // 2:,} updated rows per workload...", file=sys.stderr)
    _box, params, spans = prepare(args.rows)
    print(f"{'workload':10} {'reader':14} {'rows':>9} {'median s':>9} {'rows/s':>9}  runs")
    for workload, (start, stop, expected) in spans.items():
        for reader in readers:
            times = []
            for _ in range(args.runs):
                began = time.perf_counter()
                if reader.startswith("lib"):
                    rows = read_lib(params, start, stop, frozen=reader == "lib-frozen")
                else:
                    rows = read_ours(params, start, stop, arrow=reader == "reader+arrow")
                times.append(time.perf_counter() - began)
                if rows != expected:
                    raise SystemExit(f"{reader} read {rows} rows of {workload}, expected {expected}")
            median = statistics.median(times)
            shown = "/".join(f"{t:.2f}" for t in times)
            print(f"{workload:10} {reader:14} {rows:>9,} {median:>9.2f} {rows / median:>9,.0f}  {shown}")


if __name__ == "__main__":
    main()
