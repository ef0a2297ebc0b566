"""A TCP proxy on 127.0.0.1 that breaks connections for real, in front of the test S3 endpoint.

Clients (boto3 in this process or in a ``derson-lake`` subprocess) talk to ``proxy.url``; the proxy
forwards bytes to the upstream server until told otherwise:

* ``cut_after(n)``: once ``n`` more request bytes have passed, reset that connection (RST) mid-body,
  as a dropped network link does; ``stay_down=True`` then refuses everything until ``up()``;
* ``down()``: every new or open connection is reset at once (the endpoint is unreachable);
* ``delay(seconds)``: every forwarded chunk waits first (a slow link: a kill lands mid-upload);
* ``up()``: forward normally again.

Nothing is simulated inside botocore: it sees real resets on real sockets.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit


class FaultProxy:
    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._down = False
        self._cut_budget: int | None = None
        self._stay_down = False
        self._delay = 0.0
        self._open: set[socket.socket] = set()
        self._closed = False
        self.resets = 0  # connections this proxy broke
        threading.Thread(target=self._accept, daemon=True, name="fault-proxy").start()

    # -- control ----------------------------------------------------------------------------------
    def down(self) -> None:
        with self._lock:
            self._down = True
            victims = list(self._open)
        for sock in victims:
            self._reset(sock)

    def up(self) -> None:
        with self._lock:
            self._down, self._cut_budget, self._stay_down, self._delay = False, None, False, 0.0

    def cut_after(self, request_bytes: int, *, stay_down: bool = False) -> None:
        with self._lock:
            self._cut_budget, self._stay_down = request_bytes, stay_down

    def delay(self, seconds: float) -> None:
        with self._lock:
            self._delay = seconds

    def close(self) -> None:
        self._closed = True
        self.down()
        self._listener.close()

    # -- plumbing ---------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                down = self._down
            if down:
                self._reset(client)
                continue
            try:
                upstream = socket.create_connection(self.upstream)
            except OSError:
                self._reset(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, request: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self._lock:
                    wait, down = self._delay, self._down
                    cut = False
                    if request and self._cut_budget is not None:
                        self._cut_budget -= len(data)
                        if self._cut_budget <= 0:
                            cut, self._cut_budget = True, None
                            self._down = self._stay_down
                if down:
                    break
                if cut:
                    dst.sendall(data[: max(1, len(data) // 2)])  # half of this chunk reaches S3
                    break
                if wait:
                    time.sleep(wait)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            self._reset(src)
            self._reset(dst)

    def _reset(self, sock: socket.socket) -> None:
        """Close with RST (SO_LINGER 0), as a broken link looks to the peer."""
        with self._lock:
            known = sock in self._open
            self._open.discard(sock)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            if known:
                self.resets += 1
        except OSError:
            pass


@contextmanager
def fault_proxy(upstream_url: str) -> Iterator[FaultProxy]:
    proxy = FaultProxy(upstream_url)
    try:
        yield proxy
    finally:
        proxy.close()
