"""SQLite persistence for the engine: machines, executions, frames, timers, tasks, history.

Everything an execution needs to continue lives here, so a killed process resumes from the
tables alone. Every change that moves an execution goes through ``Store.tx()``: one
``BEGIN IMMEDIATE ... COMMIT``, so a transition and its history events land together or not at
all. WAL with ``synchronous=NORMAL`` survives a killed process (SIGKILL); only an OS crash may
lose the last commits.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS state_machines(
  arn TEXT PRIMARY KEY, name TEXT UNIQUE NOT NULL, definition TEXT NOT NULL, role_arn TEXT,
  type TEXT NOT NULL, created REAL NOT NULL, updated REAL);
CREATE TABLE IF NOT EXISTS executions(
  arn TEXT PRIMARY KEY, sm_arn TEXT NOT NULL, name TEXT NOT NULL, definition TEXT NOT NULL,
  status TEXT NOT NULL, input TEXT NOT NULL, output TEXT, error TEXT, cause TEXT,
  start REAL NOT NULL, stop REAL, redrive_count INTEGER NOT NULL DEFAULT 0, redrive_date REAL,
  parent_task INTEGER, next_event INTEGER NOT NULL DEFAULT 1, root_frame INTEGER, role_arn TEXT);
CREATE INDEX IF NOT EXISTS executions_sm ON executions(sm_arn, start);
CREATE INDEX IF NOT EXISTS executions_parent ON executions(parent_task);
CREATE TABLE IF NOT EXISTS frames(
  id INTEGER PRIMARY KEY, exec_arn TEXT NOT NULL, parent_id INTEGER, gen INTEGER NOT NULL DEFAULT 0,
  idx INTEGER NOT NULL DEFAULT 0, scope TEXT NOT NULL, status TEXT NOT NULL, phase TEXT NOT NULL,
  state TEXT NOT NULL, input TEXT NOT NULL, data TEXT NOT NULL, output TEXT, error TEXT, cause TEXT,
  runnable INTEGER NOT NULL DEFAULT 0, vars TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS frames_runnable ON frames(runnable) WHERE runnable = 1;
CREATE INDEX IF NOT EXISTS frames_children ON frames(parent_id, gen, idx);
CREATE INDEX IF NOT EXISTS frames_exec ON frames(exec_arn);
CREATE TABLE IF NOT EXISTS timers(
  id INTEGER PRIMARY KEY, frame_id INTEGER NOT NULL, exec_arn TEXT NOT NULL, due REAL NOT NULL,
  kind TEXT NOT NULL, ref INTEGER);
CREATE INDEX IF NOT EXISTS timers_due ON timers(due);
CREATE INDEX IF NOT EXISTS timers_frame ON timers(frame_id);
CREATE TABLE IF NOT EXISTS tasks(
  id INTEGER PRIMARY KEY, frame_id INTEGER NOT NULL, exec_arn TEXT NOT NULL, key TEXT NOT NULL,
  resource TEXT NOT NULL, state TEXT NOT NULL, request TEXT NOT NULL, status TEXT NOT NULL,
  token TEXT UNIQUE, child_exec TEXT, created REAL NOT NULL, deadline REAL, claimed_by INTEGER);
CREATE INDEX IF NOT EXISTS tasks_pending ON tasks(status) WHERE status = 'PENDING';
CREATE TABLE IF NOT EXISTS history(
  exec_arn TEXT NOT NULL, id INTEGER NOT NULL, prev INTEGER, ts REAL NOT NULL, type TEXT NOT NULL,
  details TEXT, PRIMARY KEY(exec_arn, id));
CREATE TABLE IF NOT EXISTS notifications(
  id INTEGER PRIMARY KEY, key TEXT UNIQUE, ts REAL NOT NULL, exec_arn TEXT, target TEXT,
  subject TEXT, message TEXT, attributes TEXT);
"""


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Frame:
    """One running thread of states: the execution's top level, a Parallel branch or a Map item."""

    id: int
    exec_arn: str
    parent_id: int | None
    gen: int
    idx: int
    scope: str
    status: str  # PENDING, RUNNING, SUCCEEDED, FAILED, ABORTED
    phase: str  # enter, task, wait, retry, children, join
    state: str
    input: Any
    data: dict[str, Any]
    output: Any = None
    error: str | None = None
    cause: str | None = None
    runnable: bool = False
    vars: dict[str, Any] = field(default_factory=dict)
    light: bool = False  # loaded without its input (which must then not be saved)

    @classmethod
    def from_row(cls, row: sqlite3.Row, light: bool = False) -> Frame:
        return cls(
            id=row["id"],
            exec_arn=row["exec_arn"],
            parent_id=row["parent_id"],
            gen=row["gen"],
            idx=row["idx"],
            scope=row["scope"],
            status=row["status"],
            phase=row["phase"],
            state=row["state"],
            input=None if light else json.loads(row["input"]),
            data=json.loads(row["data"]),
            output=json.loads(row["output"]) if row["output"] is not None else None,
            error=row["error"],
            cause=row["cause"],
            runnable=bool(row["runnable"]),
            vars=json.loads(row["vars"]),
            light=light,
        )


class Tx:
    """One open transaction; buffers history event ids per execution until commit."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._next_event: dict[str, int] = {}

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def next_event_id(self, exec_arn: str) -> int:
        n = self._next_event.get(exec_arn)
        if n is None:
            row = self.one("SELECT next_event FROM executions WHERE arn = ?", (exec_arn,))
            n = row["next_event"] if row else 1
        self._next_event[exec_arn] = n + 1
        return n

    def flush(self) -> None:
        for arn, n in self._next_event.items():
            self.execute("UPDATE executions SET next_event = ? WHERE arn = ?", (n, arn))
        self._next_event.clear()

    # frames ---------------------------------------------------------------------------------
    def frame(self, frame_id: int, light: bool = False) -> Frame | None:
        """A frame; ``light`` skips its input (a Map's input can be large and is not needed)."""
        if light:
            row = self.one(
                "SELECT id, exec_arn, parent_id, gen, idx, scope, status, phase, state, NULL AS input, data,"
                " output, error, cause, runnable, vars FROM frames WHERE id = ?",
                (frame_id,),
            )
        else:
            row = self.one("SELECT * FROM frames WHERE id = ?", (frame_id,))
        return Frame.from_row(row, light) if row else None

    def insert_frame(self, f: Frame) -> int:
        cur = self.execute(
            "INSERT INTO frames(exec_arn, parent_id, gen, idx, scope, status, phase, state, input, data,"
            " runnable, vars) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                f.exec_arn,
                f.parent_id,
                f.gen,
                f.idx,
                f.scope,
                f.status,
                f.phase,
                f.state,
                dumps(f.input),
                dumps(f.data),
                int(f.runnable),
                dumps(f.vars),
            ),
        )
        f.id = int(cur.lastrowid or 0)
        return f.id

    def save_frame(self, f: Frame) -> None:
        if f.light:
            self.execute(
                "UPDATE frames SET status=?, phase=?, state=?, data=?, output=?, error=?, cause=?,"
                " runnable=?, vars=?, gen=? WHERE id=?",
                (
                    f.status,
                    f.phase,
                    f.state,
                    dumps(f.data),
                    dumps(f.output) if f.output is not None else None,
                    f.error,
                    f.cause,
                    int(f.runnable),
                    dumps(f.vars),
                    f.gen,
                    f.id,
                ),
            )
            return
        self.execute(
            "UPDATE frames SET status=?, phase=?, state=?, input=?, data=?, output=?, error=?, cause=?,"
            " runnable=?, vars=?, gen=? WHERE id=?",
            (
                f.status,
                f.phase,
                f.state,
                dumps(f.input),
                dumps(f.data),
                dumps(f.output) if f.output is not None else None,
                f.error,
                f.cause,
                int(f.runnable),
                dumps(f.vars),
                f.gen,
                f.id,
            ),
        )

    def add_timer(self, frame: Frame, due: float, kind: str, ref: int | None = None) -> None:
        self.execute(
            "INSERT INTO timers(frame_id, exec_arn, due, kind, ref) VALUES (?,?,?,?,?)",
            (frame.id, frame.exec_arn, due, kind, ref),
        )


class Store:
    """The SQLite file, one connection, and a lock so API threads and the runner share it."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self.conn.row_factory = sqlite3.Row
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)
        self.lock = threading.RLock()

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    @contextmanager
    def tx(self) -> Iterator[Tx]:
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            t = Tx(self.conn)
            try:
                yield t
                t.flush()
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        with self.lock:
            return self.conn.execute(sql, params).fetchone()

    def all(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()
