"""A private MariaDB server in a folder: binary log on (ROW, FULL image, FULL metadata), no service.

The demo and the test-suite need a real source with a binlog but must not depend on a system
service, root's my.cnf or a fixed port. ``Sandbox`` initializes a data dir with
``mariadb-install-db --no-defaults``, runs ``mariadbd --no-defaults`` in its own session (it
outlives the command that started it), on 127.0.0.1 and a port chosen once and remembered in
``sandbox.json``, so the URL stays the same across restarts.

Two kinds of access: the replication user (SELECT, REPLICATION CLIENT, REPLICATION SLAVE, random
password in ``replication.password``, mode 0600) is what an owner config points at; root is the
admin used for seeding, and is locked down because ``mariadbd`` runs as OS root when we are root
(Debian's package needs ``--user=root`` then), so a MariaDB root with FILE could read or write any
file as OS root:

* root exists only as ``root@localhost``, which MariaDB matches for unix-socket connections only
  (``--skip-name-resolve``: TCP clients are ``127.0.0.1``/``::1``, whose root accounts are dropped);
* root has a random password in ``root.password`` (0600), so even a socket under /tmp (when the
  folder's path is too long) or a readable folder does not hand it out;
* ``secure_file_priv`` is ``files/`` inside the sandbox (0700): ``LOAD_FILE``, ``LOAD DATA`` and
  ``INTO OUTFILE`` reach nothing else, and the replication user has no FILE privilege anyway.

A sandbox made before this lock-down is locked down at its next start.

Files in the folder: ``data/`` (datadir and binlogs), ``sandbox.json``, ``replication.password``,
``root.password``, ``files/``, ``mariadbd.pid``, ``mariadbd.err`` (error log), ``mariadbd.out`` and
``mysqld.sock`` (unless the path is too long for a unix socket, then a short path under /tmp).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pymysql

from dersonlake.errors import OperationFailed
from dersonlake.home import derson_home
from dersonlake.processes import pid_alive
from dersonlake.sources import ConnectionParams, connect

INSTALL_HINT = "install the MariaDB server first: apt-get install -y mariadb-server (Debian/Ubuntu)"
SOCKET_PATH_LIMIT = 107  # sun_path is 108 bytes including the terminating NUL
REPLICATION_USER = "derson_repl"
SERVER_ID = 1
BINLOG_RETENTION_DAYS = 7
_ER_ACCESS_DENIED = 1045
_SEARCH_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/mysql/bin")


def default_dir() -> Path:
    """``$DERSON_HOME/sandbox`` (``.derson/sandbox`` in the working directory by default)."""
    return derson_home() / "sandbox"


def sandbox_params(databases: Sequence[str] = ()) -> ConnectionParams:
    """The replication user's connection to the running sandbox of ``default_dir()``: what a
    ``source.sandbox: true`` owner reads (``replication.SandboxParams``)."""
    sandbox = Sandbox(default_dir())
    if not sandbox.is_running():
        raise OperationFailed(
            f"the owner reads the sandbox, but no sandbox is running in {sandbox.dir}: "
            "start it with `derson-lake sandbox start` (and `derson-lake sandbox seed` for sample data)"
        )
    return sandbox.params(databases)


def find_binary(*names: str) -> str | None:
    """First of ``names`` on PATH or in the usual sbin folders (mariadbd is not on a user's PATH)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), *_SEARCH_DIRS])
    for name in names:
        found = shutil.which(name, path=path)
        if found:
            return found
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sandbox:
    """One sandbox server living in ``directory`` (default ``derson_home()/sandbox``).

    ``port`` overrides the remembered port at the next ``start()``; ``server_args`` are extra
    ``mariadbd`` options appended last (tests use them to start a badly configured server, e.g.
    ``["--skip-log-bin"]`` or ``["--binlog-format=STATEMENT"]``).
    """

    host = "127.0.0.1"
    replication_user = REPLICATION_USER

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        port: int | None = None,
        *,
        server_args: Sequence[str] = (),
    ) -> None:
        self.dir = Path(directory).expanduser().resolve() if directory is not None else default_dir()
        self._requested_port = port
        self.server_args = tuple(server_args)
        self._proc: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"Sandbox({str(self.dir)!r}, port={self._port_or_none()})"

    # -- places ---------------------------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.dir / "data"

    @property
    def state_file(self) -> Path:
        return self.dir / "sandbox.json"

    @property
    def password_file(self) -> Path:
        return self.dir / "replication.password"

    @property
    def root_password_file(self) -> Path:
        return self.dir / "root.password"

    @property
    def files_dir(self) -> Path:
        """``secure_file_priv``: the only folder the server reads or writes files in for SQL."""
        return self.dir / "files"

    @property
    def pid_file(self) -> Path:
        return self.dir / "mariadbd.pid"

    @property
    def error_log(self) -> Path:
        return self.dir / "mariadbd.err"

    @property
    def socket_path(self) -> Path:
        """``mysqld.sock`` in the folder, or ``/tmp/derson-<hash>.sock`` when that path is too long."""
        inside = self.dir / "mysqld.sock"
        if len(os.fsencode(inside)) <= SOCKET_PATH_LIMIT:
            return inside
        digest = hashlib.sha1(os.fsencode(self.dir)).hexdigest()[:16]
        return Path("/tmp") / f"derson-{digest}.sock"

    # -- remembered facts -----------------------------------------------------------------------
    def _state(self) -> dict[str, object]:
        try:
            return json.loads(self.state_file.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise OperationFailed(f"sandbox state {self.state_file} is unreadable: {exc}") from None

    def _port_or_none(self) -> int | None:
        if self._requested_port:
            return self._requested_port
        port = self._state().get("port")
        return int(port) if isinstance(port, int | str) else None

    @property
    def port(self) -> int:
        """The TCP port (the one remembered from the first start unless overridden)."""
        port = self._port_or_none()
        if port is None:
            raise OperationFailed(f"no sandbox in {self.dir} yet; start it: derson-lake sandbox start")
        return port

    @property
    def password(self) -> str:
        """The replication user's password (created at the first start)."""
        try:
            return self.password_file.read_text().strip()
        except FileNotFoundError:
            raise OperationFailed(
                f"no sandbox in {self.dir} yet; start it: derson-lake sandbox start"
            ) from None

    def url(self) -> str:
        """``mysql://derson_repl:<password>@127.0.0.1:<port>/`` for the replication user."""
        return f"mysql://{self.replication_user}:{quote(self.password, safe='')}@{self.host}:{self.port}/"

    def params(self, databases: Sequence[str] = ()) -> ConnectionParams:
        """Connection parameters of the replication user over TCP (what an owner config holds)."""
        return ConnectionParams(
            host=self.host,
            port=self.port,
            user=self.replication_user,
            password=self.password,
            databases=tuple(databases),
        )

    def admin_params(self) -> ConnectionParams:
        """root over the unix socket with its password: full rights, for seeding and for tests
        that break settings."""
        return ConnectionParams(host="localhost", port=self._port_or_none() or 0, user="root",
                                password=self._root_password(), unix_socket=str(self.socket_path),
                                connect_timeout=5)  # fmt: skip

    def admin_connection(self, database: str | None = None) -> pymysql.connections.Connection:
        """A new autocommit root connection (caller closes it)."""
        return connect(self.admin_params(), database=database)

    def _root_password(self) -> str:
        try:
            return self.root_password_file.read_text().strip()
        except FileNotFoundError:
            return ""  # a sandbox not locked down yet (made by an older version, or starting)

    # -- lifecycle ------------------------------------------------------------------------------
    def is_running(self) -> bool:
        """True when the server answers on its socket (a refused login is an answer too)."""
        if not self.socket_path.exists():
            return False
        try:
            conn = pymysql.connect(
                unix_socket=str(self.socket_path),
                user="root",
                password=self._root_password(),
                connect_timeout=2,
            )
        except pymysql.OperationalError as exc:
            return bool(exc.args) and exc.args[0] == _ER_ACCESS_DENIED
        except pymysql.MySQLError:
            return False
        conn.close()
        return True

    def pid(self) -> int | None:
        """The server's process id when a process of this sandbox is alive, else None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            pid = self._proc.pid if self._proc is not None else None
        if pid is None or not pid_alive(pid) or not self._is_ours(pid):
            return None
        return pid

    def start(self, timeout: float = 60.0) -> bool:
        """Start the server and wait until it answers; False when it was already running."""
        mariadbd = find_binary("mariadbd", "mysqld")
        install_db = find_binary("mariadb-install-db", "mysql_install_db")
        if mariadbd is None or install_db is None:
            raise OperationFailed(
                f"MariaDB server binaries (mariadbd, mariadb-install-db) not found; {INSTALL_HINT}"
            )
        if self.is_running():
            running_on = self._state().get("port")
            if self._requested_port and running_on and self._requested_port != running_on:
                raise OperationFailed(
                    f"the sandbox in {self.dir} is already running on port {running_on}; "
                    f"stop it first to move it to port {self._requested_port}"
                )
            self._lock_down_root()  # idempotent; heals a start interrupted before these steps
            self._ensure_replication_user()
            return False
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not (self.data_dir / "mysql").is_dir():
            self._install(install_db)
        port = self._requested_port or self._port_or_none() or free_port()
        self._save_state(port)

        started = time.monotonic()
        if self.pid() is None:
            self.pid_file.unlink(missing_ok=True)
            if self.socket_path.is_socket():
                self.socket_path.unlink()  # left by a killed server; mariadbd would refuse to start
            out = (self.dir / "mariadbd.out").open("ab")
            try:
                self._proc = subprocess.Popen(
                    self._server_command(mariadbd, port),
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    close_fds=True,
                )
            finally:
                out.close()
        self._wait_until_answering(started, timeout)
        self._lock_down_root()
        self._ensure_replication_user()
        return True

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM (clean shutdown), then SIGKILL after ``timeout`` seconds; False if not running."""
        pid = self.pid()
        if pid is None:
            return False
        os.kill(pid, signal.SIGTERM)
        if not self._wait_gone(pid, timeout):
            os.kill(pid, signal.SIGKILL)
            self._wait_gone(pid, 10)
        self._proc = None
        self.pid_file.unlink(missing_ok=True)
        return True

    def server_version(self) -> str:
        with self.admin_connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            return str(cur.fetchone()[0])

    # -- internals ------------------------------------------------------------------------------
    def _install(self, install_db: str) -> None:
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        command = [
            install_db, "--no-defaults", f"--datadir={self.data_dir}", f"--tmpdir={self.tmp_dir}",
            "--auth-root-authentication-method=normal", "--skip-test-db", *_as_root(),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = _tail((result.stdout + result.stderr).splitlines())
            shutil.rmtree(self.data_dir, ignore_errors=True)
            raise OperationFailed(
                f"mariadb-install-db failed for {self.data_dir} (exit {result.returncode}): {tail}"
            )

    @property
    def tmp_dir(self) -> Path:
        """The server's own temporary folder: sandboxes side by side must not share /tmp's temp tables
        (seen here: two installs at once failing on each other's '#sql-temptable' files)."""
        return self.dir / "tmp"

    def _server_command(self, mariadbd: str, port: int) -> list[str]:
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self.files_dir.mkdir(mode=0o700, exist_ok=True)
        return [
            mariadbd, "--no-defaults", *_as_root(),
            f"--datadir={self.data_dir}", f"--tmpdir={self.tmp_dir}", f"--port={port}",
            f"--bind-address={self.host}",
            f"--socket={self.socket_path}", f"--pid-file={self.pid_file}", f"--log-error={self.error_log}",
            "--log-bin=mysql-bin", f"--server-id={SERVER_ID}", "--binlog-format=ROW",
            "--binlog-row-image=FULL", "--binlog-row-metadata=FULL",
            f"--expire-logs-days={BINLOG_RETENTION_DAYS}",
            "--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci",
            "--skip-name-resolve", "--innodb-buffer-pool-size=128M", "--max-allowed-packet=64M",
            "--innodb-flush-log-at-trx-commit=2",
            f"--secure-file-priv={self.files_dir}",
            *self.server_args,
        ]  # fmt: skip

    def _wait_until_answering(self, started: float, timeout: float) -> None:
        while True:
            if self._proc is not None and self._proc.poll() is not None:
                raise OperationFailed(
                    f"the sandbox server in {self.dir} exited with code {self._proc.returncode} "
                    "while starting; "
                    f"{self.error_log}: {self._log_tail()}"
                )
            if self.is_running():
                return
            if time.monotonic() - started > timeout:
                raise OperationFailed(
                    f"the sandbox server in {self.dir} did not answer within {timeout:.0f} s; "
                    f"{self.error_log}: {self._log_tail()}"
                )
            time.sleep(0.05)

    def _lock_down_root(self) -> None:
        """root@localhost only (socket), with the password of ``root.password`` (see the module doc).

        The file is written first (O_EXCL, 0600), then the account changed: a start killed between
        the two leaves a file whose password root does not have yet, which the next start detects
        (root still logs in without one) and finishes.
        """
        if not self.root_password_file.exists():
            fd = os.open(self.root_password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(24) + "\n")
        password = self._root_password()
        try:
            conn = connect(self.admin_params())
        except OperationFailed:  # not locked down yet: root has no password
            conn = connect(replace(self.admin_params(), password=""))
        with conn, conn.cursor() as cur:
            cur.execute("SET sql_log_bin = 0")  # account maintenance stays out of the CDC stream
            cur.execute(
                "SELECT user, host FROM mysql.user WHERE user IN ('root', '') AND host <> 'localhost'"
            )
            for user, host in cur.fetchall():
                cur.execute("DROP USER %s@%s", (user, host))
            cur.execute("DROP USER IF EXISTS ''@'localhost'")
            cur.execute("ALTER USER 'root'@'localhost' IDENTIFIED BY %s", (password,))

    def _ensure_replication_user(self) -> None:
        if not self.password_file.exists():
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(18) + "\n")
        password = self.password
        account = (self.replication_user, "%")
        with self.admin_connection() as conn, conn.cursor() as cur:
            cur.execute("SET sql_log_bin = 0")  # keep account maintenance out of the CDC stream
            cur.execute("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (*account, password))
            cur.execute("ALTER USER %s@%s IDENTIFIED BY %s", (*account, password))
            cur.execute("GRANT SELECT, REPLICATION CLIENT, REPLICATION SLAVE ON *.* TO %s@%s", account)

    def _save_state(self, port: int) -> None:
        state = self._state()
        state.update({"port": port, "replication_user": self.replication_user, "server_id": SERVER_ID})
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(self.state_file)

    def _is_ours(self, pid: int) -> bool:
        """Guard against a recycled pid: the process must be a mariadbd using our data dir."""
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return True  # no /proc (not Linux): trust the pid file
        return any(arg == os.fsencode(f"--datadir={self.data_dir}") for arg in cmdline)

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                try:
                    self._proc.wait(timeout=0.1)
                    return True
                except subprocess.TimeoutExpired:
                    continue
            if not pid_alive(pid):
                return True
            time.sleep(0.05)
        return False

    def _log_tail(self) -> str:
        try:
            lines = self.error_log.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            try:
                lines = (self.dir / "mariadbd.out").read_text(errors="replace").splitlines()
            except FileNotFoundError:
                return "(no error log)"
        return _tail(lines)


def _as_root() -> list[str]:
    """``--user=root`` only when we are root (mariadbd refuses to run as root without it)."""
    return ["--user=root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


def _tail(lines: Sequence[str], count: int = 12) -> str:
    kept = [line for line in lines if line.strip()][-count:]
    return " | ".join(kept) if kept else "(empty)"
