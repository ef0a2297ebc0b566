"""``derson-lake run <owner>``: the seed's flow end to end in a child process, on the session sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dersonlake.replication.store import ReplicationStore
from dersonlake.states import Engine
from tests.replication.conftest import ALL_SHOP, write_owner

ROOT = Path(__file__).resolve().parents[2]


def derson(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "DERSON_HOME": str(tmp_path / ".derson"),
        "DERSON_OWNERS_DIR": str(tmp_path / "owners"),
    }
    for name in (
        "DERSON_DMS_ENDPOINT_URL",
        "DERSON_ENDPOINTS",
        "DERSON_STANDING_REPLICATION",
        "DERSON_LAMBDAS",
    ):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "dersonlake", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def executions(tmp_path: Path, machine: str) -> list[dict]:
    engine = Engine(tmp_path / ".derson" / "states.sqlite")
    try:
        return engine.list_executions(engine.state_machine_arn(machine))["executions"]
    finally:
        engine.close()


def test_run_loads_the_owner_and_cleans_up(tmp_path, sandbox):
    write_owner(tmp_path, sandbox, name="acme")
    done = derson(tmp_path, "run", "acme", "--time-scale", "0.01")
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "SUCCEEDED" in out and "[DMS-Handler]" in out and "6 table(s)" in out
    assert "rows" in out and "[DMS-Handler] DeleteInstance" in out
    assert str(tmp_path / "lake") in out
    assert list((tmp_path / "lake").rglob("*.parquet"))
    store = ReplicationStore(tmp_path / ".derson" / "replication.sqlite")
    try:
        assert store.tasks() == []  # deleted by the pipeline
        assert store.query("SELECT * FROM instances") == []
        assert store.query("SELECT * FROM endpoints") == []
    finally:
        store.close()
    assert [e["status"] for e in executions(tmp_path, "derson-Main")] == ["SUCCEEDED"]
    assert executions(tmp_path, "DMS-ErrorHandling") == []


def test_a_malformed_mapping_fails_the_run_through_error_handling(tmp_path, sandbox):
    bad = {"rules": [{**ALL_SHOP["rules"][0], "rule-action": "swallow"}]}
    write_owner(tmp_path, sandbox, name="acme", mapping=bad)
    done = derson(tmp_path, "run", "acme", "--time-scale", "0.01")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "FAILED for owner acme: InvalidParameterValueException: TableMappings: rules[0].rule-action" in (
        done.stderr
    ), done.stderr
    assert "swallow" in done.stderr
    assert "[DMS-ErrorHandling]" in done.stdout
    assert [e["status"] for e in executions(tmp_path, "DMS-ErrorHandling")] == ["FAILED"]
    engine = Engine(tmp_path / ".derson" / "states.sqlite")
    try:
        notes = engine.notifications()
    finally:
        engine.close()
    assert len(notes) == 1 and "acme" in json.dumps(notes[0], default=str)
    store = ReplicationStore(tmp_path / ".derson" / "replication.sqlite")
    try:
        assert store.query("SELECT * FROM instances") == []  # cleaned up
    finally:
        store.close()


def test_an_unknown_owner_fails_cleanly_naming_it(tmp_path):
    (tmp_path / "owners").mkdir()
    done = derson(tmp_path, "run", "nobody")
    assert done.returncode == 2
    assert "unknown owner 'nobody'" in done.stderr and "Traceback" not in done.stderr


def test_run_has_help(tmp_path):
    done = derson(tmp_path, "run", "--help")
    assert done.returncode == 0 and "seed" in done.stdout


def test_a_delta_run_fails_saying_cdc_is_not_available(tmp_path, sandbox):
    write_owner(tmp_path, sandbox, name="acme")
    done = derson(tmp_path, "run", "acme", "--delta", "--time-scale", "0.01")
    assert done.returncode == 1
    assert "CdcNotAvailable" in done.stderr and "not available yet" in done.stderr, done.stderr
    assert not (tmp_path / "lake").exists()
