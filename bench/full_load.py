"""Full-load benchmark: Derson Lake next to its peers, in one run, as ratios.

Two cases: one table of N rows (``--rows N``), and a whole OLTP-shaped database of 22 tables
(``--multi SCALE``: bench/multi_schema.py, 3,966,283 rows at scale 1). Each method runs in its own
child process against the same warm tables in a private sandbox, timed from the process's start to
its exit (interpreter start-up and imports included); the child reports its peak RSS (for the
mariadb client, the client's). The runs of a case are interleaved (run 1 of every method, then
run 2...), so a change in the machine's load touches every method alike. Methods:

  ours          derson-lake's full-load task -> Parquet (DMS default settings: uncompressed)
  dlt-cx        dlt sql_database, connectorx backend -> filesystem Parquet
  dlt-arrow     dlt sql_database, pyarrow backend -> filesystem Parquet
  mariadb-cli   `mariadb --quick --batch` to /dev/null (protocol floor, no file)
  cx-floor      bare connectorx read of the whole table + pyarrow write, uncompressed (library floor)

  python bench/full_load.py --multi 0.1 --runs 3 --rows 1000000 --runs 3 [--only ours,cx-floor]
                            [--write]  (--only and --runs apply to the --multi/--rows in the same position)

Needs the bench extra for dlt: pip install -e '.[bench]'. Timings are never pass/fail tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import multi_schema  # noqa: E402  (bench/ is the script's folder, first on sys.path)

METHODS = ("ours", "dlt-cx", "dlt-arrow", "mariadb-cli", "cx-floor")
MULTI_METHODS = ("ours", "dlt-cx", "mariadb-cli", "cx-floor")
SPATIAL = {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon"}
DDL = """CREATE TABLE IF NOT EXISTS bench.{name} (
  id BIGINT PRIMARY KEY, a INT NOT NULL, b CHAR(32) NOT NULL, c DOUBLE NOT NULL, d DATETIME NOT NULL,
  e DECIMAL(12,2) NOT NULL, f VARCHAR(200) NOT NULL) ENGINE=InnoDB"""
FILL = """INSERT INTO bench.{name} SELECT seq, seq % 100000, md5(seq), seq / 7.0,
  '2020-01-01' + INTERVAL (seq % 100000000) SECOND, (seq % 1000000) / 100,
  concat(repeat('x', seq % 50), md5(seq), sha1(seq)) FROM seq_1_to_{rows}"""


# -- parent ---------------------------------------------------------------------------------------


def sandbox():
    from dersonlake.sandbox.server import Sandbox

    box = Sandbox(ROOT / ".derson" / "bench-sandbox", server_args=("--innodb-buffer-pool-size=3G",))
    box.start()
    return box


def ensure_table(box, rows: int) -> str:
    name = f"t_{rows}"
    with box.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE IF NOT EXISTS bench")
        cur.execute("USE bench")
        cur.execute(DDL.format(name=name))
        cur.execute(f"SELECT COUNT(*) FROM bench.{name}")
        if cur.fetchone()[0] != rows:
            print(f"building bench.{name} ({rows:,} rows)...", file=sys.stderr)
            cur.execute(f"TRUNCATE bench.{name}")
            cur.execute("SET SESSION sql_log_bin = 0")
            cur.execute(FILL.format(name=name, rows=rows))
            cur.execute(f"ANALYZE TABLE bench.{name}")
        cur.execute(f"SELECT SUM(LENGTH(f)) FROM bench.{name}")  # warm the buffer pool
    return name


def run_child(method: str, box, database: str, tables: list[str], out: Path) -> dict:
    args = [
        sys.executable,
        __file__,
        "--child",
        method,
        "--database",
        database,
        "--tables",
        ",".join(tables),
        "--out",
        str(out),
        "--port",
        str(box.port),
        "--user",
        box.replication_user,
        "--password-file",
        str(box.password_file),
    ]
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{method} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "inner": result["seconds"], "seconds": wall}  # the whole process, start-up included


def measure(methods, box, database, tables, rows, runs) -> dict[str, dict]:
    """Every method ``runs`` times, interleaved: run 1 of each method, then run 2 of each..."""
    all_samples: dict[str, list[dict]] = {m: [] for m in methods}
    for i in range(runs):
        for method in methods:
            out = Path(tempfile.mkdtemp(prefix=f"bench-{method}-"))
            try:
                sample = run_child(method, box, database, tables, out)
            finally:
                shutil.rmtree(out, ignore_errors=True)
            all_samples[method].append(sample)
            print(f"  run {i + 1}: {method:<12} {sample['seconds']:7.2f}s", file=sys.stderr)
    results = {}
    for method, samples in all_samples.items():
        seconds = statistics.median(s["seconds"] for s in samples)
        results[method] = {
            "seconds": seconds,
            "runs": [round(s["seconds"], 2) for s in samples],
            "rows": samples[0]["rows"],
            "bytes": samples[0]["bytes"],
            "rss_mb": max(s["rss_mb"] for s in samples),
        }
        assert samples[0]["rows"] == rows, f"{method} read {samples[0]['rows']} rows, not {rows}"
        print(f"  {method:<12} {seconds:7.2f}s {results[method]['runs']}", file=sys.stderr)
    return results


def report(title: str, results: dict[str, dict]) -> str:
    ours = results.get("ours")
    lines = [
        f"### {title}",
        "",
        "| method | median s (runs) | rows/s | MB/s written | peak RSS MB | ours vs it |",
        "|---|---|---|---|---|---|",
    ]
    for method, r in results.items():
        rate = r["rows"] / r["seconds"]
        mbps = f"{r['bytes'] / r['seconds'] / 1e6:.1f}" if r["bytes"] else "-"
        ratio = f"{r['seconds'] / ours['seconds']:.2f}x" if ours and method != "ours" else ""
        runs = "/".join(f"{x:.2f}" for x in r["runs"])
        lines.append(
            f"| {method} | {r['seconds']:.2f} ({runs}) | {rate:,.0f} | {mbps} | {r['rss_mb']:.0f} | {ratio} |"
        )
    return "\n".join(lines)


def write_doc(sections: list[str], command: str) -> None:
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    head, marker, rest = text.partition("## Full load")
    tail = rest[rest.find("\n## ") :] if marker and "\n## " in rest else ""
    body = (
        "## Full load\n\n"
        "The 22-table database of bench/multi_schema.py and one table of 7 mixed columns (BIGINT PK,\n"
        "INT, CHAR(32), DOUBLE, DATETIME, DECIMAL(12,2), VARCHAR(200)), warm in MariaDB 10.11's buffer\n"
        "pool, server and client on the same 2 cores. Each method runs in its own process, timed from\n"
        "its start to its exit, runs interleaved; peak RSS includes the interpreter and imports.\n"
        '"ours vs it" is the other method\'s time divided by ours (above 1: we are faster).\n\n'
        + "\n\n".join(sections)
        + f"\n\nReproduce: `{command}`\n"
    )
    doc.write_text(head.rstrip() + "\n\n" + body + tail)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows",
        type=lambda v: ("table", int(v)),
        dest="cases",
        action="append",
        help="one table of this size (repeatable)",
    )
    parser.add_argument(
        "--multi",
        type=lambda v: ("multi", float(v)),
        dest="cases",
        action="append",
        help="the 22-table database at this scale (1 = 3,966,283 rows; repeatable)",
    )
    parser.add_argument("--only", action="append", help="comma-separated methods for the matching --rows")
    parser.add_argument(
        "--runs", type=int, action="append", help="runs per method for the matching --rows (3)"
    )
    parser.add_argument("--write", action="store_true", help="write the results into docs/benchmarks.md")
    parser.add_argument("--child")
    parser.add_argument("--database")
    parser.add_argument("--tables")
    parser.add_argument("--out")
    parser.add_argument("--port", type=int)
    parser.add_argument("--user")
    parser.add_argument("--password-file")
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    cases = args.cases or [("table", 1_000_000)]
    only = args.only or []
    runs = args.runs or [3]
    box = sandbox()
    sections = []
    for i, (kind, size) in enumerate(cases):
        n_runs = runs[min(i, len(runs) - 1)]
        if kind == "multi":
            scale = size
            methods = only[i].split(",") if i < len(only) else list(MULTI_METHODS)
            with box.admin_connection() as conn:
                sizes = multi_schema.build(conn, scale, log=lambda m: print(m, file=sys.stderr))
                multi_schema.warm(conn, scale)
            database, tables, rows = multi_schema.database(scale), list(sizes), sum(sizes.values())
            title = f"{len(tables)} tables, {rows:,} rows (multi-table database, scale {scale:g})"
        else:
            rows = int(size)
            methods = only[i].split(",") if i < len(only) else list(METHODS)
            database, tables, title = "bench", [ensure_table(box, rows)], f"{rows:,} rows"
        print(f"{title}: {', '.join(methods)}", file=sys.stderr)
        sections.append(report(title, measure(methods, box, database, tables, rows, n_runs)))
    text = "\n\n".join(sections)
    print(text)
    if args.write:
        write_doc(
            sections, "python bench/full_load.py " + " ".join(sys.argv[1:]).replace("--write", "").strip()
        )


# -- child: one method, one run -------------------------------------------------------------------


def child(args) -> None:
    password = Path(args.password_file).read_text().strip()
    out = Path(args.out)
    started = time.perf_counter()
    rows = {
        "ours": run_ours,
        "dlt-cx": run_dlt,
        "dlt-arrow": run_dlt,
        "mariadb-cli": run_cli,
        "cx-floor": run_cx,
    }[args.child](args, password, out)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file() and p.suffix == ".parquet")
    import resource

    who = resource.RUSAGE_CHILDREN if args.child == "mariadb-cli" else resource.RUSAGE_SELF
    rss = resource.getrusage(who).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rows": rows, "bytes": size, "rss_mb": rss}))


def run_ours(args, password: str, out: Path) -> int:
    import yaml

    from dersonlake.config import load_owner
    from dersonlake.replication import ReplicationTask, StartRequest, TaskResources, create_task
    from dersonlake.replication.prepared_owner import prepare
    from dersonlake.replication.store import ReplicationStore

    owner = out / "owners" / "bench"
    owner.mkdir(parents=True)
    (out / "pw").write_text(password)
    (owner / "owner.yaml").write_text(
        yaml.safe_dump(
            {
                "source": {
                    "engine": "mariadb",
                    "host": "127.0.0.1",
                    "port": args.port,
                    "user": args.user,
                    "password_file": str(out / "pw"),
                    "databases": [args.database],
                },
                "target": {"uri": str(out / "lake"), "s3_settings": {"DataFormat": "parquet"}},
                "migration_type": "full-load",
            }
        )
    )
    (owner / "mapping.json").write_text(
        json.dumps(
            {
                "rules": [
                    {
                        "rule-type": "selection",
                        "rule-id": "1",
                        "rule-name": "t",
                        "object-locator": {
                            "schema-name": args.database,
                            "table-name": args.tables if "," not in args.tables else "%",
                        },
                        "rule-action": "include",
                    }
                ]
            }
        )
    )
    run = prepare(load_owner("bench", out / "owners"))
    params = run.source()
    store = ReplicationStore(out / "state.sqlite")
    arn = create_task(
        store, "bench", migration_type="full-load", table_mappings="{}", settings_json=run.settings.to_json()
    )
    timeline = Timeline() if os.environ.get("BENCH_TIMELINE") else None
    resources = TaskResources(
        owner=None,
        source=params,
        storage=run.storage(),
        s3=run.s3,
        discover=lambda: run.catalog(params),
        plan=lambda c, _migration: run.plan(c, "full-load"),
        checkpoint=None,
        progress=timeline,
    )
    outcome = ReplicationTask(store, arn, resources).start(StartRequest("start-replication")).full_load
    assert outcome.failure is None and not outcome.tables_errored, outcome
    if timeline is not None:
        timeline.write(Path(os.environ["BENCH_TIMELINE"]))
    return outcome.rows


class Timeline:
    """A Progress that notes when each table starts and ends (``BENCH_TIMELINE=file.json``: where the
    time of our run goes, table by table)."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.tables: dict[str, dict] = {}

    def table_started(self, table, estimated_rows: int) -> None:
        self.tables[table.source] = {"start": time.perf_counter() - self.t0, "estimated": estimated_rows}

    def rows_loaded(self, table, rows: int) -> None:
        pass

    def file_committed(self, table, file) -> None:
        pass

    def table_finished(self, table, state: str, rows: int, error: str | None) -> None:
        entry = self.tables.setdefault(table.source, {"start": None})
        entry.update(end=time.perf_counter() - self.t0, rows=rows)

    def write(self, path: Path) -> None:
        path.write_text(json.dumps({"total": time.perf_counter() - self.t0, "tables": self.tables}, indent=1))


def run_dlt(args, password: str, out: Path) -> int:
    import dlt
    import sqlalchemy as sa
    from dlt.sources.sql_database import sql_database

    def no_decimal_doubles(table):  # reference/deps.md §2: else DOUBLE becomes decimal
        for col in table.columns:
            if isinstance(col.type, sa.Float):
                col.type.asdecimal = False

    url = (  # SQLAlchemy reflects the tables
        f"mysql+pymysql://{args.user}:{password}@127.0.0.1:{args.port}/{args.database}"
    )
    if args.child == "dlt-cx":  # connectorx reads with its own URL (dlt's default: the whole table at once)
        kwargs = {
            "backend": "connectorx",
            "backend_kwargs": {"conn": url.replace("mysql+pymysql", "mysql")},
            "query_adapter_callback": spatial_as_binary,
        }
    else:
        kwargs = {"backend": "pyarrow", "table_adapter_callback": no_decimal_doubles}
    tables = args.tables.split(",")
    source = sql_database(credentials=url, table_names=tables, chunk_size=50_000, **kwargs)
    os.environ["DLT_DATA_DIR"] = str(out / "dlt-data")
    pipeline = dlt.pipeline(
        pipeline_name="bench",
        destination=dlt.destinations.filesystem(str(out / "lake")),
        dataset_name="bench",
        pipelines_dir=str(out / "dlt-pipelines"),
    )
    info = pipeline.run(source, loader_file_format="parquet")
    assert not info.has_failed_jobs
    counts = pipeline.last_trace.last_normalize_info.row_counts
    return sum(counts.get(t, 0) for t in tables)


def spatial_as_binary(query, table):
    """connectorx panics on GEOMETRY: select spatial columns (unknown to SQLAlchemy) as binary."""
    import sqlalchemy as sa

    if not any(isinstance(c.type, sa.types.NullType) for c in table.c):
        return query
    cols = [
        sa.cast(c, sa.LargeBinary).label(c.name) if isinstance(c.type, sa.types.NullType) else c
        for c in table.c
    ]
    return sa.select(*cols).select_from(table)


def run_cli(args, password: str, out: Path) -> int:
    env = {**os.environ, "MYSQL_PWD": password}
    cmd = [
        "mariadb",
        "--no-defaults",
        "-h127.0.0.1",
        f"-P{args.port}",
        f"-u{args.user}",
        "--quick",
        "--batch",
        "--skip-column-names",
        "-e",
        "; ".join(f"SELECT * FROM {args.database}.{t}" for t in args.tables.split(",")),
    ]
    with open(os.devnull, "wb") as sink:
        subprocess.run(cmd, env=env, stdout=sink, check=True)
    total = " + ".join(f"(SELECT COUNT(*) FROM {args.database}.{t})" for t in args.tables.split(","))
    count = subprocess.run([*cmd[:-1], f"SELECT {total}"], env=env, capture_output=True, check=True)
    return int(count.stdout)


def run_cx(args, password: str, out: Path) -> int:
    import connectorx as cx
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    url = f"mysql://{args.user}:{password}@127.0.0.1:{args.port}/{args.database}"
    columns = cx.read_sql(  # connectorx panics on GEOMETRY: those columns are selected as binary
        url,
        "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE FROM information_schema.COLUMNS"
        f" WHERE TABLE_SCHEMA = '{args.database}' ORDER BY TABLE_NAME, ORDINAL_POSITION",
        return_type="arrow",
    ).to_pylist()
    rows = 0
    for name in args.tables.split(","):  # table by table, each read whole, then written
        select = ", ".join(
            f"CAST(`{c['COLUMN_NAME']}` AS BINARY) AS `{c['COLUMN_NAME']}`"
            if c["DATA_TYPE"] in SPATIAL
            else f"`{c['COLUMN_NAME']}`"
            for c in columns
            if c["TABLE_NAME"] == name
        )
        table = cx.read_sql(url, f"SELECT {select} FROM {name}", return_type="arrow")
        pq.write_table(table, out / f"{name}.parquet", compression="none")
        rows += table.num_rows
        del table
    return rows


if __name__ == "__main__":
    main()
