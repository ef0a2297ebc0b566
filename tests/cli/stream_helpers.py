"""Helpers for the streaming tests: an owner on a table of its own, the CLI as a real subprocess, and
polling the lake's merged state (no sleeps in assertions: we wait until a condition holds)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dersonlake.config.s3_settings import normalize_s3_settings as parse_s3_settings
from dersonlake.lake.current_state import current_state
from dersonlake.lake.reader import read_files
from dersonlake.lake.storage import open_storage
from dersonlake.replication.store import ReplicationStore
from tests.replication.conftest import write_owner

COLUMNS = ("id", "name", "qty")


def mapping(table: str) -> dict:
    return {
        "rules": [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "t",
                "rule-action": "include",
                "object-locator": {"schema-name": "shop", "table-name": table},
            }
        ]
    }


def make_owner(
    root: Path, box: Any, table: str, *, settings: dict | None = None, migration_type: str | None = None
):
    s3 = {"DataFormat": "parquet", "CdcMaxBatchInterval": 1}
    folder = write_owner(root, box, mapping=mapping(table), s3=s3, settings=settings)
    if migration_type:
        text = (
            (folder / "owner.yaml")
            .read_text()
            .replace("migration_type: full-load", f"migration_type: {migration_type}")
        )
        (folder / "owner.yaml").write_text(text)
    return folder


def env(home: Path) -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {
        **os.environ,
        "DERSON_HOME": str(home / ".derson"),
        "PYTHONPATH": os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p),
    }


def cli(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dersonlake", *args, "--owners-dir", str(home / "owners")],
        env=env(home),
        capture_output=True,
        text=True,
        cwd=home,
        timeout=timeout,
    )


def start_stream(home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dersonlake", "stream", "acme", "--owners-dir", str(home / "owners"), *args],
        env=env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=home,
    )


def wait_for(
    condition: Callable[[], Any], what: str, timeout: float = 60, proc: subprocess.Popen | None = None
):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(
                f"the stream ended ({proc.returncode}) while waiting for {what}: {out}\n{err}"
            )
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def store(home: Path) -> ReplicationStore:
    return ReplicationStore(home / ".derson" / "replication.sqlite")


def task(home: Path) -> Any:
    s = store(home)
    try:
        return s.task("acme")
    finally:
        s.close()


def lake_state(home: Path, table: str) -> list[dict]:
    storage = open_storage(str(home / "lake"))
    if not any(True for _ in storage.list(f"shop/{table}")):
        return []
    state = current_state(storage, "shop", table, ["id"], parse_s3_settings({"DataFormat": "parquet"}))
    return sorted(state.select(list(COLUMNS)).to_pylist(), key=lambda r: r["id"])


def cdc_rows(home: Path, table: str) -> list[dict]:
    storage = open_storage(str(home / "lake"))
    keys = sorted(o.key for o in storage.list(f"shop/{table}") if "LOAD" not in o.key)
    if not keys:
        return []
    return read_files(storage, keys, parse_s3_settings({"DataFormat": "parquet"})).to_pylist()


def source_rows(conn: Any, table: str) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(COLUMNS)} FROM shop.{table} ORDER BY id")
        return [dict(zip(COLUMNS, r, strict=True)) for r in cur.fetchall()]


def stop_stream(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str, str]:
    import signal

    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err
