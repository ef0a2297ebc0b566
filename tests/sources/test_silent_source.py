"""A source that accepts TCP and never answers (a stuck server, a load balancer with no backend):
every command that reads it fails within the owner's timeouts, naming host, port and what it
waited for, instead of hanging. The silent server is a real loopback listener, not a mock."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
import yaml

from dersonlake.errors import OperationFailed
from dersonlake.sources.mysql.catalog import discover_catalog
from dersonlake.sources.mysql.connection import ConnectionParams, connect, describe_error, wait_for_greeting
from tests.intake.test_run import ROOT, derson_env
from tests.replication.conftest import write_owner

# Greeting wait of the owner below; each command must end well within a few of them.
CONNECT_TIMEOUT = 2
BOUND = 45  # seconds: generous for a shared 2-core machine, far below "forever"


class SilentServer:
    """Accepts connections and holds them open without a byte, until closed."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()


def silent_owner(tmp_path: Path, sandbox, port: int, *, settings: dict | None = None) -> None:
    folder = write_owner(tmp_path, sandbox, settings=settings)
    doc = yaml.safe_load((folder / "owner.yaml").read_text())
    doc["source"].update(port=port, connect_timeout=CONNECT_TIMEOUT, read_timeout=3, write_timeout=3)
    doc["migration_type"] = "full-load-and-cdc"
    (folder / "owner.yaml").write_text(yaml.safe_dump(doc))


def test_connect_fails_within_connect_timeout_naming_the_greeting(silent):
    params = ConnectionParams(host="127.0.0.1", port=silent.port, user="u", connect_timeout=1)
    started = time.monotonic()
    with pytest.raises(OperationFailed) as err:
        connect(params)
    assert time.monotonic() - started < 5
    assert f"127.0.0.1:{silent.port}" in str(err.value) and "no greeting" in str(err.value)
    assert "source.connect_timeout" in str(err.value)
    with pytest.raises(OperationFailed, match="no greeting"):  # the catalog reader goes through it
        discover_catalog(params)
    with pytest.raises(OperationFailed, match=f"127.0.0.1:{silent.port}.*no greeting"):  # connectorx's probe
        wait_for_greeting(params)


def test_a_query_that_outlasts_read_timeout_fails_naming_it(sandbox):
    params = sandbox.params(["shop"])
    conn = connect(ConnectionParams(**{**params.__dict__, "read_timeout": 1.0}))
    try:
        started = time.monotonic()
        with pytest.raises(pymysql.OperationalError) as err, conn.cursor() as cur:
            cur.execute("SELECT SLEEP(5)")
        assert time.monotonic() - started < 4
    finally:
        conn.close()
    text = describe_error(err.value, ConnectionParams(**{**params.__dict__, "read_timeout": 1.0}))
    assert "source.read_timeout (1 s)" in text


@pytest.mark.parametrize(
    "args",
    [
        ("owners", "check", "acme"),
        ("load", "acme"),
        ("load", "acme", "--delta"),
        ("stream", "acme"),
        ("run", "acme", "--time-scale", "0.01"),
    ],
    ids=lambda a: " ".join(a[::2][:2]) if a[0] != "load" or len(a) == 2 else "load --delta",
)
def test_every_command_fails_within_the_timeouts_naming_host_and_port(tmp_path, sandbox, silent, args):
    settings = {"ErrorBehavior": {"RecoverableErrorCount": 0}}
    silent_owner(tmp_path, sandbox, silent.port, settings=settings)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "dersonlake", *args],
        env=derson_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=BOUND * 3,
        cwd=ROOT,
    )
    took = time.monotonic() - started
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert took < BOUND, f"took {took:.0f} s: {output}"
    assert f"127.0.0.1:{silent.port}" in output and "greeting" in output, output
    assert "Traceback" not in output
