"""``derson-lake sandbox ...`` as a user runs it: a subprocess, with DERSON_HOME in a temp folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"


def _cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DERSON_HOME": str(home), "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "dersonlake", "sandbox", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_sandbox_commands_end_to_end(tmp_path: Path) -> None:
    home = tmp_path / "home"
    try:
        assert _cli(home, "status").returncode == 1
        never = _cli(home, "url")
        assert never.returncode == 1 and "sandbox start" in never.stderr and "Traceback" not in never.stderr

        started = _cli(home, "start")
        assert started.returncode == 0, started.stderr
        assert "sandbox started on 127.0.0.1:" in started.stdout
        assert (home / "sandbox" / "data").is_dir()

        again = _cli(home, "start")
        assert again.returncode == 0 and "already running" in again.stdout

        status = _cli(home, "status")
        assert status.returncode == 0 and "MariaDB" in status.stdout

        url = _cli(home, "url")
        assert url.returncode == 0
        assert re.fullmatch(r"mysql://derson_repl:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+/\n", url.stdout)
        password = (home / "sandbox" / "replication.password").read_text().strip()
        for out in (started, again, status):
            assert password not in out.stdout + out.stderr

        seeded = _cli(home, "seed", "--rows", "300")
        assert seeded.returncode == 0, seeded.stderr
        assert re.search(r"shop\.orders\s+300 rows", seeded.stdout)

        stopped = _cli(home, "stop")
        assert stopped.returncode == 0 and "stopped" in stopped.stdout
        assert _cli(home, "status").returncode == 1
        not_running = _cli(home, "seed")
        assert not_running.returncode == 1 and "not running" in not_running.stderr
        assert _cli(home, "url").stdout == url.stdout  # stable across restarts, even when stopped
    finally:
        _cli(home, "stop")
