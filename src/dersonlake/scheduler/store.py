"""The local scheduler's memory: ``derson_home()/schedule.sqlite``, the one module that knows its SQL.

Three tables: ``owners`` (per owner: the expression last seen, the anchor a ``rate()`` counts from,
the next due time, the last run started and how it ended), ``events`` (every due time and what was
done with it: started, skipped because a run was still going, caught up or missed after downtime,
could not start) and ``alarms`` (the state, OK or ALARM, of each local alarm of each owner, so an
alarm is sent once and its resolution once, across restarts). ``PRAGMA user_version`` holds
``SCHEMA_VERSION``; a store written by a newer version is refused rather than misread.
Readers in other processes (``status``, the dashboard) use ``read_overview`` (read-only).
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from dersonlake.readonly_db import read_only
from dersonlake.sqlite_schema import Migration, check_not_newer, migrate, script

FILE_NAME = "schedule.sqlite"
FILE_KIND = "schedule store"

SCHEMA = """
CREATE TABLE IF NOT EXISTS owners (
    owner TEXT PRIMARY KEY,
    expression TEXT NOT NULL,
    timezone TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    anchor REAL NOT NULL,
    next_due REAL,
    last_due REAL,
    last_execution_arn TEXT,
    last_started REAL,
    last_status TEXT,
    last_stopped REAL,
    last_success REAL,
    updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    due REAL NOT NULL,
    time REAL NOT NULL,
    action TEXT NOT NULL,
    execution_arn TEXT,
    detail TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS events_by_owner ON events (owner, id);
CREATE TABLE IF NOT EXISTS alarms (
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    since REAL NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (owner, name));
"""

# The layout in order (``sqlite_schema``): a change is a new step at the end, never an edit.
MIGRATIONS = [Migration(1, "owners, events, alarms", script(SCHEMA))]
SCHEMA_VERSION = len(MIGRATIONS)

QUERIES = {
    "owner": "SELECT * FROM owners WHERE owner = ?",
    "owners": "SELECT * FROM owners ORDER BY owner",
    "save_owner": (
        "INSERT OR REPLACE INTO owners (owner, expression, timezone, enabled, anchor, next_due, last_due,"
        " last_execution_arn, last_started, last_status, last_stopped, last_success, updated)"
        " VALUES (:owner, :expression, :timezone, :enabled, :anchor, :next_due, :last_due,"
        " :last_execution_arn, :last_started, :last_status, :last_stopped, :last_success, :updated)"
    ),
    "add_event": (
        "INSERT INTO events (owner, due, time, action, execution_arn, detail)"
        " VALUES (:owner, :due, :time, :action, :execution_arn, :detail)"
    ),
    "events": "SELECT * FROM events ORDER BY id",
    "owner_events": "SELECT * FROM events WHERE owner = ? ORDER BY id",
    "last_events": "SELECT * FROM events WHERE owner = ? ORDER BY id DESC LIMIT ?",
    "alarm": "SELECT * FROM alarms WHERE owner = ? AND name = ?",
    "alarms": "SELECT * FROM alarms ORDER BY owner, name",
    "save_alarm": (
        "INSERT OR REPLACE INTO alarms (owner, name, state, since, reason)"
        " VALUES (:owner, :name, :state, :since, :reason)"
    ),
}

# What the scheduler did with a due time (events.action).
STARTED = "started"
CAUGHT_UP = "caught_up"  # the one run started at start-up for due times missed while it was down
MISSED = "missed"  # due times passed while the scheduler was down, covered by a catch-up run
SKIPPED_RUNNING = "skipped_running"  # a run of the owner was still going: not doubled
START_FAILED = "start_failed"


@dataclass
class OwnerState:
    owner: str
    expression: str
    timezone: str
    enabled: bool
    anchor: float
    updated: float
    next_due: float | None = None
    last_due: float | None = None
    last_execution_arn: str | None = None
    last_started: float | None = None
    last_status: str | None = None
    last_stopped: float | None = None
    last_success: float | None = None


@dataclass(frozen=True)
class Event:
    owner: str
    due: float
    time: float
    action: str
    execution_arn: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class AlarmState:
    owner: str
    name: str
    state: str  # OK | ALARM
    since: float
    reason: str = ""


def _from_row(cls: Any, row: sqlite3.Row) -> Any:
    names = {f.name for f in fields(cls)}
    values = {k: row[k] for k in row.keys() if k in names}  # noqa: SIM118 (sqlite3.Row)
    if cls is OwnerState:
        values["enabled"] = bool(values["enabled"])
    return cls(**values)


class ScheduleStore:
    """Read/write access for the one scheduler of a machine (``serve`` or ``schedule``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        try:
            migrate(self._db, self.path, FILE_KIND, MIGRATIONS)
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def owner(self, name: str) -> OwnerState | None:
        with self._lock:
            row = self._db.execute(QUERIES["owner"], (name,)).fetchone()
        return _from_row(OwnerState, row) if row is not None else None

    def owners(self) -> list[OwnerState]:
        with self._lock:
            rows = self._db.execute(QUERIES["owners"]).fetchall()
        return [_from_row(OwnerState, r) for r in rows]

    def save_owner(self, state: OwnerState) -> None:
        values = {f.name: getattr(state, f.name) for f in fields(OwnerState)}
        values["enabled"] = int(state.enabled)
        with self._lock:
            self._db.execute(QUERIES["save_owner"], values)

    def add_event(self, event: Event) -> None:
        values = {f.name: getattr(event, f.name) for f in fields(Event)}
        with self._lock:
            self._db.execute(QUERIES["add_event"], values)

    def events(self, owner: str | None = None) -> list[Event]:
        with self._lock:
            if owner is None:
                rows = self._db.execute(QUERIES["events"]).fetchall()
            else:
                rows = self._db.execute(QUERIES["owner_events"], (owner,)).fetchall()
        return [_from_row(Event, r) for r in rows]

    def alarm(self, owner: str, name: str) -> AlarmState | None:
        with self._lock:
            row = self._db.execute(QUERIES["alarm"], (owner, name)).fetchone()
        return _from_row(AlarmState, row) if row is not None else None

    def alarms(self) -> list[AlarmState]:
        with self._lock:
            rows = self._db.execute(QUERIES["alarms"]).fetchall()
        return [_from_row(AlarmState, r) for r in rows]

    def save_alarm(self, alarm: AlarmState) -> None:
        values = {f.name: getattr(alarm, f.name) for f in fields(AlarmState)}
        with self._lock:
            self._db.execute(QUERIES["save_alarm"], values)


@dataclass(frozen=True)
class Overview:
    """One owner as ``status`` and the dashboard show it."""

    state: OwnerState
    last_event: Event | None
    alarms: list[AlarmState]


def read_overview(path: str | Path) -> list[Overview]:
    """Every scheduled owner, read-only (empty when no scheduler ever ran here)."""
    with read_only(Path(path)) as conn:
        if conn is None:
            return []
        check_not_newer(conn, path, FILE_KIND, SCHEMA_VERSION)
        try:
            owners = [_from_row(OwnerState, r) for r in conn.execute(QUERIES["owners"]).fetchall()]
            alarms = [_from_row(AlarmState, r) for r in conn.execute(QUERIES["alarms"]).fetchall()]
            out = []
            for state in owners:
                last = conn.execute(QUERIES["last_events"], (state.owner, 1)).fetchone()
                mine = [a for a in alarms if a.owner == state.owner]
                out.append(Overview(state, _from_row(Event, last) if last is not None else None, mine))
        except sqlite3.OperationalError:  # being created right now
            return []
    return out
