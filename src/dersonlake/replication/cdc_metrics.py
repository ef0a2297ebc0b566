"""CDC latency and throughput of a running task, as DMS's CloudWatch task metrics (dms.md §5.6).

The stream updates them about once a second in the replication store, so any other process (the
API server, ``derson-lake stream``'s own status line, a dashboard) reads them while it runs; the
latencies also go to the ``tasks`` columns ``cdc_latency_source`` / ``cdc_latency_target``, which
``replication.stats`` (``derson-lake status``, ``/metrics``, alerts) reads:

* ``CDCLatencySource``: seconds from the commit of the last change read to now; 0 when the reader
  is caught up with the source (a heartbeat arrived with no transaction open), as DMS reports 0
  when nothing is captured.
* ``CDCLatencyTarget``: seconds from the commit of the oldest change read but not yet in a
  committed lake file to now; 0 when every change read is in the lake.
* ``CDCThroughputRowsSource`` / ``CDCThroughputRowsTarget``: row changes per second read from the
  binlog / committed to the lake, over the time since the previous update.
* ``CDCIncomingChanges``: changes read and not yet committed to the lake.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dersonlake.replication.store import ReplicationStore

METRICS = (
    "CDCLatencySource",
    "CDCLatencyTarget",
    "CDCThroughputRowsSource",
    "CDCThroughputRowsTarget",
    "CDCIncomingChanges",
)


def cdc_metrics(store: ReplicationStore, arn: str) -> dict[str, Any] | None:
    """The task's last saved metrics by their DMS names, plus ``Updated`` (epoch seconds); None
    when the task never streamed."""
    r = store.cdc_metrics(arn)
    if r is None:
        return None
    return {
        "CDCLatencySource": r["latency_source"],
        "CDCLatencyTarget": r["latency_target"],
        "CDCThroughputRowsSource": r["throughput_rows_source"],
        "CDCThroughputRowsTarget": r["throughput_rows_target"],
        "CDCIncomingChanges": r["incoming_changes"],
        "Updated": r["updated"],
    }


class CdcMeter:
    """Counts what the stream reads and commits; ``save()`` writes the metrics at most every
    ``every`` seconds (and always when forced)."""

    def __init__(
        self, store: ReplicationStore, arn: str, *, clock: Callable[[], float] = time.time, every: float = 1.0
    ) -> None:
        self.store = store
        self.arn = arn
        self.clock = clock
        self.every = every
        self._last_commit: float | None = None
        self._oldest_unapplied: float | None = None
        self._caught_up = False
        self._incoming = 0
        self._read = 0
        self._applied = 0
        self._since = clock()

    def read(self, commit_time: datetime, changes: int) -> None:
        """A captured transaction was read (``commit_time`` naive UTC, as the reader gives it)."""
        aware = commit_time.replace(tzinfo=UTC) if commit_time.tzinfo is None else commit_time
        stamp = aware.timestamp()
        self._last_commit = stamp
        self._caught_up = False
        if self._oldest_unapplied is None:
            self._oldest_unapplied = stamp
        self._incoming += changes
        self._read += changes

    def caught_up(self) -> None:
        self._caught_up = True

    def applied(self) -> None:
        """Everything read so far is in committed files (a checkpoint was saved)."""
        self._applied += self._incoming
        self._incoming = 0
        self._oldest_unapplied = None

    def save(self, *, force: bool = False) -> None:
        now = self.clock()
        elapsed = now - self._since
        if not force and elapsed < self.every:
            return
        source = 0.0 if self._caught_up or self._last_commit is None else max(0.0, now - self._last_commit)
        target = 0.0 if self._oldest_unapplied is None else max(0.0, now - self._oldest_unapplied)
        rate = (lambda n: n / elapsed) if elapsed > 0 else (lambda n: 0.0)
        self.store.save_cdc_metrics(  # the latencies also where replication.stats reads them
            self.arn,
            latency_source=source,
            latency_target=target,
            rows_source=rate(self._read),
            rows_target=rate(self._applied),
            incoming=self._incoming,
            updated=now,
        )
        self._read = self._applied = 0
        self._since = now
