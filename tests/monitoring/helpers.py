"""Running ``derson-lake`` as a child process on a private ``DERSON_HOME``, and small servers the
alert tests deliver to (a real HTTP server and a real SMTP server, on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import re
import socketserver
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    out = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "DERSON_HOME": str(tmp_path / ".derson"),
        "DERSON_OWNERS_DIR": str(tmp_path / "owners"),
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for name in (
        "DERSON_DMS_ENDPOINT_URL",
        "DERSON_ENDPOINTS",
        "DERSON_STANDING_REPLICATION",
        "DERSON_LAMBDAS",
        "DERSON_NOTIFY_CONFIG",
        "DERSON_LOG_FORMAT",
        "DERSON_LOG_LEVEL",
    ):
        out.pop(name, None)
    out.update(extra)
    return out


def derson(tmp_path: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dersonlake", *args],
        env=env(tmp_path, **extra_env),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


@contextmanager
def serve(tmp_path: Path, *args: str, **extra_env: str) -> Iterator[str]:
    """``derson-lake serve --port 0`` on the home of ``tmp_path``; yields its URL, stops it after."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "dersonlake", "serve", "--port", "0", *args],
        env=env(tmp_path, **extra_env),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            m = re.search(r"(http://127\.0\.0\.1:\d+)", line)
            if m:
                wait_healthy(m.group(1))
                yield m.group(1)
                break
        else:
            raise AssertionError(f"serve exited without a URL: {proc.stderr.read() if proc.stderr else ''}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def wait_healthy(url: str, timeout: float = 30.0) -> None:
    """The URL is printed once the socket is bound; uvicorn listens a moment later."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class WebhookReceiver:
    """A real HTTP server that records JSON POSTs; the first ``fail_first`` answer 503."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.attempts = 0
        self.fail_first = fail_first
        self.headers: list[dict[str, str]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.attempts += 1
                if receiver.attempts <= receiver.fail_first:
                    self.send_response(503)
                    self.end_headers()
                    return
                receiver.received.append(json.loads(body))
                receiver.headers.append(dict(self.headers))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpReceiver:
    """A minimal real SMTP server (RFC 5321 commands a client sends for one plain message)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write((line + "\r\n").encode())

            def handle(self) -> None:
                self.reply("220 test ESMTP")
                sender, rcpts = "", []
                while True:
                    line = self.rfile.readline().decode().rstrip("\r\n")
                    if not line:
                        return
                    verb = line.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 test")
                    elif verb == "MAIL":
                        sender = line.split(":", 1)[1].strip(" <>")
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        rcpts.append(line.split(":", 1)[1].strip(" <>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 go ahead")
                        data = []
                        while (chunk := self.rfile.readline().decode()) not in (".\r\n", ""):
                            data.append(chunk[1:] if chunk.startswith("..") else chunk)
                        receiver.messages.append({"from": sender, "to": rcpts, "data": "".join(data)})
                        self.reply("250 queued")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("250 OK")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SmtpReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
