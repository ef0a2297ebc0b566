"""How we reach a MySQL/MariaDB server: the connection parameters and one ``connect()``.

Every session we open is UTC (``time_zone = '+00:00'``) and ``utf8mb4``, so TIMESTAMP values come
back already converted to UTC, as DMS writes them, and 4-byte characters (emoji) survive. The
password is never part of a repr, a log line or an error message: errors name ``host:port``, the
user and the server's own error text, which MySQL never fills with the password.

Three timeouts bound every wait on the server, so a source that accepts TCP and then says nothing
(a stuck server, a load balancer with no backend) fails instead of hanging: ``connect_timeout``
covers the TCP connect *and* the server's greeting and login (as MySQL's own client counts it),
``read_timeout`` each wait for an answer afterwards, ``write_timeout`` each send. Owners set them in
``owner.yaml`` (``source.connect_timeout``, ``source.read_timeout``, ``source.write_timeout``).
"""

from __future__ import annotations

import dataclasses
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pymysql

from dersonlake.errors import BadInput, OperationFailed

SESSION_INIT = "SET time_zone = '+00:00'"

DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 120.0
DEFAULT_WRITE_TIMEOUT = 60.0
# PyMySQL's code for "lost connection"; a socket timeout surfaces as this with "timed out" in the text.
_CR_SERVER_LOST = 2013


@dataclass(frozen=True)
class ConnectionParams:
    """Where and as whom to connect. ``databases`` limits discovery to those schemas (empty: all
    non-system schemas); ``unix_socket``, when set, is used instead of TCP (the sandbox's admin).
    The timeouts are seconds (see the module's docstring for what each bounds)."""

    host: str
    port: int = 3306
    user: str = "root"
    password: str = dataclasses.field(default="", repr=False)
    databases: tuple[str, ...] = ()
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    unix_socket: str | None = None
    read_timeout: float = DEFAULT_READ_TIMEOUT
    write_timeout: float = DEFAULT_WRITE_TIMEOUT

    def __repr__(self) -> str:
        shown = "'***'" if self.password else "''"
        return (
            f"ConnectionParams(host={self.host!r}, port={self.port}, user={self.user!r}, password={shown}, "
            f"databases={self.databases!r}, connect_timeout={self.connect_timeout}, "
            f"unix_socket={self.unix_socket!r}, read_timeout={self.read_timeout}, "
            f"write_timeout={self.write_timeout})"
        )

    __str__ = __repr__

    @property
    def address(self) -> str:
        """``host:port`` (or the socket path) for messages."""
        return self.unix_socket if self.unix_socket else f"{self.host}:{self.port}"

    def url(self, *, with_password: bool = True) -> str:
        """``mysql://user:password@host:port/[db]``; ``with_password=False`` puts ``***`` instead."""
        secret = quote(self.password, safe="") if with_password else "***"
        auth = f"{quote(self.user, safe='')}:{secret}" if self.password else quote(self.user, safe="")
        db = self.databases[0] if len(self.databases) == 1 else ""
        return f"mysql://{auth}@{self.host}:{self.port}/{db}"

    @classmethod
    def from_url(cls, url: str, **overrides: Any) -> ConnectionParams:
        """Parse ``mysql://user:password@host:port/db1,db2`` (the form ``sandbox url`` prints)."""
        parts = urlsplit(url)
        if parts.scheme not in ("mysql", "mariadb") or not parts.hostname:
            raise BadInput(
                "not a MySQL URL",
                value=redact_url(url),
                hint="Use mysql://user:password@host:port/[database]",
            )
        try:
            port = parts.port or 3306
        except ValueError as exc:
            raise BadInput("bad port in MySQL URL", value=redact_url(url)) from exc
        dbs = tuple(d for d in unquote(parts.path.lstrip("/")).split(",") if d)
        values: dict[str, Any] = {
            "host": parts.hostname,
            "port": port,
            "user": unquote(parts.username or "root"),
            "password": unquote(parts.password or ""),
            "databases": dbs,
        }
        values.update(overrides)
        return cls(**values)


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (safe to print)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def connect(
    params: ConnectionParams,
    *,
    database: str | None = None,
    dict_rows: bool = False,
    autocommit: bool = True,
    **extra: Any,
) -> pymysql.connections.Connection:
    """Open a PyMySQL connection (utf8mb4, UTC session); failures become ``OperationFailed``.

    ``extra`` goes to ``pymysql.connect`` (e.g. ``read_timeout``, ``cursorclass``).
    """
    kwargs: dict[str, Any] = {
        "user": params.user,
        "password": params.password,
        "database": database,
        "charset": "utf8mb4",
        "autocommit": autocommit,
        "init_command": SESSION_INIT,
        "read_timeout": params.read_timeout,
        "write_timeout": params.write_timeout,
    }
    if params.unix_socket:
        kwargs["unix_socket"] = params.unix_socket
    else:
        kwargs["host"] = params.host
        kwargs["port"] = params.port
    if dict_rows:
        kwargs["cursorclass"] = pymysql.cursors.DictCursor
    kwargs.update(extra)
    try:
        return open_connection(params, **kwargs)
    except pymysql.MySQLError as exc:
        raise OperationFailed(
            f"cannot connect to MySQL at {params.address} as {params.user!r}: {describe_error(exc, params)}"
        ) from None


def probe(params: ConnectionParams) -> None:
    """Connect and run one query (``SELECT 1``): what DMS's TestConnection checks."""
    conn = connect(params)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
    finally:
        conn.close()


def open_connection(params: ConnectionParams, **kwargs: Any) -> pymysql.connections.Connection:
    """``pymysql.connect(**kwargs)`` with the greeting and login bounded by ``connect_timeout``.

    PyMySQL's ``connect_timeout`` stops at the TCP connect and its ``read_timeout`` is the only
    bound on the greeting, so we connect with ``read_timeout = connect_timeout`` and set the
    caller's read timeout once logged in. A silent server raises ``SourceTimeout`` (an
    ``OperationFailed``) that says what we waited for; other errors are PyMySQL's.
    """
    read_timeout = kwargs.pop("read_timeout", None)
    connect_timeout = max(1, round(params.connect_timeout))
    kwargs["connect_timeout"] = connect_timeout
    try:
        conn = pymysql.connect(read_timeout=connect_timeout, **kwargs)
    except pymysql.OperationalError as exc:
        if is_timeout(exc):
            raise SourceTimeout(
                f"MySQL at {params.address} accepted the connection but sent no greeting (or did not "
                f"finish the login) within {connect_timeout} s (source.connect_timeout): is it a MySQL "
                "server, and is it alive?"
            ) from None
        raise
    conn._read_timeout = read_timeout  # PyMySQL applies it before each read from now on
    return conn


class SourceTimeout(OperationFailed):
    """The source accepted a connection and then did not answer within a timeout."""


def is_timeout(exc: BaseException) -> bool:
    """Whether a PyMySQL error is a socket timeout (a read or write that waited too long)."""
    if isinstance(exc, socket.timeout | TimeoutError):
        return True
    return (
        isinstance(exc, pymysql.OperationalError)
        and len(exc.args) >= 2
        and exc.args[0] == _CR_SERVER_LOST
        and "timed out" in str(exc.args[1])
    )


def wait_for_greeting(params: ConnectionParams) -> None:
    """Connect by TCP and wait for the server's first bytes, within ``connect_timeout``.

    For readers that cannot bound the greeting themselves (connectorx's pool waits 30 s): a refused
    connection or a silent server fails here, fast and with a message naming what we waited for.
    """
    timeout = max(1.0, params.connect_timeout)
    try:
        sock = socket.create_connection((params.host, params.port), timeout=timeout)
    except OSError as exc:
        raise OperationFailed(f"can't connect to MySQL at {params.address}: {exc.strerror or exc}") from None
    try:
        sock.settimeout(timeout)
        if not sock.recv(4):
            raise OperationFailed(f"MySQL at {params.address} closed the connection before its greeting")
    except TimeoutError:
        raise SourceTimeout(
            f"MySQL at {params.address} accepted the connection but sent no greeting within "
            f"{timeout:g} s (source.connect_timeout): is it a MySQL server, and is it alive?"
        ) from None
    except OSError as exc:
        raise OperationFailed(
            f"MySQL at {params.address} failed before its greeting: {exc.strerror or exc}"
        ) from None
    finally:
        sock.close()


def describe_error(exc: BaseException, params: ConnectionParams | None = None) -> str:
    """One line for a PyMySQL error: ``(code) message``, with the password scrubbed just in case.

    A timeout says which setting bounded the wait, so the user knows what to raise.
    """
    if params is not None and is_timeout(exc):
        return (
            f"no answer from the server within source.read_timeout ({params.read_timeout:g} s) or "
            f"source.write_timeout ({params.write_timeout:g} s)"
        )
    if isinstance(exc, pymysql.MySQLError) and len(exc.args) >= 2:
        text = f"({exc.args[0]}) {exc.args[1]}"
    else:
        text = str(exc) or type(exc).__name__
    text = " ".join(text.split())
    if params is not None and params.password and params.password in text:
        text = text.replace(params.password, "***")
    return text
