"""sources layer: the databases DMS reads (today MySQL/MariaDB), as a catalog, snapshots and a binlog.

What other layers use (tests may reach inside; other layers may not):

* ``Catalog`` / ``Table`` / ``Column``: a source's tables and columns with their DMS types (what the
  mapping resolves against and the lake's files are shaped by).
* ``ConnectionParams`` / ``connect`` / ``probe``: a MySQL connection and a check that it opens.
* ``discover_catalog``: read a source's catalog; ``SPATIAL_TYPES``: the column types Iceberg keeps
  as WKB.
* ``preflight`` / ``require_ready``: whether a server is set up for DMS (binlog format, grants).
* ``ChunkSnapshot`` / ``SnapshotQuery`` / ``read_batches`` / ``key_range`` / ``quote_ident`` /
  ``column_read``: a table's full-load read, in chunks of Arrow batches.
* ``BinlogPosition`` / ``BinlogPurged`` / ``current_position`` / ``require_available`` /
  ``position_after_gtid`` / ``position_at_time``: where a CDC stream starts and whether the server
  still holds it.
* ``BinlogReader`` with its items ``Item`` / ``Begin`` / ``Change`` / ``Commit`` / ``Checkpoint`` /
  ``Ddl``, and ``changes_to_batch``: the binlog read as row changes, and changes as Arrow batches.
* ``dump_changes`` / ``BinlogCorrupt``: the ``binlog`` command's decoder and its error.

Only the catalog loads with the package: ``mysql/`` imports pymysql and pyarrow, so its names are
loaded on first use (PEP 562 ``__getattr__`` over ``_LAZY``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dersonlake.lazy_exports import lazy_exports
from dersonlake.sources.catalog import Catalog, Column, Table

if TYPE_CHECKING:
    from dersonlake.sources.mysql.binlog_batches import changes_to_batch
    from dersonlake.sources.mysql.binlog_dump import dump_changes
    from dersonlake.sources.mysql.binlog_framing import BinlogCorrupt
    from dersonlake.sources.mysql.binlog_items import Begin, Change, Checkpoint, Commit, Ddl, Item
    from dersonlake.sources.mysql.binlog_position import (
        BinlogPosition,
        BinlogPurged,
        current_position,
        require_available,
    )
    from dersonlake.sources.mysql.binlog_reader import BinlogReader
    from dersonlake.sources.mysql.binlog_seek import position_after_gtid, position_at_time
    from dersonlake.sources.mysql.catalog import discover_catalog
    from dersonlake.sources.mysql.connection import ConnectionParams, connect, probe
    from dersonlake.sources.mysql.preflight import preflight, require_ready
    from dersonlake.sources.mysql.snapshot import (
        ChunkSnapshot,
        SnapshotQuery,
        column_read,
        key_range,
        quote_ident,
        read_batches,
    )
    from dersonlake.sources.mysql.types import SPATIAL_TYPES

_MYSQL = "dersonlake.sources.mysql"
_LAZY = {
    "changes_to_batch": f"{_MYSQL}.binlog_batches",
    "dump_changes": f"{_MYSQL}.binlog_dump",
    "BinlogCorrupt": f"{_MYSQL}.binlog_framing",
    "Begin": f"{_MYSQL}.binlog_items",
    "Change": f"{_MYSQL}.binlog_items",
    "Checkpoint": f"{_MYSQL}.binlog_items",
    "Commit": f"{_MYSQL}.binlog_items",
    "Ddl": f"{_MYSQL}.binlog_items",
    "Item": f"{_MYSQL}.binlog_items",
    "BinlogPosition": f"{_MYSQL}.binlog_position",
    "BinlogPurged": f"{_MYSQL}.binlog_position",
    "current_position": f"{_MYSQL}.binlog_position",
    "require_available": f"{_MYSQL}.binlog_position",
    "BinlogReader": f"{_MYSQL}.binlog_reader",
    "position_after_gtid": f"{_MYSQL}.binlog_seek",
    "position_at_time": f"{_MYSQL}.binlog_seek",
    "discover_catalog": f"{_MYSQL}.catalog",
    "ConnectionParams": f"{_MYSQL}.connection",
    "connect": f"{_MYSQL}.connection",
    "probe": f"{_MYSQL}.connection",
    "preflight": f"{_MYSQL}.preflight",
    "require_ready": f"{_MYSQL}.preflight",
    "ChunkSnapshot": f"{_MYSQL}.snapshot",
    "SnapshotQuery": f"{_MYSQL}.snapshot",
    "column_read": f"{_MYSQL}.snapshot",
    "key_range": f"{_MYSQL}.snapshot",
    "quote_ident": f"{_MYSQL}.snapshot",
    "read_batches": f"{_MYSQL}.snapshot",
    "SPATIAL_TYPES": f"{_MYSQL}.types",
}

__all__ = [
    "SPATIAL_TYPES",
    "Begin",
    "BinlogCorrupt",
    "BinlogPosition",
    "BinlogPurged",
    "BinlogReader",
    "Catalog",
    "Change",
    "Checkpoint",
    "ChunkSnapshot",
    "Column",
    "Commit",
    "ConnectionParams",
    "Ddl",
    "Item",
    "SnapshotQuery",
    "Table",
    "changes_to_batch",
    "column_read",
    "connect",
    "current_position",
    "discover_catalog",
    "dump_changes",
    "key_range",
    "position_after_gtid",
    "position_at_time",
    "preflight",
    "probe",
    "quote_ident",
    "read_batches",
    "require_available",
    "require_ready",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
