"""The sandbox launcher: lifecycle, remembered port, secrets on disk, failures that explain themselves."""

from __future__ import annotations

import os
import re
import signal
import stat

import pytest

from dersonlake.errors import OperationFailed
from dersonlake.sandbox import Sandbox, server
from dersonlake.sources.mysql.connection import ConnectionParams, connect

URL_RE = re.compile(r"^mysql://derson_repl:([A-Za-z0-9_-]+)@127\.0\.0\.1:(\d+)/$")


def test_restart_keeps_data_port_and_password(sandbox_factory) -> None:
    box = sandbox_factory()
    port, url = box.port, box.url()
    assert box.is_running() and box.pid() is not None
    assert stat.S_IMODE(os.stat(box.password_file).st_mode) == 0o600
    with box.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("CREATE DATABASE keep")
        cur.execute("CREATE TABLE keep.t (id INT PRIMARY KEY)")
        cur.execute("INSERT INTO keep.t VALUES (1), (2)")

    assert box.stop() is True
    assert not box.is_running() and box.pid() is None
    assert box.stop() is False

    again = Sandbox(box.dir)  # a fresh object, as the next CLI call would make
    assert again.start() is True
    assert again.start() is False  # already running: a no-op
    with pytest.raises(OperationFailed, match=f"already running on port {port}; stop it first"):
        Sandbox(box.dir, port=port + 1).start()
    assert (again.port, again.url()) == (port, url)
    with connect(again.params()) as conn, conn.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM keep.t")
        assert cur.fetchone()[0] == 2


def test_port_override_is_remembered_and_sigkill_after_timeout(sandbox_factory) -> None:
    box = sandbox_factory()
    wanted = server.free_port()
    pid = box.pid()
    os.kill(pid, signal.SIGSTOP)  # a server that ignores SIGTERM: stop() must escalate
    assert box.stop(timeout=0.5) is True
    assert box.pid() is None

    moved = Sandbox(box.dir, port=wanted)
    moved.start()  # recovers from the kill
    assert moved.port == wanted and Sandbox(box.dir).port == wanted
    with connect(moved.params()) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@port")
        assert cur.fetchone()[0] == wanted
    moved.stop()


def test_server_settings_for_cdc(sandbox) -> None:
    with sandbox.admin_connection() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT @@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata, @@server_id, "
            "@@expire_logs_days, @@character_set_server, @@bind_address"
        )
        assert cur.fetchone() == (1, "ROW", "FULL", "FULL", 1, 7, "utf8mb4", "127.0.0.1")


def test_url_format_and_params(sandbox) -> None:
    url = sandbox.url()
    match = URL_RE.match(url)
    assert match, url
    assert int(match[2]) == sandbox.port
    assert ConnectionParams.from_url(url) == sandbox.params()
    assert sandbox.password not in repr(sandbox) and sandbox.password not in repr(sandbox.params())


def test_replication_user_has_only_replication_rights(sandbox) -> None:
    with connect(sandbox.params()) as conn, conn.cursor() as cur:
        cur.execute("SHOW GRANTS")
        grants = " ".join(row[0] for row in cur.fetchall())
    assert "SELECT" in grants and "REPLICATION SLAVE" in grants and "BINLOG MONITOR" in grants
    assert "ALL PRIVILEGES" not in grants and "INSERT" not in grants


def test_start_failure_shows_error_log_tail(sandbox_factory) -> None:
    with pytest.raises(OperationFailed, match=r"exited with code .*unknown (option|variable)"):
        sandbox_factory("broken", server_args=["--no-such-option-here"])


def test_missing_binaries_say_how_to_install(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(server, "find_binary", lambda *names: None)
    with pytest.raises(OperationFailed, match=r"apt-get install -y mariadb-server") as info:
        Sandbox(tmp_path / "none").start()
    assert info.value.exit_code == 1


def test_socket_path_falls_back_to_tmp_when_too_long(tmp_path) -> None:
    short = Sandbox(tmp_path / "s")
    assert short.socket_path == short.dir / "mysqld.sock"
    deep = Sandbox(tmp_path / ("d" * 120))
    assert str(deep.socket_path).startswith("/tmp/derson-")
    assert len(os.fsencode(deep.socket_path)) <= 107
    assert deep.socket_path != Sandbox(tmp_path / ("e" * 120)).socket_path


def test_url_before_first_start_is_an_operation_error(tmp_path) -> None:
    with pytest.raises(OperationFailed, match="sandbox start"):
        Sandbox(tmp_path / "never").url()


@pytest.mark.filterwarnings("ignore:'db' is deprecated:DeprecationWarning")  # inside mysql-replication
def test_binlog_row_events_carry_column_names(sandbox, admin) -> None:
    """What the CDC reader relies on: ROW events with FULL metadata, readable by the replication user."""
    from pymysqlreplication import BinLogStreamReader
    from pymysqlreplication.row_event import WriteRowsEvent

    with admin.cursor() as cur:
        cur.execute("CREATE DATABASE IF NOT EXISTS binlog_probe")
        cur.execute("CREATE OR REPLACE TABLE binlog_probe.t (id INT PRIMARY KEY, name VARCHAR(20))")
        cur.execute("SHOW MASTER STATUS")
        log_file, log_pos = cur.fetchone()[:2]
        cur.execute("INSERT INTO binlog_probe.t VALUES (1, 'Zoë 😀')")
    params = sandbox.params()
    stream = BinLogStreamReader(
        connection_settings={
            "host": params.host,
            "port": params.port,
            "user": params.user,
            "password": params.password,
        },
        server_id=4242,
        log_file=log_file,
        log_pos=log_pos,
        resume_stream=True,
        blocking=False,
        is_mariadb=False,
        only_events=[WriteRowsEvent],
    )
    try:
        rows = [row["values"] for event in stream for row in event.rows]
    finally:
        stream.close()
        with admin.cursor() as cur:
            cur.execute("DROP DATABASE binlog_probe")
    assert rows == [{"id": 1, "name": "Zoë 😀"}]
