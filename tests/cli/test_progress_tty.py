"""On a terminal ``derson-lake load`` draws an overall bar and a bar per table with rows and rows/s
(a real pseudo-terminal)."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

from tests.replication.conftest import write_owner


def test_load_on_a_terminal_shows_a_bar_per_table(sandbox, tmp_path):
    write_owner(tmp_path, sandbox)
    leader, follower = pty.openpty()
    env = {**os.environ, "DERSON_HOME": str(tmp_path / ".derson"), "COLUMNS": "140", "TERM": "xterm"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dersonlake", "load", "acme", "--owners-dir", str(tmp_path / "owners")],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        cwd=tmp_path,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait(timeout=120) == 0
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace"))
    for table in ("shop.orders", "shop.customers", "shop.type_zoo"):
        assert table in screen
    assert re.search(r"[\d,]+ rows/s", screen)
    assert "all 6 tables (6 done)" in screen  # the overall bar, at the end
    assert "done" in screen
    assert "acme: 6 table(s) loaded" in screen
