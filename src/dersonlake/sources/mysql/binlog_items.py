"""What the binlog reader yields: a flat stream of ``Begin``, ``Change``/``Ddl``, ``Commit`` items.

A transaction arrives as ``Begin``, its changes in binlog order, then ``Commit``; a transaction is
never held whole in memory, so a consumer can spill a 10-million-row transaction to disk and still
apply it atomically at ``Commit``. Rolled-back transactions are not in the binlog, so they never
appear. ``Checkpoint`` says "nothing to capture up to here": the reader emits it at the end of a
bounded read and on heartbeats, so a consumer can advance its resume point past transactions that
touched none of its tables.

Row images are dicts of column name -> the value our decoder gives (``binlog_row_images``: the
conventions python-mysql-replication had, SET as member text in definition order, JSON as text);
``binlog_batches.changes_to_batch`` turns them into Arrow with the full load's types and values.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from dersonlake.sources.mysql.binlog_position import BinlogPosition

Row = dict[str, Any]
OPS = ("I", "U", "D")


@dataclass(frozen=True)
class Begin:
    """A transaction starts at ``position`` (its first event), at ``timestamp`` (UTC, seconds);
    ``gtid`` when the server has GTIDs."""

    position: BinlogPosition
    gtid: str | None
    timestamp: dt.datetime


@dataclass(frozen=True)
class Change:
    """One row changed: ``op`` I/U/D; ``before`` for U/D, ``after`` for I/U (full row images).

    ``position`` is the end of the rows event that carried it and ``index`` its row number in that
    event: together they order changes stably across re-reads (not a resume point).
    ``timestamp`` is the statement's time (UTC, seconds); the transaction's is on ``Commit``.
    """

    schema: str
    table: str
    op: str
    before: Row | None
    after: Row | None
    position: BinlogPosition
    index: int
    timestamp: dt.datetime

    @property
    def row(self) -> Row:
        """The image DMS writes: the after-image for I/U, the before-image for D (dms.md §3.3)."""
        image = self.before if self.op == "D" else self.after
        assert image is not None
        return image


@dataclass(frozen=True)
class Ddl:
    """A schema change (ALTER/CREATE/DROP/RENAME/TRUNCATE) in ``schema`` (the session's database,
    may be ''); ``table`` is the table the statement names first, when it names one."""

    schema: str
    sql: str
    table: str | None
    position: BinlogPosition
    timestamp: dt.datetime


@dataclass(frozen=True)
class Commit:
    """The transaction ended; ``position`` is just after it: the point to resume from."""

    position: BinlogPosition
    gtid: str | None
    commit_time: dt.datetime
    changes: int


@dataclass(frozen=True)
class Checkpoint:
    """Everything before ``position`` has been read (no transaction is open)."""

    position: BinlogPosition


Item = Begin | Change | Ddl | Commit | Checkpoint


@dataclass
class Transaction:
    """A whole transaction, for consumers that know theirs are small (tests, DDL, CLI output)."""

    begin: Begin
    changes: list[Change | Ddl] = field(default_factory=list)
    commit: Commit | None = None

    @property
    def gtid(self) -> str | None:
        return self.begin.gtid

    @property
    def position(self) -> BinlogPosition:
        assert self.commit is not None
        return self.commit.position

    @property
    def commit_time(self) -> dt.datetime:
        assert self.commit is not None
        return self.commit.commit_time
