"""Lake columns (Arrow, as the DMS files hold them) -> Iceberg columns, with exact types.

The lake files follow DMS's types (``sources/mysql/types.py``); Iceberg has fewer integer widths
and no unsigned ones, so each Arrow type maps to the Iceberg type that holds every value exactly:

============================  ==========================  ==========================================
lake (Arrow)                  Iceberg                     why
============================  ==========================  ==========================================
int8/int16/int32/uint8/uint16 int
int64/uint32                  long
uint64 (BIGINT UNSIGNED)      decimal(20, 0)              2**64-1 does not fit a long
decimal128(p, s)              decimal(p, s)
decimal256 (p > 38)           string (the exact digits)   Iceberg decimals hold 38 digits at most
timestamp[us] of a TIMESTAMP  timestamptz                 the lake holds its UTC wall time
timestamp[us] of a DATETIME   timestamp                   a wall time without a zone
date32 / float64 / bool       date / double / boolean
string (TIME, SET, JSON ...)  string                      TIME spans -838:59:59..838:59:59, beyond
                                                          Iceberg's time of day; SET/JSON are text
binary (BLOB, BINARY, BIT)    binary
binary of a spatial column    binary, WKB                 MySQL's 4-byte SRID prefix removed
============================  ==========================  ==========================================

The key columns are the table's identifier fields (required). Every other column is optional, so a
later ``ALTER ... NULL`` needs no rewrite.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.schema import Schema
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IcebergType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    TimestampType,
    TimestamptzType,
    TimeType,
)

UTC_TIMESTAMP = "timestamptz"  # hint: the column holds a MySQL TIMESTAMP (UTC wall time)
WKB = "wkb"  # hint: the column holds MySQL's spatial bytes (SRID + WKB)


class UnsupportedColumn(ValueError):
    """A lake column type with no exact Iceberg type (names the column)."""


def iceberg_type(field: pa.Field, hint: str | None = None) -> IcebergType:
    """The Iceberg type that holds every value of the lake column ``field`` exactly."""
    t = field.type
    if pa.types.is_boolean(t):
        return BooleanType()
    if pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_int32(t):
        return IntegerType()
    if pa.types.is_uint8(t) or pa.types.is_uint16(t):
        return IntegerType()
    if pa.types.is_int64(t) or pa.types.is_uint32(t):
        return LongType()
    if pa.types.is_uint64(t):
        return DecimalType(20, 0)
    if pa.types.is_float32(t):
        return FloatType()
    if pa.types.is_float64(t):
        return DoubleType()
    if pa.types.is_decimal(t):
        return DecimalType(t.precision, t.scale) if t.precision <= 38 else StringType()
    if pa.types.is_date(t):
        return DateType()
    if pa.types.is_timestamp(t):
        return TimestamptzType() if t.tz is not None or hint == UTC_TIMESTAMP else TimestampType()
    if pa.types.is_time(t):
        return TimeType()
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t):
        return StringType()
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return BinaryType()
    raise UnsupportedColumn(f"column {field.name!r}: no Iceberg type holds Arrow {t} exactly")


def iceberg_schema(
    lake: pa.Schema, key: Sequence[str], hints: Mapping[str, str] | None = None, *, first_id: int = 1
) -> Schema:
    """A new table's schema: one field per lake column, ids from ``first_id``, ``key`` as identifier."""
    hints = hints or {}
    fields = [
        NestedField(first_id + i, f.name, iceberg_type(f, hints.get(f.name)), required=f.name in key)
        for i, f in enumerate(lake)
    ]
    ids = [f.field_id for f in fields if f.name in key]
    return Schema(*fields, identifier_field_ids=ids)


def conform(rows: pa.Table, schema: Schema, hints: Mapping[str, str] | None = None) -> pa.Table:
    """``rows`` (lake columns) as the Iceberg schema's Arrow types, columns in its order (with the
    field ids Parquet writers need); a column the rows lack is null."""
    hints = hints or {}
    target = schema_to_pyarrow(schema, include_field_ids=True)
    columns = []
    for f in target:
        if f.name not in rows.schema.names:
            columns.append(pa.nulls(rows.num_rows, f.type))
            continue
        column = rows.column(f.name)
        if hints.get(f.name) == WKB:
            column = pc.binary_slice(column, 4, 2**31 - 1)  # MySQL's SRID prefix; the rest is WKB
        if not column.type.equals(f.type):
            column = column.cast(f.type)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=target)
