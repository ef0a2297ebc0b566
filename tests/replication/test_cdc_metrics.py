"""CDC latency and throughput as DMS's task metrics: computed from what the stream read and
committed, saved in the store for other processes (the dashboard's replication view reads them)."""

from __future__ import annotations

from datetime import UTC, datetime

from dersonlake.api.dashboard.views import replication
from dersonlake.replication.cdc_metrics import CdcMeter, cdc_metrics
from dersonlake.replication.store import ReplicationStore
from dersonlake.replication.task import create_task


class Clock:
    """A settable clock: the metrics are arithmetic on times, so the test picks them."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_latency_and_throughput_follow_what_was_read_and_committed(tmp_path):
    store = ReplicationStore(tmp_path / "replication.sqlite")
    arn = create_task(store, "t", migration_type="cdc", table_mappings="{}", settings_json="{}")
    assert cdc_metrics(store, arn) is None
    clock = Clock(1_000.0)
    meter = CdcMeter(store, arn, clock=clock)
    meter.read(datetime.fromtimestamp(995.0, UTC).replace(tzinfo=None), 30)  # committed 5 s ago
    clock.now = 1_002.0
    meter.read(datetime.fromtimestamp(1_001.0, UTC).replace(tzinfo=None), 10)
    meter.save()
    m = cdc_metrics(store, arn)
    assert (m["CDCLatencySource"], m["CDCLatencyTarget"]) == (1.0, 7.0)  # newest read; oldest unapplied
    assert (m["CDCThroughputRowsSource"], m["CDCThroughputRowsTarget"], m["CDCIncomingChanges"]) == (
        20.0,
        0.0,
        40,
    )
    clock.now = 1_006.0
    meter.applied()
    meter.caught_up()
    meter.save()
    m = cdc_metrics(store, arn)
    assert (m["CDCLatencySource"], m["CDCLatencyTarget"], m["CDCIncomingChanges"]) == (0.0, 0.0, 0)
    assert m["CDCThroughputRowsTarget"] == 10.0  # 40 committed over 4 s
    clock.now = 1_006.5
    meter.read(datetime.fromtimestamp(1_006.0, UTC).replace(tzinfo=None), 1)
    meter.save()  # less than a second since the last save: not written
    assert cdc_metrics(store, arn)["CDCIncomingChanges"] == 0
    (task,) = replication(store)["tasks"]
    assert task["cdc"]["CDCThroughputRowsTarget"] == 10.0
    store.close()


def test_the_latency_reaches_the_monitoring_snapshot(tmp_path):
    from dersonlake.replication.stats import read_tasks

    store = ReplicationStore(tmp_path / "replication.sqlite")
    arn = create_task(store, "t", migration_type="cdc", table_mappings="{}", settings_json="{}")
    clock = Clock(2_000.0)
    meter = CdcMeter(store, arn, clock=clock)
    meter.read(datetime.fromtimestamp(1_997.0, UTC).replace(tzinfo=None), 5)
    meter.save(force=True)
    store.close()
    (task,) = read_tasks(tmp_path / "replication.sqlite")
    assert (task.latency_source, task.latency_target) == (3.0, 3.0)
