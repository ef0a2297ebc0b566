"""The sandbox does not hand out OS root: MariaDB root only over its socket and with the generated
password of ``root.password`` (0600), ``secure_file_priv`` inside the sandbox, and a sandbox made
before the lock-down is locked down at its next start. All against real servers."""

from __future__ import annotations

import os
import stat

import pymysql
import pytest

from dersonlake.sandbox import Sandbox


def tcp(box: Sandbox, user: str = "root", password: str = "") -> pymysql.connections.Connection:
    return pymysql.connect(host="127.0.0.1", port=box.port, user=user, password=password, connect_timeout=5)


def socket_root(box: Sandbox, password: str) -> pymysql.connections.Connection:
    return pymysql.connect(
        unix_socket=str(box.socket_path), user="root", password=password, connect_timeout=5
    )


def assert_locked(box: Sandbox) -> None:
    password = box.root_password_file.read_text().strip()
    assert len(password) >= 24 and stat.S_IMODE(os.stat(box.root_password_file).st_mode) == 0o600
    for attempt in (lambda: tcp(box), lambda: tcp(box, password=password), lambda: socket_root(box, "")):
        with pytest.raises(pymysql.OperationalError) as err:
            attempt()
        assert err.value.args[0] in (1045, 1130)  # access denied / host not allowed
    socket_root(box, password).close()


def test_root_is_reachable_only_through_the_socket_with_its_password(sandbox):
    assert_locked(sandbox)
    with sandbox.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT user, host FROM mysql.user WHERE user IN ('root', '')")
        assert cur.fetchall() == (("root", "localhost"),)


def test_files_are_confined_to_the_sandbox(sandbox):
    with sandbox.admin_connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@secure_file_priv")
        assert cur.fetchone()[0].rstrip("/") == str(sandbox.files_dir)
        cur.execute("SELECT LOAD_FILE('/etc/passwd')")
        assert cur.fetchone()[0] is None  # outside secure_file_priv: nothing, even for root
        with pytest.raises(pymysql.MySQLError) as err:
            cur.execute("SELECT 1 INTO OUTFILE '/tmp/derson-sandbox-escape.txt'")
        assert err.value.args[0] == 1290  # --secure-file-priv forbids it
    assert not os.path.exists("/tmp/derson-sandbox-escape.txt")
    assert stat.S_IMODE(os.stat(sandbox.files_dir).st_mode) == 0o700
    with tcp(sandbox, sandbox.replication_user, sandbox.password) as conn, conn.cursor() as cur:
        cur.execute("SELECT LOAD_FILE('/etc/passwd')")
        assert cur.fetchone()[0] is None  # and the replication user has no FILE privilege


def test_a_sandbox_from_before_the_lockdown_is_locked_at_its_next_start(sandbox_factory):
    box = sandbox_factory("old")
    with box.admin_connection() as conn, conn.cursor() as cur:  # undo it, as an older version left it
        cur.execute("SET sql_log_bin = 0")
        cur.execute("CREATE USER 'root'@'127.0.0.1'")
        cur.execute("GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION")
        cur.execute("ALTER USER 'root'@'localhost' IDENTIFIED BY ''")
    box.root_password_file.unlink()
    tcp(box).close()  # the hole this issue found: root over TCP, no password
    box.stop()
    assert Sandbox(box.dir).start() is True
    assert_locked(box)
