"""``derson-lake serve`` as a process, driven by the real ``aws`` CLI exactly as the seed's README shows.

The DMS-intake Lambda is mapped to the tests' stand-in for its documented contract, so derson-Main
runs its whole happy path without a database (the real handler: ``tests/intake/test_serve_seed.py``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
AWS = Path(sys.executable).parent / "aws"
MAIN_ARN = "arn:aws:states:us-east-1:000000000000:stateMachine:derson-Main"


class ServeProcess:
    def __init__(self, proc: subprocess.Popen[str], url: str, banner: list[str]) -> None:
        self.proc = proc
        self.url = url
        self.banner = banner


def env(home: Path | None = None) -> dict[str, str]:
    """The environment of the server and the CLI; ``home`` keeps the server's state in a temp folder."""
    return {
        **os.environ,
        **({"DERSON_HOME": str(home)} if home else {}),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


def start_serve(tmp: Path, *args: str) -> ServeProcess:
    cmd = [
        sys.executable,
        "-m",
        "dersonlake",
        "serve",
        "--port",
        "0",
        "--db",
        str(tmp / "states.sqlite"),
        *args,
    ]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    banner: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        banner.append(line.rstrip("\n"))
        m = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if m:
            return ServeProcess(proc, m.group(1), banner)
    proc.wait(timeout=10)
    raise AssertionError(f"serve exited without a URL: {banner} {proc.stderr.read() if proc.stderr else ''}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    tmp = tmp_path_factory.mktemp("serve-cli")
    running = start_serve(
        tmp, "--time-scale", "0", "--lambda", "DMS-intake=tests.states.seed_intake_stand_in:handler"
    )
    yield running
    running.proc.send_signal(signal.SIGINT)
    assert running.proc.wait(timeout=15) == 130  # stopped by Ctrl-C, as a shell reports it
    assert running.proc.stderr is not None
    assert "Traceback" not in running.proc.stderr.read()


def aws(url: str, *args: str) -> Any:
    assert AWS.exists(), f"the aws CLI is not installed next to {sys.executable}: pip install awscli==1.46.3"
    done = subprocess.run(
        [str(AWS), "--endpoint-url", url, *args], env=env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def aws_error(url: str, *args: str) -> str:
    done = subprocess.run(
        [str(AWS), "--endpoint-url", url, *args], env=env(), capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    return done.stderr


def test_serve_registers_the_pipelines_and_prints_the_url(served: ServeProcess) -> None:
    assert [line for line in served.banner if line.startswith("registered ")] == [
        "registered arn:aws:states:us-east-1:000000000000:stateMachine:DMS-ErrorHandling",
        "registered arn:aws:states:us-east-1:000000000000:stateMachine:DMS-Handler",
        f"registered {MAIN_ARN}",
    ]
    listed = aws(served.url, "stepfunctions", "list-state-machines")["stateMachines"]
    assert [m["name"] for m in listed] == ["DMS-ErrorHandling", "DMS-Handler", "derson-Main"]
    handler = aws(
        served.url,
        "stepfunctions",
        "describe-state-machine",
        "--state-machine-arn",
        "arn:aws:states:us-east-1:000000000000:stateMachine:DMS-Handler",
    )
    assert "${" not in handler["definition"]
    assert "arn:aws:lambda:us-east-1:000000000000:function:DMS-intake" in handler["definition"]


def test_the_seed_readme_commands_run_derson_main(served: ServeProcess) -> None:
    started = aws(
        served.url,
        "stepfunctions",
        "start-execution",
        "--state-machine-arn",
        MAIN_ARN,
        "--input",
        '{"owner": "dersonLake"}',
    )
    arn = started["executionArn"]
    assert arn.startswith("arn:aws:states:us-east-1:000000000000:execution:derson-Main:")
    deadline = time.monotonic() + 30
    while True:
        desc = aws(served.url, "stepfunctions", "describe-execution", "--execution-arn", arn)
        if desc["status"] != "RUNNING" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert desc["status"] == "SUCCEEDED", desc
    assert json.loads(desc["output"])["result"]["handler_output"]["task"]["Status"] == "stopped"
    events = aws(served.url, "stepfunctions", "get-execution-history", "--execution-arn", arn)["events"]
    types = [e["type"] for e in events]
    assert types[0] == "ExecutionStarted" and types[-1] == "ExecutionSucceeded"
    assert "TaskSucceeded" in types  # the nested DMS-Handler run, awaited with .sync:2
    assert isinstance(events[0]["timestamp"], float)


def test_aws_cli_errors_carry_the_service_error_codes(served: ServeProcess) -> None:
    missing = "arn:aws:states:us-east-1:000000000000:execution:derson-Main:nope"
    assert "(ExecutionDoesNotExist)" in aws_error(
        served.url, "stepfunctions", "describe-execution", "--execution-arn", missing
    )
    assert "(InvalidExecutionInput)" in aws_error(
        served.url, "stepfunctions", "start-execution", "--state-machine-arn", MAIN_ARN, "--input", "{nope"
    )


def test_the_dms_api_answers_the_aws_cli_as_aws_does(served: ServeProcess) -> None:
    assert "(ResourceNotFoundFault)" in aws_error(served.url, "dms", "describe-replication-tasks")
    mapping = (
        '{"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "1", "rule-action": "include",'
    )
    mapping += ' "object-locator": {"schema-name": "shop", "table-name": "%"}}]}'
    task = aws(
        served.url,
        "dms",
        "create-replication-task",
        "--replication-task-identifier",
        "dersonlake",
        "--migration-type",
        "full-load",
        "--table-mappings",
        mapping,
        "--source-endpoint-arn",
        "arn:aws:dms:us-east-1:000000000000:endpoint:SOURCE",
        "--target-endpoint-arn",
        "arn:aws:dms:us-east-1:000000000000:endpoint:TARGET",
        "--replication-instance-arn",
        "arn:aws:dms:us-east-1:000000000000:rep:dersonlake",
    )["ReplicationTask"]
    assert task["Status"] == "ready"
    listed = aws(served.url, "dms", "describe-replication-tasks", "--without-settings")["ReplicationTasks"]
    assert [t["ReplicationTaskIdentifier"] for t in listed] == ["dersonlake"]
    arn = task["ReplicationTaskArn"]
    aws(served.url, "dms", "delete-replication-task", "--replication-task-arn", arn)
    aws(
        served.url,
        "dms",
        "wait",
        "replication-task-deleted",
        "--filters",
        f"Name=replication-task-arn,Values={arn}",
    )


def test_serve_reports_a_port_in_use(served: ServeProcess, tmp_path: Path) -> None:
    port = served.url.rsplit(":", 1)[1]
    cmd = [sys.executable, "-m", "dersonlake", "serve", "--port", port, "--db", str(tmp_path / "s.sqlite")]
    done = subprocess.run(cmd, cwd=ROOT, env=env(tmp_path), capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr


def test_serve_names_a_broken_pipeline_file(tmp_path: Path) -> None:
    pipelines = tmp_path / "pipelines"
    shutil.copytree(ROOT / "infra" / "terraform" / "pipelines", pipelines)
    main = pipelines / "derson-Main" / "states.json"
    main.write_text(main.read_text().replace("${region}", "${regoin}", 1))
    cmd = [sys.executable, "-m", "dersonlake", "serve", "--port", "0", "--db", str(tmp_path / "s.sqlite")]
    done = subprocess.run(
        [*cmd, "--pipelines", str(pipelines)],
        cwd=ROOT,
        env=env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert str(main) in done.stderr and "'regoin'" in done.stderr and "did you mean 'region'" in done.stderr
