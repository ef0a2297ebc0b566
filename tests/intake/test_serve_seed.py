"""The seed's way, against ``derson-lake serve`` with the real DMS-intake mapped: ``derson-lake run
--endpoint-url`` starts derson-Main there, and the ``aws`` CLI sees the result (nothing left behind)."""

from __future__ import annotations

import signal
import subprocess
import sys

from tests.api.test_serve_cli import ROOT, ServeProcess, aws_error, env
from tests.replication.conftest import write_owner


def test_run_against_a_running_serve(tmp_path, sandbox):
    write_owner(tmp_path, sandbox, name="acme")
    child_env = {**env(tmp_path / ".derson"), "DERSON_OWNERS_DIR": str(tmp_path / "owners")}
    child_env.pop("DERSON_DMS_ENDPOINT_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "dersonlake", "serve", "--port", "0", "--time-scale", "0.01", "--lambda",
         "DMS-intake=dersonlake.intake.lambda_function:lambda_handler"],
        cwd=ROOT, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        url = next(line.split()[-1] for line in proc.stdout if line.startswith("derson-lake serve: "))
        served = ServeProcess(proc, url, [])
        done = subprocess.run(
            [sys.executable, "-m", "dersonlake", "run", "acme", "--endpoint-url", served.url],
            cwd=ROOT, env=child_env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert "acme: SUCCEEDED — 6 table(s)" in done.stdout
        assert list((tmp_path / "lake").rglob("*.parquet"))
        assert "ResourceNotFoundFault" in aws_error(served.url, "dms", "describe-replication-instances")
        assert "ResourceNotFoundFault" in aws_error(served.url, "dms", "describe-replication-tasks")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=15)
