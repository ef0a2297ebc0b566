"""SQLite persistence for the engine: machines, executions, frames, timers, tasks, history.

Everything an execution needs to continue lives here, so a killed process resumes from the
tables alone. Every change that moves an execution goes through ``Store.tx()``: one
``BEGIN IMMEDIATE ... COMMIT``, so a transition and its history events land together or not at
all. WAL with ``synchronous=NORMAL`` survives a killed process (SIGKILL); only an OS crash may
lose the last commits.

This module is the file's one owner: it creates the schema (``store_schema``'s migrations, version
in ``PRAGMA user_version``) and holds every query as a named method of ``Tx`` (inside a
transaction) or ``Store`` (one read); the engine, the interpreter and the local API call those.
Readers in other processes (``states.stats``: metrics, ``status``) use ``ReadOnlyStore``.
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

from dersonlake.readonly_db import read_only
from dersonlake.sqlite_schema import check_not_newer, migrate
from dersonlake.states.store_schema import FILE_KIND, MIGRATIONS, SCHEMA_VERSION


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

    def _execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def _one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        return self.conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    def next_event_id(self, exec_arn: str) -> int:
        n = self._next_event.get(exec_arn)
        if n is None:
            row = self._one("SELECT next_event FROM executions WHERE arn = ?", (exec_arn,))
            n = row["next_event"] if row else 1
        self._next_event[exec_arn] = n + 1
        return n

    def flush(self) -> None:
        for arn, n in self._next_event.items():
            self._execute("UPDATE executions SET next_event = ? WHERE arn = ?", (n, arn))
        self._next_event.clear()

    # frames ---------------------------------------------------------------------------------
    def frame(self, frame_id: int, light: bool = False) -> Frame | None:
        """A frame; ``light`` skips its input (a Map's input can be large and is not needed)."""
        if light:
            row = self._one(
                "SELECT id, exec_arn, parent_id, gen, idx, scope, status, phase, state, NULL AS input, data,"
                " output, error, cause, runnable, vars FROM frames WHERE id = ?",
                (frame_id,),
            )
        else:
            row = self._one("SELECT * FROM frames WHERE id = ?", (frame_id,))
        return Frame.from_row(row, light) if row else None

    def insert_frame(self, f: Frame) -> int:
        cur = self._execute(
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
            self._execute(
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
        self._execute(
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
        self._execute(
            "INSERT INTO timers(frame_id, exec_arn, due, kind, ref) VALUES (?,?,?,?,?)",
            (frame.id, frame.exec_arn, due, kind, ref),
        )

    # state machines -------------------------------------------------------------------------------
    def state_machine_named(self, name: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM state_machines WHERE name = ?", (name,))

    def insert_state_machine(
        self, arn: str, name: str, definition: str, role_arn: str | None, type: str, created: float
    ) -> None:
        self._execute(
            "INSERT INTO state_machines(arn, name, definition, role_arn, type, created) VALUES (?,?,?,?,?,?)",
            (arn, name, definition, role_arn, type, created),
        )

    def update_state_machine(self, arn: str, definition: str, role_arn: str | None, updated: float) -> None:
        self._execute(
            "UPDATE state_machines SET definition = ?, role_arn = ?, updated = ? WHERE arn = ?",
            (definition, role_arn, updated, arn),
        )

    def delete_state_machine(self, arn: str) -> None:
        self._execute("DELETE FROM state_machines WHERE arn = ?", (arn,))

    # executions -----------------------------------------------------------------------------------
    def execution(self, arn: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM executions WHERE arn = ?", (arn,))

    def execution_start(self, arn: str) -> sqlite3.Row | None:
        """``input``, ``status``, ``start`` of an execution (is a start with this name a repeat?)."""
        return self._one("SELECT input, status, start FROM executions WHERE arn = ?", (arn,))

    def execution_root(self, arn: str) -> sqlite3.Row | None:
        """``root_frame`` and ``status`` of an execution."""
        return self._one("SELECT root_frame, status FROM executions WHERE arn = ?", (arn,))

    def insert_execution(
        self,
        arn: str,
        sm_arn: str,
        name: str,
        definition: str,
        input: str,
        start: float,
        parent_task: int | None,
        role_arn: str | None,
    ) -> None:
        """A new ``RUNNING`` execution (its root frame is set once inserted: ``set_root_frame``)."""
        self._execute(
            "INSERT INTO executions(arn, sm_arn, name, definition, status, input, start, parent_task,"
            " role_arn) VALUES (?,?,?,?,?,?,?,?,?)",
            (arn, sm_arn, name, definition, "RUNNING", input, start, parent_task, role_arn),
        )

    def set_root_frame(self, arn: str, frame_id: int) -> None:
        self._execute("UPDATE executions SET root_frame = ? WHERE arn = ?", (frame_id, arn))

    def redrive_execution(self, arn: str, count: int, now: float) -> None:
        """``RUNNING`` again, redriven ``count`` times (the last at ``now``), its ending forgotten."""
        self._execute(
            "UPDATE executions SET status = 'RUNNING', redrive_count = ?, redrive_date = ?, stop = NULL,"
            " error = NULL, cause = NULL, output = NULL WHERE arn = ?",
            (count, now, arn),
        )

    def close_execution(
        self, arn: str, status: str, output: str | None, error: str | None, cause: str | None, stop: float
    ) -> None:
        """The execution's ending (``output`` as JSON text), and its timers dropped."""
        self._execute(
            "UPDATE executions SET status = ?, output = ?, error = ?, cause = ?, stop = ? WHERE arn = ?",
            (status, output, error, cause, stop, arn),
        )
        self._execute("DELETE FROM timers WHERE exec_arn = ?", (arn,))

    def halt_execution(self, arn: str) -> None:
        """No frame of the execution runnable, none of its pending tasks dispatched (an engine bug)."""
        self._execute("UPDATE frames SET runnable = 0 WHERE exec_arn = ?", (arn,))
        self._execute(
            "UPDATE tasks SET status = 'CANCELLED' WHERE exec_arn = ? AND status = 'PENDING'", (arn,)
        )

    def add_history(
        self, exec_arn: str, event_id: int, prev: int | None, ts: float, event_type: str, details: str | None
    ) -> None:
        self._execute(
            "INSERT INTO history(exec_arn, id, prev, ts, type, details) VALUES (?,?,?,?,?,?)",
            (exec_arn, event_id, prev, ts, event_type, details),
        )

    # children (Map, Parallel) ---------------------------------------------------------------------
    def start_child_frame(self, parent_id: int, gen: int, idx: int, prev: int | None) -> bool:
        """Make the ``PENDING`` child ``idx`` of generation ``gen`` running (its ``data.prev`` set);
        False when there is no such pending child."""
        cur = self._execute(
            "UPDATE frames SET status = 'RUNNING', runnable = 1, data = json_set(data, '$.prev', ?)"
            " WHERE parent_id = ? AND gen = ? AND idx = ? AND status = 'PENDING'",
            (prev, parent_id, gen, idx),
        )
        return bool(cur.rowcount)

    def child_results(self, parent_id: int, gen: int) -> list[sqlite3.Row]:
        """``status``, ``output``, ``error``, ``cause`` of the generation's children, by index."""
        return self._all(
            "SELECT status, output, error, cause FROM frames WHERE parent_id = ? AND gen = ? ORDER BY idx",
            (parent_id, gen),
        )

    def running_children(self, parent_id: int, gen: int | None = None) -> list[int]:
        """Ids of the running children (of generation ``gen`` by index, or of any generation)."""
        if gen is None:
            rows = self._all("SELECT id FROM frames WHERE parent_id = ? AND status = 'RUNNING'", (parent_id,))
        else:
            rows = self._all(
                "SELECT id FROM frames WHERE parent_id = ? AND gen = ? AND status = 'RUNNING' ORDER BY idx",
                (parent_id, gen),
            )
        return [r["id"] for r in rows]

    def children_status(self, parent_id: int, gen: int) -> list[sqlite3.Row]:
        """``id`` and ``status`` of the generation's children."""
        return self._all("SELECT id, status FROM frames WHERE parent_id = ? AND gen = ?", (parent_id, gen))

    # timers ---------------------------------------------------------------------------------------
    def has_timer(self, timer_id: int) -> bool:
        return self._one("SELECT 1 FROM timers WHERE id = ?", (timer_id,)) is not None

    def delete_timer(self, timer_id: int) -> None:
        self._execute("DELETE FROM timers WHERE id = ?", (timer_id,))

    def delete_frame_timers(self, frame_id: int) -> None:
        """Every timer of the frame, the execution's timeout included (the frame is aborted)."""
        self._execute("DELETE FROM timers WHERE frame_id = ?", (frame_id,))

    def delete_state_timers(self, frame_id: int) -> None:
        """The frame's timers of its current state (all but the execution's timeout)."""
        self._execute("DELETE FROM timers WHERE frame_id = ? AND kind != 'exec_timeout'", (frame_id,))

    def delete_heartbeat_timers(self, frame_id: int) -> None:
        self._execute("DELETE FROM timers WHERE frame_id = ? AND kind = 'heartbeat'", (frame_id,))

    # tasks ----------------------------------------------------------------------------------------
    def insert_task(
        self,
        frame_id: int,
        exec_arn: str,
        key: str,
        resource: str,
        state: str,
        request: str,
        token: str | None,
        created: float,
        deadline: float | None,
    ) -> int:
        """A new ``PENDING`` task; its id."""
        cur = self._execute(
            "INSERT INTO tasks(frame_id, exec_arn, key, resource, state, request, status, token, created,"
            " deadline) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (frame_id, exec_arn, key, resource, state, request, "PENDING", token, created, deadline),
        )
        return int(cur.lastrowid or 0)

    def task(self, task_id: int | None) -> sqlite3.Row | None:
        return self._one("SELECT * FROM tasks WHERE id = ?", (task_id,))

    def task_resource(self, task_id: int | None) -> sqlite3.Row | None:
        """``resource`` and ``child_exec`` of a task."""
        return self._one("SELECT resource, child_exec FROM tasks WHERE id = ?", (task_id,))

    def task_by_token(self, token: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM tasks WHERE token = ?", (token,))

    def open_tasks(self, frame_id: int) -> list[sqlite3.Row]:
        """``id``, ``resource``, ``child_exec`` of the frame's tasks still ``PENDING`` or ``WAITING``."""
        return self._all(
            "SELECT id, resource, child_exec FROM tasks"
            " WHERE frame_id = ? AND status IN ('PENDING','WAITING')",
            (frame_id,),
        )

    def set_task_status(self, task_id: int, status: str) -> None:
        self._execute("UPDATE tasks SET status = ? WHERE id = ?", (status, task_id))

    def cancel_open_task(self, task_id: int) -> None:
        """``CANCELLED`` if still ``PENDING`` or ``WAITING``."""
        self._execute(
            "UPDATE tasks SET status='CANCELLED' WHERE id=? AND status IN ('PENDING','WAITING')", (task_id,)
        )

    def claim_task(self, task_id: int, me: int, owner: int | None) -> bool:
        """Claim a ``PENDING`` task for process ``me`` if ``owner`` (None or a gone process) still has
        it; whether the claim was made."""
        cur = self._execute(
            "UPDATE tasks SET claimed_by = ? WHERE id = ? AND status = 'PENDING'"
            " AND (claimed_by IS NULL OR claimed_by = ?)",
            (me, task_id, owner),
        )
        return cur.rowcount == 1

    def set_child_execution(self, task_id: int, exec_arn: str) -> None:
        self._execute("UPDATE tasks SET child_exec = ? WHERE id = ?", (exec_arn, task_id))

    # notifications (sns:publish) ------------------------------------------------------------------
    def add_notification(
        self,
        key: str,
        ts: float,
        exec_arn: str,
        target: str,
        subject: str | None,
        message: str,
        attributes: str,
    ) -> None:
        """Record a published message once per task key (a retried dispatch records it once)."""
        self._execute(
            "INSERT OR IGNORE INTO notifications(key, ts, exec_arn, target, subject, message, attributes)"
            " VALUES (?,?,?,?,?,?,?)",
            (key, ts, exec_arn, target, subject, message, attributes),
        )

    # the local API's settings of state machines ---------------------------------------------------
    def insert_machine_settings(self, name: str, logging: str | None, tracing: str | None, tags: str) -> None:
        self._execute(
            "INSERT INTO api_state_machine_settings VALUES (?, ?, ?, ?)", (name, logging, tracing, tags)
        )

    def set_machine_logging(self, name: str, logging: str) -> None:
        self._execute("UPDATE api_state_machine_settings SET logging = ? WHERE name = ?", (logging, name))

    def set_machine_tracing(self, name: str, tracing: str) -> None:
        self._execute("UPDATE api_state_machine_settings SET tracing = ? WHERE name = ?", (tracing, name))

    def set_machine_tags(self, name: str, tags: str) -> None:
        self._execute(
            "INSERT INTO api_state_machine_settings (name, tags) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET tags = excluded.tags",
            (name, tags),
        )

    def delete_machine_settings(self, name: str) -> None:
        self._execute("DELETE FROM api_state_machine_settings WHERE name = ?", (name,))


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
        try:
            migrate(self.conn, self.path, FILE_KIND, MIGRATIONS)
        except BaseException:
            self.conn.close()
            raise
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

    def _one(self, sql: str, params: Any = ()) -> sqlite3.Row | None:
        with self.lock:
            return self.conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Any = ()) -> list[sqlite3.Row]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    # state machines -------------------------------------------------------------------------------
    def state_machine(self, arn: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM state_machines WHERE arn = ?", (arn,))

    def state_machine_named(self, name: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM state_machines WHERE name = ?", (name,))

    def state_machines(self) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM state_machines ORDER BY name")

    def machine_settings(self, name: str) -> sqlite3.Row | None:
        """The local API's logging, tracing and tags of the machine ``name`` (None: never set)."""
        return self._one("SELECT * FROM api_state_machine_settings WHERE name = ?", (name,))

    # executions -----------------------------------------------------------------------------------
    def execution(self, arn: str) -> sqlite3.Row | None:
        return self._one("SELECT * FROM executions WHERE arn = ?", (arn,))

    def executions_of(self, sm_arn: str, status: str | None = None) -> list[sqlite3.Row]:
        """The machine's executions (only those in ``status`` when given), newest first."""
        sql, params = "SELECT * FROM executions WHERE sm_arn = ?", [sm_arn]
        if status:
            sql += " AND status = ?"
            params.append(status)
        return self._all(sql + " ORDER BY start DESC, rowid DESC", params)

    def recent_executions(
        self, *, sm_arn: str | None = None, status: str | None = None, limit: int = 200
    ) -> list[sqlite3.Row]:
        """The newest executions first (of ``sm_arn``, in ``status`` when given), with ``input``
        and ``parent``, the ARN of the execution whose task started each (None at the top)."""
        where, params = [], []
        if sm_arn:
            where.append("e.sm_arn = ?")
            params.append(sm_arn)
        if status:
            where.append("e.status = ?")
            params.append(status)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        return self._all(
            "SELECT e.arn, e.sm_arn, e.name, e.status, e.input, e.error, e.cause, e.start, e.stop,"
            " t.exec_arn AS parent FROM executions e LEFT JOIN tasks t ON t.id = e.parent_task"
            f" {clause} ORDER BY e.start DESC LIMIT ?",
            (*params, limit),
        )

    def parent_execution(self, arn: str) -> str | None:
        """The execution whose ``states:startExecution`` task started this one, if any."""
        row = self._one(
            "SELECT t.exec_arn FROM executions e JOIN tasks t ON t.id = e.parent_task WHERE e.arn = ?", (arn,)
        )
        return row["exec_arn"] if row else None

    def execution_counts(self) -> list[sqlite3.Row]:
        """``sm_arn``, ``status`` and ``n`` (how many executions) for each pair there is."""
        return self._all("SELECT sm_arn, status, COUNT(*) AS n FROM executions GROUP BY sm_arn, status")

    def execution_input(self, arn: str) -> str | None:
        row = self._one("SELECT input FROM executions WHERE arn = ?", (arn,))
        return row["input"] if row else None

    def history(self, exec_arn: str, *, reverse: bool = False) -> list[sqlite3.Row]:
        order = "DESC" if reverse else "ASC"
        return self._all(f"SELECT * FROM history WHERE exec_arn = ? ORDER BY id {order}", (exec_arn,))

    def notifications(self, exec_arn: str | None = None) -> list[sqlite3.Row]:
        """Messages published through ``sns:publish`` (of one execution when given), in order."""
        if exec_arn:
            return self._all("SELECT * FROM notifications WHERE exec_arn = ? ORDER BY id", (exec_arn,))
        return self._all("SELECT * FROM notifications ORDER BY id")

    # the runner's work ----------------------------------------------------------------------------
    def due_timers(self, now: float, limit: int = 200) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM timers WHERE due <= ? ORDER BY due, id LIMIT ?", (now, limit))

    def next_due(self) -> float | None:
        """When the earliest timer is due (None: no timer)."""
        row = self._one("SELECT MIN(due) AS due FROM timers")
        return row["due"] if row and row["due"] is not None else None

    def runnable_frames(self, limit: int = 200) -> list[sqlite3.Row]:
        """``id`` and ``exec_arn`` of frames ready to step, oldest first."""
        return self._all("SELECT id, exec_arn FROM frames WHERE runnable = 1 ORDER BY id LIMIT ?", (limit,))

    def pending_tasks(self, limit: int = 64) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM tasks WHERE status = 'PENDING' ORDER BY id LIMIT ?", (limit,))


# -- readers in other processes --------------------------------------------------------------------


class ReadOnlyStore:
    """The store of another process, opened read-only for one look (``ReadOnlyStore.open``): it never
    creates, migrates or locks the file, so a metrics scrape or ``status`` cannot block the engine."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @classmethod
    @contextmanager
    def open(cls, path: str | Path) -> Iterator[ReadOnlyStore | None]:
        """The store at ``path``, or None when there is none (no file, or no engine tables yet); a
        file from a newer derson-lake is refused (``sqlite_schema.StoreTooNew``)."""
        with read_only(Path(path)) as conn:
            if conn is None:
                yield None
                return
            check_not_newer(conn, path, FILE_KIND, SCHEMA_VERSION)
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            yield cls(conn) if {"executions", "state_machines", "history"} <= names else None

    def executions(self) -> list[sqlite3.Row]:
        """Every execution, oldest first: ``arn``, ``sm`` (the machine's name), ``name``, ``status``,
        ``start``, ``stop``, ``error``, ``cause``, ``nested`` (started by another execution) and
        ``owner`` (its input's ``owner`` when the input is a JSON object)."""
        return self._conn.execute(
            "SELECT e.arn, m.name AS sm, e.name, e.status, e.start, e.stop, e.error, e.cause,"
            " e.parent_task IS NOT NULL AS nested,"
            " CASE WHEN json_valid(e.input) AND json_type(e.input) = 'object'"
            " THEN json_extract(e.input, '$.owner') END AS owner"
            " FROM executions e JOIN state_machines m ON m.arn = e.sm_arn ORDER BY e.start, e.arn"
        ).fetchall()

    def execution_statuses(self) -> list[sqlite3.Row]:
        """``arn``, ``status`` and ``sm`` (the machine's name) of every execution."""
        return self._conn.execute(
            "SELECT e.arn, e.status, m.name AS sm FROM executions e JOIN state_machines m ON m.arn = e.sm_arn"
        ).fetchall()

    def state_events(self, exec_arn: str) -> list[sqlite3.Row]:
        """The execution's ``*StateEntered`` / ``*StateExited`` events in order: ``ts``, ``type``,
        ``name`` (the state's)."""
        return self._conn.execute(
            "SELECT ts, type, json_extract(details, '$.name') AS name FROM history"
            " WHERE exec_arn = ? AND (type LIKE '%StateEntered' OR type LIKE '%StateExited') ORDER BY id",
            (exec_arn,),
        ).fetchall()
