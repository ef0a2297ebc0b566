"""Change data capture from the MySQL/MariaDB binlog: the public surface of the binlog reader.

* ``binlog_position``: ``BinlogPosition`` (``mysql-bin.000024:373``, DMS's native form), the
  server's ``current_position()``, ``require_available()`` (purged logs -> reload needed);
* ``binlog_reader``: ``BinlogReader`` yields ``Begin``, ``Change``/``Ddl``, ``Commit`` and
  ``Checkpoint`` items (``binlog_items``) for the committed transactions touching given tables;
* ``binlog_batches``: ``changes_to_batch()`` makes Arrow batches with the full load's types/values;
* underneath, our own client and decoder: ``binlog_client`` (replication protocol),
  ``binlog_framing`` / ``binlog_events`` / ``binlog_table_map`` / ``binlog_rows_event`` /
  ``binlog_row_images`` (compiled) / ``binlog_json`` / ``binlog_compression`` (the format),
  ``binlog_file`` + ``BinlogFileReader`` (archived files), ``binlog_dump`` (``binlog dump``).

Typical use (a bounded CDC run that spills big transactions and applies them at their commit)::

    reader = BinlogReader(params, tables, BinlogPosition.parse(checkpoint))  # up to "now"
    for item in reader:
        match item:
            case Begin():       open a transaction buffer
            case Change():      buffer / spill item; changes_to_batch(table, cols, buffered) per table
            case Ddl():         rediscover item.schema/item.table before converting later changes
            case Commit():      write the buffered batches; checkpoint = item.position
            case Checkpoint():  nothing captured up to item.position: checkpoint may advance

This layer knows nothing of the lake: what to write, and when to save a checkpoint, is the
replication layer's business (save ``Commit.position`` only after the files covering it are in).
"""

from __future__ import annotations

from dersonlake.sources.mysql.binlog_batches import ChangeBatch, changes_to_batch, value_converter
from dersonlake.sources.mysql.binlog_items import Begin, Change, Checkpoint, Commit, Ddl, Item, Transaction
from dersonlake.sources.mysql.binlog_position import (
    BinlogPosition,
    BinlogPurged,
    binlog_files,
    current_position,
    require_available,
)
from dersonlake.sources.mysql.binlog_reader import BinlogFileReader, BinlogReader

__all__ = [
    "Begin",
    "BinlogFileReader",
    "BinlogPosition",
    "BinlogPurged",
    "BinlogReader",
    "Change",
    "ChangeBatch",
    "Checkpoint",
    "Commit",
    "Ddl",
    "Item",
    "Transaction",
    "binlog_files",
    "changes_to_batch",
    "current_position",
    "require_available",
    "value_converter",
]
