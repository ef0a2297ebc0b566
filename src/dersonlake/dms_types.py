"""DMS data types: the vocabulary between the source, the mapping rules and the lake.

A source column is described by its DMS type (``reference/dms.md`` §3.4: MySQL INT -> INT4,
DECIMAL(p,s) -> NUMERIC(p,s), JSON -> CLOB ...); ``change-data-type`` rules name DMS types too
(``string``, ``int8``, ``numeric`` ...); the lake writes each DMS type as the Parquet type DMS uses.
Keeping that one vocabulary here lets each layer translate only to and from it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

# Names as the transformation rules spell them (lower case), reference/dms.md §1.2.
DMS_TYPE_NAMES = (
    "bytes", "date", "time", "datetime", "int1", "int2", "int4", "int8", "numeric", "real4", "real8",
    "string", "uint1", "uint2", "uint4", "uint8", "wstring", "blob", "nclob", "clob", "boolean",
    "set", "list", "map", "tuple",
)  # fmt: skip

LOB_TYPES = frozenset({"blob", "clob", "nclob"})


@dataclass(frozen=True)
class DmsType:
    """A DMS type with its size parameters (``length`` for strings/bytes, precision/scale for numeric)."""

    name: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None

    @property
    def is_lob(self) -> bool:
        return self.name in LOB_TYPES

    def __str__(self) -> str:
        if self.name == "numeric" and self.precision is not None:
            return f"NUMERIC({self.precision},{self.scale or 0})"
        if self.length is not None:
            return f"{self.name.upper()}({self.length})"
        return self.name.upper()


@functools.lru_cache(maxsize=1024)
def arrow_type(t: DmsType):  # -> pa.DataType (pyarrow imported lazily: mapping checks need no Arrow)
    """The Arrow type a column of DMS type ``t`` has in our batches and in Parquet (dms.md §3.4).

    Decimals keep their declared precision and scale (exact); unsigned types stay unsigned (UINT8
    is uint64, so BIGINT UNSIGNED max survives); DATETIME is microseconds without a zone (TIMESTAMP
    columns are converted to UTC before they get here); LOBs are strings or binaries; the
    collection types DMS lists for other targets are carried as strings. Cached: CDC asks for every
    column of every transaction's batch, and building the type table each time was 10% of a run of
    single-row transactions (bench/cdc.py).
    """
    import pyarrow as pa

    simple = {
        "int1": pa.int8(), "int2": pa.int16(), "int4": pa.int32(), "int8": pa.int64(),
        "uint1": pa.uint8(), "uint2": pa.uint16(), "uint4": pa.uint32(), "uint8": pa.uint64(),
        "real4": pa.float32(), "real8": pa.float64(), "boolean": pa.bool_(),
        "date": pa.date32(), "time": pa.time64("us"), "datetime": pa.timestamp("us"),
        "bytes": pa.binary(), "blob": pa.binary(),
    }  # fmt: skip
    if t.name in simple:
        return simple[t.name]
    if t.name == "numeric":
        precision = t.precision or 38
        scale = t.scale or 0
        return pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)
    return pa.string()
