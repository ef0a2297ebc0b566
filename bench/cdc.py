"""CDC benchmark: the source's write rate next to every stage of our CDC path, in one run.

A private sandbox (ROW, FULL image, binlog_row_metadata=FULL) gets a write load, and the binlog
span of each workload is then read back by every stage, side by side:

  source        the writer's own rate (row changes / s of its statements, as fast as it goes)
  c-floor       ``mariadb-binlog --read-from-remote-server -v --base64-output=DECODE-ROWS`` over the
                same range into /dev/null: the server's C client decoding every row (the floor)
  lib           python-mysql-replication 1.0.17 alone, every ``ev.rows`` iterated (the old reader's
                library; reference/deps.md §4's method)
  reader        our BinlogReader alone (our client + decoder, compiled row loop): Change items
  lake-txn      CdcCapture converting each transaction on its own (``batch_commits=False``)
  lake          CdcCapture, bounded, into Parquet files on local disk (DMS defaults): changes / s
                into the lake, checkpoint included: end to end

Workloads (``--workload``):

  issue   (default) the issue's two: ``--single N`` single-row autocommit INSERTs into a 4-column
          table (a stored procedure, one transaction per row), and one UPDATE statement of
          ``--big N`` rows (one transaction)
  churn   for each transaction size in ``--txn`` (default 1, 10, 100, 1000 rows) ``--rows``
          single-row INSERTs, ``--rows``/2 UPDATEs and ``--rows``/4 DELETEs of a 7-column table

and, separately, the lag: a writer process commits ``--lag-rate`` transactions/s (5 INSERTs, then
those 5 rows UPDATEd: not saturated) for ``--lag-seconds``, while a continuous CDC loop (BinlogReader in
blocking mode + CdcCapture's conversion and writers, flushing when CdcMaxBatchInterval=1 s is due)
writes the lake. Lag = file visible (after the writer's flush returned) - COMMIT returned in the
writer, per transaction; p50/p99 reported.

  python bench/cdc.py [--workload issue] [--single 100000] [--big 300000] [--runs 1]
                      [--only c-floor,reader,lake] [--lag-rate 100] [--lag-seconds 20] [--profile FILE]

``--profile FILE`` also writes a cProfile of the ``reader`` pass over the first workload (sorted by
own time) to FILE. The sandbox lives in .derson/bench-cdc-sandbox and is left running for re-runs
(``kill $(cat .derson/bench-cdc-sandbox/mariadbd.pid)`` stops it). Timings are never tests.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import multiprocessing
import os
import platform
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

STAGES = ("c-floor", "lib", "reader", "lake-txn", "lake")
DEFAULT_STAGES = ("c-floor", "reader", "lake")
SCHEMA = "bench_cdc"
DDL = f"""CREATE TABLE {SCHEMA}.t (
  id BIGINT PRIMARY KEY, a INT NOT NULL, b CHAR(32) NOT NULL, c DOUBLE NOT NULL, d DATETIME NOT NULL,
  e DECIMAL(12,2) NOT NULL, f VARCHAR(200) NOT NULL) ENGINE=InnoDB"""
ROW = """base + i, i % 100000, md5(i), i / 7.0, '2020-01-01' + INTERVAL i SECOND, (i % 1000000) / 100,
  concat(repeat('x', i % 50), md5(i))"""
PROC = f"""CREATE PROCEDURE {SCHEMA}.churn(base BIGINT, n INT, txn INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  START TRANSACTION;
  WHILE i < n DO
    INSERT INTO {SCHEMA}.t VALUES ({ROW});
    SET i = i + 1;
    IF i % txn = 0 THEN COMMIT; START TRANSACTION; END IF;
  END WHILE;
  COMMIT;
  SET i = 0;
  START TRANSACTION;
  WHILE i < n DIV 2 DO
    UPDATE {SCHEMA}.t SET a = a + 1, f = 'updated' WHERE id = base + i;
    SET i = i + 1;
    IF i % txn = 0 THEN COMMIT; START TRANSACTION; END IF;
  END WHILE;
  COMMIT;
  SET i = 0;
  START TRANSACTION;
  WHILE i < n DIV 4 DO
    DELETE FROM {SCHEMA}.t WHERE id = base + n - 1 - i;
    SET i = i + 1;
    IF i % txn = 0 THEN COMMIT; START TRANSACTION; END IF;
  END WHILE;
  COMMIT;
END"""


ISSUE_DDL = f"""CREATE TABLE {SCHEMA}.t4 (
  id BIGINT PRIMARY KEY, a INT NOT NULL, b VARCHAR(32) NOT NULL, c DOUBLE NOT NULL) ENGINE=InnoDB"""
ISSUE_PROC = f"""CREATE PROCEDURE {SCHEMA}.singles(base BIGINT, n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  WHILE i < n DO
    INSERT INTO {SCHEMA}.t4 VALUES (base + i, i, md5(i), i / 7.0);
    SET i = i + 1;
  END WHILE;
END"""


# -- the source ---------------------------------------------------------------------------------------
def sandbox():
    from dersonlake.sandbox.server import Sandbox

    box = Sandbox(ROOT / ".derson" / "bench-cdc-sandbox")
    box.start()
    return box


def prepare(box) -> None:
    with box.admin_connection() as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {SCHEMA}")
        cur.execute(f"CREATE DATABASE {SCHEMA}")
        cur.execute(DDL)
        cur.execute(PROC)
        cur.execute(ISSUE_DDL)
        cur.execute(ISSUE_PROC)
        cur.execute("FLUSH BINARY LOGS")


def write_load(box, params, sizes: list[int], rows: int) -> dict[str, tuple]:
    """{label: (start, stop, row changes, seconds)} of one CALL per transaction size."""
    from dersonlake.sources.mysql.binlog import current_position

    spans = {}
    with box.admin_connection() as conn, conn.cursor() as cur:
        for k, size in enumerate(sizes):
            start = current_position(params)
            began = time.perf_counter()
            cur.execute(f"CALL {SCHEMA}.churn(%s, %s, %s)", ((k + 1) * 100_000_000, rows, size))
            took = time.perf_counter() - began
            spans[f"txn {size}"] = (start, current_position(params), rows + rows // 2 + rows // 4, took)
    return spans


def write_issue_load(box, params, single: int, big: int) -> dict[str, tuple]:
    """The issue's workloads: ``single`` autocommit one-row INSERTs, then one UPDATE of ``big`` rows
    (the table topped up to ``big`` rows first, outside the measured span). Each span starts a new
    binlog file, so mariadb-binlog can read it with --start/--stop-position."""
    from dersonlake.sources.mysql.binlog import current_position

    spans = {}
    with box.admin_connection() as conn, conn.cursor() as cur:
        start = current_position(params)
        began = time.perf_counter()
        cur.execute(f"CALL {SCHEMA}.singles(%s, %s)", (0, single))
        took = time.perf_counter() - began
        spans["1-row txns"] = (start, current_position(params), single, took)
        if big > single:
            top_up = f"SELECT seq, seq, md5(seq), seq / 7.0 FROM seq.seq_{single}_to_{big - 1}"
            cur.execute(f"INSERT INTO {SCHEMA}.t4 {top_up}")
        cur.execute("FLUSH BINARY LOGS")
        start = current_position(params)
        began = time.perf_counter()
        cur.execute(f"UPDATE {SCHEMA}.t4 SET a = a + 1")
        took = time.perf_counter() - began
        spans["one UPDATE"] = (start, current_position(params), cur.rowcount, took)
    return spans


# -- the readers --------------------------------------------------------------------------------------
def read_lib(params, start, stop) -> int:
    from pymysqlreplication import BinLogStreamReader
    from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

    stream = BinLogStreamReader(
        connection_settings={"host": params.host, "port": params.port, "user": params.user,
                             "password": params.password},
        server_id=4242, log_file=start.file, log_pos=start.pos, resume_stream=True, blocking=False,
        end_log_pos=stop.pos if stop.file == start.file else None,
        only_events=[WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent], enable_logging=False,
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


def read_ours(params, start, stop, table: str) -> int:
    from dersonlake.sources.mysql.binlog import BinlogReader, Change

    return sum(isinstance(item, Change) for item in BinlogReader(params, [(SCHEMA, table)], start, stop=stop))


def read_c_floor(params, start, stop, expected: int) -> int:
    """mariadb-binlog decoding the span to /dev/null (it prints rows, it does not count them: the
    count is the workload's; the password goes through MYSQL_PWD, not argv)."""
    import shutil
    import subprocess

    tool = shutil.which("mariadb-binlog") or shutil.which("mysqlbinlog")
    if tool is None:
        raise SystemExit("mariadb-binlog not found (apt-get install mariadb-client)")
    if start.file != stop.file:
        raise SystemExit(f"the span {start}..{stop} crosses files; mariadb-binlog reads one here")
    cmd = [tool, "--read-from-remote-server", f"--host={params.host}", f"--port={params.port}",
           f"--user={params.user}", f"--start-position={start.pos}", f"--stop-position={stop.pos}",
           "-v", "--base64-output=DECODE-ROWS", start.file]  # fmt: skip
    env = {**os.environ, "MYSQL_PWD": params.password}
    subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True, env=env)
    return expected


class Lake:
    """An owner folder, store and lake in a temporary directory, pointing at the sandbox."""

    def __init__(self, box, root: Path, s3: dict) -> None:
        import yaml

        from dersonlake.config import load_owner
        from dersonlake.replication.prepared_owner import prepare as prepare_owner
        from dersonlake.replication.store import ReplicationStore

        folder = root / "owners" / "bench"
        folder.mkdir(parents=True)
        doc = {
            "source": {"engine": "mariadb", "host": "127.0.0.1", "port": box.port,
                       "user": box.replication_user, "password_file": str(box.password_file),
                       "databases": [SCHEMA]},
            "target": {"uri": str(root / "lake"), "s3_settings": {"DataFormat": "parquet", **s3}},
            "migration_type": "full-load-and-cdc",
        }  # fmt: skip
        (folder / "owner.yaml").write_text(yaml.safe_dump(doc))
        rule = {"rule-type": "selection", "rule-id": "1", "rule-name": "t", "rule-action": "include",
                "object-locator": {"schema-name": SCHEMA, "table-name": "t%"}}  # fmt: skip
        (folder / "mapping.json").write_text(json.dumps({"rules": [rule]}))
        (folder / "task_settings.json").write_text("{}")
        self.run = prepare_owner(load_owner("bench", root / "owners"))
        self.store = ReplicationStore(root / "replication.sqlite")
        self.root = root
        self.tasks = 0

    def cdc_run(self, start, stop=None):
        from dersonlake.replication.cdc import CdcCapture
        from dersonlake.replication.task import create_task

        self.tasks += 1
        arn = create_task(
            self.store, f"bench-{self.tasks}", migration_type="cdc",
            table_mappings=json.dumps(self.run.owner.mapping), settings_json=self.run.settings.to_json(),
        )  # fmt: skip
        catalog = self.run.catalog()
        return CdcCapture(
            arn=arn, plan=self.run.plan(catalog, "cdc"), catalog=catalog, endpoint=self.run.source(),
            storage=self.run.storage(), s3=self.run.s3, store=self.store, start=start, stop=stop,
        )  # fmt: skip


def read_lake(lake: Lake, start, stop, batch_commits: bool = True) -> int:
    run = lake.cdc_run(start, stop)
    run.batch_commits = batch_commits
    return run.run().changes


# -- lag ----------------------------------------------------------------------------------------------
def lag_writer(directory: str, rate: float, seconds: float, out: str) -> None:
    """Child process: ``rate`` transactions/s of 5 INSERTs then an UPDATE of those 5 rows setting
    ``a`` = the transaction number; writes {number: COMMIT-returned epoch time} to ``out``."""
    from dersonlake.sandbox.server import Sandbox

    box = Sandbox(Path(directory))
    done: dict[int, float] = {}
    base = 900_000_000
    insert = f"INSERT INTO {SCHEMA}.t VALUES (%s, 0, md5(%s), %s, %s, %s, %s)"
    update = f"UPDATE {SCHEMA}.t SET a = %s WHERE id BETWEEN %s AND %s"
    with box.admin_connection() as conn, conn.cursor() as cur:
        began = time.time()
        n = 0
        while time.time() - began < seconds:
            n += 1
            ids = [base + n * 5 + j for j in range(5)]
            cur.execute("BEGIN")
            cur.executemany(
                insert, [(i, i, i / 7, "2020-01-01 00:00:00", i % 10_000, f"row {i}") for i in ids]
            )
            cur.execute(update, (n, ids[0], ids[-1]))
            conn.commit()
            done[n] = time.time()
            pause = began + n / rate - time.time()
            if pause > 0:
                time.sleep(pause)
    Path(out).write_text(json.dumps(done))


def measure_lag(box, lake: Lake, rate: float, seconds: float) -> dict:
    """The continuous loop (module docstring) against a paced writer; lag per transaction."""
    from dersonlake.replication.cdc import CdcCheckpoint, CdcOutcome
    from dersonlake.sources.mysql.binlog import BinlogReader, Change, Checkpoint, Commit, current_position

    params = lake.run.source()
    start = current_position(params)
    run = lake.cdc_run(start)
    outcome = CdcOutcome(checkpoint=CdcCheckpoint(start))
    tables = run._tables(outcome.checkpoint, outcome)  # the bounded run's own pieces, driven continuously
    out = str(lake.root / "lag-commits.json")
    writer = multiprocessing.get_context("spawn").Process(
        target=lag_writer, args=(str(box.dir), rate, seconds, out)
    )
    writer.start()
    seen: dict[int, float] = {}
    unflushed: set[int] = set()
    deadline = time.time() + seconds + 15

    def should_stop() -> bool:
        return (not writer.is_alive() and not unflushed and Path(out).exists()) or time.time() > deadline

    def flush(position) -> None:
        run._checkpoint(tables, position, outcome)
        visible = time.time()
        for n in unflushed:
            seen.setdefault(n, visible)
        unflushed.clear()

    reader = BinlogReader(params, [t.source for t in tables.values()], start, blocking=True,
                          should_stop=should_stop, heartbeat=0.25)  # fmt: skip
    for item in reader:
        if isinstance(item, Change):
            tables[(item.schema, item.table)].pending.append(item)
            if item.op == "U":
                unflushed.add(item.after["a"])
        elif isinstance(item, Commit):
            run._committed(tables, item, outcome)
            if any(run.flush_due(t) for t in tables.values()):
                flush(item.position)
        elif isinstance(item, Checkpoint) and any(run.flush_due(t) for t in tables.values()):
            flush(item.position)
    flush(reader.position)
    writer.join()
    commits = {int(k): v for k, v in json.loads(Path(out).read_text()).items()}
    lags = sorted(seen[n] - t for n, t in commits.items() if n in seen)
    return {
        "transactions": len(commits),
        "seen": len(lags),
        "p50": statistics.median(lags) if lags else float("nan"),
        "p99": lags[min(len(lags) - 1, int(len(lags) * 0.99))] if lags else float("nan"),
        "max": lags[-1] if lags else float("nan"),
    }


# -- report -------------------------------------------------------------------------------------------
def machine() -> str:
    cores = os.cpu_count()
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.platform()}, {cores} cores, Python {platform.python_version()}, "
        f"load average {load} at the start"
    )


def stage_reader(stage: str, params, lake: Lake, start, stop, table: str, expected: int):
    """The read of one stage over [start, stop), as a function of no arguments."""
    if stage == "c-floor":
        return lambda: read_c_floor(params, start, stop, expected)
    if stage == "lib":
        return lambda: read_lib(params, start, stop)
    if stage in ("lake", "lake-txn"):
        return lambda: read_lake(lake, start, stop, batch_commits=stage == "lake")
    return lambda: read_ours(params, start, stop, table)


def timed(fn, runs: int):
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - began)
    return result, statistics.median(times), times


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--workload", choices=("issue", "churn"), default="issue")
    parser.add_argument("--single", type=int, default=100_000, help="issue: single-row transactions")
    parser.add_argument("--big", type=int, default=300_000, help="issue: rows of the one UPDATE")
    parser.add_argument("--rows", type=int, default=20_000, help="churn: INSERTs per transaction size")
    parser.add_argument("--txn", default="1,10,100,1000", help="churn: transaction sizes (rows)")
    parser.add_argument("--runs", type=int, default=1, help="reads per stage (median)")
    parser.add_argument("--only", default=",".join(DEFAULT_STAGES), help=f"stages, of {', '.join(STAGES)}")
    parser.add_argument("--lag-rate", type=float, default=100.0, help="transactions/s (10 row changes)")
    parser.add_argument("--lag-seconds", type=float, default=20.0, help="0 skips the lag measurement")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the reader (first workload) here")
    args = parser.parse_args()
    stages = [s for s in args.only.split(",") if s]
    print(f"machine: {machine()}", file=sys.stderr)
    from dersonlake.sources.mysql.binlog_rows_event import row_decoder_name

    print(f"row decoder: {row_decoder_name()}", file=sys.stderr)
    box = sandbox()
    params = box.params([SCHEMA])
    prepare(box)
    if args.workload == "issue":
        print(f"writing {args.single:,} single-row transactions, then one UPDATE of {args.big:,} rows...",
              file=sys.stderr)  # fmt: skip
        spans = write_issue_load(box, params, args.single, args.big)
        table = "t4"
    else:
        sizes = [int(x) for x in args.txn.split(",") if x]
        print(f"writing {args.rows:,} inserts + updates + deletes per transaction size...", file=sys.stderr)
        spans = write_load(box, params, sizes, args.rows)
        table = "t"
    rates: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory(prefix="bench-cdc-") as tmp:
        lake = Lake(box, Path(tmp), {})
        for label, (start, stop, expected, took) in spans.items():
            rates[(label, "source")] = expected / took
            print(f"  {label:12} source      {expected:>8,} changes {took:6.2f} s", file=sys.stderr)
            for stage in stages:
                read = stage_reader(stage, params, lake, start, stop, table, expected)
                got, median, times = timed(read, args.runs)
                if got != expected:
                    raise SystemExit(f"{stage} read {got} changes of {label}, expected {expected}")
                rates[(label, stage)] = expected / median
                shown = "/".join(f"{t:.2f}" for t in times)
                print(
                    f"  {label:12} {stage:11} {expected:>8,} changes {median:6.2f} s ({shown})",
                    file=sys.stderr,
                )
        if args.profile:
            start, stop, _e, _t = next(iter(spans.values()))
            profile = cProfile.Profile()
            profile.runcall(read_ours, params, start, stop, table)
            text = io.StringIO()
            pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(25)
            args.profile.write_text(text.getvalue())
        lag = None
        if args.lag_seconds > 0:
            print(f"lag: {args.lag_rate:g} txn/s for {args.lag_seconds:g} s...", file=sys.stderr)
            lag = measure_lag(box, Lake(box, Path(tmp) / "lag", {"CdcMaxBatchInterval": 1}), args.lag_rate,
                              args.lag_seconds)  # fmt: skip
    report(list(spans), stages, rates, lag, args)


def report(labels, stages, rates, lag, args) -> None:
    print(
        "Row changes/s, every stage over the same binlog span (x = / source; c-floor = mariadb-binlog -v)\n"
    )
    head = ["workload", "source", *stages, *(f"{s} / source" for s in stages if s != "c-floor")]
    if "c-floor" in stages:
        head += [f"{s} / c-floor" for s in stages if s != "c-floor"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for label in labels:
        src = rates[(label, "source")]
        cells = [label, f"{src:,.0f}"]
        cells += [f"{rates[(label, s)]:,.0f}" for s in stages]
        cells += [f"{rates[(label, s)] / src:.2f}x" for s in stages if s != "c-floor"]
        if "c-floor" in stages:
            floor = rates[(label, "c-floor")]
            cells += [f"{rates[(label, s)] / floor:.2f}x" for s in stages if s != "c-floor"]
        print("| " + " | ".join(cells) + " |")
    if lag:
        print(
            f"\nLag at CdcMaxBatchInterval=1, {args.lag_rate:g} transactions/s of 10 row changes for "
            f"{args.lag_seconds:g} s: p50 {lag['p50']:.2f} s, p99 {lag['p99']:.2f} s, max {lag['max']:.2f} s "
            f"({lag['seen']} of {lag['transactions']} transactions seen)"
        )


if __name__ == "__main__":
    main()
