"""A 100 000-row transaction streams through the reader in bounded memory.

The read runs in a child process, which samples its resident set (``/proc/self/statm``) every 1 000
changes: the highest sample may exceed the one at the first change by a few MB (decode buffers),
not by the ~40 MB that holding 100k changes takes. (``ru_maxrss`` cannot be used: a child starts
with its parent's high-water mark.) The child also keeps every change when asked to, which shows
the measurement can fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.sources.binlog_helpers import SCHEMA, Cdc

ROWS = 100_000
CHILD = """
import json, os, sys
from dersonlake.sources.mysql.binlog import BinlogPosition, BinlogReader, Change, Commit
from dersonlake.sources.mysql.connection import ConnectionParams

args = json.loads(sys.stdin.read())
params = ConnectionParams(**args["params"])
def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

kept, changes, samples, commits = [], 0, [], 0
for item in BinlogReader(params, [tuple(args["table"])], BinlogPosition.parse(args["start"])):
    if isinstance(item, Change):
        changes += 1
        if changes % 1000 == 1:
            samples.append(rss())
        if args["keep"]:
            kept.append(item)
    elif isinstance(item, Commit):
        commits += 1
samples.append(rss())
print(json.dumps({"changes": changes, "commits": commits, "growth_mb": (max(samples) - samples[0]) / 2**20}))
"""


def read_in_child(cdc: Cdc, start: str, keep: bool) -> dict:
    p = cdc.params
    args = {
        "params": {"host": p.host, "port": p.port, "user": p.user, "password": p.password},
        "table": [SCHEMA, "items"],
        "start": start,
        "keep": keep,
    }
    src = str(Path(__file__).resolve().parents[2] / "src")
    result = subprocess.run(
        [sys.executable, "-c", f"import sys; sys.path.insert(0, {src!r})\n{CHILD}"],
        input=json.dumps(args),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout)


def test_a_100k_row_transaction_streams_in_bounded_memory(cdc: Cdc) -> None:
    cdc.sql("CREATE DATABASE IF NOT EXISTS seq")
    start = cdc.position()
    cdc.sql(f"INSERT INTO cdc_t.items SELECT seq, CONCAT('item number ', seq), seq FROM seq.seq_1_to_{ROWS}")

    streamed = read_in_child(cdc, str(start), keep=False)
    assert (streamed["changes"], streamed["commits"]) == (ROWS, 1)
    assert streamed["growth_mb"] < 15, streamed

    held = read_in_child(cdc, str(start), keep=True)  # the same read holding every change
    assert held["growth_mb"] > 35, held  # so the 15 MB bound above is a real measurement
