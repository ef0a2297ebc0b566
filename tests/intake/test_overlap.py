"""On AWS, two derson-Main executions of one owner must not overlap: DMS-Handler's first step asks
Step Functions (ListExecutions + DescribeExecution) and the later run fails at once, before touching
the owner's resources, waits (a Retry of that step) and goes on once the earlier run has ended,
never beside it and without DMS-ErrorHandling's cleanup. Tested through the real pipelines on
``derson-lake serve`` with the real DMS-intake, as AWS would run them."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import boto3

from tests.api.test_serve_cli import ROOT, env
from tests.replication.conftest import write_owner

MAIN = "arn:aws:states:us-east-1:000000000000:stateMachine:derson-Main"
HANDLER = "arn:aws:states:us-east-1:000000000000:stateMachine:DMS-Handler"
ERRORS = "arn:aws:states:us-east-1:000000000000:stateMachine:DMS-ErrorHandling"


def wait(sfn, arn: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while (done := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, done
        time.sleep(0.2)
    return done


def test_a_second_execution_of_the_same_owner_waits_for_the_first_before_touching_its_resources(
    tmp_path, sandbox
):
    write_owner(tmp_path, sandbox, name="acme")
    child_env = {**env(tmp_path / ".derson"), "DERSON_OWNERS_DIR": str(tmp_path / "owners")}
    child_env.pop("DERSON_DMS_ENDPOINT_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dersonlake", "serve", "--port", "0", "--time-scale", "0.1", "--lambda",
         "DMS-intake=dersonlake.intake.lambda_function:lambda_handler"],
        cwd=ROOT, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = next(line.split()[-1] for line in proc.stdout if line.startswith("derson-lake serve: "))
        sfn = boto3.client("stepfunctions", endpoint_url=url, region_name="us-east-1",
                           aws_access_key_id="x", aws_secret_access_key="x")  # fmt: skip
        first = sfn.start_execution(stateMachineArn=MAIN, input=json.dumps({"owner": "acme"}))["executionArn"]
        deadline = time.monotonic() + 60
        while not sfn.list_executions(stateMachineArn=HANDLER, statusFilter="RUNNING")["executions"]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        second = sfn.start_execution(stateMachineArn=MAIN, input=json.dumps({"owner": "acme"}))[
            "executionArn"
        ]
        # the later run waits (DMS-Handler retries OwnerAlreadyRunning) and goes on once the first ends
        first_done = wait(sfn, first)
        assert first_done["status"] == "SUCCEEDED", first_done  # the first run was not disturbed
        second_done = wait(sfn, second)
        assert second_done["status"] == "SUCCEEDED", (second_done.get("error"), second_done.get("cause"))
        assert second_done["stopDate"] > first_done["stopDate"]
        refusals = [
            event
            for handler in sfn.list_executions(stateMachineArn=HANDLER)["executions"]
            for event in sfn.get_execution_history(executionArn=handler["executionArn"])["events"]
            if "OwnerAlreadyRunning" in json.dumps(event, default=str)
        ]
        assert refusals, "the later run never found the earlier one running"
        assert all(
            "owner acme already has a running DMS-Handler execution" in json.dumps(e, default=str)
            for e in refusals
        )
        assert sfn.list_executions(stateMachineArn=ERRORS)["executions"] == []  # no cleanup ran
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
