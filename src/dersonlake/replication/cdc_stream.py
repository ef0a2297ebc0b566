"""Continuous CDC (``derson-lake stream``) and the CDC stop positions, on top of ``CdcCapture``.

``CdcStream`` is a ``CdcCapture`` whose binlog read blocks and wakes on heartbeats, so changes reach
the lake within about ``CdcMaxBatchInterval`` seconds even when no new transaction arrives: on a
heartbeat with a file open past the interval, every table's files are committed and the checkpoint
saved (the checkpoint never passes a change that is not in a committed file). It stops at a
transaction boundary when asked (SIGTERM, StopReplicationTask), at ``server_time:`` (this clock) or
before the first transaction committed after ``commit_time:``, then flushes and checkpoints.

``run_with_retries`` runs it (or a bounded delta) under the task's ``ErrorBehavior``: an
environmental error (the source restarted, the network dropped) restarts the run from the last
checkpoint after the ``RecoverableError*`` backoff. A restart is exactly a crash recovery of
``CdcCapture``: files committed after the checkpoint are deleted and their changes read again, so
nothing is lost and nothing is written twice. A purged binlog is not recoverable: a reload is.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from dersonlake.errors import DersonError, OperationFailed
from dersonlake.replication import status
from dersonlake.replication.cdc import CdcCapture, CdcCheckpoint, CdcOutcome, _Table
from dersonlake.replication.cdc_metrics import CdcMeter
from dersonlake.replication.cdc_options import CdcStop
from dersonlake.replication.recoverable import Backoff
from dersonlake.sources import (
    Begin,
    BinlogPosition,
    BinlogPurged,
    BinlogReader,
    Checkpoint,
    Commit,
    ConnectionParams,
    Item,
    require_available,
)

log = logging.getLogger("dersonlake.SOURCE_CAPTURE")

IDLE_CHECKPOINT_EVERY = 5.0  # seconds between checkpoints that only advance past unrelated events


class CdcStream(CdcCapture):
    """``CdcCapture`` that streams (``blocking=True``) and honours a stop request and ``CdcStop``."""

    def __init__(
        self,
        *,
        blocking: bool = True,
        stop_at: CdcStop | None = None,
        stop_requested: Callable[[], bool] = lambda: False,
        meter: CdcMeter | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.blocking = blocking
        self.stop_at = stop_at
        self.stop_requested = stop_requested
        self.meter = meter
        self.stop_reason: str | None = None  # set when a CdcStop or a stop request ended the run
        self.progressed = False  # a checkpoint was saved by this run
        self._tables_open: dict[tuple[str, str], _Table] = {}

    # -- hooks of CdcCapture ---------------------------------------------------------------------------
    def _tables(self, cp: CdcCheckpoint, outcome: CdcOutcome) -> dict[tuple[str, str], _Table]:
        self._tables_open = super()._tables(cp, outcome)
        return self._tables_open

    def _reader(self, tables: dict[tuple[str, str], _Table], start: BinlogPosition) -> BinlogReader:
        interval = float(self.s3.CdcMaxBatchInterval)
        return BinlogReader(
            self.endpoint,
            [t.source for t in tables.values()],
            start,
            stop=self.stop,
            blocking=self.blocking,
            should_stop=self._should_stop,
            heartbeat=max(0.1, min(1.0, interval / 2)),
            retries=0,  # a lost connection restarts the run under the task's ErrorBehavior instead
        )

    def _items(self, reader: BinlogReader, tables: dict[tuple[str, str], _Table]) -> Iterator[Item]:
        return self._gate(iter(reader), tables)

    def _checkpoint(
        self, tables: dict[tuple[str, str], _Table], position: BinlogPosition, outcome: CdcOutcome
    ) -> CdcCheckpoint:
        cp = super()._checkpoint(tables, position, outcome)
        self.progressed = True
        if self.meter is not None:
            self.meter.applied()
            self.meter.save()
        return cp

    # -- the stream ---------------------------------------------------------------------------------
    def _should_stop(self) -> bool:
        if self.stop_requested():
            self.stop_reason = self.stop_reason or status.STOP_NORMAL
            return True
        at = self.stop_at
        if at is not None and at.kind == "server_time" and self._now() >= at.time:
            self.stop_reason = self.stop_reason or status.STOP_AT_SERVER_TIME
            return True
        return False

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def _gate(self, items: Iterator[Item], tables: dict[tuple[str, str], _Table]) -> Iterator[Item]:
        """Pass the reader's items on; decide which heartbeats checkpoint, and apply ``commit_time``."""
        at = self.stop_at
        commit_stop = at if at is not None and at.kind == "commit_time" else None
        last_idle = self.clock()
        try:
            for item in items:
                if isinstance(item, Begin) and commit_stop is not None:
                    # MariaDB stamps a transaction's GTID event with its commit time (seconds)
                    if item.timestamp.replace(tzinfo=UTC) > commit_stop.time:
                        self.stop_reason = status.STOP_AT_COMMIT_TIME
                        yield Checkpoint(item.position)  # flush and checkpoint before this transaction
                        return
                elif isinstance(item, Commit) and self.meter is not None:
                    self.meter.read(item.commit_time, item.changes)
                    self.meter.save()
                elif isinstance(item, Checkpoint):
                    if self.meter is not None:
                        self.meter.caught_up()
                        self.meter.save()
                    if not self.blocking or self._should_stop():
                        yield item
                        continue
                    if commit_stop is not None and self._now() > commit_stop.time:
                        # caught up and past the stop time: no later commit can be at or before it
                        self.stop_reason = status.STOP_AT_COMMIT_TIME
                        yield item
                        return
                    busy = any(t.writer.has_open or t.pending for t in tables.values())
                    if any(self.flush_due(t) for t in tables.values()):
                        yield item
                    elif not busy and self.clock() - last_idle >= IDLE_CHECKPOINT_EVERY:
                        last_idle = self.clock()
                        yield item
                    continue
                yield item
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    def abort(self) -> None:
        """Drop open (uncommitted) files after a failure; their changes are read again."""
        for t in self._tables_open.values():
            t.writer.abort()


def reload_hint(owner: str | None) -> str:
    """What to run when the binlog at a task's checkpoint was purged."""
    return (
        f"derson-lake load {owner} --reload loads the tables again and restarts CDC from there"
        if owner
        else "reload the tables (StartReplicationTask with reload-target) and CDC restarts from there"
    )


@dataclass
class StreamResult:
    outcome: CdcOutcome
    stop_reason: str | None
    restarts: int


def run_with_retries(
    make: Callable[[], CdcStream],
    *,
    params: ConnectionParams,
    checkpoint: Callable[[], BinlogPosition],
    backoff: Backoff,
    stop: threading.Event,
    owner: str | None = None,
    on_retry: Callable[[int, float, str], None] | None = None,
) -> StreamResult:
    """Run ``make()``'s stream until it ends; restart it after recoverable errors per ``backoff``.

    Raises ``BinlogPurged`` (fatal), ``DersonError`` from bad input, or ``OperationFailed`` saying
    that the retries are exhausted (the task then fails with ``RECOVERABLE_ERROR``).
    """
    attempt = restarts = 0
    total = CdcOutcome()
    while True:
        run: CdcStream | None = None
        try:
            require_available(params, checkpoint(), reload_hint=reload_hint(owner))
            run = make()
            outcome = run.run()
            _add(total, outcome)
            return StreamResult(total, run.stop_reason, restarts)
        except BinlogPurged:
            raise
        except OperationFailed as exc:
            if run is not None:
                run.abort()
                if run.progressed:  # it ran a while before failing: a fresh series of retries
                    attempt = 0
            attempt += 1
            wait = backoff.wait(attempt)
            cause = str(exc).splitlines()[0]
            if wait is None:
                raise RetriesExhausted(
                    f"the source failed and {attempt - 1} restart(s) did not bring it back "
                    f"(ErrorBehavior.RecoverableErrorCount {backoff.count}); last error: {cause}"
                ) from None
            log.warning("recoverable error (%s); restart %d in %.1f s", cause, attempt, wait)
            if on_retry is not None:
                on_retry(attempt, wait, cause)
            restarts += 1
            if stop.wait(wait):  # asked to stop while waiting: nothing open, the checkpoint stands
                return StreamResult(total, status.STOP_NORMAL, restarts)
        except DersonError:
            if run is not None:
                run.abort()
            raise


class RetriesExhausted(OperationFailed):
    """Recoverable errors went on past ``RecoverableErrorCount`` restarts."""


def _add(total: CdcOutcome, one: CdcOutcome) -> None:
    total.changes += one.changes
    total.files += one.files
    total.transactions += one.transactions
    total.checkpoint = one.checkpoint or total.checkpoint
    total.suspended.update(one.suspended)
