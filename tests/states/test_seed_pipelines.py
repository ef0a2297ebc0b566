"""The seed's three pipelines (``infra/terraform/pipelines``) run on the local engine as on AWS:
created, started and inspected through the Python API and the CLI, success and failure paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dersonlake.states import Engine
from tests.infra.tf import render_states
from tests.states import seed_intake_stand_in as intake

PIPELINES = Path(__file__).resolve().parents[2] / "infra" / "terraform" / "pipelines"
NAMES = ("DMS-ErrorHandling", "DMS-Handler", "derson-Main")
VALUES = {
    "region": "us-east-1",
    "account_id": "000000000000",
    "state_machine_prefix": "",
    "intake_function_arn": "arn:aws:lambda:us-east-1:000000000000:function:DMS-intake",
    # as Terraform fills it when no owner keeps Iceberg tables: DMS-intake answers the step
    "iceberg_function_arn": "arn:aws:lambda:us-east-1:000000000000:function:DMS-intake",
    "error_topic_arn": "arn:aws:sns:us-east-1:000000000000:derson-lake-errors",
}
HAPPY = [
    "create_instance",
    "check_instance_status",
    "check_instance_status",
    "create_replication_task",
    "start_replication_task",
    "check_replication_task_status",
    "check_replication_task_status",
    "update_iceberg_tables",
    "delete_task",
    "delete_instance",
]


def definition(name: str) -> str:
    return render_states((PIPELINES / name / "states.json").read_text(), VALUES)


@pytest.fixture
def engine(tmp_path):
    intake.reset()
    eng = Engine(tmp_path / "states.sqlite", time_scale=0)
    eng.register_lambda("DMS-intake", intake.handler)
    for name in NAMES:
        eng.create_state_machine(name, definition(name))
    yield eng
    eng.close()


def run_main(engine: Engine, owner: str = "dersonLake") -> dict:
    started = engine.start_execution("derson-Main", json.dumps({"owner": owner}))
    return engine.wait_for(started["executionArn"], timeout=60)


def test_derson_main_runs_the_seven_steps_through_dms_handler(engine):
    done = run_main(engine)
    assert done["status"] == "SUCCEEDED", done
    assert [step for _owner, step in intake.CALLS] == HAPPY
    handler_runs = engine.list_executions(engine.state_machine_arn("DMS-Handler"))["executions"]
    assert [r["status"] for r in handler_runs] == ["SUCCEEDED"]
    events = [e["type"] for e in engine.get_execution_history(done["executionArn"])["events"]]
    assert events[0] == "ExecutionStarted" and events[-1] == "ExecutionSucceeded"
    assert "TaskSubmitted" in events and "TaskSucceeded" in events
    assert engine.notifications() == []


def test_a_transient_dms_error_is_retried(engine):
    intake.FAULTS["start_replication_task"] = ("InvalidResourceStateFault", 1)
    done = run_main(engine)
    assert done["status"] == "SUCCEEDED"
    assert [s for _o, s in intake.CALLS].count("start_replication_task") == 2


def test_a_failed_step_runs_error_handling_which_cleans_up_notifies_and_fails_with_the_cause(engine):
    intake.FAULTS["start_replication_task"] = ("ReplicationTaskError", -1)
    done = run_main(engine)
    assert done["status"] == "FAILED"
    steps = [s for _o, s in intake.CALLS]
    assert steps[-2:] == ["delete_task", "delete_instance"]  # nothing left billing
    errors = engine.list_executions(engine.state_machine_arn("DMS-ErrorHandling"))["executions"]
    assert [e["status"] for e in errors] == ["FAILED"]
    notes = engine.notifications()
    assert len(notes) == 1 and "dersonLake" in json.dumps(notes[0], default=str)
    history = engine.get_execution_history(done["executionArn"])["events"]
    failed = next(e for e in history if e["type"] == "ExecutionFailed")["executionFailedEventDetails"]
    assert "ReplicationTaskError" in json.dumps(
        failed
    ) and "start_replication_task failed for dersonLake" in json.dumps(failed)


def test_error_handling_still_deletes_the_instance_when_the_task_deletion_fails(engine):
    intake.FAULTS["start_replication_task"] = ("ReplicationTaskError", -1)
    intake.FAULTS["delete_task"] = ("ReplicationTaskError", -1)
    done = run_main(engine)
    assert done["status"] == "FAILED"
    assert "delete_instance" in [s for _o, s in intake.CALLS]


def test_the_pipelines_through_the_cli(tmp_path):
    env = {
        **os.environ,
        "DERSON_HOME": str(tmp_path / ".derson"),
        "DERSON_LAMBDAS": "DMS-intake=tests.states.seed_intake_stand_in:handler",
    }

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dersonlake", "states", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=Path(__file__).resolve().parents[2],
        )

    for name in NAMES:
        path = tmp_path / f"{name}.json"
        path.write_text(definition(name))
        created = cli("create", name, "--definition", str(path))
        assert created.returncode == 0, created.stderr
    listed = cli("list")
    assert all(name in listed.stdout for name in NAMES)
    run = cli("start", "derson-Main", "--input", '{"owner": "dersonLake"}', "--wait", "--time-scale", "0")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["status"] == "SUCCEEDED"
    history = cli("history", result["executionArn"])
    assert history.returncode == 0 and "ExecutionSucceeded" in history.stdout
