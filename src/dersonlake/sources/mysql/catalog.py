"""Schema discovery: what a MySQL/MariaDB server holds, read from ``information_schema``.

One query per ``information_schema`` table (not one per source table), so discovery of a server
with thousands of tables stays a handful of round trips. Row counts and sizes are the server's
estimates (``TABLES.TABLE_ROWS`` / ``DATA_LENGTH``), good enough for planning chunks and progress.

MariaDB stores JSON as LONGTEXT with a ``json_valid()`` CHECK constraint; such columns are reported
as ``data_type = column_type = 'json'`` (as MySQL reports them), so they map to DMS CLOB everywhere.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import pymysql

from dersonlake.dms_types import DmsType
from dersonlake.errors import OperationFailed
from dersonlake.sources.catalog import Catalog, Column, Table
from dersonlake.sources.mysql.connection import ConnectionParams, connect, describe_error
from dersonlake.sources.mysql.types import UnmappedType, dms_type_for

log = logging.getLogger("dersonlake.METADATA_MANAGER")

SYSTEM_SCHEMAS = frozenset({"mysql", "information_schema", "performance_schema", "sys"})

_KIND = {"BASE TABLE": "table", "SYSTEM VERSIONED": "table", "VIEW": "view"}


def discover_catalog(params: ConnectionParams, schemas: Iterable[str] | None = None) -> Catalog:
    """Every table and view the user can see in ``schemas`` (default: ``params.databases``, and when
    that is empty every non-system schema). Connection problems raise ``OperationFailed``."""
    wanted = tuple(schemas) if schemas is not None else params.databases
    conn = connect(params)
    try:
        return read_catalog(conn, wanted)
    except pymysql.MySQLError as exc:
        raise OperationFailed(
            f"schema discovery on {params.address} failed: {describe_error(exc, params)}"
        ) from None
    finally:
        conn.close()


def read_catalog(conn: pymysql.connections.Connection, schemas: Sequence[str] = ()) -> Catalog:
    """``discover_catalog`` on an open connection (tests and the snapshot reader reuse theirs)."""
    where, args = _schema_filter("TABLE_SCHEMA", schemas)
    with conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        version = str(cur.fetchone()[0])
        if "mariadb" not in version.lower() and version[:1].isdigit() and int(version.split(".")[0]) >= 8:
            # MySQL 8 caches table statistics in information_schema for a day by default.
            cur.execute("SET SESSION information_schema_stats_expiry = 0")

        cur.execute(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_ROWS, DATA_LENGTH "
            f"FROM information_schema.TABLES WHERE {where} ORDER BY TABLE_SCHEMA, TABLE_NAME",
            args,
        )
        table_rows = [r for r in cur.fetchall() if _text(r[2]) in _KIND]

        cur.execute(
            "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, DATA_TYPE, COLUMN_TYPE, "
            "IS_NULLABLE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, "
            "CHARACTER_SET_NAME, EXTRA, COLLATION_NAME "
            f"FROM information_schema.COLUMNS WHERE {where} "
            "ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION",
            args,
        )
        column_rows = cur.fetchall()

        cur.execute(
            "SELECT TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME "
            f"FROM information_schema.STATISTICS WHERE NON_UNIQUE = 0 AND {where} "
            "ORDER BY TABLE_SCHEMA, TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
            args,
        )
        key_rows = cur.fetchall()

        cur.execute(
            "SELECT TABLE_SCHEMA, TABLE_NAME, PARTITION_NAME, SUBPARTITION_NAME "
            f"FROM information_schema.PARTITIONS WHERE PARTITION_NAME IS NOT NULL AND {where} "
            "ORDER BY TABLE_SCHEMA, TABLE_NAME, PARTITION_ORDINAL_POSITION, SUBPARTITION_ORDINAL_POSITION",
            args,
        )
        partition_rows = cur.fetchall()

        json_columns = _mariadb_json_columns(cur, where, args) if "mariadb" in version.lower() else set()

    columns: dict[tuple[str, str], list[Column]] = defaultdict(list)
    for row in column_rows:
        schema, table = _text(row[0]), _text(row[1])
        columns[(schema, table)].append(_column(row, json=(schema, table, _text(row[2])) in json_columns))

    keys: dict[tuple[str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for schema, table, index, _seq, column in key_rows:
        keys[(_text(schema), _text(table))][_text(index)].append(_text(column))

    partitions: dict[tuple[str, str], list[str]] = defaultdict(list)
    for schema, table, part, sub in partition_rows:
        name = _text(sub) if sub else _text(part)
        partitions[(_text(schema), _text(table))].append(name)

    tables = []
    for schema, name, table_type, engine, approx_rows, data_bytes in table_rows:
        key = (_text(schema), _text(name))
        indexes = keys.get(key, {})
        kind = _KIND[_text(table_type)]
        tables.append(
            Table(
                schema=key[0],
                name=key[1],
                columns=tuple(columns.get(key, ())),
                kind=kind,
                primary_key=tuple(indexes.get("PRIMARY", ())),
                unique_keys={k: tuple(v) for k, v in indexes.items() if k != "PRIMARY"},
                approx_rows=int(approx_rows or 0) if kind == "table" else 0,
                data_bytes=int(data_bytes or 0) if kind == "table" else 0,
                partitions=tuple(partitions.get(key, ())),
                engine=_text(engine) if engine else None,
            )
        )
    return Catalog(tables=tuple(tables), server_version=version)


def _schema_filter(column: str, schemas: Sequence[str]) -> tuple[str, list[Any]]:
    """SQL condition selecting ``schemas`` (or every non-system schema) and its arguments."""
    if schemas:
        return f"{column} IN ({', '.join(['%s'] * len(schemas))})", list(schemas)
    system = sorted(SYSTEM_SCHEMAS)
    return f"{column} NOT IN ({', '.join(['%s'] * len(system))})", system


def _mariadb_json_columns(cur: Any, where: str, args: list[Any]) -> set[tuple[str, str, str]]:
    """Columns guarded by ``json_valid(`col`)``: MariaDB's JSON (an alias of LONGTEXT)."""
    try:
        cur.execute(
            "SELECT CONSTRAINT_SCHEMA, TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
            f"WHERE {where.replace('TABLE_SCHEMA', 'CONSTRAINT_SCHEMA')}",
            args,
        )
    except pymysql.MySQLError:  # servers without CHECK_CONSTRAINTS have no JSON alias either
        return set()
    found = set()
    for schema, table, clause in cur.fetchall():
        match = re.fullmatch(r"\s*json_valid\(`((?:[^`]|``)+)`\)\s*", _text(clause), flags=re.IGNORECASE)
        if match:
            found.add((_text(schema), _text(table), match.group(1).replace("``", "`")))
    return found


def _column(row: Sequence[Any], *, json: bool) -> Column:
    (_s, _t, name, ordinal, data_type, column_type, nullable, char_len, precision, scale, dt_precision,
     charset, extra, collation) = row  # fmt: skip
    data_type = _text(data_type).lower()
    column_type = _text(column_type).lower()
    if json and data_type == "longtext":
        data_type = column_type = "json"
    try:
        dms = dms_type_for(
            data_type,
            column_type,
            char_length=_int(char_len),
            precision=_int(precision),
            scale=_int(scale),
        )
    except UnmappedType:
        log.warning("column %s.%s.%s: unknown type %r, read as text", _s, _t, name, column_type)
        dms = DmsType("string")
    extra_text = _text(extra).upper() if extra else ""
    return Column(
        name=_text(name),
        ordinal=int(ordinal),
        data_type=data_type,
        column_type=column_type,
        nullable=_text(nullable).upper() == "YES",
        dms_type=dms,
        unsigned="unsigned" in column_type,
        length=_int(char_len),
        precision=_int(precision),
        scale=_int(scale),
        datetime_precision=_int(dt_precision),
        charset=_text(charset) if charset else None,
        generated=any(word in extra_text for word in ("GENERATED", "VIRTUAL", "PERSISTENT", "STORED")),
        collation=_text(collation) if collation else None,
    )


def _text(value: Any) -> str:
    """information_schema text (MySQL 8 hands some of it back as bytes)."""
    return value.decode() if isinstance(value, bytes | bytearray) else str(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
