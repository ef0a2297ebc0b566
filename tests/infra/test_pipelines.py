"""The three pipelines Terraform deploys: each states.json that Terraform references exists, uses
only the documented placeholders, validates with our ASL engine once filled, and behaves as the
seed describes when run by the local engine against a fake DMS-intake Lambda."""

from __future__ import annotations

import json
import re

import pytest

from dersonlake.states import Engine, load_definition
from tests.infra import tf


def _referenced_states_files(hcl) -> list:
    """states.json files named by the pipelines' Terraform, and the pipelines the root calls."""
    files = set()
    for path in tf.tf_files():
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r'"\$\{path\.module\}/([^"]+\.json)"', text):
            if m.group(1).endswith("states.json"):
                files.add(path.parent / m.group(1))
    for block in hcl(tf.TF_ROOT / "main.tf")["module"]:
        for body in block.values():
            if body["source"].startswith("./pipelines/"):
                files.add(tf.TF_ROOT / body["source"][2:] / "states.json")
    return sorted(files)


def test_terraform_references_every_pipeline(hcl):
    files = _referenced_states_files(hcl)
    assert [f.parent.name for f in files] == sorted(tf.PIPELINE_NAMES, key=lambda n: str(tf.PIPELINES / n))
    for f in files:
        assert f.is_file(), f"Terraform references {f}, which does not exist"


@pytest.mark.parametrize("pipeline", tf.PIPELINE_NAMES)
def test_states_json_validates_with_our_engine(pipeline):
    path = tf.PIPELINES / pipeline / "states.json"
    text = path.read_text(encoding="utf-8")
    used = tf.placeholders(text)
    assert used <= set(tf.PLACEHOLDERS), f"{path}: undocumented placeholders {used - set(tf.PLACEHOLDERS)}"
    # No region, account or ARN baked in: they come from the placeholders.
    assert not re.search(r"\b\d{12}\b", text), f"{path}: hard-coded account id"
    assert not re.search(r"arn:aws:[a-z-]+:[a-z]{2}-", text), f"{path}: hard-coded region in an ARN"
    rendered = tf.render_states(text)
    load_definition(rendered, file=str(path))
    # And with another prefix/region, as a second deployment would render it.
    other = {**tf.SAMPLE_VALUES, "state_machine_prefix": "dev-", "region": "eu-west-1"}
    doc = json.loads(tf.render_states(text, other))
    load_definition(doc, file=str(path))


def test_render_rejects_unknown_placeholders():
    with pytest.raises(KeyError, match="unknown placeholder"):
        tf.render_states('{"x": "${nope}"}')
    assert tf.render_states('{"x": "$${literal}"}') == '{"x": "${literal}"}'


def _states(pipeline):
    return json.loads(tf.render_states((tf.PIPELINES / pipeline / "states.json").read_text()))["States"]


def test_main_starts_the_handler_synchronously():
    states = _states("derson-Main")
    task = states["IntakeOwner"]
    assert task["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert task["Parameters"]["StateMachineArn"].endswith(":stateMachine:DMS-Handler")
    assert task["Parameters"]["Input"]["owner.$"] == "$.owner"
    assert task["Parameters"]["Input"]["delta.$"] == "$.delta"


SEVEN_STEPS = (
    "create_instance",
    "check_instance_status",
    "create_replication_task",
    "start_replication_task",
    "check_replication_task_status",
    "delete_task",
    "delete_instance",
)
ICEBERG_STEP = "update_iceberg_tables"  # DMS-iceberg, between the task's stop and its deletion
STEPS = (*SEVEN_STEPS[:5], ICEBERG_STEP, *SEVEN_STEPS[5:])


def test_handler_invokes_the_seven_steps_with_retry_and_catch():
    states = _states("DMS-Handler")
    steps = {}
    for name, st in states.items():
        if st.get("Resource") == "arn:aws:states:::lambda:invoke":
            payload = st["Parameters"]["Payload"]
            function = "iceberg_function_arn" if payload["step"] == ICEBERG_STEP else "intake_function_arn"
            assert st["Parameters"]["FunctionName"] == tf.SAMPLE_VALUES[function], name
            assert payload["owner.$"] == "$.owner" and payload["delta.$"] == "$.delta", name
            transient = st["Retry"][0]
            assert "Lambda.TooManyRequestsException" in transient["ErrorEquals"], name
            assert "Lambda.ServiceException" in transient["ErrorEquals"], name
            assert transient["BackoffRate"] > 1, name
            # States.ALL must come last; CreateInstance catches OwnerAlreadyRunning (after its hour of
            # waiting) straight to Failed before it: nothing of the earlier run is cleaned up
            assert st["Catch"][-1] == {
                **st["Catch"][-1],
                "ErrorEquals": ["States.ALL"],
                "Next": "StartErrorHandling",
            }, name
            steps[payload["step"]] = name
    assert set(steps) == set(STEPS)
    # the Iceberg step runs once the task has stopped, before it is deleted
    stopped = next(c for c in states["TaskStopped"]["Choices"] if c.get("StringEquals") == "stopped")
    assert (
        stopped["Next"] == steps[ICEBERG_STEP] and states[steps[ICEBERG_STEP]]["Next"] == steps["delete_task"]
    )
    err = states["StartErrorHandling"]
    assert err["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert err["Parameters"]["StateMachineArn"].endswith(":stateMachine:DMS-ErrorHandling")
    assert states["Failed"]["ErrorPath"] == "$.error.Error"


# --- Behaviour, on the local engine ---------------------------------------------------------------


class AwsError(Exception):
    def __init__(self, error_type: str, message: str = "boom"):
        super().__init__(message)
        self.error_type = error_type


class FakeIntake:
    """DMS-intake as the pipelines expect it (docs/aws.md, "The Lambda contract")."""

    def __init__(
        self,
        *,
        fail: dict | None = None,
        transient: dict | None = None,
        task_end="stopped",
        instance_never_ready=False,
    ):
        self.calls: list[tuple[str, dict]] = []
        self.fail = fail or {}
        self.transient = dict(transient or {})
        self.task_end = task_end
        self.instance_never_ready = instance_never_ready
        self.instance_polls = 0
        self.task_polls = 0

    def __call__(self, event, context):
        step = event["step"]
        self.calls.append((step, event))
        if self.transient.get(step, 0) > 0:
            self.transient[step] -= 1
            raise AwsError("Lambda.TooManyRequestsException", "Rate exceeded")
        if step in self.fail:
            raise AwsError(*self.fail[step])
        arn_i = "arn:aws:dms:sa-east-1:123456789012:rep:RI1"
        arn_t = "arn:aws:dms:sa-east-1:123456789012:task:T1"
        if step == "create_instance":
            return {"ReplicationInstanceArn": arn_i, "ReplicationInstanceStatus": "creating"}
        if step == "check_instance_status":
            self.instance_polls += 1
            ready = self.instance_polls >= 3 and not self.instance_never_ready
            status = "available" if ready else "creating"
            return {"ReplicationInstanceArn": arn_i, "ReplicationInstanceStatus": status}
        if step in ("create_replication_task", "start_replication_task"):
            assert event["instance"]["ReplicationInstanceArn"] == arn_i
            return {"ReplicationTaskArn": arn_t, "Status": "ready" if step[0] == "c" else "starting"}
        if step == "check_replication_task_status":
            self.task_polls += 1
            status = self.task_end if self.task_polls >= 2 else "running"
            return {"ReplicationTaskArn": arn_t, "Status": status, "StopReason": "FULL_LOAD_ONLY_FINISHED"}
        return {"deleted": True}

    def steps(self):
        return [s for s, _ in self.calls]


@pytest.fixture
def engine(tmp_path):
    eng = Engine(tmp_path / "states.sqlite", time_scale=0, region="sa-east-1", account="123456789012", seed=1)
    for name in tf.PIPELINE_NAMES:
        eng.create_state_machine(name, tf.render_states((tf.PIPELINES / name / "states.json").read_text()))
    yield eng
    eng.close()


def _run(engine, intake, payload):
    engine.register_lambda("DMS-intake", intake)
    engine.register_lambda("DMS-iceberg", intake)  # the fake answers every step of the contract
    arn = engine.state_machine_arn("derson-Main")
    run = engine.start_execution(arn, json.dumps(payload))["executionArn"]
    return engine.wait_for(run, timeout=30)


def test_happy_path_runs_the_seven_steps_in_order(engine):
    intake = FakeIntake()
    result = _run(engine, intake, {"owner": "dersonLake"})
    assert result["status"] == "SUCCEEDED", result
    steps = intake.steps()
    assert [s for i, s in enumerate(steps) if i == 0 or s != steps[i - 1]] == list(STEPS)
    assert steps.count("check_instance_status") == 3 and steps.count("check_replication_task_status") == 2
    assert all(e["owner"] == "dersonLake" and e["delta"] is False for _, e in intake.calls)
    assert engine.notifications() == []


def test_delta_is_passed_through(engine):
    intake = FakeIntake()
    assert _run(engine, intake, {"owner": "dersonLake", "delta": True})["status"] == "SUCCEEDED"
    assert {e["delta"] for _, e in intake.calls} == {True}


def test_missing_owner_fails_fast(engine):
    intake = FakeIntake()
    result = _run(engine, intake, {})
    assert result["status"] == "FAILED"
    assert intake.calls == []


def test_transient_lambda_errors_are_retried(engine):
    intake = FakeIntake(transient={"create_instance": 2, "delete_instance": 1})
    assert _run(engine, intake, {"owner": "dersonLake"})["status"] == "SUCCEEDED"
    assert intake.steps().count("create_instance") == 3


def test_failure_cleans_up_notifies_and_fails_with_the_original_error(engine):
    intake = FakeIntake(fail={"create_replication_task": ("ResourceNotFoundFault", "endpoint gone")})
    result = _run(engine, intake, {"owner": "dersonLake"})
    assert result["status"] == "FAILED"
    steps = intake.steps()
    assert steps[-2:] == ["delete_task", "delete_instance"]
    cleanup = [e for s, e in intake.calls if s == "delete_instance"][-1]
    assert cleanup["instance"]["ReplicationInstanceArn"].endswith(":rep:RI1")
    handler = engine.list_executions(engine.state_machine_arn("DMS-Handler"))["executions"][0]
    handler_result = engine.describe_execution(handler["executionArn"])
    assert handler_result["status"] == "FAILED"
    assert handler_result["error"] == "ResourceNotFoundFault"
    assert "endpoint gone" in handler_result["cause"]
    main = engine.describe_execution(
        engine.list_executions(engine.state_machine_arn("derson-Main"))["executions"][0]["executionArn"]
    )
    assert main["error"] == "States.TaskFailed" and "ResourceNotFoundFault" in main["cause"]
    notes = engine.notifications()
    assert len(notes) == 1
    message = json.loads(notes[0]["message"])
    assert message["owner"] == "dersonLake" and message["error"]["Error"] == "ResourceNotFoundFault"


def test_cleanup_deletes_the_instance_even_when_deleting_the_task_fails(engine):
    intake = FakeIntake(
        fail={
            "start_replication_task": ("AccessDeniedFault", "no"),
            "delete_task": ("AccessDeniedFault", "no"),
        }
    )
    result = _run(engine, intake, {"owner": "dersonLake"})
    assert result["status"] == "FAILED"
    steps = intake.steps()
    assert "delete_instance" in steps and steps.index("delete_instance") > steps.index("delete_task")
    assert len(engine.notifications()) == 1


def test_a_failed_task_status_goes_to_error_handling(engine):
    intake = FakeIntake(task_end="failed")
    result = _run(engine, intake, {"owner": "dersonLake"})
    assert result["status"] == "FAILED"
    assert intake.steps()[-2:] == ["delete_task", "delete_instance"]
    handler = engine.list_executions(engine.state_machine_arn("DMS-Handler"))["executions"][0]
    assert engine.describe_execution(handler["executionArn"])["error"] == "DersonLake.ReplicationTaskFailed"


@pytest.mark.parametrize(
    ("intake", "error"),
    [
        (FakeIntake(task_end="running"), "DersonLake.ReplicationTaskTimeout"),
        (FakeIntake(instance_never_ready=True), "DersonLake.ReplicationInstanceTimeout"),
    ],
    ids=["task", "instance"],
)
def test_polling_is_bounded_and_still_cleans_up(engine, intake, error):
    """A task that never stops (or an instance never available) ends in cleanup, not an execution
    timeout that would leave the instance billing."""
    engine.register_lambda("DMS-intake", intake)
    limits = {"instance_polls": 4, "task_polls": 3}
    run = engine.start_execution(
        engine.state_machine_arn("DMS-Handler"), json.dumps({"owner": "dersonLake", "limits": limits})
    )["executionArn"]
    result = engine.wait_for(run, timeout=30)
    assert result["status"] == "FAILED" and result["error"] == error
    steps = intake.steps()
    assert steps[-2:] == ["delete_task", "delete_instance"]
    assert steps.count("check_replication_task_status") <= limits["task_polls"] + 1
    assert steps.count("check_instance_status") <= limits["instance_polls"] + 1


def test_the_iceberg_step_retries_transient_errors_and_concurrent_commits(engine):
    intake = FakeIntake(transient={ICEBERG_STEP: 2})
    assert _run(engine, intake, {"owner": "dersonLake"})["status"] == "SUCCEEDED"
    assert intake.steps().count(ICEBERG_STEP) == 3
    again = FakeIntake(fail={ICEBERG_STEP: ("CommitFailedException", "another writer committed")})
    assert _run(engine, again, {"owner": "dersonLake"})["status"] == "FAILED"
    assert again.steps().count(ICEBERG_STEP) == 4  # the first call and 3 retries, then the Catch


def test_a_failed_iceberg_step_cleans_up_and_fails_with_its_error(engine):
    intake = FakeIntake(fail={ICEBERG_STEP: ("BadInput", "CSV files carry no column types")})
    result = _run(engine, intake, {"owner": "dersonLake"})
    assert result["status"] == "FAILED"
    assert intake.steps()[-2:] == ["delete_task", "delete_instance"]  # DMS-ErrorHandling's cleanup
    handler = engine.list_executions(engine.state_machine_arn("DMS-Handler"))["executions"][0]
    described = engine.describe_execution(handler["executionArn"])
    assert described["error"] == "BadInput" and "no column types" in described["cause"]
    assert len(engine.notifications()) == 1
