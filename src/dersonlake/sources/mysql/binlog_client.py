"""The replication protocol: one connection that asks a MySQL/MariaDB server for its binlog.

PyMySQL opens the connection (handshake, authentication plugins, TLS, all with
``connect_timeout`` for the TCP connect and ``read_timeout`` for the greeting and every read, so a
server that accepts the connection and never answers fails instead of hanging). Then:

1. ``SET @master_binlog_checksum = @@global.binlog_checksum`` (and MySQL 8's ``@source_...``):
   we understand checksums, so the server sends events as written, CRC32 included, and we verify
   them; MariaDB also gets ``@mariadb_slave_capability = 4`` (send GTID events as such) and
   ``@master_heartbeat_period`` (nanoseconds) asks for heartbeats while idle.
2. ``COM_REGISTER_SLAVE`` (0x15) with our server id, so the server lists the reader.
3. ``COM_BINLOG_DUMP`` (0x12: position, flags, server id, file name), or MySQL's
   ``COM_BINLOG_DUMP_GTID`` (0x1e: an encoded GTID set), or for MariaDB a GTID start
   (``SET @slave_connect_state``, then COM_BINLOG_DUMP from the empty file name). With
   ``BINLOG_DUMP_NON_BLOCK`` the server ends the stream with an EOF packet at the end of its
   binlog instead of waiting for more.
4. Each packet is then one event, after a 0x00 byte; 0xFF is an error packet (code, state, text).
   Packets of 16 MiB - 1 continue in the next packet.

``BinlogConnection.events()`` yields the raw events; the caller decodes them (``binlog_events``)
and tracks positions. Any socket or protocol failure becomes ``BinlogConnectionLost``, which the
reader answers by reconnecting from the last transaction boundary.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import uuid
from collections.abc import Iterator
from typing import Any

import pymysql

from dersonlake.errors import OperationFailed
from dersonlake.sources.mysql.connection import ConnectionParams, describe_error, open_connection

COM_BINLOG_DUMP = 0x12
COM_REGISTER_SLAVE = 0x15
COM_BINLOG_DUMP_GTID = 0x1E
BINLOG_DUMP_NON_BLOCK = 0x01
BINLOG_THROUGH_GTID = 0x04
_MAX_PACKET = 0xFFFFFF
ER_MASTER_FATAL_READING_BINLOG = 1236
_SERVER_GOING_AWAY = frozenset({1053, 1077, 1152, 1927})  # shutdown, normal shutdown, aborted, killed


class BinlogConnectionLost(Exception):
    """The connection failed mid-stream (socket error, timeout, server gone): reconnectable."""


class BinlogServerError(Exception):
    """The server refused the dump with an error packet: ``code`` and its message."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message
        super().__init__(f"({code}) {message}")


class BinlogConnection:
    """One replication connection (see the module docstring); close it when done."""

    def __init__(
        self,
        params: ConnectionParams,
        server_id: int,
        *,
        read_timeout: float,
        heartbeat: float | None = None,
    ) -> None:
        self.params = params
        self.server_id = server_id
        self.read_timeout = read_timeout
        self.heartbeat = heartbeat
        self.checksum = "NONE"
        self.mariadb = False
        self.blocking = False
        self._conn: pymysql.connections.Connection | None = None

    # -- setup ----------------------------------------------------------------------------------
    def _open(self) -> pymysql.connections.Connection:
        kwargs: dict[str, Any] = {
            "user": self.params.user,
            "password": self.params.password,
            "charset": "utf8mb4",
            "read_timeout": self.read_timeout,
            "write_timeout": self.params.write_timeout,
            "autocommit": True,
        }
        if self.params.unix_socket:
            kwargs["unix_socket"] = self.params.unix_socket
        else:
            kwargs.update(host=self.params.host, port=self.params.port)
        try:
            conn = open_connection(self.params, **kwargs)  # the greeting bounded by connect_timeout
        except pymysql.MySQLError as exc:
            raise OperationFailed(
                f"cannot connect to MySQL at {self.params.address} as {self.params.user!r} "
                f"to read the binlog: {describe_error(exc, self.params)}"
            ) from None
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT VERSION(), @@GLOBAL.binlog_checksum")
                version, checksum = cur.fetchone()
                self.mariadb = "mariadb" in str(version).lower()
                self.checksum = str(checksum or "NONE").upper()
                cur.execute("SET @master_binlog_checksum = @@GLOBAL.binlog_checksum")
                if not self.mariadb:
                    cur.execute("SET @source_binlog_checksum = @@GLOBAL.binlog_checksum")
                if self.mariadb:
                    cur.execute("SET @mariadb_slave_capability = 4")
                if self.heartbeat:
                    cur.execute(f"SET @master_heartbeat_period = {int(self.heartbeat * 1_000_000_000)}")
        except pymysql.MySQLError as exc:
            conn.close()
            raise OperationFailed(
                f"preparing the binlog connection to {self.params.address} failed: "
                f"{describe_error(exc, self.params)}"
            ) from None
        self._conn = conn
        return conn

    def start(self, file: str, pos: int, *, blocking: bool) -> None:
        """Connect, register and ask for the binlog from ``file:pos``."""
        self.blocking = blocking
        conn = self._open()
        self._register(conn)
        flags = 0 if blocking else BINLOG_DUMP_NON_BLOCK
        body = struct.pack("<BIHI", COM_BINLOG_DUMP, pos & 0xFFFFFFFF, flags, self.server_id) + file.encode()
        self._send(conn, body)

    def start_mariadb_gtid(self, gtid_state: str, *, blocking: bool) -> None:
        """MariaDB: stream from after the transactions of ``gtid_state`` (``0-1-42[,1-1-7]``)."""
        self.blocking = blocking
        conn = self._open()
        try:
            with conn.cursor() as cur:
                cur.execute("SET @slave_connect_state = %s", (gtid_state,))
                cur.execute("SET @slave_gtid_strict_mode = 0")
                cur.execute("SET @slave_gtid_ignore_duplicates = 0")
        except pymysql.MySQLError as exc:
            raise OperationFailed(
                f"MariaDB refused GTID start {gtid_state!r}: {describe_error(exc, self.params)}"
            ) from None
        self._register(conn)
        flags = 0 if blocking else BINLOG_DUMP_NON_BLOCK
        self._send(conn, struct.pack("<BIHI", COM_BINLOG_DUMP, 4, flags, self.server_id))

    def start_mysql_gtid(self, executed: str, *, blocking: bool) -> None:
        """MySQL: stream the transactions not in the GTID set ``executed`` (``uuid:1-5,uuid2:1``)."""
        self.blocking = blocking
        conn = self._open()
        self._register(conn)
        data = encode_gtid_set(executed)
        flags = BINLOG_THROUGH_GTID | (0 if blocking else BINLOG_DUMP_NON_BLOCK)
        body = struct.pack("<BHII", COM_BINLOG_DUMP_GTID, flags, self.server_id, 0)
        body += struct.pack("<QI", 4, len(data)) + data
        self._send(conn, body)

    def _register(self, conn: pymysql.connections.Connection) -> None:
        host = socket.gethostname().encode()[:60]
        body = (
            struct.pack("<BI", COM_REGISTER_SLAVE, self.server_id)
            + bytes([len(host)]) + host
            + b"\0\0"  # user, password: empty
            + struct.pack("<HII", 0, 0, 0)  # port, replication rank, master id
        )  # fmt: skip
        self._send(conn, body)
        payload = self._read_packet(conn)
        if payload[:1] == b"\xff":
            raise _server_error(payload)

    def _send(self, conn: pymysql.connections.Connection, body: bytes) -> None:
        try:
            conn._sock.sendall(struct.pack("<I", len(body))[:3] + b"\0" + body)  # sequence 0: a new command
        except OSError as exc:
            raise BinlogConnectionLost(f"sending to {self.params.address} failed: {exc}") from None

    # -- streaming ------------------------------------------------------------------------------
    def events(self) -> Iterator[bytes]:
        """The raw events the server sends, until its EOF (non-blocking dumps) or an error."""
        conn = self._conn
        assert conn is not None, "start() first"
        while True:
            payload = self._read_packet(conn)
            first = payload[:1]
            if first == b"\x00":
                yield payload[1:]
            elif first == b"\xfe" and len(payload) < 9:
                if self.blocking:  # a blocking dump never ends by itself: the server is going away
                    raise BinlogConnectionLost(
                        f"{self.params.address} ended the binlog stream (shutting down?)"
                    )
                return
            elif first == b"\xff":
                error = _server_error(payload)
                if error.code in _SERVER_GOING_AWAY:
                    raise BinlogConnectionLost(f"{self.params.address}: {error}")
                raise error
            else:
                raise BinlogConnectionLost(
                    f"unexpected packet 0x{payload[:1].hex()} from {self.params.address}"
                )

    def _read_packet(self, conn: pymysql.connections.Connection) -> bytes:
        parts = []
        try:
            read = conn._rfile.read
            while True:
                head = read(4)
                if len(head) < 4:
                    raise BinlogConnectionLost(f"{self.params.address} closed the binlog connection")
                length = head[0] | head[1] << 8 | head[2] << 16
                data = read(length)
                if len(data) < length:
                    raise BinlogConnectionLost(f"{self.params.address} closed the connection inside a packet")
                parts.append(data)
                if length < _MAX_PACKET:
                    break
        except (OSError, ValueError) as exc:  # timeouts are OSErrors; ValueError: file closed
            raise BinlogConnectionLost(f"reading the binlog of {self.params.address} failed: {exc}") from None
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # the socket may already be gone; closing is best effort
                with contextlib.suppress(Exception):
                    conn._force_close()


def _server_error(payload: bytes) -> BinlogServerError:
    code = int.from_bytes(payload[1:3], "little")
    text = payload[3:]
    if text[:1] == b"#":
        text = text[6:]
    return BinlogServerError(code, text.decode("utf-8", "replace"))


def encode_gtid_set(text: str) -> bytes:
    """A MySQL GTID set (``uuid:1-5:7,uuid2:1``) in COM_BINLOG_DUMP_GTID's binary form: the count
    of UUIDs, then per UUID its 16 bytes, the count of intervals and each as [start, end)."""
    entries = [e.strip() for e in text.split(",") if e.strip()]
    out = struct.pack("<Q", len(entries))
    for entry in entries:
        sid, *ranges = entry.split(":")
        out += uuid.UUID(sid).bytes + struct.pack("<Q", len(ranges))
        for item in ranges:
            start, _, end = item.partition("-")
            out += struct.pack("<QQ", int(start), int(end or start) + 1)
    return out
