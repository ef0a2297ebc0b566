"""``derson-lake binlog dump`` as a user runs it: every recorded MySQL 8/9 fixture file, one JSON
line per change, the same with the compiled and the pure-Python row decoder; bad files exit 2
with one line naming the file and offset, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dersonlake.sources.mysql.binlog_dump import dump_changes

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mysql8-binlogs"
FILES = sorted(p for p in FIXTURES.iterdir() if p.suffix != ".md" and not p.name.startswith("LICENSE"))


def dump(*args: str, pure: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "DERSONLAKE_PURE_PYTHON": "1" if pure else "0"}
    return subprocess.run(
        [sys.executable, "-m", "dersonlake", "binlog", "dump", *args],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("pure", [False, True], ids=["compiled", "pure-python"])
def test_every_fixture_file_dumps_as_json_lines(pure: bool) -> None:
    done = dump(*map(str, FILES[:1]), pure=pure)  # one file alone, then all together
    assert done.returncode == 0, done.stderr
    done = dump(*map(str, FILES), pure=pure)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    expected = [json.loads(json.dumps(r, default=str)) for path in FILES for r in dump_changes([path])]
    assert lines == expected
    assert len(lines) == 46  # 3 + 1 + 8 + 18 + 1 + 3 + 1 + 1 + 10, file by file
    assert {(r["schema"], r["table"]) for r in lines} >= {("test", "tb1"), ("test", "orders"), ("dtb", "bar")}
    tagged = next(r for r in lines if r["table"] == "orders")
    assert (
        tagged["gtid"] == "55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3" and tagged["after"]["@3"] == "250.00"
    )


def test_table_filter_and_positions() -> None:
    path = str(FIXTURES / "mysql-enum-string-set.000001")
    done = dump(path, "--table", "mysql.t", "--start-position", "1560", "--stop-position", "2659")
    assert done.returncode == 0, done.stderr
    [line] = [json.loads(x) for x in done.stdout.splitlines()]
    assert line["op"] == "U" and line["after"]["f3"] == "variant2"


def test_bad_files_exit_2_naming_file_and_offset(tmp_path: Path) -> None:
    cut = tmp_path / "cut.000001"
    cut.write_bytes((FIXTURES / "vector.binlog").read_bytes()[:300])
    done = dump(str(cut))
    assert done.returncode == 2
    assert done.stderr.startswith("error: cut.000001:235: file ends inside an event"), done.stderr
    assert "Traceback" not in done.stderr
    not_binlog = tmp_path / "notes.txt"
    not_binlog.write_text("hello")
    done = dump(str(not_binlog))
    assert done.returncode == 2 and "not a binlog file" in done.stderr
    done = dump(str(tmp_path / "missing.000001"))
    assert done.returncode == 2 and "no such binlog file" in done.stderr
    done = dump(str(FIXTURES / "vector.binlog"), "--table", "nodot")
    assert done.returncode == 2 and "--table takes schema.table" in done.stderr
