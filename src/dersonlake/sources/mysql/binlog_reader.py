"""Reading the binlog: python-mysql-replication's events -> ``Begin``/``Change``/``Ddl``/``Commit``.

How the library is driven, and why (``reference/deps.md`` §4):

* ``is_mariadb=False`` with ``log_file``/``log_pos``: the one mode that starts where asked and ends
  cleanly against MariaDB (``is_mariadb=True`` ignores file/pos; with GTIDs and ``blocking=False``
  it replays forever after a reset).
* Positions are tracked here, from each event's header, and only transaction boundaries become
  resume points. The library's auto-reconnect (on errors 2013/2006) would resume mid-transaction
  from its own idea of the position; its connection factory refuses a second stream connection, so
  a lost connection surfaces here, and the reader reconnects from the last boundary and skips the
  items of the open transaction it has already yielded (the binlog is immutable, so the replay is
  identical).
* ``freeze_schema=True``: the library re-parses every Table_map event (70% of decode time for
  single-row statements). Table ids are unique per table definition while a server runs (ALTER,
  TRUNCATE and FLUSH give the table a new id), so a cached map is only unsafe across a restart; a
  restart starts a new binlog file, and the map is cleared at every file change.
* Row images are decoded by ``binlog_rows``: per-table compiled readers on the event's bytes, the
  library's values (its ``ev.rows`` was half of a run); unusual events still go through the library.
* Bounded reads stop at a position (default: ``SHOW MASTER STATUS`` when the read starts): a
  transaction that *starts* at or after it is left for the next read. Streaming reads block and
  wake on heartbeats to ask ``should_stop``; they yield a ``Checkpoint`` on each heartbeat and, while
  only uncaptured tables change (no heartbeats then), at most every ``heartbeat`` seconds.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import secrets
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pymysql
from pymysqlreplication import BinLogStreamReader
from pymysqlreplication.constants import FIELD_TYPE, NONE_SOURCE
from pymysqlreplication.event import (
    GtidEvent,
    HeartbeatLogEvent,
    MariadbBinLogCheckPointEvent,
    MariadbGtidEvent,
    MariadbGtidListEvent,
    QueryEvent,
    RotateEvent,
    XAPrepareEvent,
    XidEvent,
)
from pymysqlreplication.row_event import DeleteRowsEvent, UpdateRowsEvent, WriteRowsEvent

from dersonlake.errors import OperationFailed
from dersonlake.sources.catalog import Table
from dersonlake.sources.mysql.binlog_items import (
    Begin,
    Change,
    Checkpoint,
    Commit,
    Ddl,
    Item,
    Row,
    Transaction,
)
from dersonlake.sources.mysql.binlog_position import BinlogPosition, current_position, require_available
from dersonlake.sources.mysql.binlog_rows import decode_rows, decoder_for
from dersonlake.sources.mysql.connection import ConnectionParams, describe_error, open_connection

log = logging.getLogger("dersonlake.SOURCE_CAPTURE")

_EVENTS = [
    MariadbGtidEvent, GtidEvent, QueryEvent, XidEvent, RotateEvent, HeartbeatLogEvent,
    WriteRowsEvent, UpdateRowsEvent, DeleteRowsEvent, MariadbBinLogCheckPointEvent, MariadbGtidListEvent,
    XAPrepareEvent,
]  # fmt: skip
_MARIADB_STANDALONE = 0x01  # GTID flag: the group is one statement with no BEGIN/COMMIT (DDL)
_ER_MASTER_FATAL_READING_BINLOG = 1236
_DDL = re.compile(r"^\s*(?:/\*.*?\*/\s*)*(ALTER|CREATE|DROP|RENAME|TRUNCATE)\b\s*(\w+)?", re.I | re.S)
_NOT_TABLE_DDL = {"USER", "ROLE", "FUNCTION", "PROCEDURE", "TRIGGER", "EVENT", "SERVER", "SEQUENCE"}
_NAME = r"(`(?:[^`]|``)+`|[\w$]+)"
_DDL_TABLE = re.compile(
    r"^\s*(?:/\*.*?\*/\s*)*(?:ALTER\s+(?:ONLINE\s+|IGNORE\s+)*TABLE|TRUNCATE(?:\s+TABLE)?"
    r"|DROP\s+(?:TEMPORARY\s+)?TABLE(?:\s+IF\s+EXISTS)?|RENAME\s+TABLE"
    r"|CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMPORARY\s+)?TABLE(?:\s+IF\s+NOT\s+EXISTS)?)"
    rf"\s+(?:{_NAME}\s*\.\s*)?{_NAME}",
    re.I | re.S,
)


class _StreamLost(Exception):
    """The library tried to reconnect its stream: we resume ourselves from the last boundary."""


@dataclasses.dataclass
class _Group:
    """The transaction (event group) being read."""

    start: BinlogPosition
    gtid: str | None
    standalone: bool
    started: dt.datetime
    begun: bool = False
    changes: int = 0


class BinlogReader:
    """Iterate the committed transactions touching ``tables`` from ``start`` on, as ``Item``s.

    Bounded (default): up to ``stop`` (default: the server's position when iteration starts), then
    a final ``Checkpoint``. ``blocking=True`` streams until ``should_stop()`` returns true, checked
    after every transaction and on heartbeats (every ``heartbeat`` seconds when idle), or until
    ``stop`` when given. ``position`` is always the resume point: just after the last transaction
    read (captured or not). A purged ``start`` raises ``OperationFailed`` saying a reload is needed.
    Row images are decoded by ``binlog_rows`` (same values, several times faster) unless
    ``fast_rows=False`` or the event needs the library (partial images, unusual types).
    """

    def __init__(
        self,
        params: ConnectionParams,
        tables: Iterable[Table | tuple[str, str]],
        start: BinlogPosition,
        *,
        stop: BinlogPosition | None = None,
        blocking: bool = False,
        should_stop: Callable[[], bool] | None = None,
        heartbeat: float = 1.0,
        server_id: int | None = None,
        retries: int = 3,
        fast_rows: bool = True,
    ) -> None:
        self.params = params
        self.capture = frozenset(
            (t.schema, t.name) if isinstance(t, Table) else (str(t[0]), str(t[1])) for t in tables
        )
        self.start = start
        self.stop = stop
        self.blocking = blocking
        self.should_stop = should_stop or (lambda: False)
        self.heartbeat = heartbeat
        self._marked = time.monotonic()  # when a streaming read last yielded a Checkpoint
        # Each replica connection needs its own id (a second one with the same id kicks the first).
        self.server_id = server_id or (1 << 30) + secrets.randbelow(1 << 30)
        self.retries = retries
        self.position = start
        self._group: _Group | None = None
        self._file = start.file
        self._open_items = 0  # items of the open transaction already yielded
        self._skip = 0  # items to drop while replaying the open transaction after a reconnect
        self._live_schemas: list[str] = []  # the open stream's filters (capture_table extends them)
        self._live_tables: list[str] = []
        self.fast_rows = fast_rows  # False: the library decodes the rows (bench/cdc.py compares)
        self._decoders: dict[int, Any] = {}  # table id -> compiled row decoder (binlog_rows)
        self._when: tuple[int, dt.datetime] = (-1, _utc(0))  # the last event time seen, converted

    def capture_table(self, schema: str, name: str) -> None:
        """Capture ``schema.name`` from the next event on (a table created while reading)."""
        self.capture = self.capture | {(schema, name)}
        for live, value in ((self._live_schemas, schema), (self._live_tables, name)):
            if value not in live:
                live.append(value)  # the library reads these lists at every event

    # -- iteration ------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Item]:
        require_available(self.params, self.position)
        stop = self.stop
        if stop is None and not self.blocking:
            stop = current_position(self.params)
        lost = 0
        while True:
            try:
                yield from self._stream(stop)
                return
            except _StreamLost:
                lost += 1
                if lost > self.retries:
                    raise OperationFailed(
                        f"the binlog connection to {self.params.address} was lost {lost} times "
                        f"(last position {self.position}); check the server and the network"
                    ) from None
                log.warning("binlog connection lost at %s; reconnecting", self.position)
                time.sleep(min(0.2 * 2**lost, 5))
                self._skip, self._open_items = self._open_items, 0
                self._group = None

    def transactions(self) -> Iterator[Transaction]:
        """Whole transactions (each held in memory: for small ones, tests and tools)."""
        current: Transaction | None = None
        for item in self:
            if isinstance(item, Begin):
                current = Transaction(item)
            elif isinstance(item, Change | Ddl) and current is not None:
                current.changes.append(item)
            elif isinstance(item, Commit) and current is not None:
                current.commit = item
                yield current
                current = None

    # -- one connection -------------------------------------------------------------------------
    def _stream(self, stop: BinlogPosition | None) -> Iterator[Item]:
        stream = self._open(self.position)
        try:
            for item in self._events(stream, stop):
                if self._skip and not isinstance(item, Checkpoint):
                    self._skip -= 1
                    self._open_items += 1
                    continue
                self._open_items = 0 if isinstance(item, Commit | Checkpoint) else self._open_items + 1
                yield item
        except pymysql.MySQLError as exc:
            raise self._failure(exc) from None
        finally:
            stream.close()
        if self._group is not None:
            raise OperationFailed(
                f"the binlog of {self.params.address} ended inside a transaction that started at "
                f"{self._group.start}; read again from {self.position}"
            )
        yield Checkpoint(self.position)

    def _open(self, at: BinlogPosition) -> BinLogStreamReader:
        settings: dict[str, Any] = {
            "user": self.params.user,
            "password": self.params.password,
            "charset": "utf8mb4",
            "connect_timeout": max(1, round(self.params.connect_timeout)),
        }
        if self.params.unix_socket:
            settings["unix_socket"] = self.params.unix_socket
        else:
            settings.update(host=self.params.host, port=self.params.port)
        if self.blocking:  # a dead server is noticed after a few missed heartbeats
            settings["read_timeout"] = max(10, round(self.heartbeat * 4))
        else:
            settings["read_timeout"] = self.params.read_timeout
        settings["write_timeout"] = self.params.write_timeout
        self._file = at.file
        self._live_schemas = sorted({s for s, _ in self.capture})
        self._live_tables = sorted({t for _, t in self.capture})
        return BinLogStreamReader(
            connection_settings=settings,
            server_id=self.server_id,
            log_file=at.file,
            log_pos=at.pos,
            resume_stream=True,
            blocking=self.blocking,
            only_events=_EVENTS,
            only_schemas=self._live_schemas,
            only_tables=self._live_tables,
            freeze_schema=True,
            slave_heartbeat=self.heartbeat if self.blocking else None,
            is_mariadb=False,
            enable_logging=False,
            pymysql_wrapper=self._connector(),
        )

    def _connector(self) -> Callable[..., pymysql.connections.Connection]:
        """``pymysql.connect`` that allows one stream connection: a second means the library is
        reconnecting on its own (from a mid-transaction position), which we do instead."""
        streams = 0

        def connect(**kwargs: Any) -> pymysql.connections.Connection:
            nonlocal streams
            if "db" in kwargs:  # the library's control connection uses PyMySQL's deprecated name
                kwargs["database"] = kwargs.pop("db")
            if kwargs.get("database") != "information_schema":  # not the control connection
                streams += 1
                if streams > 1:
                    raise _StreamLost()
            try:  # the greeting bounded by connect_timeout
                return open_connection(self.params, **kwargs)
            except pymysql.MySQLError as exc:
                raise OperationFailed(
                    f"cannot connect to MySQL at {self.params.address} as {self.params.user!r} "
                    f"to read the binlog: {describe_error(exc, self.params)}"
                ) from None

        return connect

    def _failure(self, exc: pymysql.MySQLError) -> OperationFailed:
        text = describe_error(exc, self.params)
        if exc.args and exc.args[0] == _ER_MASTER_FATAL_READING_BINLOG:
            return OperationFailed(
                f"the server {self.params.address} cannot send the binlog from {self.position} "
                f"({text}); if the logs were purged the changes are lost: reload the tables "
                "(a full load) and start CDC from the new position"
            )
        return OperationFailed(f"reading the binlog of {self.params.address} failed: {text}")

    # -- events -> items ------------------------------------------------------------------------
    def _events(self, stream: BinLogStreamReader, stop: BinlogPosition | None) -> Iterator[Item]:
        for ev in stream:
            if isinstance(ev, RotateEvent):
                stream.table_map.clear()  # see the module docstring (freeze_schema)
                self._decoders.clear()
                self._file = ev.next_binlog
                if self._group is None:
                    self.position = BinlogPosition(ev.next_binlog, ev.position, self.position.gtid)
                    if stop is not None and self.position >= stop:
                        return
                continue
            if isinstance(ev, HeartbeatLogEvent):
                if self._group is None:
                    self._marked = time.monotonic()
                    yield Checkpoint(self.position)
                    if self.should_stop():
                        return
                continue
            end = BinlogPosition(self._file, ev.packet.log_pos)
            first = BinlogPosition(self._file, ev.packet.log_pos - ev.packet.event_size)
            if ev.timestamp != self._when[0]:  # one datetime per second, not per event
                self._when = (ev.timestamp, _utc(ev.timestamp))
            when = self._when[1]
            if isinstance(ev, MariadbGtidEvent | GtidEvent):
                if self._group is not None and self._group.begun:
                    raise OperationFailed(
                        f"the binlog transaction at {self._group.start} on {self.params.address} has no end "
                        f"before the next one at {first}; this reader does not understand it"
                    )
                if stop is not None and first >= stop:
                    return
                # MariaDB flags one-statement groups; MySQL's are those not followed by BEGIN
                standalone = not isinstance(ev, MariadbGtidEvent) or bool(ev.flags & _MARIADB_STANDALONE)
                self._group = _Group(first, ev.gtid, standalone, when)
            elif isinstance(ev, XidEvent):
                if self._group is not None:
                    yield from self._finish(end, when)
            elif isinstance(ev, XAPrepareEvent):
                self._xa_prepare(first)
                yield from self._finish(end, when)
            elif isinstance(ev, QueryEvent):
                yield from self._query(ev, first, end, when, stop)
            elif isinstance(ev, WriteRowsEvent | UpdateRowsEvent | DeleteRowsEvent):
                yield from self._rows(ev, first, end, when)
            elif self._group is None and end > self.position:  # header events, checkpoints (not fake: pos 0)
                self.position = BinlogPosition(end.file, end.pos, self.position.gtid)
            if self._group is None and ((stop is not None and self.position >= stop) or self.should_stop()):
                return

    def _query(
        self, ev: QueryEvent, first: BinlogPosition, end: BinlogPosition, when: dt.datetime,
        stop: BinlogPosition | None,
    ) -> Iterator[Item]:  # fmt: skip
        sql = ev.query.strip()
        words = sql.upper().replace(";", " ").split(None, 2)
        word = words[0] if words else ""
        if word == "ROLLBACK" and len(words) > 1 and words[1] == "TO":
            return  # ROLLBACK TO SAVEPOINT: inside the transaction, its rows were never logged
        if word == "BEGIN":
            if self._group is None:  # MySQL without GTIDs: BEGIN opens the group
                self._group = _Group(first, None, False, when)
            self._group.standalone = False
            return
        if word in ("COMMIT", "ROLLBACK"):  # ends a group of non-transactional changes
            if self._group is not None:
                yield from self._finish(end, when)
            return
        if self._group is None:  # a statement logged on its own (MySQL without GTIDs)
            if stop is not None and first >= stop:
                return
            self._group = _Group(first, None, True, when)
        schema = ev.schema.decode() if isinstance(ev.schema, bytes) else str(ev.schema or "")
        if self._is_captured_ddl(schema, sql):
            table = _ddl_table(sql)
            yield from self._begin()
            self._group.changes += 1
            named_schema, name = table if table else (None, None)
            yield Ddl(named_schema or schema, sql, name, end, when)
        if self._group.standalone:
            yield from self._finish(end, when)

    def _xa_prepare(self, at: BinlogPosition) -> None:
        """A two-phase XA transaction is applied at its ``XA COMMIT``, possibly after others, and
        may still be rolled back: its changes cannot be yielded as committed here."""
        if self._group is not None and self._group.begun:
            raise OperationFailed(
                f"an XA transaction prepared at {at} on {self.params.address} changed captured tables; "
                "two-phase XA transactions (XA PREPARE / XA COMMIT) are not supported by the binlog "
                "reader yet (one-phase XA COMMIT ... ONE PHASE is)"
            )

    def _rows(self, ev: Any, first: BinlogPosition, end: BinlogPosition, when: dt.datetime) -> Iterator[Item]:
        if (ev.schema, ev.table) not in self.capture:
            return
        if self._group is None:  # rows outside a group (should not happen): a group of their own
            self._group = _Group(first, None, False, when)
        yield from self._begin()
        decoded = self._decode(ev, end) if self.fast_rows else None
        if decoded is not None:  # our decoder (binlog_rows): full images, SETs as text already
            update = isinstance(ev, UpdateRowsEvent)
            op = "U" if update else "I" if isinstance(ev, WriteRowsEvent) else "D"
            schema, table, group = ev.schema, ev.table, self._group
            for index, (image, after) in enumerate(decoded):
                group.changes += 1
                if update:
                    yield Change(schema, table, op, image, after, end, index, when)
                elif op == "I":
                    yield Change(schema, table, op, None, image, end, index, when)
                else:
                    yield Change(schema, table, op, image, None, end, index, when)
            return
        sets = [(c.name, c.set_values or []) for c in ev.columns if c.type == FIELD_TYPE.SET]
        for index, row in enumerate(ev.rows):
            self._require_full_image(ev, row, end)
            if isinstance(ev, UpdateRowsEvent):
                before = _repair(row["before_values"], row["before_none_sources"], sets)
                after = _repair(row["after_values"], row["after_none_sources"], sets)
                op = "U"
            else:
                image = _repair(row["values"], row["none_sources"], sets)
                inserted = isinstance(ev, WriteRowsEvent)
                op, before, after = ("I", None, image) if inserted else ("D", image, None)
            self._group.changes += 1
            yield Change(ev.schema, ev.table, op, before, after, end, index, when)

    def _decode(self, ev: Any, end: BinlogPosition) -> list[tuple[Row, Row | None]] | None:
        """The event's rows by ``binlog_rows``, or None for the library to decode: an event it does
        not take, or one whose bytes do not add up (the library's packet is untouched, so it can)."""
        decoder = decoder_for(ev, self._decoders)
        if decoder is None:
            return None
        try:
            return decode_rows(ev, decoder)
        except (ValueError, IndexError, struct.error) as exc:
            log.warning("rows event of %s.%s ending at %s: %s; decoding it with the library", ev.schema,
                        ev.table, end, exc)  # fmt: skip
            return None

    def _require_full_image(self, ev: Any, row: dict[str, Any], end: BinlogPosition) -> None:
        """A column left out of an image (binlog_row_image=MINIMAL/NOBLOB) would read as NULL."""
        for key in ("none_sources", "before_none_sources", "after_none_sources"):
            missing = [c for c, why in row.get(key, {}).items() if why == NONE_SOURCE.COLS_BITMAP]
            if missing:
                raise OperationFailed(
                    f"the binlog event of {ev.schema}.{ev.table} ending at {end} on {self.params.address} "
                    f"lacks columns {', '.join(missing)}: it was written with binlog_row_image other than "
                    "FULL; set binlog_row_image=FULL (globally, and restart the writers' sessions), then "
                    "reload the table"
                )

    def _begin(self) -> Iterator[Item]:
        group = self._group
        assert group is not None
        if not group.begun:
            group.begun = True
            yield Begin(group.start, group.gtid, group.started)

    def _finish(self, end: BinlogPosition, when: dt.datetime) -> Iterator[Item]:
        group = self._group
        assert group is not None
        gtid = group.gtid or self.position.gtid
        self._group = None
        self.position = BinlogPosition(end.file, end.pos, gtid)
        if group.begun:
            yield Commit(self.position, group.gtid, when, group.changes)
        elif self.blocking and time.monotonic() - self._marked >= self.heartbeat:
            # A busy server sends no heartbeats: while only other tables change, say every
            # ``heartbeat`` seconds that time passes, so the consumer can flush on its timer.
            self._marked = time.monotonic()
            yield Checkpoint(self.position)

    def _is_captured_ddl(self, schema: str, sql: str) -> bool:
        match = _DDL.match(sql)
        if not match or (match.group(2) or "").upper() in _NOT_TABLE_DDL:
            return False
        schemas = {s for s, _ in self.capture}
        if schema in schemas:
            return True
        lowered = sql.lower()
        return any(re.search(rf"(?<![\w$]){re.escape(s.lower())}`?\s*\.", lowered) for s in schemas)


def read_transactions(
    params: ConnectionParams,
    tables: Iterable[Table | tuple[str, str]],
    start: BinlogPosition,
    stop: BinlogPosition | None = None,
) -> list[Transaction]:
    """Every captured transaction from ``start`` to ``stop`` (default: now), whole, in a list."""
    return list(BinlogReader(params, tables, start, stop=stop).transactions())


def _repair(values: Row, none_sources: dict[str, str], sets: list[tuple[str, list[str]]]) -> Row:
    """Undo the library's SET losses: members as a set (-> text in definition order), the empty
    set as None (-> '', which is not NULL)."""
    for name, members in sets:
        value = values.get(name)
        if isinstance(value, set):
            values[name] = ",".join(m for m in members if m in value)
        elif value is None and none_sources.get(name) == NONE_SOURCE.EMPTY_SET:
            values[name] = ""
    return values


def _ddl_table(sql: str) -> tuple[str | None, str] | None:
    match = _DDL_TABLE.match(sql)
    if not match:
        return None
    schema, table = match.group(1), match.group(2)
    return (_unquote(schema) if schema else None, _unquote(table))


def _unquote(name: str) -> str:
    return name[1:-1].replace("``", "`") if name.startswith("`") else name


def _utc(seconds: int) -> dt.datetime:
    """Event header time (epoch seconds) as a zone-less UTC datetime, as the lake's timestamps."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).replace(tzinfo=None)
