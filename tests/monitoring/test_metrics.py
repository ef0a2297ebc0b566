"""``GET /metrics`` of a real ``derson-lake serve`` after real loads and runs, parsed with the
Prometheus client's parser and compared with the stores."""

from __future__ import annotations

import urllib.request
from collections import Counter

from prometheus_client.parser import text_string_to_metric_families

from dersonlake.replication.store import ReplicationStore
from dersonlake.states import Engine
from tests.monitoring.helpers import serve


def scrape(url: str) -> dict[str, list]:
    with urllib.request.urlopen(f"{url}/metrics", timeout=30) as response:
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def value(samples: list, name: str, **labels: str) -> float:
    found = [
        s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(found) == 1, (name, labels, [s for s in samples if s.name == name])
    return found[0]


def test_task_and_table_metrics_match_the_replication_store(home):
    with serve(home, "--time-scale", "0") as url:
        metrics = scrape(url)
    store = ReplicationStore(home / ".derson" / "replication.sqlite")
    try:
        tasks = store.tasks()
        assert tasks, "the loads left their task in the store"
        captured = 0
        for task in tasks:
            labels = {"owner": task["owner"], "task": task["identifier"]}
            assert (
                value(
                    metrics["dms_replication_task_status"],
                    "dms_replication_task_status",
                    **labels,
                    status=task["status"],
                )
                == 1
            )
            assert (
                value(
                    metrics["dms_replication_task_status"],
                    "dms_replication_task_status",
                    **labels,
                    status="failed",
                )
                == 0
            )
            assert (
                value(metrics["dms_full_load_progress_percent"], "dms_full_load_progress_percent", **labels)
                == 100
            )
            for t in store.table_stats(task["arn"]):
                tl = {**labels, "schema": t["schema_name"], "table": t["table_name"]}
                rows = metrics["dms_full_load_throughput_rows_target"]
                assert value(rows, "dms_full_load_throughput_rows_target_total", **tl) == t["full_load_rows"]
                changes = t["inserts"] + t["updates"] + t["deletes"] + t["ddls"]
                applied = (
                    t["applied_inserts"] + t["applied_updates"] + t["applied_deletes"] + t["applied_ddls"]
                )
                source = metrics["dms_cdc_throughput_rows_source"]
                assert value(source, "dms_cdc_throughput_rows_source_total", **tl) == changes
                target = metrics["dms_cdc_throughput_rows_target"]
                assert value(target, "dms_cdc_throughput_rows_target_total", **tl) == applied
                assert (
                    value(metrics["dms_cdc_incoming_changes"], "dms_cdc_incoming_changes", **tl)
                    == changes - applied
                )
                assert value(metrics["dms_table_state"], "dms_table_state", **tl, state=t["state"]) == 1
                captured += changes
        assert captured == 2  # the delta's two updates
        full = [
            s for s in metrics["dms_full_load_throughput_rows_target"] if s.labels["table"] == "customers"
        ]
        assert sum(s.value for s in full) >= 100  # the seeded customers, loaded once at least
    finally:
        store.close()


def test_execution_metrics_match_the_state_engine(home):
    with serve(home, "--time-scale", "0") as url:
        metrics = scrape(url)
    engine = Engine(home / ".derson" / "states.sqlite")
    try:
        expected: Counter = Counter()
        exited: Counter = Counter()
        for machine in engine.list_state_machines()["stateMachines"]:
            for e in engine.list_executions(machine["stateMachineArn"])["executions"]:
                expected[(machine["name"], e["status"])] += 1
                for event in engine.get_execution_history(e["executionArn"])["events"]:
                    if event["type"].endswith("StateExited"):
                        exited[(machine["name"], event["stateExitedEventDetails"]["name"])] += 1
    finally:
        engine.close()
    assert expected[("derson-Main", "SUCCEEDED")] == 1 and expected[("derson-Main", "FAILED")] == 1
    names = {"SUCCEEDED": "succeeded", "FAILED": "failed", "ABORTED": "aborted", "TIMED_OUT": "timed_out"}
    machines = {m for m, _ in expected}
    for machine in machines:
        started = [
            s.value for s in metrics["states_executions_started"] if s.labels["state_machine"] == machine
        ]
        assert sum(started) == sum(n for (m, _), n in expected.items() if m == machine)
        for status, suffix in names.items():
            family = metrics[f"states_executions_{suffix}"]
            got = sum(s.value for s in family if s.labels["state_machine"] == machine)
            assert got == expected[(machine, status)], (machine, status)
    failed = metrics["states_executions_failed"]
    assert value(failed, "states_executions_failed_total", state_machine="derson-Main", owner="bad") == 1
    assert value(failed, "states_executions_failed_total", state_machine="derson-Main", owner="good") == 0
    durations = metrics["states_state_duration_seconds"]
    for (machine, state), n in exited.items():
        count = value(durations, "states_state_duration_seconds_count", state_machine=machine, state=state)
        assert count == n, (machine, state)
        inf = value(
            durations, "states_state_duration_seconds_bucket", state_machine=machine, state=state, le="+Inf"
        )
        assert inf == n
    assert ("DMS-Handler", "CreateInstance") in exited or any(m == "DMS-Handler" for m, _ in exited)
