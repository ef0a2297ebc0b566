"""``derson-lake run <owner>``: the seed's flow end to end in a child process, on the session sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from dersonlake.config.s3_settings import normalize_s3_settings
from dersonlake.lake.current_state import current_state
from dersonlake.lake.storage import LocalStorage
from dersonlake.replication.store import ReplicationStore
from dersonlake.sandbox.seed import seed
from dersonlake.states import Engine
from tests.replication.conftest import ALL_SHOP, write_owner

ROOT = Path(__file__).resolve().parents[2]


def derson(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dersonlake", *args],
        env=derson_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def derson_env(tmp_path: Path) -> dict[str, str]:
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
    return env


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
        assert store.instances() == []
        assert store.endpoints() == []
    finally:
        store.close()
    assert [e["status"] for e in executions(tmp_path, "derson-Main")] == ["SUCCEEDED"]
    assert executions(tmp_path, "DMS-ErrorHandling") == []

    listed = derson(tmp_path, "executions", "list", "--owner", "acme")
    assert listed.returncode == 0, listed.stderr
    (main,) = [line for line in listed.stdout.splitlines() if " derson-Main " in line]
    assert " acme " in main and " SUCCEEDED " in main
    arn = main.split()[-1]
    described = derson(tmp_path, "executions", "describe", arn)
    assert "status:        SUCCEEDED" in described.stdout and '"owner":"acme"' in described.stdout
    events = derson(tmp_path, "executions", "history", arn, "--json")
    assert json.loads(events.stdout)[-1]["type"] == "ExecutionSucceeded"
    none = derson(tmp_path, "executions", "list", "--owner", "nobody")
    assert none.returncode == 0 and len(none.stdout.splitlines()) == 1  # the header only


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
        assert store.instances() == []  # cleaned up
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


CUSTOMERS = {
    "rules": [
        {
            "rule-type": "selection",
            "rule-id": "1",
            "rule-name": "c",
            "rule-action": "include",
            "object-locator": {"schema-name": "shop", "table-name": "customers"},
        }
    ]
}


def lake_customers(tmp_path: Path) -> dict[int, str]:
    storage = LocalStorage(tmp_path / "lake")
    table = current_state(
        storage, "shop", "customers", ["id"], normalize_s3_settings({"DataFormat": "parquet"})
    )
    return dict(zip(table["id"].to_pylist(), table["email"].to_pylist(), strict=True))


def source_customers(admin) -> dict[int, str]:
    with admin.cursor() as cur:
        cur.execute("SELECT id, email FROM shop.customers")
        return dict(cur.fetchall())


def test_run_then_delta_runs_capture_the_changes_through_the_pipelines(tmp_path, sandbox, admin):
    folder = write_owner(tmp_path, sandbox, name="acme", mapping=CUSTOMERS)
    doc = yaml.safe_load((folder / "owner.yaml").read_text())
    (folder / "owner.yaml").write_text(yaml.safe_dump({**doc, "migration_type": "full-load-and-cdc"}))
    checkpoint = tmp_path / "lake" / "_derson-lake" / "checkpoints" / "acme.json"

    full = derson(tmp_path, "run", "acme", "--time-scale", "0.01")
    assert full.returncode == 0, full.stdout + full.stderr
    assert "100 rows" in full.stdout
    first = json.loads(checkpoint.read_text())  # saved by delete_task: DMS forgets it with the task
    assert first["RecoveryCheckpoint"].startswith("mysql-bin.")
    cdc_files = lambda: sorted((tmp_path / "lake" / "shop" / "customers").glob("2*.parquet"))  # noqa: E731

    with admin.cursor() as cur:  # the session sandbox is shared: everything is put back at the end
        cur.execute("SELECT id, email FROM shop.customers WHERE id IN (1, 2)")
        original = cur.fetchall()
        cur.execute(
            "UPDATE shop.customers SET email = CONCAT('delta-', id, '@example.com') WHERE id IN (1, 2)"
        )
        cur.execute(
            "INSERT INTO shop.customers (id, first_name, last_name, email, created_at)"
            " VALUES (990001, 'Del', 'Ta', 'd@example.com', NOW(6))"
        )
        cur.execute("DELETE FROM shop.customers WHERE id = 990001")
        cur.execute(
            "INSERT INTO shop.customers (id, first_name, last_name, email, created_at)"
            " VALUES (990002, 'Ke', 'Pt', 'k@example.com', NOW(6))"
        )
    try:
        delta = derson(tmp_path, "run", "acme", "--delta", "--time-scale", "0.01")
        assert delta.returncode == 0, delta.stdout + delta.stderr
        assert "5 change(s) captured" in delta.stdout, delta.stdout
        assert lake_customers(tmp_path) == source_customers(admin)
        files = cdc_files()
        assert files, "the delta run wrote no CDC file"
        second = json.loads(checkpoint.read_text())
        assert second["RecoveryCheckpoint"] != first["RecoveryCheckpoint"]

        again = derson(tmp_path, "run", "acme", "--delta", "--time-scale", "0.01")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "0 change(s) captured" in again.stdout
        assert cdc_files() == files  # nothing new: each run starts where the last one stopped
    finally:
        with admin.cursor() as cur:
            cur.execute("DELETE FROM shop.customers WHERE id IN (990001, 990002)")
            cur.executemany(
                "UPDATE shop.customers SET email = %s WHERE id = %s", [(e, i) for i, e in original]
            )
    store = ReplicationStore(tmp_path / ".derson" / "replication.sqlite")
    try:
        assert store.tasks() == [] and store.instances() == []
    finally:
        store.close()
    assert [e["status"] for e in executions(tmp_path, "derson-Main")] == ["SUCCEEDED"] * 3


def test_a_delta_run_of_a_full_load_owner_fails_saying_how_to_enable_it(tmp_path, sandbox):
    write_owner(tmp_path, sandbox, name="acme")  # migration_type: full-load
    done = derson(tmp_path, "run", "acme", "--delta", "--time-scale", "0.01")
    assert done.returncode == 1
    assert "DeltaNotAvailable" in done.stderr and "migration_type: full-load-and-cdc" in done.stderr, (
        done.stderr
    )
    assert not list((tmp_path / "lake").rglob("*.parquet"))


def test_the_source_stopped_mid_run_fails_it_through_error_handling(tmp_path, sandbox_factory):
    box = sandbox_factory("mid-run")
    with box.admin_connection() as conn:
        seed(conn, rows=100)
    write_owner(tmp_path, box, name="acme")
    run = subprocess.Popen(
        [sys.executable, "-m", "dersonlake", "run", "acme", "--time-scale", "0.1"],
        env=derson_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        seen = []
        for line in run.stdout:  # the run's progress, as it happens
            seen.append(line)
            if line.startswith("instance derson-acme: "):  # created; the task starts after the wait
                box.stop()  # the instance waits 3 s (30 s x 0.1) before the task starts
                break
        out, err = run.communicate(timeout=300)
    finally:
        run.kill()
    out = "".join(seen) + out
    assert run.returncode == 1, out + err
    assert "FAILED for owner acme: DersonLake.ReplicationTaskFailed: replication task arn:aws:dms:" in err, (
        err
    )
    assert f"cannot connect to MySQL at 127.0.0.1:{box.port}" in err, err  # the cause names the source
    assert "task derson-acme: failed" in out and "[DMS-ErrorHandling]" in out, out
    assert [e["status"] for e in executions(tmp_path, "DMS-ErrorHandling")] == ["FAILED"]
    assert [e["status"] for e in executions(tmp_path, "derson-Main")] == ["FAILED"]
    engine = Engine(tmp_path / ".derson" / "states.sqlite")
    try:
        (note,) = engine.notifications()
    finally:
        engine.close()
    assert "acme" in json.dumps(note, default=str) and str(box.port) in json.dumps(note, default=str)
    store = ReplicationStore(tmp_path / ".derson" / "replication.sqlite")
    try:  # the error pipeline cleaned up: nothing left to idle
        assert store.tasks() == [] and store.instances() == []
    finally:
        store.close()
