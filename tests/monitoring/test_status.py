"""``derson-lake status`` in a child process after real loads and runs (the shared ``home``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from dersonlake.replication.store import ReplicationStore
from tests.monitoring.helpers import ROOT, derson, env


def test_plain_status_shows_last_runs_tasks_and_failures(home):
    done = derson(home, "status")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("derson-lake status at ")
    lines = out.splitlines()
    good = next(line for line in lines if line.strip().startswith("good "))
    bad = next(line for line in lines if line.strip().startswith("bad "))
    assert "derson-Main" in good and "SUCCEEDED" in good and "0/1" in good
    assert (
        "derson-Main" in bad and "FAILED" in bad and "1/1" in bad and "InvalidParameterValueException" in bad
    )
    task = next(line for line in lines if line.strip().startswith("acme "))
    assert "stopped" in task and "100%" in task
    assert "Running executions: none" in out and "Suspended tables: none" in out
    assert "\x1b[" not in out  # no colours off a terminal


def test_status_of_one_owner_and_as_json(home):
    done = derson(home, "status", "bad", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert [o["owner"] for o in data["owners"]] == ["bad"]
    run = data["owners"][0]["last_run"]
    assert run["status"] == "FAILED" and run["error"] == "InvalidParameterValueException"
    assert "rule-action" in run["cause"] and run["execution_arn"].startswith("arn:aws:states:")
    assert data["tasks"] == [] and data["suspended_tables"] == []
    everything = json.loads(derson(home, "status", "--json").stdout)
    store = ReplicationStore(home / ".derson" / "replication.sqlite")
    try:
        expected = {
            t["identifier"]: sum(r["full_load_rows"] for r in store.table_stats(t["arn"]))
            for t in store.tasks()
        }
    finally:
        store.close()
    assert {t["task"]: t["full_load_rows"] for t in everything["tasks"]} == expected
    assert {o["owner"]: o["last_run"]["status"] for o in everything["owners"]} == {
        "good": "SUCCEEDED",
        "bad": "FAILED",
    }


def test_status_on_a_terminal_draws_tables(home):
    master, slave = os.openpty()  # a real terminal for the child's stdout
    proc = subprocess.Popen(
        [sys.executable, "-m", "dersonlake", "status"],
        env={**env(home), "COLUMNS": "200"},
        cwd=ROOT,
        stdout=slave,
        stderr=subprocess.PIPE,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(master)
    text = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0
    assert "Last run per owner" in text and "┃" in text and "SUCCEEDED" in text and "FAILED" in text
