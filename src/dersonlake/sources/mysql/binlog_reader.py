"""Reading the binlog from a server: our client and decoder -> ``Begin``/``Change``/``Ddl``/``Commit``.

How, and why:

* ``binlog_client`` speaks the replication protocol (COM_REGISTER_SLAVE, COM_BINLOG_DUMP with
  ``file:pos``, checksums announced and verified, heartbeats, connect/greeting/read timeouts);
  ``binlog_events`` decodes the events (TRANSACTION_PAYLOAD, partial JSON, MariaDB compressed
  events included). python-mysql-replication is no longer in the data path: it skipped MySQL 8's
  compressed transactions silently and spent most of the time in its event framing.
* Positions are tracked here, from each event's header, and only transaction boundaries become
  resume points. A lost connection (or a timeout) reconnects from the last boundary and skips the
  items of the open transaction it has already yielded (the binlog is immutable, so the replay is
  identical).
* Rows are decoded only for captured tables; a Table_map is kept per table id until the next
  Format_description (a new file or a restart), since table ids are unique per definition while a
  server runs.
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
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from dersonlake.errors import OperationFailed
from dersonlake.sources.catalog import Table
from dersonlake.sources.mysql.binlog_client import (
    ER_MASTER_FATAL_READING_BINLOG,
    BinlogConnection,
    BinlogConnectionLost,
    BinlogServerError,
)
from dersonlake.sources.mysql.binlog_events import (
    Event,
    EventDecoder,
    Gtid,
    Heartbeat,
    Query,
    Rotate,
    Rows,
    XaPrepare,
    Xid,
)
from dersonlake.sources.mysql.binlog_file import BinlogFiles, FileStart
from dersonlake.sources.mysql.binlog_framing import ALG_CRC32, ALG_OFF, BinlogCorrupt
from dersonlake.sources.mysql.binlog_items import (
    Begin,
    Change,
    Checkpoint,
    Commit,
    Ddl,
    Item,
    Transaction,
)
from dersonlake.sources.mysql.binlog_position import BinlogPosition, current_position, require_available
from dersonlake.sources.mysql.connection import ConnectionParams

log = logging.getLogger("dersonlake.SOURCE_CAPTURE")

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
    Rows are decoded by ``binlog_events`` (compiled row loop when built, ``binlog_rows_event``).
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
        self._when: tuple[int, dt.datetime] = (-1, _utc(0))  # the last event time seen, converted
        self._stopped = False  # the last event reached the stop position or should_stop()
        self._reconnecting = False  # a connection was lost: connect failures are retried too

    def capture_table(self, schema: str, name: str) -> None:
        """Capture ``schema.name`` from the next event on (a table created while reading)."""
        self.capture = self.capture | {(schema, name)}  # the decoder's filter reads it per event

    # -- iteration ------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Item]:
        require_available(self.params, self.position)
        stop = self.stop
        if stop is None and not self.blocking:
            stop = current_position(self.params)
        lost = 0
        while True:
            self._reconnecting = lost > 0
            try:
                yield from self._stream(stop)
                return
            except BinlogConnectionLost as exc:
                lost += 1
                if lost > self.retries:
                    raise OperationFailed(
                        f"the binlog connection to {self.params.address} was lost {lost} times "
                        f"(last position {self.position}; {exc}); check the server and the network"
                    ) from None
                log.warning("binlog connection lost at %s (%s); reconnecting", self.position, exc)
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
        conn = self._open(self.position)
        try:
            for item in self._events(conn, stop):
                if self._skip and not isinstance(item, Checkpoint):
                    self._skip -= 1
                    self._open_items += 1
                    continue
                self._open_items = 0 if isinstance(item, Commit | Checkpoint) else self._open_items + 1
                yield item
        except BinlogServerError as exc:
            raise self._failure(exc) from None
        except BinlogCorrupt as exc:
            raise OperationFailed(
                f"the binlog of {self.params.address} cannot be decoded: {exc}; "
                "nothing after the last transaction read was passed on"
            ) from None
        finally:
            conn.close()
        if self._group is not None:
            raise OperationFailed(
                f"the binlog of {self.params.address} ended inside a transaction that started at "
                f"{self._group.start}; read again from {self.position}"
            )
        yield Checkpoint(self.position)

    def _open(self, at: BinlogPosition) -> BinlogConnection:
        # blocking: a dead server is noticed after a few missed heartbeats
        read_timeout = max(10.0, self.heartbeat * 4) if self.blocking else self.params.read_timeout
        conn = BinlogConnection(
            self.params,
            self.server_id,
            read_timeout=read_timeout,
            heartbeat=self.heartbeat if self.blocking else None,
        )
        self._file = at.file
        try:
            conn.start(at.file, at.pos, blocking=self.blocking)
        except OperationFailed as exc:
            conn.close()
            if self._reconnecting:  # the server is restarting: keep trying, within ``retries``
                raise BinlogConnectionLost(str(exc)) from None
            raise
        except BaseException:
            conn.close()
            raise
        return conn

    def _failure(self, exc: BinlogServerError) -> OperationFailed:
        if exc.code == ER_MASTER_FATAL_READING_BINLOG:
            return OperationFailed(
                f"the server {self.params.address} cannot send the binlog from {self.position} "
                f"({exc}); if the logs were purged the changes are lost: reload the tables "
                "(a full load) and start CDC from the new position"
            )
        return OperationFailed(f"reading the binlog of {self.params.address} failed: {exc}")

    # -- events -> items ------------------------------------------------------------------------
    def _events(self, conn: BinlogConnection | BinlogFiles, stop: BinlogPosition | None) -> Iterator[Item]:
        checksum = ALG_CRC32 if conn.checksum == "CRC32" else ALG_OFF
        decoder = EventDecoder(lambda schema, table: (schema, table) in self.capture, checksum=checksum)
        for raw in conn.events():
            if isinstance(raw, FileStart):  # archived files: each starts with its own Format_description
                self._file = raw.name
                decoder = EventDecoder(decoder.wants)
                continue
            where = f"{self._file}:{_end_of(raw)}"
            for event in decoder.decode(raw, where):
                yield from self._event(event, stop)
                if self._group is None and (_reached(self.position, stop) or self.should_stop()):
                    return
                if self._stopped:
                    return

    def _event(self, event: Event, stop: BinlogPosition | None) -> Iterator[Item]:
        data = event.data
        self._stopped = False
        if isinstance(data, Rotate):
            self._file = data.next_file
            if self._group is None:
                self.position = BinlogPosition(data.next_file, data.position, self.position.gtid)
                self._stopped = stop is not None and self.position >= stop
            return
        if isinstance(data, Heartbeat):
            if self._group is None:
                self._marked = time.monotonic()
                yield Checkpoint(self.position)
                self._stopped = self.should_stop()
            return
        if not event.end:  # made up for the stream (no place in the file): nothing to track
            return
        end = BinlogPosition(self._file, event.end)
        first = BinlogPosition(self._file, event.end - event.size)
        if event.timestamp != self._when[0]:  # one datetime per second, not per event
            self._when = (event.timestamp, _utc(event.timestamp))
        when = self._when[1]
        if isinstance(data, Rows):
            if data.event is not None:
                yield from self._rows(data, first, end, when)
        elif isinstance(data, Gtid):
            if self._group is not None and self._group.begun:
                raise OperationFailed(
                    f"the binlog transaction at {self._group.start} on {self.params.address} has no end "
                    f"before the next one at {first}; this reader does not understand it"
                )
            if _reached(first, stop):
                self._stopped = True
                return
            # MariaDB flags one-statement groups; MySQL's are those not followed by BEGIN
            standalone = not data.mariadb or data.standalone
            self._group = _Group(first, data.gtid, standalone, when)
        elif isinstance(data, Xid):
            if self._group is not None:
                yield from self._finish(end, when)
        elif isinstance(data, XaPrepare):
            self._xa_prepare(first)
            yield from self._finish(end, when)
        elif isinstance(data, Query):
            yield from self._query(data, first, end, when, stop)
        elif self._group is None and end > self.position:  # header events, checkpoints
            self.position = BinlogPosition(end.file, end.pos, self.position.gtid)

    def _query(
        self, ev: Query, first: BinlogPosition, end: BinlogPosition, when: dt.datetime,
        stop: BinlogPosition | None,
    ) -> Iterator[Item]:  # fmt: skip
        sql = ev.sql.strip()
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
        schema = ev.schema
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

    def _rows(
        self, data: Rows, first: BinlogPosition, end: BinlogPosition, when: dt.datetime
    ) -> Iterator[Item]:
        rows = data.event
        assert rows is not None
        table = data.table
        if not rows.full:  # a column left out of an image (binlog_row_image=MINIMAL/NOBLOB) reads as NULL
            raise OperationFailed(
                f"the binlog event of {table.schema}.{table.table} ending at {end} on {self.params.address} "
                f"lacks columns {', '.join(rows.missing)}: it was written with binlog_row_image other than "
                "FULL; set binlog_row_image=FULL (globally, and restart the writers' sessions), then "
                "reload the table"
            )
        if self._group is None:  # rows outside a group (should not happen): a group of their own
            self._group = _Group(first, None, False, when)
        yield from self._begin()
        op, schema, name, group = data.op, table.schema, table.table, self._group
        for index, (image, after) in enumerate(rows.rows):
            group.changes += 1
            if op == "U":
                yield Change(schema, name, op, image, after, end, index, when)
            elif op == "I":
                yield Change(schema, name, op, None, image, end, index, when)
            else:
                yield Change(schema, name, op, image, None, end, index, when)

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


def _reached(position: BinlogPosition, stop: BinlogPosition | None) -> bool:
    """``position >= stop`` for the per-event check: offsets compare directly within one file."""
    if stop is None:
        return False
    if position.file == stop.file:
        return position.pos >= stop.pos
    return position >= stop


def _end_of(raw: bytes) -> int:
    """The ``log_pos`` of a raw event (for error messages before it is decoded)."""
    return int.from_bytes(raw[13:17], "little") if len(raw) >= 17 else 0


class BinlogFileReader(BinlogReader):
    """CDC from archived binlog files (downloaded from RDS, restored from a backup) when the server
    has purged them: the same items as ``BinlogReader``, from ``start`` (default: the first file's
    first event) to ``stop`` or the end of the last file. No server is asked anything."""

    def __init__(
        self,
        paths: Iterable[Path],
        tables: Iterable[Table | tuple[str, str]],
        start: BinlogPosition | None = None,
        *,
        stop: BinlogPosition | None = None,
    ) -> None:
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise OperationFailed("no binlog files given")
        first = min(self.paths, key=lambda p: BinlogPosition(p.name, 0).sort_key)
        where = ConnectionParams(host="files", unix_socket=str(first.parent))
        super().__init__(where, tables, start or BinlogPosition(first.name, 4), stop=stop, retries=0)

    def __iter__(self) -> Iterator[Item]:
        yield from self._stream(self.stop)

    def _open(self, at: BinlogPosition) -> BinlogFiles:  # type: ignore[override]
        self._file = at.file
        return BinlogFiles(self.paths, at)
