"""The seed's way, against ``derson-lake serve`` with the real DMS-intake mapped: ``derson-lake run
--endpoint-url`` starts derson-Main there, and the ``aws`` CLI sees the result (nothing left behind)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from tests.api.test_serve_cli import ROOT, ServeProcess, aws, aws_error, env
from tests.replication.conftest import write_owner


def test_run_against_a_running_serve(tmp_path, sandbox):
    write_owner(tmp_path, sandbox, name="acme")
    child_env = {**env(tmp_path / ".derson"), "DERSON_OWNERS_DIR": str(tmp_path / "owners")}
    child_env.pop("DERSON_DMS_ENDPOINT_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dersonlake", "serve", "--port", "0", "--time-scale", "0.01", "--lambda",
         "DMS-intake=dersonlake.intake.lambda_function:lambda_handler"],
        cwd=ROOT, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = next(line.split()[-1] for line in proc.stdout if line.startswith("derson-lake serve: "))
        served = ServeProcess(proc, url, [])
        done = subprocess.run(
            [sys.executable, "-m", "dersonlake", "run", "acme", "--endpoint-url", served.url],
            cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "acme: SUCCEEDED — 6 table(s)" in done.stdout
        assert list((tmp_path / "lake").rglob("*.parquet"))
        assert "ResourceNotFoundFault" in aws_error(served.url, "dms", "describe-replication-instances")
        assert "ResourceNotFoundFault" in aws_error(served.url, "dms", "describe-replication-tasks")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)


def test_the_seed_readme_commands_against_a_bare_serve(tmp_path, sandbox):
    """The seed's three ``aws stepfunctions`` commands, exactly, against ``derson-lake serve`` with no
    ``--lambda``: serve registers DMS-intake with the pipelines, so derson-Main fills the lake."""
    write_owner(tmp_path, sandbox, name="dersonLake")
    child_env = {**env(tmp_path / ".derson"), "DERSON_OWNERS_DIR": str(tmp_path / "owners")}
    for name in ("DERSON_DMS_ENDPOINT_URL", "DERSON_LAMBDAS"):
        child_env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dersonlake", "serve", "--port", "0", "--time-scale", "0.01"],
        cwd=ROOT, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = next(line.split()[-1] for line in proc.stdout if line.startswith("derson-lake serve: "))
        started = aws(
            url,
            "stepfunctions",
            "start-execution",
            "--state-machine-arn",
            "arn:aws:states:us-east-1:000000000000:stateMachine:derson-Main",
            "--input",
            '{"owner": "dersonLake"}',
        )
        arn = started["executionArn"]
        deadline = time.monotonic() + 300
        while (desc := aws(url, "stepfunctions", "describe-execution", "--execution-arn", arn))[
            "status"
        ] == "RUNNING":
            assert time.monotonic() < deadline, desc
            time.sleep(0.5)
        history = aws(url, "stepfunctions", "get-execution-history", "--execution-arn", arn)["events"]
        assert desc["status"] == "SUCCEEDED", (desc, [e for e in history if "Failed" in e["type"]])
        assert history[-1]["type"] == "ExecutionSucceeded"
        loaded = {p.parent.name for p in (tmp_path / "lake").rglob("LOAD*.parquet")}
        assert {"customers", "orders", "order_items"} <= loaded, loaded
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)


def test_the_iceberg_step_runs_the_real_handler_against_a_bare_serve_and_finds_nothing_new(
    tmp_path, sandbox, monkeypatch
):
    """An owner with Iceberg tables: DMS-Handler's UpdateIcebergTables step calls DMS-iceberg, which
    serve registers with the real handler. The local engine has applied every commit already, so the
    step commits nothing: every snapshot is the engine's, and a second call leaves the count as is."""
    from pyiceberg.catalog import load_catalog

    from dersonlake.iceberg_step.lambda_function import STEP, lambda_handler
    from dersonlake.lake import configured, open_storage

    write_owner(tmp_path, sandbox, name="dersonLake", target={"tables": "iceberg"})
    child_env = {**env(tmp_path / ".derson"), "DERSON_OWNERS_DIR": str(tmp_path / "owners")}
    for name in ("DERSON_DMS_ENDPOINT_URL", "DERSON_LAMBDAS"):
        child_env.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dersonlake", "serve", "--port", "0", "--time-scale", "0.01"],
        cwd=ROOT, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = next(line.split()[-1] for line in proc.stdout if line.startswith("derson-lake serve: "))
        arn = aws(url, "stepfunctions", "start-execution", "--state-machine-arn",
                  "arn:aws:states:us-east-1:000000000000:stateMachine:derson-Main",
                  "--input", '{"owner": "dersonLake"}')["executionArn"]  # fmt: skip
        deadline = time.monotonic() + 300
        while aws(url, "stepfunctions", "describe-execution", "--execution-arn", arn)["status"] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.5)
        handler_sm = "arn:aws:states:us-east-1:000000000000:stateMachine:DMS-Handler"
        (run,) = aws(url, "stepfunctions", "list-executions", "--state-machine-arn", handler_sm)["executions"]
        assert run["status"] == "SUCCEEDED"
        events = aws(url, "stepfunctions", "get-execution-history", "--execution-arn", run["executionArn"])[
            "events"
        ]
        exited = [
            e["stateExitedEventDetails"]
            for e in events
            if e.get("stateExitedEventDetails", {}).get("name") == "UpdateIcebergTables"
        ]
        assert len(exited) == 1
        result = json.loads(exited[0]["output"])["iceberg"]["detail"]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
    assert result["IcebergTables"] == "updated" and result["commits"] == 0, result
    assert {"shop.customers", "shop.orders", "shop.order_items"} <= set(result["current"])
    catalog = load_catalog("derson", **configured(open_storage(str(tmp_path / "lake"))))
    names = [f"shop.{t}" for _ns, t in catalog.list_tables("shop")]
    before = {n: len(catalog.load_table(n).snapshots()) for n in names}
    for n in names:  # every snapshot is the engine's full load (the step would write op cdc)
        assert {s.summary["dersonlake.op"] for s in catalog.load_table(n).snapshots()} == {"full-load"}, n
    monkeypatch.setenv("DERSON_OWNERS_DIR", str(tmp_path / "owners"))
    assert lambda_handler({"owner": "dersonLake", "step": STEP}, None)["commits"] == 0
    assert {n: len(catalog.load_table(n).snapshots()) for n in names} == before
