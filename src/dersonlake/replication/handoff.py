"""The full-load -> CDC handoff without duplicates: each chunk's snapshot position, and the filter
that drops the changes a LOAD file already holds.

The full load reads each chunk of a table (a keyset range, or the whole table without a key) in its
own ``START TRANSACTION WITH CONSISTENT SNAPSHOT`` and takes MariaDB's ``binlog_snapshot_file`` /
``binlog_snapshot_position`` in the same statement (``sources.mysql.snapshot``). On MariaDB that
position is exact: a transaction whose events end at or before it is in the snapshot, any other one
comes after it in the binlog. CDC starts at the position recorded before the full load (so nothing
can be missed) and, for a change of key ``k``, skips it iff it ends at or before the snapshot
position of the chunk that read ``k``'s key range: that change is already in the LOAD file, every
later one is not. The merged state is the source's and no change is written twice.

Where the chunk holding a key cannot be told exactly (a table loaded in several segments, or read
in several chunks on a non-integer key, whose order is the server's collation), the table's
*earliest* chunk position is used: still nothing lost, duplicates possible only for changes made
while that table was being read (replaying a prefix of a key's changes ends at the image the
snapshot holds, so the merged state is right either way). Without positions (MySQL 8 has no
``binlog_snapshot_*``) no change is skipped: DMS's behaviour.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dersonlake.replication.cdc_ddl import table_from_json, table_to_json
from dersonlake.replication.store import ReplicationStore
from dersonlake.sources import BinlogPosition, Change, ChunkSnapshot, Table

_INTEGER_TYPES = {"tinyint", "smallint", "mediumint", "int", "integer", "bigint"}


class HandoffMarks:
    """The chunk snapshot positions of a task's last full load, per table and segment, in the store."""

    def __init__(self, store: ReplicationStore) -> None:
        self.store = store

    def define(self, arn: str, table: Table) -> None:
        """The definition the full load read ``table`` with: CDC's starting point for its columns (the
        catalog may already show later DDL by the time CDC reads the binlog from before it)."""
        self.store.define_handoff_table(arn, table.schema, table.name, json.dumps(table_to_json(table)))

    def definitions(self, arn: str) -> dict[str, tuple[Table, float]]:
        """Per ``schema.table``: the definition the last full load read, and when (epoch seconds)."""
        return {
            f"{r['schema_name']}.{r['table_name']}": (
                table_from_json(json.loads(r["definition"])),
                r["defined"],
            )
            for r in self.store.handoff_tables(arn)
        }

    def replace(
        self, arn: str, schema: str, table: str, segment: str, marks: Sequence[ChunkSnapshot]
    ) -> None:
        """The marks of one finished unit (a retried or resumed unit's earlier marks are dropped)."""
        self.store.replace_handoff_marks(
            arn, schema, table, segment, [(_dump(m.after), m.file, m.pos) for m in marks]
        )

    def clear(self, arn: str, schema: str, table: str) -> None:
        self.store.clear_handoff_marks(arn, schema, table)

    def load(self, arn: str) -> dict[tuple[str, str], list[tuple[str, ChunkSnapshot]]]:
        out: dict[tuple[str, str], list[tuple[str, ChunkSnapshot]]] = defaultdict(list)
        for r in self.store.handoff_marks(arn):
            after = json.loads(r["after"]) if r["after"] is not None else None
            mark = ChunkSnapshot(tuple(after) if after is not None else None, r["file"], int(r["pos"]))
            out[(r["schema_name"], r["table_name"])].append((r["segment"], mark))
        return dict(out)


@dataclass
class TableHandoff:
    """Which changes of one table its LOAD files already hold (see the module docstring)."""

    key: tuple[str, ...]
    bounds: list[tuple[Any, ...]]  # chunk lower bounds (exclusive), ascending; empty: one threshold
    positions: list[BinlogPosition]  # bounds[i]'s chunk position; positions[0] alone when no bounds
    last: BinlogPosition  # past this, nothing is skipped
    first: BinlogPosition | None = None  # the earliest chunk's: DDL up to here is in the LOAD files

    @classmethod
    def build(
        cls, source: Table, key: Sequence[str], marks: Sequence[tuple[str, ChunkSnapshot]]
    ) -> TableHandoff | None:
        if not marks:
            return None
        positions = [BinlogPosition(m.file, m.pos) for _s, m in marks]
        last, first = max(positions), min(positions)
        segments = {s for s, _m in marks}
        exact = (len(marks) == 1) or (
            len(segments) == 1 and bool(key) and all(_is_integer(source, k) for k in key)
        )
        if not exact:
            return cls(tuple(key), [], [first], last, first)
        if len(marks) == 1:
            return cls(tuple(key), [], positions, last, first)
        ordered = sorted(zip([m.after for _s, m in marks], positions, strict=True), key=lambda x: x[0] or ())
        # the first chunk has no lower bound: every key below the second chunk's bound is its
        return cls(tuple(key), [a or () for a, _p in ordered[1:]], [p for _a, p in ordered], last, first)

    def skip(self, change: Change) -> bool:
        """Whether ``change`` is already in the LOAD files (its transaction ended at or before the
        snapshot of the chunk that read its key)."""
        if change.position > self.last:
            return False
        threshold = self.positions[0]
        if self.bounds:
            row = change.row
            value = tuple(row.get(k) for k in self.key)
            threshold = self.positions[bisect.bisect_left(self.bounds, value)]
        return change.position <= threshold


def _is_integer(source: Table, name: str) -> bool:
    column = source.column(name)
    return column is not None and column.data_type.lower() in _INTEGER_TYPES


def _dump(after: tuple[Any, ...] | None) -> str | None:
    return None if after is None else json.dumps(list(after))
