"""SIGKILL at many instants of real runs, each followed by a resume and an exactness check.

A writer thread changes the source (inserts, updates, deletes, primary-key updates, multi-statement
transactions; seeded, so a failure can be replayed) while ``derson-lake load <owner> --delta`` runs
in a child process that is killed with SIGKILL at a random (seeded) instant inside a chosen phase:

* ``full load``: the task is loading (no checkpoint yet: the next run loads again);
* ``handoff``: the full load is committed and the first CDC read of the changes made during it runs;
* ``cdc``: a later delta run (from the checkpoint);
* ``after a CDC file``: right after a CDC file's commit, before the checkpoint covering it
  (``crash_child.py`` steers that instant; random kills rarely hit it);
* ``stream``: ``derson-lake stream``, killed up to 2 s into its continuous capture.

The phase is seen from the replication store, as the child writes it, so each kill lands where it
is meant to. After each kill the writer pauses, a resumed ``--delta`` run goes to the source's
position now, and the lake's merged state (LOAD, then CDC files in name order; upsert by key,
deletes applied) must equal the source, with no CDC row event written twice (the rows event's
``$AR_H_STREAM_POSITION``, the key and ``Op`` identify it).

The owner of the 30-point test keeps Iceberg tables (``target.tables: iceberg``): after each resume
every Iceberg table, read with plain pyiceberg through ``derson-lake lake catalog``'s properties,
equals the source too, and no batch is applied twice: the CDC snapshots' recorded binlog positions,
collected at every check (the table expires old snapshots), strictly increase per table. To keep the
test's time down, Iceberg is on for half the kill points (``ICEBERG_AT``, every phase).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from pyiceberg.catalog import load_catalog

from dersonlake.config.s3_settings import normalize_s3_settings
from dersonlake.lake.current_state import current_state
from dersonlake.lake.storage import LocalStorage
from dersonlake.replication.iceberg_sync import OPERATION, POSITION
from dersonlake.replication.store import ReplicationStore
from dersonlake.sandbox.seed import seed
from dersonlake.sources.mysql.binlog_position import BinlogPosition
from tests.replication.conftest import write_owner

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261125
TABLES = {"orders": ["id"], "customers": ["id"], "order_items": ["order_id", "line_no"]}
COMPARED = {
    "orders": "id, customer_id, amount, status, note",
    "customers": "id, email",
    "order_items": "order_id, line_no, qty",
}
PLAN = ["full load"] * 8 + ["handoff"] * 6 + ["cdc"] * 8 + ["after a CDC file"] * 4 + ["stream"] * 4
# Kill points whose runs keep Iceberg tables (half of them, each phase at least twice: 117 s against
# 92 s with none; Iceberg on at all 30 took 140 s against 82 s). It is switched on only where the run starts over (a full
# load rewrites the tables), so a "cdc" point keeps it only after a point that has it. Its "after a
# CDC file" points die right after a batch's Iceberg commit instead (before the checkpoint).
ICEBERG_AT = {4, 5, 6, 7, 11, 12, 13, 14, 15, 16, 17, 22, 23, 26, 27}


def mapping() -> dict:
    rules: list[dict] = [
        {
            "rule-type": "selection",
            "rule-id": str(i + 1),
            "rule-name": f"s{i}",
            "rule-action": "include",
            "object-locator": {"schema-name": "shop", "table-name": table},
        }
        for i, table in enumerate(TABLES)
    ]
    rules.append(
        {
            "rule-type": "transformation",
            "rule-id": "10",
            "rule-name": "pos",
            "rule-action": "add-column",
            "rule-target": "column",
            "object-locator": {"schema-name": "shop", "table-name": "%"},
            "value": "pos",
            "expression": "$AR_H_STREAM_POSITION",
            "data-type": {"type": "string", "length": 64},
        }
    )
    return {"rules": rules}


class Writer(threading.Thread):
    """Seeded random transactions on the source until stopped; ``paused`` holds it between them."""

    def __init__(self, box, rng: random.Random) -> None:
        super().__init__(daemon=True)
        self.box, self.rng = box, rng
        self.running = threading.Event()
        self.running.set()
        self.done = threading.Event()
        self.idle = threading.Event()
        self.error: BaseException | None = None
        self.next_id = 5_000_000
        self.transactions = 0

    def run(self) -> None:
        try:
            with self.box.admin_connection() as conn, conn.cursor() as cur:
                conn.autocommit(False)
                while not self.done.is_set():
                    if not self.running.is_set():
                        self.idle.set()
                        time.sleep(0.01)
                        continue
                    self.idle.clear()
                    for _ in range(self.rng.choice((1, 1, 2, 5, 20))):
                        self._statement(cur)
                    (conn.rollback if self.rng.random() < 0.05 else conn.commit)()  # some never appear
                    self.transactions += 1
                    time.sleep(0.002)
        except BaseException as exc:  # surfaced by the test
            self.error = exc
        finally:
            self.idle.set()

    def _statement(self, cur) -> None:
        r, rng = self.rng.random(), self.rng
        order = rng.randint(1, 8000)
        if r < 0.30:
            self.next_id += 1
            cur.execute(
                "INSERT INTO shop.orders (id, customer_id, amount, status, created_at, note)"
                " VALUES (%s, %s, %s, 'new', NOW(), %s)",
                (self.next_id, rng.randint(1, 100), rng.randint(1, 99999) / 100, f"w{self.next_id}"),
            )
        elif r < 0.55:
            cur.execute(
                "UPDATE shop.orders SET amount = amount + 1, status = %s WHERE id = %s",
                (rng.choice(("paid", "shipped", "cancelled")), order),
            )
        elif r < 0.65:
            cur.execute("DELETE FROM shop.orders WHERE id = %s", (order,))
        elif r < 0.70:  # a primary-key update: the lake must end without the old key
            self.next_id += 1
            cur.execute("UPDATE shop.orders SET id = %s WHERE id = %s", (self.next_id, order))
        elif r < 0.85:
            cur.execute(
                "UPDATE shop.order_items SET qty = qty + 1 WHERE order_id = %s", (rng.randint(1, 8000),)
            )
        else:
            customer = rng.randint(1, 100)
            cur.execute(
                "UPDATE shop.customers SET email = %s WHERE id = %s",
                (f"c{customer}-{self.transactions}-{rng.randint(0, 10**9)}@example.com", customer),
            )

    def pause(self) -> None:
        self.running.clear()
        self.idle.wait(30)
        assert self.idle.is_set(), "the writer did not pause"

    def resume(self) -> None:
        self.idle.clear()
        self.running.set()


def _env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DERSON_HOME": str(tmp_path / ".derson"), "PYTHONPATH": str(ROOT / "src")}


def _delta(
    tmp_path: Path, crash_after_files: int = 0, stream: bool = False, crash_after_iceberg: int = 0
) -> subprocess.Popen:
    env = _env(tmp_path)
    launcher = ["-m", "dersonlake"]
    if crash_after_files:
        launcher = [str(Path(__file__).with_name("crash_child.py"))]
        env["DERSON_CRASH_AFTER_CDC_FILES"] = str(crash_after_files)
    if crash_after_iceberg:
        launcher = [str(Path(__file__).with_name("crash_child.py"))]
        env["DERSON_CRASH_AFTER_ICEBERG_BATCHES"] = str(crash_after_iceberg)
    owners = str(tmp_path / "owners")
    command = ["stream", "acme"] if stream else ["load", "acme", "--delta"]
    return subprocess.Popen(
        [sys.executable, *launcher, *command, "--owners-dir", owners],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )


def _phase(tmp_path: Path) -> str | None:
    """What the child is doing now, read (read-only) from the replication store it writes:
    ``full load`` until the load is committed, then ``cdc`` while it reads the binlog (the handoff
    when that run began with a full load)."""
    path = tmp_path / ".derson" / "replication.sqlite"
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            task = db.execute("SELECT status, migration_type, full_load_finish FROM tasks").fetchone()
        finally:
            db.close()
    except sqlite3.OperationalError:  # being created
        return None
    if task is None or task[0] != "running":
        return None
    return "full load" if task[2] is None else "cdc"  # a (re)load clears full_load_finish


def _kill_in(
    tmp_path: Path, child: subprocess.Popen, phase: str, rng: random.Random, within: float = 0.0
) -> str:
    """SIGKILL ``child`` a random instant after it enters ``phase``; returns what happened."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if child.poll() is not None:
            return "finished before the kill"
        if _phase(tmp_path) == phase:
            time.sleep(rng.uniform(0, within or (0.25 if phase == "full load" else 0.15)))
            if child.poll() is not None:
                return "finished before the kill"
            child.send_signal(signal.SIGKILL)
            child.wait()
            return "killed"
        time.sleep(0.005)
    child.kill()
    raise AssertionError(f"the run never reached phase {phase!r}")


def _catalog_properties(tmp_path: Path) -> dict[str, str]:
    """What a user gets from ``derson-lake lake catalog acme`` (the CLI, run for real)."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dersonlake",
            "lake",
            "catalog",
            "acme",
            "--owners-dir",
            str(tmp_path / "owners"),
        ],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _check_iceberg(tmp_path: Path, box, props: dict[str, str], seen: dict[tuple[str, int], str]) -> None:
    """Each Iceberg table equals the source; its CDC snapshots (accumulated in ``seen``, keyed by
    table and sequence number) record strictly increasing binlog positions: none applied twice."""
    catalog = load_catalog("derson", **props)  # the SQL catalog keys tables by this name (docs/iceberg.md)
    with box.admin_connection() as conn, conn.cursor() as cur:
        for table in TABLES:
            columns = [c.strip() for c in COMPARED[table].split(",")]
            cur.execute(f"SELECT {COMPARED[table]} FROM shop.{table}")
            source = sorted(tuple(row) for row in cur.fetchall())
            ice = catalog.load_table(("shop", table))
            data = ice.scan(selected_fields=tuple(columns)).to_arrow()
            rows = sorted(zip(*(data[c].to_pylist() for c in columns), strict=True))
            assert rows == source, f"shop.{table}: the Iceberg table differs from the source"
            for snapshot in ice.snapshots():
                summary = snapshot.summary.additional_properties
                if summary.get(OPERATION) == "cdc":
                    seen[(table, snapshot.sequence_number)] = summary[POSITION]
            ordered = [pos for (name, _seq), pos in sorted(seen.items()) if name == table]
            keys = [BinlogPosition.parse(p).sort_key for p in ordered]
            repeated = [p for a, b, p in zip(keys, keys[1:], ordered[1:], strict=False) if b <= a]
            assert not repeated, (
                f"shop.{table}: batches applied twice (positions not increasing): {repeated[:5]}"
            )


def _check(tmp_path: Path, box) -> None:
    storage = LocalStorage(tmp_path / "lake")
    s3 = normalize_s3_settings({"DataFormat": "parquet"})
    with box.admin_connection() as conn, conn.cursor() as cur:
        for table, key in TABLES.items():
            columns = [c.strip() for c in COMPARED[table].split(",")]
            cur.execute(f"SELECT {COMPARED[table]} FROM shop.{table}")
            source = sorted(tuple(row) for row in cur.fetchall())
            lake_table = current_state(storage, "shop", table, key, s3)
            lake = sorted(zip(*(lake_table[c].to_pylist() for c in columns), strict=True))
            assert lake == source, f"shop.{table}: the lake's merged state differs from the source"
            events: Counter = Counter()
            for path in sorted((tmp_path / "lake" / "shop" / table).rglob("2*.parquet")):
                part = pq.read_table(path, columns=["Op", "pos", *key]).to_pylist()
                events.update(tuple(row.values()) for row in part)
            twice = [event for event, n in events.items() if n > 1]
            assert not twice, f"shop.{table}: CDC events written more than once: {twice[:5]}"


@pytest.mark.slow
def test_sigkill_at_30_points_then_resume_leaves_an_exact_lake(tmp_path, sandbox_factory):
    box = sandbox_factory("crash")
    with box.admin_connection() as conn:
        seed(conn, rows=8_000)
    folder = write_owner(
        tmp_path,
        box,
        mapping=mapping(),
        s3={"DataFormat": "parquet", "CdcMaxBatchInterval": 1, "CdcMinFileSize": 32},
        settings={"FullLoadSettings": {"MaxFullLoadSubTasks": 2}},
    )
    doc = yaml.safe_load((folder / "owner.yaml").read_text())
    (folder / "owner.yaml").write_text(yaml.safe_dump({**doc, "migration_type": "full-load-and-cdc"}))
    assert all(PLAN[i] != "cdc" or i - 1 in ICEBERG_AT for i in ICEBERG_AT)  # on after a full load only
    props: dict[str, str] | None = None
    positions: dict[tuple[str, int], str] = {}
    rng = random.Random(SEED)
    writer = Writer(box, random.Random(SEED + 1))
    writer.start()
    outcomes = []
    try:
        for i, phase in enumerate(PLAN):
            if phase != "cdc":
                _start_over(tmp_path)  # the next run is a first run again: full load, then its handoff
            _keep_iceberg(folder, i in ICEBERG_AT)
            writer.resume()
            if phase == "after a CDC file":  # between a file's commit and its checkpoint
                time.sleep(0.5)  # changes to capture
                n = rng.randint(1, 2)
                if i in ICEBERG_AT:  # between a batch's Iceberg commit and its checkpoint:
                    first = _delta(tmp_path)  # a first run, the writer going on after its end,
                    assert first.wait(300) == 0, first.communicate()
                    writer.pause()  # then the changes since, read by the killed run up to the
                    child = _delta(tmp_path, crash_after_iceberg=1)  # position the resumed run
                    # reads to as well, so re-applying its batch would repeat that position
                else:
                    child = _delta(tmp_path, crash_after_files=n)
                child.communicate(timeout=300)
                outcomes.append((phase, "killed" if child.returncode == -signal.SIGKILL else "finished"))
            elif phase == "stream":
                child = _delta(tmp_path, stream=True)
                outcomes.append((phase, _kill_in(tmp_path, child, "cdc", rng, within=2.0)))
            else:
                child = _delta(tmp_path)
                outcomes.append(
                    (phase, _kill_in(tmp_path, child, "cdc" if phase == "handoff" else phase, rng))
                )
            writer.pause()
            resumed = _delta(tmp_path)
            _out, err = resumed.communicate(timeout=300)
            assert resumed.returncode == 0, f"kill {i} ({phase}): the resumed run failed: {err[-2000:]}"
            assert writer.error is None, writer.error
            _check(tmp_path, box)
            if i in ICEBERG_AT:
                props = props or _catalog_properties(tmp_path)
                _check_iceberg(tmp_path, box, props, positions)
    finally:
        writer.done.set()
        writer.resume()
        writer.join(30)
    assert {table for table, _seq in positions} == set(TABLES), positions  # CDC batches reached them
    killed = Counter(phase for phase, what in outcomes if what == "killed")
    assert sum(killed.values()) >= 20, outcomes  # most kills land while the child runs
    assert all(killed[p] >= 3 for p in ("full load", "handoff", "cdc", "after a CDC file", "stream")), (
        outcomes
    )


def _keep_iceberg(folder: Path, on: bool) -> None:
    """Switch the owner's ``target.tables: iceberg`` (on only where the run starts with a full load)."""
    doc = yaml.safe_load((folder / "owner.yaml").read_text())
    target = {k: v for k, v in doc["target"].items() if k != "tables"}
    (folder / "owner.yaml").write_text(
        yaml.safe_dump({**doc, "target": {**target, **({"tables": "iceberg"} if on else {})}})
    )


def _start_over(tmp_path: Path) -> None:
    """Forget the owner's task and its checkpoint (kept in the lake): the next --delta run loads in
    full first."""
    (tmp_path / "lake" / "_derson-lake" / "checkpoints" / "acme.json").unlink(missing_ok=True)
    path = tmp_path / ".derson" / "replication.sqlite"
    if not path.exists():
        return
    store = ReplicationStore(path)
    try:
        for task in store.tasks():
            store.delete_task(task["arn"])
    finally:
        store.close()


def _serve(tmp_path: Path) -> tuple[subprocess.Popen, str]:
    env = {**_env(tmp_path), "DERSON_OWNERS_DIR": str(tmp_path / "owners")}
    env.pop("DERSON_DMS_ENDPOINT_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dersonlake", "serve", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    url = next(line.split()[-1] for line in proc.stdout if line.startswith("derson-lake serve: "))
    return proc, url


@pytest.mark.slow
def test_sigkill_of_runs_started_through_the_dms_api_then_resume_leaves_an_exact_lake(
    tmp_path, sandbox_factory
):
    """The server running a task (StartReplicationTask, resume-processing, streaming until a stop
    time) is SIGKILLed a random instant into its CDC; the owner's next run resumes exactly."""
    import boto3

    box = sandbox_factory("apicrash")
    with box.admin_connection() as conn:
        seed(conn, rows=2_000)
    folder = write_owner(
        tmp_path,
        box,
        mapping=mapping(),
        s3={"DataFormat": "parquet", "CdcMaxBatchInterval": 1, "CdcMinFileSize": 32},
    )
    doc = yaml.safe_load((folder / "owner.yaml").read_text())
    (folder / "owner.yaml").write_text(yaml.safe_dump({**doc, "migration_type": "full-load-and-cdc"}))
    first = _delta(tmp_path)  # the owner's task: full load, CDC up to now
    assert first.wait(300) == 0, first.communicate()
    rng = random.Random(SEED + 3)
    writer = Writer(box, random.Random(SEED + 4))
    writer.start()
    killed = 0
    try:
        for i in range(5):
            writer.resume()
            proc, url = _serve(tmp_path)
            try:
                dms = boto3.client(
                    "dms",
                    endpoint_url=url,
                    region_name="us-east-1",
                    aws_access_key_id="x",
                    aws_secret_access_key="x",
                )
                (task,) = dms.describe_replication_tasks(
                    Filters=[{"Name": "replication-task-id", "Values": ["acme"]}]
                )["ReplicationTasks"]
                later = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 120))
                dms.start_replication_task(
                    ReplicationTaskArn=task["ReplicationTaskArn"],
                    StartReplicationTaskType="resume-processing",
                    CdcStopPosition=f"server_time:{later}",
                )
                if _kill_in(tmp_path, proc, "cdc", rng, within=2.0) == "killed":
                    killed += 1
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
            writer.pause()
            resumed = _delta(tmp_path)
            _out, err = resumed.communicate(timeout=300)
            assert resumed.returncode == 0, f"kill {i}: the resumed run failed: {err[-2000:]}"
            assert writer.error is None, writer.error
            _check(tmp_path, box)
    finally:
        writer.done.set()
        writer.resume()
        writer.join(30)
    assert killed >= 4
