"""Crash resume: a real subprocess is SIGKILLed at random (seeded) moments and restarted.

The machine has a Wait, a Task with Retry, an inline Map of Lambda tasks with waits, and a
nested ``startExecution.sync:2``. Whatever the kill points, every execution must end SUCCEEDED
with the same output as an uninterrupted run, its history must be one gapless sequence with
one ExecutionSucceeded, and every task side effect must carry a stable idempotency key.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dersonlake.states import Engine

ROOT = Path(__file__).resolve().parents[2]
FN = "arn:aws:lambda:us-east-1:000000000000:function:"

CHILD = {
    "StartAt": "Nap",
    "States": {
        "Nap": {"Type": "Wait", "Seconds": 2, "Next": "Mult"},
        "Mult": {
            "Type": "Task",
            "Resource": FN + "triple",
            "InputPath": "$.n",
            "ResultPath": "$.tripled",
            "End": True,
        },
    },
}
PARENT = {
    "StartAt": "Pause",
    "States": {
        "Pause": {"Type": "Wait", "Seconds": 5, "Next": "Flaky"},
        "Flaky": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "flaky", "Payload.$": "$.seed"},
            "ResultSelector": {"v.$": "$.Payload"},
            "ResultPath": "$.flaky",
            "Retry": [{"ErrorEquals": ["NotReady"], "IntervalSeconds": 3}],
            "Next": "Fan",
        },
        "Fan": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "MaxConcurrency": 4,
            "ItemProcessor": {
                "StartAt": "Step",
                "States": {
                    "Step": {"Type": "Wait", "Seconds": 1, "Next": "Work"},
                    "Work": {"Type": "Task", "Resource": FN + "triple", "Next": "Check"},
                    "Check": {
                        "Type": "Choice",
                        "Choices": [{"Variable": "$", "NumericGreaterThan": 30, "Next": "Big"}],
                        "Default": "Small",
                    },
                    "Big": {"Type": "Pass", "Parameters": {"big.$": "$"}, "End": True},
                    "Small": {"Type": "Pass", "Parameters": {"small.$": "$"}, "End": True},
                },
            },
            "ResultPath": "$.fan",
            "Next": "Nested",
        },
        "Nested": {
            "Type": "Task",
            "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": {"StateMachineArn": "Child", "Input": {"n.$": "States.ArrayLength($.fan)"}},
            "ResultSelector": {"status.$": "$.Status", "out.$": "$.Output.tripled"},
            "ResultPath": "$.nested",
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
    },
}
INPUTS = [{"seed": i, "items": list(range(i, i + 15))} for i in range(3)]


def expected_output(inp):
    fan = [{"big": 3 * x} if 3 * x > 30 else {"small": 3 * x} for x in inp["items"]]
    return {
        **inp,
        "flaky": {"v": {"ok": inp["seed"]}},
        "fan": fan,
        "nested": {"status": "SUCCEEDED", "out": 45},
    }


def prepare(db: Path) -> list[str]:
    e = Engine(db, time_scale=0.001)
    e.create_state_machine("Child", CHILD)
    arn = e.create_state_machine("Parent", PARENT)["stateMachineArn"]
    arns = [
        e.start_execution(arn, json.dumps(inp), name=f"run{i}")["executionArn"]
        for i, inp in enumerate(INPUTS)
    ]
    e.close()
    return arns


def worker(db: Path, effects: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DERSON_TEST_EFFECTS": str(effects),
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tests.states.crash_worker", str(db)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def check(db: Path, arns: list[str], effects: Path) -> None:
    e = Engine(db, time_scale=0.001)
    for arn, inp in zip(arns, INPUTS, strict=True):
        desc = e.describe_execution(arn)
        assert desc["status"] == "SUCCEEDED", desc
        assert json.loads(desc["output"]) == expected_output(inp)
        events = e.get_execution_history(arn)["events"]
        assert [ev["id"] for ev in events] == list(range(1, len(events) + 1))
        types = [ev["type"] for ev in events]
        assert types.count("ExecutionSucceeded") == 1 and types[-1] == "ExecutionSucceeded"
        assert types.count("MapIterationSucceeded") == len(inp["items"])
        assert types.count("TaskStateEntered") == 1 + len(inp["items"]) + 1
    children = e.list_executions("Child")["executions"]
    assert len(children) == len(arns) and all(c["status"] == "SUCCEEDED" for c in children)
    keys = effects.read_text().split()
    # every side effect carries a key; re-deliveries after a kill reuse the key of the same attempt
    per_run = 2 + 15  # flaky (attempt 0 and 1) + 15 map items; the child's triple is counted below
    assert len(set(keys)) == len(arns) * per_run + len(children)
    e.close()


def test_uninterrupted_run_is_the_reference(tmp_path):
    db, effects = tmp_path / "s.sqlite", tmp_path / "effects.txt"
    arns = prepare(db)
    proc = worker(db, effects)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    check(db, arns, effects)
    assert len(effects.read_text().split()) == len(set(effects.read_text().split()))  # no crash: exactly once


def progress(db: Path) -> int:
    """History events written so far (read from outside the worker, as a kill trigger)."""
    conn = sqlite3.connect(db, timeout=5)
    try:
        return conn.execute("SELECT COUNT(*) FROM history").fetchone()[0]
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_at_random_points_then_resume(tmp_path, seed):
    rng = random.Random(seed)
    db, effects = tmp_path / "s.sqlite", tmp_path / "effects.txt"
    arns = prepare(db)
    kills = 0
    for _ in range(40):
        proc = worker(db, effects)
        if kills < 8:
            # kill once the worker has made a random amount of further progress
            target = progress(db) + rng.randint(1, 120)
            while proc.poll() is None and progress(db) < target:
                time.sleep(0.002)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                continue
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        if "DONE" in out:
            break
    assert kills >= 5, "the worker finished before it could be killed; the test proved nothing"
    check(db, arns, effects)


def test_task_claimed_by_a_live_process_is_left_alone_and_a_dead_ones_is_taken(tmp_path):
    e = Engine(tmp_path / "s.sqlite", time_scale=0)
    e.register_lambda("triple", "tests.states.handlers:triple")
    arn = e.create_state_machine(
        "t", {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": FN + "triple", "End": True}}}
    )
    x = e.start_execution(arn["stateMachineArn"], "2")["executionArn"]
    with e.store.tx() as tx:  # one transition: the task is scheduled, not yet dispatched
        frame = tx.frame(tx.conn.execute("SELECT id FROM frames WHERE exec_arn = ?", (x,)).fetchone()["id"])
        e.interp.step(tx, frame)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with e.store.tx() as tx:
            tx.conn.execute("UPDATE tasks SET claimed_by = ?", (other.pid,))
        e.run_until_idle()
        assert e.describe_execution(x)["status"] == "RUNNING"  # another live process owns the task
    finally:
        other.kill()
        other.wait()
    e.run_until_idle()  # its owner is gone: taken over at once
    assert e.describe_execution(x)["output"] == "6"
    e.close()
