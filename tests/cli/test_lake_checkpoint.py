"""The one checkpoint of an owner's lake: its document, an older version's checkpoint moved into
the lake, and documents this version cannot read refused with the file and the fix."""

from __future__ import annotations

import json

import pytest

from dersonlake.config import load_owner
from dersonlake.lake_checkpoint import CheckpointStore
from tests.cli.stream_helpers import cdc_rows, cli, make_owner, store

TABLE = "ckpt_items"


@pytest.fixture
def ckpt_items(admin):
    with admin.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS shop.{TABLE}")
        cur.execute(f"CREATE TABLE shop.{TABLE} (id INT PRIMARY KEY, name VARCHAR(20), qty INT)")
    yield
    with admin.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS shop.{TABLE}")


def insert(admin, *ids: int) -> None:
    with admin.cursor() as cur:
        for i in ids:
            cur.execute(f"INSERT INTO shop.{TABLE} VALUES (%s, %s, %s)", (i, f"n{i}", i))


def checkpoint(tmp_path) -> CheckpointStore:
    return CheckpointStore(load_owner("acme", tmp_path / "owners"))


def test_the_document_round_trips_and_the_intake_keeps_the_runners_details(tmp_path, sandbox):
    make_owner(tmp_path, sandbox, TABLE)
    cp = checkpoint(tmp_path)
    assert cp.load() is None
    assert cp.location == str(tmp_path / "lake" / "_derson-lake" / "checkpoints" / "acme.json")
    cp.save(
        "mysql-bin.000002:400", "arn:task", cdc={"file": "mysql-bin.000002", "pos": 400, "stems": {"a": "b"}}
    )
    cp.save("mysql-bin.000002:400", "arn:other")  # DMS-intake at delete_task: same position, kept as is
    doc = cp.load()
    assert doc["format"] == 2 and doc["task"] == "arn:task" and doc["cdc"]["stems"] == {"a": "b"}
    cp.save("mysql-bin.000003:4", "arn:aws-dms")  # an AWS DMS task's checkpoint: just the position
    assert cp.load()["RecoveryCheckpoint"] == "mysql-bin.000003:4" and "cdc" not in cp.load()
    cp.clear()
    assert cp.load() is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "is not a derson-lake checkpoint"),
        (
            json.dumps({"format": 9, "RecoveryCheckpoint": "mysql-bin.000001:4"}),
            "written by a newer derson-lake",
        ),
        (
            json.dumps({"RecoveryCheckpoint": "mysql-bin.000001:4", "cdc": {"stems": {}}}),
            "needs file and pos",
        ),
    ],
)
def test_an_unreadable_checkpoint_is_refused_naming_the_file_and_the_fix(
    tmp_path, sandbox, ckpt_items, text, message
):
    make_owner(tmp_path, sandbox, TABLE)
    assert cli(tmp_path, "load", "acme", "--delta").returncode == 0
    path = tmp_path / "lake" / "_derson-lake" / "checkpoints" / "acme.json"
    path.write_text(text)
    done = cli(tmp_path, "load", "acme", "--delta")
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and str(path) in done.stderr and "delete" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_older_versions_checkpoint_in_the_store_is_moved_into_the_lake(
    tmp_path, sandbox, admin, ckpt_items
):
    make_owner(tmp_path, sandbox, TABLE)
    insert(admin, 1)
    assert cli(tmp_path, "load", "acme", "--delta").returncode == 0
    path = tmp_path / "lake" / "_derson-lake" / "checkpoints" / "acme.json"
    saved = json.loads(path.read_text())["RecoveryCheckpoint"]
    # what an older version left: the checkpoint in .derson/replication.sqlite only
    path.unlink()
    db = store(tmp_path)
    try:
        row = db.task("acme")
        extra = json.loads(row["extra"])
        extra.pop("checkpoint_in_lake")
        db.update_task(row["arn"], extra=json.dumps(extra))
    finally:
        db.close()
    insert(admin, 2)
    done = cli(tmp_path, "load", "acme", "--delta")
    assert done.returncode == 0, done.stderr
    assert "full load" not in done.stdout and "delta 1 change(s)" in done.stdout, done.stdout
    assert f"moving its checkpoint {saved}" in done.stderr
    assert [r["id"] for r in cdc_rows(tmp_path, TABLE)] == [2]
    assert json.loads(path.read_text())["RecoveryCheckpoint"] != saved
