"""How we reach a MySQL/MariaDB server: the connection parameters and one ``connect()``.

Every session we open is UTC (``time_zone = '+00:00'``) and ``utf8mb4``, so TIMESTAMP values come
back already converted to UTC, as DMS writes them, and 4-byte characters (emoji) survive. The
password is never part of a repr, a log line or an error message: errors name ``host:port``, the
user and the server's own error text, which MySQL never fills with the password.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import pymysql

from dersonlake.errors import BadInput, OperationFailed

SESSION_INIT = "SET time_zone = '+00:00'"


@dataclass(frozen=True)
class ConnectionParams:
    """Where and as whom to connect. ``databases`` limits discovery to those schemas (empty: all
    non-system schemas); ``unix_socket``, when set, is used instead of TCP (the sandbox's admin)."""

    host: str
    port: int = 3306
    user: str = "root"
    password: str = dataclasses.field(default="", repr=False)
    databases: tuple[str, ...] = ()
    connect_timeout: float = 10.0
    unix_socket: str | None = None

    def __repr__(self) -> str:
        shown = "'***'" if self.password else "''"
        return (
            f"ConnectionParams(host={self.host!r}, port={self.port}, user={self.user!r}, password={shown}, "
            f"databases={self.databases!r}, connect_timeout={self.connect_timeout}, "
            f"unix_socket={self.unix_socket!r})"
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
        "connect_timeout": max(1, round(params.connect_timeout)),
        "autocommit": autocommit,
        "init_command": SESSION_INIT,
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
        return pymysql.connect(**kwargs)
    except pymysql.MySQLError as exc:
        raise OperationFailed(
            f"cannot connect to MySQL at {params.address} as {params.user!r}: {describe_error(exc, params)}"
        ) from None


def describe_error(exc: BaseException, params: ConnectionParams | None = None) -> str:
    """One line for a PyMySQL error: ``(code) message``, with the password scrubbed just in case."""
    if isinstance(exc, pymysql.MySQLError) and len(exc.args) >= 2:
        text = f"({exc.args[0]}) {exc.args[1]}"
    else:
        text = str(exc) or type(exc).__name__
    text = " ".join(text.split())
    if params is not None and params.password and params.password in text:
        text = text.replace(params.password, "***")
    return text
