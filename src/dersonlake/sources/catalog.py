"""What a source database holds: schemas, tables, views, columns with full types, keys, sizes.

Discovery (``sources.mysql.catalog``) fills these dataclasses from ``information_schema``; the
mapping layer resolves rules against them without touching the database, which is what lets the
rules be tested table-driven and checked offline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dersonlake.dms_types import DmsType


@dataclass(frozen=True)
class Column:
    """One source column. ``column_type`` is MySQL's full type text (``decimal(12,2)``,
    ``bigint(20) unsigned``, ``enum('a','b')``); ``dms_type`` is how DMS sees it."""

    name: str
    ordinal: int
    data_type: str
    column_type: str
    nullable: bool
    dms_type: DmsType
    unsigned: bool = False
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    datetime_precision: int | None = None
    charset: str | None = None
    generated: bool = False
    collation: str | None = None  # e.g. utf8mb4_unicode_ci; filters on text compare by it in MySQL


@dataclass(frozen=True)
class Table:
    """A table or view. ``primary_key`` is empty when there is none; ``unique_keys`` maps index
    name to its columns (NOT NULL unique keys are usable for chunking)."""

    schema: str
    name: str
    columns: tuple[Column, ...]
    kind: str = "table"  # "table" | "view"
    primary_key: tuple[str, ...] = ()
    unique_keys: dict[str, tuple[str, ...]] = field(default_factory=dict)
    approx_rows: int = 0
    data_bytes: int = 0
    partitions: tuple[str, ...] = ()
    engine: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Catalog:
    """Every schema/table visible to the replication user (system schemas excluded)."""

    tables: tuple[Table, ...]
    server_version: str = ""

    def table(self, schema: str, name: str) -> Table | None:
        return next((t for t in self.tables if t.schema == schema and t.name == name), None)

    @property
    def schemas(self) -> tuple[str, ...]:
        return tuple(sorted({t.schema for t in self.tables}))
