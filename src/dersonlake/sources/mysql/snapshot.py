"""Full-load reads: Arrow batches straight from MySQL/MariaDB, fast and in bounded memory.

connectorx is the reader (measured here at ~590k rows/s, 3x mysqlclient; reference/deps.md §3).
Two of its limits shape this module:

* it holds a whole result in memory unless asked for ``arrow_stream``, and a long SELECT keeps an
  old snapshot open on the source; so a keyed table is read in *keyset chunks* (``ORDER BY key
  LIMIT n`` after the last key seen), each one short on the source, each streamed in batches;
* it mis-decodes some MySQL types (DECIMAL(38,10) fails, zero dates and negative TIME panic,
  TIMESTAMP follows the session zone); so each column is selected through an expression that
  the server evaluates exactly (DECIMAL as text, DATE and DATETIME as the digits of their
  numeric form, ``YYYYMMDD[hhmmss]``, DATETIME with fractions as a microsecond offset, TIMESTAMP
  through UNIX_TIMESTAMP, which is UTC whatever the session zone) and converted back to the
  column's Arrow type here. Zero dates come out NULL, as DMS writes them.

The expressions are chosen by what they cost the server, which shares the cores with us
(measured with ``SELECT SUM(expr)`` over 2.84M rows, bench/multi_schema.py's daily_stock: a plain
column 0.30 s): ``d + 0`` 0.31 s, ``TO_DAYS`` 0.35-0.40 s, ``DATEDIFF`` 0.58 s, ``TIMESTAMPDIFF``
0.63 s, ``CAST(d AS CHAR)`` (a key's text) 0.45-0.98 s. The numeric form also gives a DATE or
DATETIME key's text without selecting the key twice.

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
_TO_SECONDS_EPOCH = 62167219200 * 1000000  # TO_SECONDS('1970-01-01') in microseconds
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

    @property
    def digits(self) -> bool:
        """Selected as the digits of its numeric form (``YYYYMMDD`` / ``YYYYMMDDhhmmss``)."""
        return self.expression.endswith(" + 0")

    def convert(self, values: pa.Array) -> pa.Array:
        t = self.column.data_type.lower()
        if t == "date":
            return digits_to_date(values) if self.digits else values.cast(pa.int32()).cast(pa.date32())
        if t == "datetime" and self.digits:
            return digits_to_timestamp(values)
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
    elif t == "date" or (t == "datetime" and not column.datetime_precision):
        expr = f"{q} + 0"  # YYYYMMDD[hhmmss] as BIGINT: zero parts, year 0 -> NULL in convert()
    elif t == "datetime":  # year 0 is a zero part (NULL, as the binlog gives it)
        micros = f"TO_SECONDS({q}) * 1000000 + MICROSECOND({q}) - {_TO_SECONDS_EPOCH}"
        expr = f"IF({q} < '0001-01-01', NULL, {micros})"
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
        """The index of a key column read as-is (integers, text) or as date digits, whose values
        can be bound back (``key_text``); None when the key needs its own text copy (DECIMAL,
        binary, DATETIME with fractions...)."""
        for i, r in enumerate(self.reads):
            if r.column.name != name:
                continue
            if r.digits or (
                r.expression.endswith(quote_ident(name)) and r.column.data_type.lower() in _PLAIN_KEY_TYPES
            ):
                return i
        return None

    def key_text(self) -> list[Callable[[Any], Any]]:
        """Per key column, what turns its raw value (at ``key_columns()``) into the bound value."""
        out: list[Callable[[Any], Any]] = []
        for name in self.key:
            pos = self._key_position(name)
            if pos is not None and self.reads[pos].digits:
                date = self.reads[pos].column.data_type.lower() == "date"
                out.append(_date_text if date else _datetime_text)
            else:
                out.append(_same)
        return out

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
        assert all(c is not None for c in key_cols), f"key {self.key} not in {self.table.qualified}"
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


def _same(value: Any) -> Any:
    return value


def _date_text(value: Any) -> Any:
    """``20200115`` -> ``'2020-01-15'``: a DATE key's text exactly as the server prints it (zero
    parts included), for binding it back."""
    if value is None:
        return None
    v = int(value)
    return f"{v // 10000:04d}-{v // 100 % 100:02d}-{v % 100:02d}"


def _datetime_text(value: Any) -> Any:
    """``20200115103000`` -> ``'2020-01-15 10:30:00'`` (a DATETIME(0) key's text)."""
    if value is None:
        return None
    d, t = divmod(int(value), 1000000)
    return f"{_date_text(d)} {t // 10000:02d}:{t // 100 % 100:02d}:{t % 100:02d}"


def _days(ymd: pa.Array) -> tuple[pa.Array, pa.Array]:
    """Days since 1970-01-01 of ``YYYYMMDD`` integers (proleptic Gregorian, as the server's
    ``TO_DAYS``; a day past the month's end counts on, as there), and where the value is a date:
    NULL for year 0 and zero month or day parts, as the binlog gives them."""
    y = pc.divide(ymd, 10000)
    m = pc.subtract(pc.divide(ymd, 100), pc.multiply(y, 100))
    d = pc.subtract(ymd, pc.multiply(pc.divide(ymd, 100), 100))
    valid = pc.and_(pc.and_(pc.greater(y, 0), pc.greater(m, 0)), pc.greater(d, 0))
    # days_from_civil (H. Hinnant): the year starts in March, so leap days come last
    early = pc.less_equal(m, 2)
    y = pc.subtract(y, early.cast(ymd.type))
    era = pc.divide(y, 400)
    yoe = pc.subtract(y, pc.multiply(era, 400))
    mp = pc.if_else(early, pc.add(m, 9), pc.subtract(m, 3))
    doy = pc.add(pc.divide(pc.add(pc.multiply(mp, 153), 2), 5), pc.subtract(d, 1))
    doe = pc.add(pc.subtract(pc.add(pc.multiply(yoe, 365), pc.divide(yoe, 4)), pc.divide(yoe, 100)), doy)
    days = pc.subtract(pc.add(pc.multiply(era, 146097), doe), 719468)
    return days, valid


def digits_to_date(values: pa.Array) -> pa.Array:
    """``YYYYMMDD`` (a DATE's ``d + 0``) as date32; zero dates and zero parts become NULL."""
    ymd = values.cast(pa.int64())
    days, valid = _days(ymd)
    return pc.if_else(valid, days, None).cast(pa.int32()).cast(pa.date32())


def digits_to_timestamp(values: pa.Array) -> pa.Array:
    """``YYYYMMDDhhmmss`` (a DATETIME(0)'s ``d + 0``) as timestamp(us); zero parts become NULL."""
    v = values.cast(pa.int64())
    ymd = pc.divide(v, 1000000)
    hms = pc.subtract(v, pc.multiply(ymd, 1000000))
    h = pc.divide(hms, 10000)
    mi = pc.subtract(pc.divide(hms, 100), pc.multiply(h, 100))
    sec = pc.subtract(hms, pc.multiply(pc.divide(hms, 100), 100))
    days, valid = _days(ymd)
    seconds = pc.add(pc.add(pc.multiply(days, 86400), pc.multiply(h, 3600)), pc.add(pc.multiply(mi, 60), sec))
    return pc.if_else(valid, pc.multiply(seconds, 1000000), None).cast(pa.timestamp("us"))


def key_range(endpoint: ConnectionParams, table: Table, column: str, where: str = "", params=()) -> tuple:
    """``(MIN, MAX)`` of ``column`` over the rows ``where`` selects ((None, None) when there are
    none): read from the key's index, so it costs milliseconds whatever the table's size."""
    q = quote_ident(column)
    source = f"{quote_ident(table.schema)}.{quote_ident(table.name)}"
    sql = f"SELECT MIN(src.{q}) AS lo, MAX(src.{q}) AS hi FROM {source} AS src"
    if where:
        sql += f" WHERE ({where})"
    _probe(endpoint)
    try:
        row = cx.read_sql(
            connection_url(endpoint, table.schema), bind(sql, list(params)), return_type="arrow"
        )
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise OperationFailed(_reason(exc, endpoint, SnapshotQuery(table, []))) from None
    lo, hi = row.column(0)[0].as_py(), row.column(1)[0].as_py()
    return lo, hi


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
    binlog_file: str | None = None,
) -> Iterator[pa.RecordBatch]:
    """Every row of ``query`` as batches of ``query.schema``: keyset chunks when the table has a
    key, else one streaming read. Peak memory is about one batch plus connectorx's buffers.

    With ``query.mark_snapshot`` (MariaDB only) each chunk runs in ``START TRANSACTION WITH
    CONSISTENT SNAPSHOT`` and selects the snapshot's binlog position alongside its rows, in the same
    statement, so the position is exactly the snapshot's; ``on_snapshot`` hears it for every chunk
    that returned rows (the CDC handoff skips the changes a chunk already holds). ``binlog_file``
    is any binlog file name of the server (its base name and digits name the positions; ``""``: no
    binlog): a caller reading many tables passes it once (each lookup is a TLS-negotiating PyMySQL
    connection, ~20 ms of CPU, measured in bench/multi_schema.py's 22-table profile); None looks it up.
    """

    url = connection_url(endpoint, query.table.schema)
    binlog = binlog_file or ""
    if query.mark_snapshot and on_snapshot is not None and binlog_file is None:
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
    key_text = query.key_text()
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
                last = [
                    text(raw.column(pos)[-1].as_py())
                    for pos, text in zip(key_positions, key_text, strict=True)
                ]
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
