"""Full-load reads: Arrow batches straight from MySQL/MariaDB, fast and in bounded memory.

connectorx is the reader (measured here at ~590k rows/s, 3x mysqlclient; reference/deps.md §3).
Two of its limits shape this module:

* it holds a whole result in memory unless asked for ``arrow_stream``, and a long SELECT keeps an
  old snapshot open on the source; so a keyed table is read in *keyset chunks* (``ORDER BY key
  LIMIT n`` after the last key seen), each one short on the source, each streamed in batches;
* it mis-decodes some MySQL types (DECIMAL(38,10) fails, zero dates and negative TIME panic,
  TIMESTAMP follows the session zone); so each column is selected through an expression that
  the server evaluates exactly (DECIMAL as text, DATE/DATETIME as day/microsecond offsets,
  TIMESTAMP through UNIX_TIMESTAMP, which is UTC whatever the session zone) and converted back
  to the column's Arrow type here. Zero dates come out NULL, as DMS writes them.

connectorx takes SQL text, not parameters, so bound parameters are rendered as escaped literals
here, the same client-side binding PyMySQL does (no value from a mapping is pasted unescaped).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any
from urllib.parse import quote

# connectorx logs through Rust's env_logger, read once at import: its pool would print every
# failed reconnect to stderr. Quiet unless the user asks (RUST_LOG); panics become our errors, so
# their Rust backtraces are noise too.
os.environ.setdefault("RUST_LOG", "off")
os.environ["RUST_BACKTRACE"] = "0"

import connectorx as cx
import pyarrow as pa
import pyarrow.compute as pc

from dersonlake.dms_types import arrow_type
from dersonlake.errors import OperationFailed
from dersonlake.sources.catalog import Column, Table
from dersonlake.sources.mysql.binlog_position import current_position
from dersonlake.sources.mysql.connection import ConnectionParams, wait_for_greeting

log = logging.getLogger(__name__)
FSP_KEY = b"dms.fsp"  # same key the lake's CSV writer reads
_KEY_ALIAS = "__dl_key{}"
# Our literals escape backslashes, so the session must read them that way whatever the server's
# sql_mode; UTC keeps any server-side time arithmetic independent of the server's zone.
SESSION_SETUP = [
    "SET SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '')",
    "SET SESSION time_zone = '+00:00'",
]
# A consistent snapshot per chunk (REPEATABLE READ, or the snapshot is not kept for the statement).
# MariaDB gives its exact binlog position in session status variables; they are read once, into a
# user variable, as one number (file number * 10^12 + offset): selecting the two texts on every row
# cost up to half of a narrow table's read time here, one constant BIGINT costs next to nothing.
_STATUS = "(SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = '{}')"
_FILE_FACTOR = 10**12
SNAPSHOT_SETUP = [
    "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ",
    "START TRANSACTION WITH CONSISTENT SNAPSHOT",
    f"SET @dl_snapshot = CAST(SUBSTRING_INDEX({_STATUS.format('BINLOG_SNAPSHOT_FILE')}, '.', -1) AS UNSIGNED)"
    f" * {_FILE_FACTOR} + CAST({_STATUS.format('BINLOG_SNAPSHOT_POSITION')} AS UNSIGNED)",
]
_BINARY_TYPES = {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"}
_PLAIN_KEY_TYPES = {
    "tinyint",
    "smallint",
    "mediumint",
    "int",
    "integer",
    "bigint",
    "char",
    "varchar",
    "enum",
    "year",
}
_SPATIAL_TYPES = {
    "geometry",
    "point",
    "linestring",
    "polygon",
    "multipoint",
    "multilinestring",
    "multipolygon",
    "geometrycollection",
}


def quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def sql_literal(value: Any) -> str:
    """A SQL literal for ``value``, escaped as MySQL's client libraries escape parameters."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return "X'" + value.hex() + "'"
    text = str(value)
    for old, new in (
        ("\\", "\\\\"),
        ("\0", "\\0"),
        ("\n", "\\n"),
        ("\r", "\\r"),
        ("\x1a", "\\Z"),
        ("'", "''"),
    ):
        text = text.replace(old, new)
    return f"'{text}'"


def bind(sql: str, params: Sequence[Any]) -> str:
    """Render ``%s`` placeholders of ``sql`` with escaped literals (``%%`` is a literal percent)."""
    parts = sql.split("%s")
    if len(parts) != len(params) + 1:
        raise ValueError(f"{len(parts) - 1} placeholders for {len(params)} parameters in {sql!r}")
    out = [parts[0].replace("%%", "%")]
    for value, rest in zip(params, parts[1:], strict=True):
        out.append(sql_literal(value))
        out.append(rest.replace("%%", "%"))
    return "".join(out)


@dataclass(frozen=True)
class ColumnRead:
    """How one source column is selected and turned into its Arrow type."""

    column: Column
    expression: str
    target: pa.DataType

    @property
    def field(self) -> pa.Field:
        meta = {FSP_KEY: str(self.column.datetime_precision or 0).encode()}
        if pa.types.is_timestamp(self.target):
            return pa.field(self.column.name, self.target, metadata=meta)
        return pa.field(self.column.name, self.target)

    def convert(self, values: pa.Array) -> pa.Array:
        t = self.column.data_type.lower()
        if t == "date":
            return values.cast(pa.int32()).cast(pa.date32())
        if t in ("datetime", "timestamp"):
            return values.cast(pa.int64()).cast(pa.timestamp("us"))
        if t == "bit" and pa.types.is_boolean(self.target):
            return pc.not_equal(values.cast(pa.uint64()), 0)
        if values.type != self.target:
            return values.cast(self.target)
        return values


def column_read(column: Column, alias: str = "src") -> ColumnRead:
    """The SELECT expression for ``column`` (evaluated exactly by the server) and its Arrow type."""
    q = f"{alias}.{quote_ident(column.name)}"
    t = column.data_type.lower()
    target = arrow_type(column.dms_type)
    if t in ("decimal", "numeric"):
        expr = f"CAST({q} AS CHAR)"
    elif t == "date":  # year 0 is a zero part (NULL, as the binlog gives it); DATEDIFF is off by one there
        expr = f"IF({q} < '0001-01-01', NULL, DATEDIFF({q}, '1970-01-01'))"
    elif t == "datetime":
        expr = f"IF({q} < '0001-01-01', NULL, TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', {q}))"
    elif t == "timestamp":
        expr = f"CAST(NULLIF(UNIX_TIMESTAMP({q}), 0) * 1000000 AS SIGNED)"
    elif t == "time":
        expr = f"CAST({q} AS CHAR)"
    elif t == "bit" and pa.types.is_boolean(target):
        expr = f"CAST({q} AS UNSIGNED)"
    elif t in _SPATIAL_TYPES:  # the stored form (SRID + WKB), as the binlog carries it
        expr = f"CAST({q} AS BINARY)"
    else:
        expr = q
    return ColumnRead(column, expr, target)


@dataclass
class SnapshotQuery:
    """What to read from one table: columns, the mapping's WHERE (``%s`` + params), the key."""

    table: Table
    columns: Sequence[Column]
    where: str = ""
    params: Sequence[Any] = ()
    key: Sequence[str] = ()
    partition: str | None = None
    mark_snapshot: bool = False  # MariaDB: each chunk in a consistent snapshot, with its binlog position
    reads: list[ColumnRead] = field(init=False)

    def __post_init__(self) -> None:
        self.reads = [column_read(c) for c in self.columns]

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([r.field for r in self.reads])

    def _key_position(self, name: str) -> int | None:
        """The index of a key column read as-is (integers, text), whose values can be bound back
        directly; None when the key needs its own text copy (DECIMAL, dates, binary...)."""
        for i, r in enumerate(self.reads):
            if (
                r.column.name == name
                and r.expression.endswith(quote_ident(name))
                and r.column.data_type.lower() in _PLAIN_KEY_TYPES
            ):
                return i
        return None

    def key_columns(self) -> list[int]:
        """Where each key value sits in a raw result row: in the projection, or after it."""
        out, extra = [], len(self.reads)
        for name in self.key:
            pos = self._key_position(name)
            if pos is None:
                pos, extra = extra, extra + 1
            out.append(pos)
        return out

    def sql(self, after: Sequence[Any] | None, limit: int | None) -> str:
        """One chunk's SELECT: rows after the key values ``after`` (as text), ``limit`` of them."""
        select = [f"{r.expression} AS {quote_ident(r.column.name)}" for r in self.reads]
        key_cols = [self.table.column(k) for k in self.key]
        for i, col in enumerate(key_cols):
            if self._key_position(col.name) is None:
                q = f"src.{quote_ident(col.name)}"
                select.append(f"{_key_text(col, q)} AS {_KEY_ALIAS.format(i)}")
        conditions, params = [], list(self.params)
        if self.where:
            conditions.append(f"({self.where})")
        if after is not None:
            clause, key_params = _keyset_after(key_cols, after)
            conditions.append(clause)
            params += key_params
        if self.mark_snapshot:
            select.append("CAST(@dl_snapshot AS SIGNED) AS `__dl_snapshot`")
        source = f"{quote_ident(self.table.schema)}.{quote_ident(self.table.name)}"
        if self.partition:
            source += f" PARTITION ({quote_ident(self.partition)})"
        sql = f"SELECT {', '.join(select)} FROM {source} AS src"
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        if self.key:
            sql += " ORDER BY " + ", ".join(f"src.{quote_ident(k)}" for k in self.key)
        if limit:
            sql += f" LIMIT {int(limit)}"
        return bind(sql, params)


@dataclass(frozen=True)
class ChunkSnapshot:
    """One chunk of a table read in its own consistent snapshot: the chunk holds the rows with keys
    after ``after`` (None: from the first), and every transaction that ends at or before
    ``file:pos`` of the binlog is in it, every later one is not (MariaDB's
    ``binlog_snapshot_file`` / ``binlog_snapshot_position``)."""

    after: tuple[Any, ...] | None
    file: str
    pos: int


def _key_text(col: Column, q: str) -> str:
    return f"HEX({q})" if col.data_type.lower() in _BINARY_TYPES else f"CAST({q} AS CHAR)"


def _keyset_after(key_cols: Sequence[Column], after: Sequence[Any]) -> tuple[str, list[Any]]:
    """``(k1 > a1) OR (k1 = a1 AND k2 > a2) OR ...``: expanded so every server uses the index."""
    ors, params = [], []
    for i in range(len(key_cols)):
        ands = []
        for j in range(i + 1):
            col = key_cols[j]
            value = "UNHEX(%s)" if col.data_type.lower() in _BINARY_TYPES else "%s"
            ands.append(f"src.{quote_ident(col.name)} {'>' if j == i else '='} {value}")
            params.append(after[j])
        ors.append("(" + " AND ".join(ands) + ")")
    return "(" + " OR ".join(ors) + ")", params


def connection_url(endpoint: ConnectionParams, database: str) -> str:
    """connectorx's URL for ``endpoint`` (holds the password: never log it)."""
    return (
        f"mysql://{quote(endpoint.user, safe='')}:{quote(endpoint.password, safe='')}"
        f"@{endpoint.host}:{endpoint.port}/{quote(database, safe='')}"
    )


def read_batches(
    endpoint: ConnectionParams,
    query: SnapshotQuery,
    *,
    chunk_rows: int = 100_000,
    batch_rows: int = 10_000,
    after: Sequence[Any] | None = None,
    on_snapshot: Callable[[ChunkSnapshot], None] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Every row of ``query`` as batches of ``query.schema``: keyset chunks when the table has a
    key, else one streaming read. Peak memory is about one batch plus connectorx's buffers.

    With ``query.mark_snapshot`` (MariaDB only) each chunk runs in ``START TRANSACTION WITH
    CONSISTENT SNAPSHOT`` and selects the snapshot's binlog position alongside its rows, in the same
    statement, so the position is exactly the snapshot's; ``on_snapshot`` hears it for every chunk
    that returned rows (the CDC handoff skips the changes a chunk already holds).
    """

    url = connection_url(endpoint, query.table.schema)
    binlog = ""
    if query.mark_snapshot and on_snapshot is not None:
        try:  # the binlog's file name; without a binlog (or the privilege) there is no position
            binlog = current_position(endpoint).file
        except OperationFailed as exc:
            log.info("%s: read without snapshot positions (%s)", query.table.qualified, exc)
    if query.mark_snapshot and not binlog:
        query = replace(query, mark_snapshot=False)
    setup = SESSION_SETUP + (SNAPSHOT_SETUP if query.mark_snapshot else [])
    base, _, digits = binlog.rpartition(".")
    schema = query.schema
    n_keys = len(query.key)
    key_positions = query.key_columns()
    while True:
        sql = query.sql(after, chunk_rows if n_keys else None)
        _probe(endpoint)
        try:
            reader = cx.read_sql(
                url, sql, return_type="arrow_stream", batch_size=batch_rows, pre_execution_query=setup
            )
        except BaseException as exc:  # connectorx raises RuntimeError, and panics as BaseException
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            raise OperationFailed(_reason(exc, endpoint, query)) from None
        rows = 0
        last: list[Any] | None = None
        for raw in reader:
            if raw.num_rows == 0:
                continue
            if rows == 0 and query.mark_snapshot and on_snapshot is not None:
                number, pos = divmod(int(raw.column(raw.num_columns - 1)[0].as_py()), _FILE_FACTOR)
                file = f"{base}.{number:0{len(digits)}d}"
                on_snapshot(ChunkSnapshot(tuple(after) if after is not None else None, file, pos))
            rows += raw.num_rows
            columns = [r.convert(raw.column(i)) for i, r in enumerate(query.reads)]
            if n_keys:
                last = [raw.column(pos)[-1].as_py() for pos in key_positions]
            yield pa.RecordBatch.from_arrays(columns, schema=schema)
        if not n_keys or rows < chunk_rows or last is None:
            return
        after = last


def _probe(endpoint: ConnectionParams) -> None:
    """Fail within ``connect_timeout`` when the server is not there or says nothing: connectorx's
    pool would wait 30 s and then report only "timed out waiting for connection"."""
    wait_for_greeting(endpoint)


def _reason(exc: BaseException, endpoint: ConnectionParams, query: SnapshotQuery) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    secret = endpoint.password
    if secret:
        text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return f"reading {query.table.qualified} from {endpoint.host}:{endpoint.port} failed: {text}"
