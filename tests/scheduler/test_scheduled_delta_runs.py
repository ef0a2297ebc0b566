"""The whole loop against the session sandbox: the scheduler (rate(1 minute), driven by a test clock)
starts derson-Main -> DMS-Handler -> DMS-intake -> the local DMS for several delta runs while a writer
changes rows; the lake stays equal to the source, an overlapping due time is skipped, and a failing
source (its password file made wrong, then put back) raises the local alarm once and clears it."""

from __future__ import annotations

import shutil

import pytest
import yaml

from dersonlake.api.local import LocalServer
from dersonlake.api.pipelines import PipelineValues, register_pipelines
from dersonlake.cli.run_cmd import default_pipelines
from dersonlake.notify.alert import ALARM_RESOLVED, RUN_FAILED, TASK_FAILED
from dersonlake.replication.store import ReplicationStore
from dersonlake.scheduler import EngineStarter, Scheduler, ScheduleStore
from dersonlake.states import Engine
from tests.intake.test_run import CUSTOMERS, lake_customers, source_customers
from tests.replication.conftest import write_owner
from tests.scheduler.conftest import SchedulerClock

NEW_IDS = range(991001, 991006)


@pytest.fixture
def restore_customers(admin):
    with admin.cursor() as cur:
        cur.execute("SELECT id, email FROM shop.customers")
        original = cur.fetchall()
    yield
    with admin.cursor() as cur:  # the session sandbox is shared: put everything back
        cur.execute(f"DELETE FROM shop.customers WHERE id IN ({','.join(map(str, NEW_IDS))})")
        cur.executemany("UPDATE shop.customers SET email = %s WHERE id = %s", [(e, i) for i, e in original])


def test_scheduled_delta_runs_keep_the_lake_equal_to_the_source(
    tmp_path, sandbox, admin, restore_customers, monkeypatch
):
    password = tmp_path / "password"
    shutil.copy(sandbox.password_file, password)
    folder = write_owner(tmp_path, sandbox, name="acme", mapping=CUSTOMERS, password_file=str(password))
    doc = yaml.safe_load((folder / "owner.yaml").read_text())
    doc.update(
        migration_type="full-load-and-cdc",
        schedule={"expression": "rate(1 minute)", "stale_after_periods": 0},
    )
    (folder / "owner.yaml").write_text(yaml.safe_dump(doc))
    owners = tmp_path / "owners"
    monkeypatch.setenv("DERSON_OWNERS_DIR", str(owners))
    for name in ("DERSON_ENDPOINTS", "DERSON_STANDING_REPLICATION", "DERSON_RESOURCE_PREFIX"):
        monkeypatch.delenv(name, raising=False)

    states = tmp_path / "states.sqlite"
    engine = Engine(states, time_scale=0.01)
    replication = ReplicationStore(tmp_path / "replication.sqlite")
    schedules = ScheduleStore(tmp_path / "schedule.sqlite")
    clock, sent = SchedulerClock(), []
    try:
        register_pipelines(engine, default_pipelines(), PipelineValues())
        starter = EngineStarter(engine, states, tmp_path / "replication.sqlite", "derson-Main")
        scheduler = Scheduler(starter, schedules, owners=owners, send=sent.append, clock=clock)
        with LocalServer(engine, replication, owners_dir=owners) as server:
            monkeypatch.setenv("DERSON_DMS_ENDPOINT_URL", server.url)

            def run_due(expect: str = "SUCCEEDED") -> list[str]:
                """Advance to the next due time, tick, and (overlap check) tick again one period later
                while the run is still going; then wait for the run's end."""
                actions = [e.action for e in scheduler.tick()]
                arn = schedules.owner("acme").last_execution_arn
                clock.advance(60)
                actions += [e.action for e in scheduler.tick()]  # still running: skipped, not doubled
                done = engine.wait_for(arn, timeout=180)
                assert done["status"] == expect, (done.get("error"), done.get("cause"))
                scheduler.tick()  # the scheduler sees the run's end (and sets the alarms)
                return actions

            assert run_due() == ["started", "skipped_running"]  # the first delta: a full load
            assert lake_customers(tmp_path) == source_customers(admin)
            for i, new_id in enumerate(NEW_IDS[:3]):  # the writer, between runs
                with admin.cursor() as cur:
                    cur.execute(
                        f"UPDATE shop.customers SET email = CONCAT('sched-{i}-', id) WHERE id % 7 = {i}"
                    )
                    cur.execute(
                        "INSERT INTO shop.customers (id, first_name, last_name, email, created_at)"
                        f" VALUES ({new_id}, 'S', 'C', 'sched-{i}@example.com', NOW(6))"
                    )
                    cur.execute(f"DELETE FROM shop.customers WHERE id = {new_id - 1}")
                clock.advance(60)
                assert run_due() == ["started", "skipped_running"]
                assert lake_customers(tmp_path) == source_customers(admin)
            assert sent == []

            password.write_text("not-the-password\n")  # the source now refuses the replication user
            for _ in range(2):
                clock.advance(60)
                run_due(expect="FAILED")
            assert [a.kind for a in sent] == [RUN_FAILED, TASK_FAILED]  # two failed runs, one alarm each
            assert "Access denied" in sent[1].cause
            assert schedules.alarm("acme", "run_failed").state == "ALARM"

            shutil.copy(sandbox.password_file, password)
            with admin.cursor() as cur:
                cur.execute(f"UPDATE shop.customers SET email = 'back@example.com' WHERE id = {NEW_IDS[2]}")
            clock.advance(60)
            run_due()
            assert [a.kind for a in sent] == [RUN_FAILED, TASK_FAILED, ALARM_RESOLVED, ALARM_RESOLVED]
            assert lake_customers(tmp_path) == source_customers(admin)
    finally:
        engine.close()
        replication.close()
        schedules.close()
    actions = [e.action for e in ScheduleStore(tmp_path / "schedule.sqlite").events()]
    assert actions.count("started") == 7 and actions.count("skipped_running") == 7
