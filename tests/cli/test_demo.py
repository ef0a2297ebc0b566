"""The README's first command: `derson-lake demo` from an empty state folder (its own sandbox)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_demo_loads_applies_a_delta_and_the_lake_matches_the_source(tmp_path):
    env = {**os.environ, "DERSON_HOME": str(tmp_path / ".derson")}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dersonlake", *args],
            env=env,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=300,
        )

    try:
        done = cli("demo", "--rows", "2000", "--owners-dir", str(REPO / "owners"))
        assert done.returncode == 0, done.stderr[-2000:]
        assert "5/5 run --delta" in done.stdout and "differs" not in done.stdout
        assert "Iceberg rows" in done.stdout  # the sample owner keeps Iceberg tables: counted too
        assert " 0 changes captured" not in done.stdout
        assert "schedule: dersonLake: rate(15 minutes) in America/Sao_Paulo; next run:" in done.stdout
        assert (tmp_path / "lake" / "shop" / "orders").is_dir()
        cdc = [p for p in (tmp_path / "lake" / "shop" / "orders").iterdir() if p.name[:8].isdigit()]
        assert cdc, "the delta run wrote no CDC file for orders"
        again = cli("demo", "--rows", "2000", "--owners-dir", str(REPO / "owners"))  # re-runnable
        assert again.returncode == 0, again.stderr[-2000:]
    finally:
        cli("sandbox", "stop")
