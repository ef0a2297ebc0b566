"""Every change once, whichever path runs: one task runner and one checkpoint (in the lake).

A user alternates every way of running an owner's task: ``run`` (the seed's pipelines, through
DMS-intake and the local DMS API, full load), ``load --delta``, ``run --delta``, ``stream``
stopped by SIGTERM, ``load --delta`` again, and the local DMS API's StartReplicationTask with
resume-processing (``derson-lake serve`` and boto3). A seeded writer changes the source between
the steps and while the stream runs. After each step the lake's merged state equals the source
and no CDC event (``$AR_H_STREAM_POSITION``, key, ``Op``) appears twice (``test_crash._check``).

Also: ``load`` (full load of a ``full-load-and-cdc`` owner) then ``load --delta`` captures the
changes made in between, with no second full load.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import yaml

from dersonlake.sandbox.seed import seed
from tests.replication.conftest import write_owner
from tests.replication.test_crash import ROOT, SEED, Writer, _check, _delta, _env, _phase, mapping

CHECKPOINT = Path("lake") / "_derson-lake" / "checkpoints" / "acme.json"


def _owner(tmp_path: Path, box) -> None:
    folder = write_owner(
        tmp_path,
        box,
        mapping=mapping(),
        s3={"DataFormat": "parquet", "CdcMaxBatchInterval": 1, "CdcMinFileSize": 32},
        settings={"FullLoadSettings": {"MaxFullLoadSubTasks": 2}},
    )
    doc = yaml.safe_load((folder / "owner.yaml").read_text())
    (folder / "owner.yaml").write_text(yaml.safe_dump({**doc, "migration_type": "full-load-and-cdc"}))


def _env_with_owners(tmp_path: Path) -> dict[str, str]:
    env = {**_env(tmp_path), "DERSON_OWNERS_DIR": str(tmp_path / "owners")}
    env["PYTHONPATH"] = f"{ROOT / 'src'}:{ROOT}"
    for name in (
        "DERSON_DMS_ENDPOINT_URL",
        "DERSON_ENDPOINTS",
        "DERSON_STANDING_REPLICATION",
        "DERSON_LAMBDAS",
    ):
        env.pop(name, None)
    return env


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "dersonlake", *args],
        env=_env_with_owners(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr[-3000:]}"
    return done


def _changes(writer: Writer, seconds: float = 0.7) -> None:
    writer.resume()
    time.sleep(seconds)
    writer.pause()


def _stream_step(tmp_path: Path, writer: Writer) -> None:
    """``stream`` while the writer runs; the writer stops, the stream catches up, SIGTERM."""
    child = _delta(tmp_path, stream=True)
    deadline = time.monotonic() + 120
    while _phase(tmp_path) != "cdc":
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the stream never reached CDC"
        time.sleep(0.05)
    _changes(writer, 1.5)
    time.sleep(3)  # CdcMaxBatchInterval is 1 s: every change is in a committed file by now
    child.send_signal(signal.SIGTERM)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0, err[-3000:]
    assert "Stop Reason NORMAL" in out, out


def _api_resume_step(tmp_path: Path) -> None:
    """The local DMS API's StartReplicationTask (resume-processing) on the owner's task."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "dersonlake", "serve", "--port", "0", "--time-scale", "0.01"],
        cwd=ROOT,
        env=_env_with_owners(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = next(line.split()[-1] for line in proc.stdout if line.startswith("derson-lake serve: "))
        dms = boto3.client(
            "dms", endpoint_url=url, region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
        )
        flt = [{"Name": "replication-task-id", "Values": ["acme"]}]
        (task,) = dms.describe_replication_tasks(Filters=flt)["ReplicationTasks"]
        dms.start_replication_task(
            ReplicationTaskArn=task["ReplicationTaskArn"], StartReplicationTaskType="resume-processing"
        )
        deadline = time.monotonic() + 120
        while True:
            (task,) = dms.describe_replication_tasks(Filters=flt)["ReplicationTasks"]
            if task["Status"] in ("stopped", "failed"):
                break
            assert time.monotonic() < deadline, task
            time.sleep(0.2)
        assert task["Status"] == "stopped", task
        assert task["StopReason"] == "Stop Reason STOPPED_AT_SERVER_TIME", task
        assert task["ReplicationTaskStats"]["FullLoadProgressPercent"] == 100
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


@pytest.mark.slow
def test_alternating_every_path_captures_every_change_once(tmp_path, sandbox_factory):
    box = sandbox_factory("mixed")
    with box.admin_connection() as conn:
        seed(conn, rows=3_000)
    _owner(tmp_path, box)
    writer = Writer(box, random.Random(SEED + 7))
    writer.running.clear()
    writer.start()
    loads = lambda: sorted(p.name for p in (tmp_path / "lake").rglob("LOAD*.parquet"))  # noqa: E731
    try:
        full = _cli(tmp_path, "run", "acme", "--time-scale", "0.01")
        assert "SUCCEEDED" in full.stdout, full.stdout
        first = json.loads((tmp_path / CHECKPOINT).read_text())
        assert first["RecoveryCheckpoint"].startswith("mysql-bin.") and first["format"] == 2
        _check(tmp_path, box)
        loaded = loads()
        steps = [
            ("load --delta", lambda: _cli(tmp_path, "load", "acme", "--delta")),
            ("run --delta", lambda: _cli(tmp_path, "run", "acme", "--delta", "--time-scale", "0.01")),
            ("stream", lambda: _stream_step(tmp_path, writer)),
            ("load --delta again", lambda: _cli(tmp_path, "load", "acme", "--delta")),
            ("DMS API resume-processing", lambda: _api_resume_step(tmp_path)),
            ("run --delta again", lambda: _cli(tmp_path, "run", "acme", "--delta", "--time-scale", "0.01")),
        ]
        positions = [first["RecoveryCheckpoint"]]
        for name, step in steps:
            if name != "stream":
                _changes(writer)
            step()
            assert writer.error is None, writer.error
            try:
                _check(tmp_path, box)
            except AssertionError as exc:
                raise AssertionError(f"after {name}: {exc}") from None
            assert loads() == loaded, f"{name} loaded the tables again"
            doc = json.loads((tmp_path / CHECKPOINT).read_text())
            positions.append(doc["RecoveryCheckpoint"])
        assert len(set(positions)) == len(positions), positions  # every step moved the one checkpoint
        assert writer.transactions > 0
    finally:
        writer.done.set()
        writer.resume()
        writer.join(30)


def test_load_then_load_delta_captures_the_changes_between_without_a_second_full_load(
    tmp_path, sandbox_factory
):
    box = sandbox_factory("loaddelta")
    with box.admin_connection() as conn:
        seed(conn, rows=500)
    _owner(tmp_path, box)
    full = _cli(tmp_path, "load", "acme")
    assert "(start-replication)" in full.stdout
    assert json.loads((tmp_path / CHECKPOINT).read_text())["RecoveryCheckpoint"].startswith("mysql-bin.")
    before = sorted(p.stat().st_mtime_ns for p in (tmp_path / "lake").rglob("LOAD*.parquet"))
    with box.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("UPDATE shop.orders SET amount = amount + 1 WHERE id <= 5")
        cur.execute("DELETE FROM shop.orders WHERE id = 6")
        conn.commit()
    delta = _cli(tmp_path, "load", "acme", "--delta")
    assert "full load" not in delta.stdout, delta.stdout
    assert "delta 6 change(s)" in delta.stdout, delta.stdout
    assert sorted(p.stat().st_mtime_ns for p in (tmp_path / "lake").rglob("LOAD*.parquet")) == before
    _check(tmp_path, box)
