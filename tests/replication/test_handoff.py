"""The full-load -> CDC handoff: a writer changes a table while it is being loaded; afterwards the
lake's merged state equals the source, and every change is in the lake exactly once (in the LOAD
image or as a CDC event, never both)."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import defaultdict

import pytest

from dersonlake.config import load_owner
from dersonlake.lake.current_state import current_state
from dersonlake.lake.reader import read_files
from dersonlake.replication.cdc import CdcCapture
from dersonlake.replication.full_load import FullLoad, NoProgress
from dersonlake.replication.handoff import HandoffMarks
from dersonlake.replication.prepared_owner import prepare
from dersonlake.replication.store import ReplicationStore
from dersonlake.replication.task import create_task
from dersonlake.sources.mysql.binlog_position import current_position

from .conftest import write_owner

ROWS = 600
MAPPING = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "h",
            "rule-action": "include",
            "object-locator": {"schema-name": "shop", "table-name": "handoff_items"},
        }
    ]
}


@pytest.fixture
def handoff_items(admin):
    with admin.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS shop.handoff_items")
        cur.execute(
            "CREATE TABLE shop.handoff_items (id INT PRIMARY KEY, ver INT NOT NULL, note VARCHAR(20))"
        )
        cur.executemany(
            "INSERT INTO shop.handoff_items VALUES (%s, %s, 'seed')", [(i, 0) for i in range(1, ROWS + 1)]
        )
    yield
    with admin.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS shop.handoff_items")


class Writer(threading.Thread):
    """Random inserts, updates and deletes in small transactions; each written image gets a new
    ``ver``, and ``log[id]`` is the key's history: ("I"|"U", ver) or ("D", ver deleted)."""

    def __init__(self, sandbox, seed: int) -> None:
        super().__init__(daemon=True)
        self.sandbox = sandbox
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.log: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for i in range(1, ROWS + 1):
            self.log[i].append(("I", 0))  # the seed row, loaded before the writer starts
        self.ver = 0
        self.changes = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            conn = self.sandbox.admin_connection()
            with conn.cursor() as cur:
                while not self.stop.is_set():
                    cur.execute("BEGIN")
                    done = []
                    for _ in range(self.rng.randint(1, 3)):
                        done.append(self._one(cur))
                    cur.execute("COMMIT")
                    for key, entry in done:
                        self.log[key].append(entry)
                    self.changes += len(done)
                    time.sleep(0.002)
            conn.close()
        except BaseException as exc:  # surfaced by the test
            self.error = exc

    def _one(self, cur):
        key = self.rng.randint(1, ROWS + ROWS // 5)
        self.ver += 1
        cur.execute("SELECT ver FROM shop.handoff_items WHERE id = %s", (key,))
        row = cur.fetchone()
        if row is None:
            cur.execute("INSERT INTO shop.handoff_items VALUES (%s, %s, 'ins')", (key, self.ver))
            return key, ("I", self.ver)
        if self.rng.random() < 0.3:
            cur.execute("DELETE FROM shop.handoff_items WHERE id = %s", (key,))
            return key, ("D", row[0])
        cur.execute("UPDATE shop.handoff_items SET ver = %s, note = 'upd' WHERE id = %s", (self.ver, key))
        return key, ("U", self.ver)


class SlowProgress(NoProgress):
    """Spreads the load over time so the writer's changes interleave with its chunks (a delay in
    our own process: the source and the lake are real)."""

    def rows_loaded(self, table, rows) -> None:
        time.sleep(0.03)


def test_changes_during_the_full_load_appear_exactly_once(request, tmp_path, sandbox, handoff_items, admin):
    write_owner(tmp_path, sandbox, mapping=MAPPING)
    run = prepare(load_owner("acme", tmp_path / "owners"))
    params, storage, store = run.source(), run.storage(), ReplicationStore(tmp_path / "r.sqlite")
    arn = create_task(
        store,
        run.task_identifier,
        migration_type="full-load-and-cdc",
        table_mappings=json.dumps(MAPPING),
        settings_json=run.settings.to_json(),
        owner="acme",
    )
    writer = Writer(sandbox, seed=4)
    start = current_position(params)  # recorded before the load, as delta_owner_task does
    writer.start()
    request.addfinalizer(lambda: (writer.stop.set(), writer.join(10)))  # before the table is dropped
    time.sleep(0.3)
    catalog = run.catalog(params)
    outcome = FullLoad(
        arn=arn,
        plan=run.plan(catalog, "full-load"),
        catalog=catalog,
        endpoint=params,
        storage=storage,
        s3=run.s3,
        store=store,
        chunk_rows=40,
        batch_rows=40,
        progress=SlowProgress(),
    ).run()
    assert outcome.tables_loaded == 1
    marks = HandoffMarks(store).load(arn)[("shop", "handoff_items")]
    assert len(marks) >= ROWS // 40 and len({m.pos for _s, m in marks}) > 1  # chunks saw different times

    def delta(first: bool) -> None:
        catalog = run.catalog(params)
        CdcCapture(
            arn=arn,
            plan=run.plan(catalog, "cdc"),
            catalog=catalog,
            endpoint=params,
            storage=storage,
            s3=run.s3,
            store=store,
            start=start if first else None,
        ).run()

    delta(first=True)  # the first delta runs while the writer still writes
    writer.stop.set()
    writer.join(10)
    assert writer.error is None
    delta(first=False)  # the rest, from the checkpoint

    with admin.cursor() as cur:
        cur.execute("SELECT id, ver, note FROM shop.handoff_items ORDER BY id")
        source = [dict(zip(("id", "ver", "note"), r, strict=True)) for r in cur.fetchall()]
    state = current_state(storage, "shop", "handoff_items", ["id"], run.s3)
    assert state.select(["id", "ver", "note"]).to_pylist() == source

    keys = sorted(o.key for o in storage.list("shop/handoff_items"))
    load = read_files(storage, [k for k in keys if "/LOAD" in k], run.s3)
    cdc = read_files(storage, [k for k in keys if "/LOAD" not in k], run.s3)
    loaded = dict(zip(load.column("id").to_pylist(), load.column("ver").to_pylist(), strict=True))
    events: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for op, key, ver in zip(*(cdc.column(c).to_pylist() for c in ("Op", "id", "ver")), strict=True):
        events[key].append((op, ver))
    assert sum(len(v) for v in events.values()) > 20  # the writer really changed rows during the load
    for key, history in writer.log.items():
        # the LOAD image is one point of the key's history; CDC must hold exactly what follows it
        if key in loaded:
            cut = [i for i, (op, ver) in enumerate(history) if op != "D" and ver == loaded[key]]
            assert len(cut) == 1, (key, history, loaded[key])
            expected = history[cut[0] + 1 :]
        else:  # absent at the snapshot: before the first insert or right after a delete
            cuts = [0] + [i + 1 for i, (op, _v) in enumerate(history) if op == "D"]
            options = [history[c:] for c in cuts]
            expected = next((o for o in options if o == events.get(key, [])), options[-1])
        assert events.get(key, []) == expected, (key, history, loaded.get(key))
    # every writer change came after the CDC start; those the snapshots held were not repeated
    assert sum(len(v) for v in events.values()) < writer.changes
