"""``derson-lake serve`` (the command, as a process) serves the dashboard at ``/`` next to ``POST /``."""

from __future__ import annotations

import json
import signal
import time
import urllib.request

from tests.api.test_serve_cli import start_serve


def test_serve_answers_the_dashboard_at_root_and_its_json(tmp_path):
    served = start_serve(tmp_path, "--time-scale", "0")
    try:
        next_line = served.proc.stdout.readline().rstrip("\n")  # the banner line after the URL
        assert next_line.startswith("dashboard: http://127.0.0.1:"), [*served.banner, next_line]
        page = get(served.url + "/")
        assert "State machines and executions" in page
        assert "derson-Main" in page and "DMS-Handler" in page and "DMS-ErrorHandling" in page
        with urllib.request.urlopen(served.url + "/api/executions", timeout=30) as r:
            data = json.loads(r.read())
        assert {m["name"] for m in data["stateMachines"]} == {
            "derson-Main",
            "DMS-Handler",
            "DMS-ErrorHandling",
        }
        with urllib.request.urlopen(served.url + "/static/dashboard.js", timeout=30) as r:
            assert b"executionPage" in r.read()
    finally:
        served.proc.send_signal(signal.SIGINT)
        served.proc.wait(timeout=15)


def get(url: str) -> str:
    """GET once the server listens (the URL is printed when the socket is bound, before uvicorn listens)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(url, timeout=30) as r:
                assert r.status == 200
                return r.read().decode()
        except ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
        except urllib.error.URLError as exc:
            if not isinstance(exc.reason, ConnectionError) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
