"""Applying a table plan to Arrow batches: source columns in, lake columns out.

Projection, renames, ``change-data-type`` casts, masking, LOB truncation and ``add-column``
expressions, vectorised with ``pyarrow.compute`` where Arrow can do the work; Python's ``sqlite3``
evaluates only the expressions Arrow cannot (anything beyond ``||`` of columns and literals), so an
expression gives the value DMS's SQLite would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dersonlake.mapping.expressions import Expression, evaluate
from dersonlake.mapping.plan import TablePlan
from dersonlake.mapping.transformations import Mask, OutputColumn

log = logging.getLogger("dersonlake.TRANSFORMATION")
_RANDOM = random.SystemRandom()  # data-masking-digits-randomize: unpredictable, and no per-batch seeding
_STRINGISH = frozenset({"string", "wstring", "clob", "nclob"})


def full_load_headers(now: dt.datetime | None = None) -> dict[str, Any]:
    """The ``$AR_H_*`` values DMS gives full-load rows: INSERT, the current time, empty positions."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M:%S.%f")
    return {
        "AR_H_OPERATION": "INSERT",
        "AR_H_STREAM_POSITION": "",
        "AR_H_CHANGE_SEQ": "",
        "AR_H_USER": "",
        "AR_H_TIMESTAMP": stamp,
        "AR_H_COMMIT_TIMESTAMP": stamp,
    }


def transform_batch(
    table: TablePlan,
    batch: pa.RecordBatch,
    *,
    headers: Mapping[str, Any] | None = None,
    rng: random.Random | None = None,
) -> pa.RecordBatch:
    """The lake batch for ``batch`` (which holds ``table.source_columns``, any order, extra columns ignored).

    ``headers`` maps ``AR_H_*`` names to a scalar or a per-row list (CDC batches mix operations);
    it defaults to the full-load values. ``rng`` makes digits-randomize reproducible in tests.
    """
    headers = headers if headers is not None else full_load_headers()
    rng = rng or _RANDOM
    arrays: list[pa.Array] = []
    fields: list[pa.Field] = []
    limit = (
        table.lob.max_size_kb * 1024 if table.lob.mode == "limited" and table.lob.max_size_kb > 0 else None
    )
    for col in table.columns:
        if col.source is not None:
            arr = _column(batch, col.source)
            if col.source_type is not None and col.source_type.is_lob and limit is not None:
                arr = truncate_lob(arr, limit, f"{table.source}.{col.source}")
            if col.source_type is not None and col.dms_type != col.source_type and col.mask is None:
                arr = pc.cast(arr, col.arrow_type)
            if col.mask is not None:
                arr = mask_array(arr, col.mask, rng)
        else:
            arr = _expression_column(table, col, batch, headers)
        if not arr.type.equals(col.arrow_type):
            arr = pc.cast(arr, col.arrow_type)
        arrays.append(arr)
        fields.append(pa.field(col.name, col.arrow_type, nullable=True))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _column(batch: pa.RecordBatch, name: str) -> pa.Array:
    index = batch.schema.get_field_index(name)
    if index < 0:
        raise KeyError(f"the batch has no source column {name!r} (it has {batch.schema.names})")
    return batch.column(index)


def truncate_lob(arr: pa.Array, limit: int, where: str) -> pa.Array:
    """Values longer than ``limit`` bytes cut to ``limit`` (limited LOB mode), with one warning per batch.

    Strings are cut at a character boundary so the result stays valid UTF-8.
    """
    lengths = pc.binary_length(arr)
    too_long = pc.greater(lengths, limit)
    count = pc.sum(too_long).as_py() or 0
    if not count:
        return arr
    log.warning("%s: %d LOB value(s) longer than %d bytes truncated (limited LOB mode)", where, count, limit)
    if pa.types.is_binary(arr.type) or pa.types.is_large_binary(arr.type):
        return pc.binary_slice(arr, 0, limit)
    values = [
        v.encode("utf-8")[:limit].decode("utf-8", "ignore")
        if v is not None and len(v.encode("utf-8")) > limit
        else v
        for v in arr.to_pylist()
    ]
    return pa.array(values, type=arr.type)


def mask_array(arr: pa.Array, mask: Mask, rng: random.Random) -> pa.Array:
    """DMS masking: every digit replaced by a character or a random digit, or the whole value hashed."""
    if mask.kind == "hash-mask":
        return pa.array([None if v is None else _sha256(v) for v in arr.to_pylist()], type=pa.string())
    text = arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else _as_text(arr)
    if mask.kind == "digits-mask":
        return pc.replace_substring_regex(text, r"[0-9]", mask.char or "*")
    values = [
        None if v is None else "".join(str(rng.randrange(10)) if c.isdigit() else c for c in v)
        for v in text.to_pylist()
    ]
    return pa.array(values, type=text.type)


def _as_text(arr: pa.Array) -> pa.Array:
    try:
        return pc.cast(arr, pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in arr.to_pylist()], type=pa.string())


def _sha256(value: Any) -> str:
    data = bytes(value) if isinstance(value, bytes | bytearray) else _text(value).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S") + (
            f".{value.microsecond:06d}" if value.microsecond else ""
        )
    return str(value)


def _expression_column(
    table: TablePlan, col: OutputColumn, batch: pa.RecordBatch, headers: Mapping[str, Any]
) -> pa.Array:
    n = batch.num_rows
    expr = col.expression
    if expr is None:
        return pa.nulls(n, col.arrow_type)
    metadata = {
        "AR_M_SOURCE_SCHEMA": table.source_schema,
        "AR_M_SOURCE_TABLE_NAME": table.source_table,
        "AR_M_SOURCE_COLUMN_NAME": col.name,
        "AR_M_SOURCE_COLUMN_DATATYPE": str(col.dms_type),
    }
    fast = _vectorised(expr, batch, headers, metadata, n)
    if fast is not None:
        return fast
    columns = {name: [_sqlite_value(v) for v in _column(batch, name).to_pylist()] for name in expr.columns}
    affinity = {name: _affinity(table, name) for name in expr.columns}
    values = evaluate(expr, n, columns, headers, metadata, affinity)
    return _to_arrow(values, col.arrow_type)


def _vectorised(
    expr: Expression, batch: pa.RecordBatch, headers: Mapping[str, Any], metadata: Mapping[str, Any], n: int
) -> pa.Array | None:
    """``$a || ' ' || $b`` over string columns and headers, done by Arrow; None when not that simple."""
    parts = expr.concat_parts()
    if parts is None:
        return None
    refs = {r.param: r for r in expr.refs}
    pieces: list[Any] = []
    for kind, value in parts:
        if kind == "lit":
            pieces.append(value)
            continue
        ref = refs[value]
        if ref.kind == "column":
            arr = _column(batch, ref.name)
            if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
                return None  # number formatting differs between Arrow and SQLite: let SQLite do it
            pieces.append(arr.cast(pa.string()))
        elif ref.kind == "metadata":
            pieces.append(metadata.get(ref.name))
        elif ref.kind == "header":
            value_ = headers.get(ref.name)
            if isinstance(value_, list | tuple):
                pieces.append(pa.array([None if v is None else str(v) for v in value_], type=pa.string()))
            else:
                pieces.append(None if value_ is None else str(value_))
        else:
            return None
    if len(pieces) == 1:
        only = pieces[0]
        return only if isinstance(only, pa.Array) else pa.array([only] * n, type=pa.string())
    if any(p is None for p in pieces):  # NULL || x is NULL in SQLite
        return pa.nulls(n, pa.string())
    arrays = [p if isinstance(p, pa.Array) else pa.array([p] * n, type=pa.string()) for p in pieces]
    return pc.binary_join_element_wise(*arrays, "", null_handling="emit_null")


def _affinity(table: TablePlan, source: str) -> str:
    """SQLite's declared type for a source column, so numbers held as text compare as numbers."""
    col = next((c for c in table.columns if c.source == source), None)
    name = col.source_type.name if col and col.source_type else "string"
    if name.startswith(("int", "uint")) or name == "boolean":
        return "INTEGER"
    if name in ("numeric", "real4", "real8"):
        return "NUMERIC"
    if name in ("bytes", "blob"):
        return "BLOB"
    return "TEXT"


def _sqlite_value(value: Any) -> Any:
    """A Python value as SQLite binds it: dates and times as ISO text, decimals as text (exact)."""
    if value is None or isinstance(value, str | int | float | bytes):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return _text(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _to_arrow(values: list[Any], target: pa.DataType) -> pa.Array:
    """SQLite's results (text, integers, reals, blobs, mixed) as an array of the column's Arrow type."""
    if pa.types.is_string(target):
        return pa.array(
            [None if v is None else (v.hex() if isinstance(v, bytes) else _sql_text(v)) for v in values],
            target,
        )
    if pa.types.is_binary(target):
        return pa.array(
            [None if v is None else (v if isinstance(v, bytes) else str(v).encode()) for v in values], target
        )
    if pa.types.is_boolean(target):
        return pa.array(
            [None if v is None else bool(float(v)) if isinstance(v, str) else bool(v) for v in values], target
        )
    if pa.types.is_integer(target):
        return pa.array(
            [None if v is None else int(float(v)) if isinstance(v, str) else int(v) for v in values], target
        )
    if pa.types.is_floating(target):
        return pa.array([None if v is None else float(v) for v in values], target)
    if pa.types.is_decimal(target):
        return pa.array([None if v is None else str(v) for v in values], pa.string()).cast(target)
    return pc.cast(pa.array([None if v is None else str(v) for v in values], pa.string()), target)


def _sql_text(v: Any) -> str:
    """A SQLite value as SQLite's CAST(x AS TEXT) writes it (reals keep a ``.0``)."""
    return repr(v) if isinstance(v, float) else str(v)
