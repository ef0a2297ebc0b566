"""``derson-lake serve`` runs the owners' schedules: an owner with ``schedule: rate(1 minute)`` gets
its first delta run at once (EventBridge Scheduler without a StartDate), and the dashboard shows the
schedule, the next run, the run's outcome and the alarm it raised (its source has no password set,
so the run fails for real, through the pipelines and the DMS-intake Lambda)."""

from __future__ import annotations

import json
import signal
import time
import urllib.request

from tests.api.test_serve_cli import start_serve
from tests.config.test_owner import GOOD, write_owner
from tests.dashboard.test_serve_dashboard import get

INTAKE = "DMS-intake=dersonlake.intake.lambda_function:lambda_handler"


def test_serve_runs_the_schedule_and_the_dashboard_shows_it(tmp_path, monkeypatch):
    write_owner(tmp_path / "owners", GOOD + "schedule: rate(1 minute)\n")
    monkeypatch.setenv("DERSON_OWNERS_DIR", str(tmp_path / "owners"))
    monkeypatch.delenv("SHOP_DB_PASSWORD", raising=False)
    served = start_serve(tmp_path, "--time-scale", "0", "--lambda", INTAKE)
    try:
        get(served.url + "/")
        deadline = time.monotonic() + 90
        while True:
            with urllib.request.urlopen(served.url + "/api/executions", timeout=30) as r:
                data = json.loads(r.read())
            rows = data.get("schedules", [])
            if rows and rows[0]["lastStatus"] == "FAILED" and rows[0]["alarms"]:
                break
            assert time.monotonic() < deadline, data.get("schedules")
            time.sleep(0.5)
        (row,) = rows
        assert row["owner"] == "acme" and row["expression"] == "rate(1 minute)" and row["nextDue"]
        assert row["alarms"] == ["run_failed"] and row["lastEvent"] == "started"
        (main,) = [e for e in data["executions"] if e["stateMachine"] == "derson-Main"]
        assert main["name"].startswith("sched-") and main["owner"] == "acme"
        page = get(served.url + "/")
        assert "<h2>Schedules</h2>" in page and "rate(1 minute)" in page and "run_failed" in page
    finally:
        served.proc.send_signal(signal.SIGINT)
        served.proc.wait(timeout=30)
    assert "Traceback" not in served.proc.stderr.read()
