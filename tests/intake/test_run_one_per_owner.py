"""One ``derson-lake run`` per owner: a run killed with SIGKILL is stopped and cleaned up by the
next run (which then succeeds alone), a second run beside a live one is refused, and ``--timeout``
leaves nothing running. Real processes, real signals, the session sandbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from dersonlake.replication.store import ReplicationStore
from dersonlake.states import Engine
from tests.intake.test_run import ROOT, derson, derson_env, executions
from tests.replication.conftest import write_owner


def start_run(tmp_path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dersonlake", "run", "acme", *args],
        env=derson_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip


def wait_for_line(proc: subprocess.Popen[str], prefix: str) -> list[str]:
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:
        seen.append(line)
        if line.startswith(prefix):
            return seen
    raise AssertionError(f"the run ended before {prefix!r}: {''.join(seen)}")


def nothing_left(tmp_path) -> None:
    store = ReplicationStore(tmp_path / ".derson" / "replication.sqlite")
    try:
        assert store.tasks() == [] and store.instances() == []
    finally:
        store.close()
    for machine in ("derson-Main", "DMS-Handler", "DMS-ErrorHandling"):
        assert "RUNNING" not in [e["status"] for e in executions(tmp_path, machine)]


def test_a_killed_run_is_stopped_and_cleaned_up_by_the_next_one(tmp_path, sandbox):
    write_owner(tmp_path, sandbox, name="acme")
    first = start_run(tmp_path, "--time-scale", "0.1")
    try:
        wait_for_line(first, "instance derson-acme: ")  # resources exist, the task is about to start
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        first.kill()
    (killed,) = executions(tmp_path, "derson-Main")
    assert killed["status"] == "RUNNING"  # what the dead process left behind
    status = derson(tmp_path, "status", "--json")
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert killed["executionArn"] not in [e["execution_arn"] for e in shown["running_executions"]]
    assert killed["executionArn"] in [e["execution_arn"] for e in shown["killed_run_executions"]]

    second = derson(tmp_path, "run", "acme", "--time-scale", "0.01")
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"killed run (pid {first.pid}) of acme" in second.stdout
    assert "cleaned up: task" in second.stdout and "acme: SUCCEEDED" in second.stdout
    engine = Engine(tmp_path / ".derson" / "states.sqlite")
    try:
        old = engine.describe_execution(killed["executionArn"])
    finally:
        engine.close()
    assert old["status"] == "ABORTED" and old["error"] == "DersonLake.RunProcessDied"
    assert str(first.pid) in old["cause"]
    statuses = sorted(e["status"] for e in executions(tmp_path, "derson-Main"))
    assert statuses == ["ABORTED", "SUCCEEDED"]
    nothing_left(tmp_path)


def test_a_second_run_beside_a_live_one_is_refused(tmp_path, sandbox):
    write_owner(tmp_path, sandbox, name="acme")
    first = start_run(tmp_path, "--time-scale", "0.1")
    try:
        wait_for_line(first, "started ")
        second = derson(tmp_path, "run", "acme", "--time-scale", "0.01")
        assert second.returncode == 1, second.stdout + second.stderr
        assert f"owner acme is already being run by process {first.pid}" in second.stderr
        assert "Traceback" not in second.stderr
        out, err = first.communicate(timeout=300)
        assert first.returncode == 0, out + err  # the first run was not disturbed
    finally:
        first.kill()
    nothing_left(tmp_path)


def test_timeout_leaves_no_orphans(tmp_path, sandbox):
    write_owner(tmp_path, sandbox, name="acme")
    done = derson(tmp_path, "run", "acme", "--time-scale", "1", "--timeout", "3")  # the instance waits 30 s
    assert done.returncode == 1, done.stdout + done.stderr
    assert "did not end within 3s" in done.stderr
    (main,) = executions(tmp_path, "derson-Main")
    assert main["status"] == "ABORTED"
    nothing_left(tmp_path)
    again = derson(tmp_path, "run", "acme", "--time-scale", "0.01")  # nothing in the way afterwards
    assert again.returncode == 0, again.stdout + again.stderr
    assert "killed run" not in again.stdout
    assert json.dumps(executions(tmp_path, "derson-Main"), default=str).count("SUCCEEDED") == 1
