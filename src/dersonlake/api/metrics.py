"""``GET /metrics``: Prometheus metrics read from the replication and state stores at scrape time.

A custom collector reads both SQLite files (read-only) on every scrape instead of keeping
counters in this process: tasks run in other processes (``derson-lake load``, ``stream``) and
executions survive restarts, so the stores are the only complete truth, and a scrape after a
restart reports the same totals as before it.

Naming (docs/monitoring.md): a DMS CloudWatch metric (dms.md §5.6) becomes ``dms_`` + its name in
snake case (``FullLoadThroughputRowsTarget`` -> ``dms_full_load_throughput_rows_target``); a Step
Functions one becomes ``states_`` + its name (``ExecutionsFailed`` -> ``states_executions_failed``).
Where CloudWatch publishes a rate (rows per second) we expose the counter of rows, so
``rate(dms_full_load_throughput_rows_target_total[1m])`` is the CloudWatch value; counters get
Prometheus's ``_total`` suffix in the exposition. To add a metric, add one ``_family`` call below.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import (
    CollectorRegistry,
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dersonlake.replication import stats as rstats
from dersonlake.replication.status import (
    CREATING,
    DELETING,
    FAILED,
    MODIFYING,
    READY,
    RUNNING,
    STARTING,
    STOPPED,
    STOPPING,
)
from dersonlake.states import stats as sstats

TASK_LABELS = ["owner", "task"]
TABLE_LABELS = ["owner", "task", "schema", "table"]
TASK_STATUSES = (CREATING, READY, STARTING, RUNNING, STOPPING, STOPPED, FAILED, DELETING, MODIFYING)
# Seconds; from a Pass state (milliseconds) to a long full load (hours).
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, float("inf"))

TableValue = Callable[[rstats.TableStat], float]

# DMS CloudWatch metrics per table, from the table statistics (dms.md §5.4, §5.6).
TABLE_COUNTERS: list[tuple[str, str, TableValue]] = [
    (
        "dms_full_load_throughput_rows_source",
        "FullLoadThroughputRowsSource: rows read from the source during full load (loaded + error rows)",
        lambda t: t.full_load_rows + t.error_rows,
    ),
    (
        "dms_full_load_throughput_rows_target",
        "FullLoadThroughputRowsTarget: rows written to the lake during full load",
        lambda t: t.full_load_rows,
    ),
    (
        "dms_cdc_throughput_rows_source",
        "CDCThroughputRowsSource: change rows captured from the source (inserts+updates+deletes+DDLs)",
        lambda t: t.captured,
    ),
    (
        "dms_cdc_throughput_rows_target",
        "CDCThroughputRowsTarget: change rows applied to the lake (committed CDC files)",
        lambda t: t.applied,
    ),
]


class StoreCollector(Collector):
    """Task, table and execution metrics from the stores at ``replication_db`` and ``states_db``."""

    def __init__(self, replication_db: str | Path | None, states_db: str | Path | None) -> None:
        self.replication_db = Path(replication_db) if replication_db else None
        self.states_db = Path(states_db) if states_db else None
        self._durations = sstats.StateDurations(self.states_db) if self.states_db else None

    def collect(self) -> Iterator[Metric]:
        if self.replication_db is not None:
            yield from replication_metrics(rstats.read_tasks(self.replication_db))
        if self.states_db is not None and self._durations is not None:
            yield from execution_metrics(sstats.read_executions(self.states_db), self._durations.read())


def replication_metrics(tasks: list[rstats.TaskStat]) -> Iterator[Metric]:
    now = time.time()
    status = GaugeMetricFamily(
        "dms_replication_task_status",
        "1 for the task's current status (DMS status names)",
        labels=[*TASK_LABELS, "status"],
    )
    progress = GaugeMetricFamily(
        "dms_full_load_progress_percent",
        "FullLoadProgressPercent of ReplicationTaskStats",
        labels=TASK_LABELS,
    )
    latency_source = GaugeMetricFamily(
        "dms_cdc_latency_source",
        "CDCLatencySource: seconds from the last captured source event to now",
        labels=TASK_LABELS,
    )
    latency_target = GaugeMetricFamily(
        "dms_cdc_latency_target",
        "CDCLatencyTarget: seconds from the oldest unapplied event to now",
        labels=TASK_LABELS,
    )
    incoming = GaugeMetricFamily(
        "dms_cdc_incoming_changes",
        "CDCIncomingChanges: changes captured and not yet applied",
        labels=TABLE_LABELS,
    )
    table_state = GaugeMetricFamily(
        "dms_table_state",
        "1 for the table's TableState (DescribeTableStatistics)",
        labels=[*TABLE_LABELS, "state"],
    )
    load_seconds = GaugeMetricFamily(
        "dms_table_full_load_seconds",
        "How long the table's full load ran (so far, while it runs)",
        labels=TABLE_LABELS,
    )
    counters = [
        (CounterMetricFamily(name, doc, labels=TABLE_LABELS), value) for name, doc, value in TABLE_COUNTERS
    ]
    for task in tasks:
        tl = [task.owner, task.identifier]
        for s in TASK_STATUSES:
            status.add_metric([*tl, s], 1.0 if task.status == s else 0.0)
        progress.add_metric(tl, task.progress_percent)
        if task.latency_source is not None:
            latency_source.add_metric(tl, task.latency_source)
        if task.latency_target is not None:
            latency_target.add_metric(tl, task.latency_target)
        for t in task.tables:
            labels = [*tl, t.schema, t.table]
            for family, value in counters:
                family.add_metric(labels, value(t))
            incoming.add_metric(labels, max(t.captured - t.applied, 0))
            table_state.add_metric([*labels, t.state], 1.0)
            load_seconds.add_metric(labels, rstats.full_load_seconds(t, now))
    yield from (status, progress, latency_source, latency_target, incoming, table_state, load_seconds)
    yield from (family for family, _ in counters)


def execution_metrics(
    executions: list[sstats.ExecutionStat], durations: list[sstats.StateDuration]
) -> Iterator[Metric]:
    labels = ["state_machine", "owner"]
    started = CounterMetricFamily("states_executions_started", "ExecutionsStarted", labels=labels)
    ended = {
        "SUCCEEDED": CounterMetricFamily("states_executions_succeeded", "ExecutionsSucceeded", labels=labels),
        "FAILED": CounterMetricFamily("states_executions_failed", "ExecutionsFailed", labels=labels),
        "ABORTED": CounterMetricFamily("states_executions_aborted", "ExecutionsAborted", labels=labels),
        "TIMED_OUT": CounterMetricFamily("states_executions_timed_out", "ExecutionsTimedOut", labels=labels),
    }
    running = GaugeMetricFamily("states_executions_running", "Executions running now", labels=labels)
    counts: dict[tuple[str, str], dict[str, int]] = {}
    times: dict[tuple[str, ...], list[float]] = {}
    for e in executions:
        by_status = counts.setdefault((e.state_machine, e.owner), {})
        by_status[e.status] = by_status.get(e.status, 0) + 1
        if e.stop is not None:
            times.setdefault((e.state_machine,), []).append(e.stop - e.start)
    for key, by_status in counts.items():
        started.add_metric(list(key), sum(by_status.values()))
        running.add_metric(list(key), by_status.get("RUNNING", 0))
        for s, family in ended.items():
            family.add_metric(list(key), by_status.get(s, 0))
    yield started
    yield from ended.values()
    yield running
    yield histogram(
        "states_execution_time_seconds", "ExecutionTime of finished executions", ["state_machine"], times
    )
    per_state: dict[tuple[str, ...], list[float]] = {}
    for d in durations:
        per_state.setdefault((d.state_machine, d.state), []).append(d.seconds)
    yield histogram(
        "states_state_duration_seconds",
        "Time from a state's Entered to its Exited event",
        ["state_machine", "state"],
        per_state,
    )


def histogram(
    name: str, doc: str, labels: list[str], samples: dict[tuple[str, ...], list[float]]
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=labels)
    for key, values in samples.items():
        buckets = [(_bound(b), float(sum(v <= b for v in values))) for b in DURATION_BUCKETS]
        family.add_metric(list(key), buckets, sum_value=sum(values))
    return family


def _bound(b: float) -> str:
    return "+Inf" if b == float("inf") else repr(float(b))


def registry(replication_db: str | Path | None, states_db: str | Path | None) -> CollectorRegistry:
    reg = CollectorRegistry(auto_describe=False)
    reg.register(StoreCollector(replication_db, states_db))
    return reg


def metrics_route(replication_db: str | Path | None, states_db: str | Path | None) -> Route:
    """The ``GET /metrics`` route over the two stores (either may be None: no such metrics)."""
    reg = registry(replication_db, states_db)

    async def metrics(request: Request) -> Response:
        body = await run_in_threadpool(generate_latest, reg)
        return Response(body, 200, media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", metrics, methods=["GET"])
