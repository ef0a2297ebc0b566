"""Malformed input, table-driven: every case ends with a clear one-line error naming the file, key or
argument (exit 2; 1 where the operation itself failed), no traceback, nothing half-written.

Each case is a real ``python -m dersonlake`` process on a real owner folder (the session sandbox
behind it), broken the way a user or an attacker would break it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.replication.conftest import ALL_SHOP, write_owner

ROOT = Path(__file__).resolve().parents[2]
DEEP = 100_000


@dataclass(frozen=True)
class Case:
    """``setup(owner folder, tmp)`` breaks something; ``args`` run; ``code`` and ``message`` expected."""

    name: str
    args: tuple[str, ...]
    code: int
    message: str  # a regular expression searched in stderr
    setup: Callable[[Path, Path], None] = lambda folder, tmp: None
    env: tuple[tuple[str, str], ...] = ()


def edit_yaml(change: Callable[[dict], None]) -> Callable[[Path, Path], None]:
    def setup(folder: Path, tmp: Path) -> None:
        doc = yaml.safe_load((folder / "owner.yaml").read_text())
        change(doc)
        (folder / "owner.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True))

    return setup


def write(name: str, data: bytes) -> Callable[[Path, Path], None]:
    def setup(folder: Path, tmp: Path) -> None:
        (folder / name).write_bytes(data)

    return setup


def directory(name: str) -> Callable[[Path, Path], None]:
    def setup(folder: Path, tmp: Path) -> None:
        (folder / name).unlink()
        (folder / name).mkdir()

    return setup


def long_rule_id(folder: Path, tmp: Path) -> None:
    rules = json.loads(json.dumps(ALL_SHOP))
    rules["rules"][0]["rule-id"] = "9" * 5000
    (folder / "mapping.json").write_text(json.dumps(rules))


def set_source(**values: object) -> Callable[[Path, Path], None]:
    return edit_yaml(lambda doc: doc["source"].update(values))


def lake_is_a_file(folder: Path, tmp: Path) -> None:
    (tmp / "lake-file").write_text("not a folder")
    edit_yaml(lambda doc: doc["target"].update(uri=str(tmp / "lake-file")))(folder, tmp)


def unwritable_lake(folder: Path, tmp: Path) -> None:
    # /sys refuses new folders even to root: a lake that cannot be written, for real
    edit_yaml(lambda doc: doc["target"].update(uri="/sys/derson-lake-test"))(folder, tmp)


def out_dir(folder: Path, tmp: Path) -> None:
    (tmp / "out-dir").mkdir()


NEST = b"[" * DEEP + b"]" * DEEP
CASES = [
    # owner.yaml
    Case("owner.yaml invalid UTF-8", ("owners", "check", "acme"), 2, r"owner\.yaml: not valid UTF-8",
         write("owner.yaml", b"source:\n  engine: mariadb\n  host: \xff\xfe\n")),
    Case("owner.yaml host not IDNA (label > 63)", ("owners", "check", "acme"), 2,
         r"owner\.yaml: source\.host: not a valid host name", set_source(host="a" * 64 + ".example")),
    Case("owner.yaml host with spaces", ("owners", "check", "acme"), 2,
         r"owner\.yaml: source\.host: not a valid host name", set_source(host="db server.example")),
    Case("owner.yaml host empty label", ("owners", "check", "acme"), 2,
         r"owner\.yaml: source\.host: not a valid host name", set_source(host="db..example")),
    Case("connect_timeout -3", ("owners", "check", "acme"), 2,
         r"source\.connect_timeout: a timeout must be between 1 and", set_source(connect_timeout=-3)),
    Case("connect_timeout 0", ("owners", "check", "acme"), 2,
         r"source\.connect_timeout: a timeout must be between 1 and", set_source(connect_timeout=0)),
    Case("read_timeout a string", ("owners", "check", "acme"), 2,
         r"source\.read_timeout: expected seconds as an integer", set_source(read_timeout="soon")),
    Case("databases: []", ("owners", "check", "acme"), 2,
         r"source\.databases: list at least one database", set_source(databases=[])),
    # mapping.json / task_settings.json
    Case("mapping.json a directory", ("owners", "check", "acme"), 2,
         r"mapping\.json: .*is a directory", directory("mapping.json")),
    Case("task_settings.json a directory", ("owners", "check", "acme"), 2,
         r"task_settings\.json: .*is a directory", directory("task_settings.json")),
    Case("mapping.json invalid UTF-8", ("owners", "check", "acme"), 2,
         r"mapping\.json: not valid UTF-8", write("mapping.json", b'{"rules": ["\xff"]}')),
    Case("task_settings.json invalid UTF-8", ("owners", "check", "acme"), 2,
         r"task_settings\.json: not valid UTF-8", write("task_settings.json", b'{"Logging": "\xc3"}')),
    Case("mapping.json nested 100k deep", ("owners", "check", "acme"), 2,
         r"mapping\.json: .*nested too deeply", write("mapping.json", NEST)),
    Case("task_settings.json nested 100k deep", ("owners", "check", "acme"), 2,
         r"task_settings\.json: .*nested too deeply", write("task_settings.json", b'{"a":' + NEST + b"}")),
    Case("5,000-digit rule-id", ("owners", "check", "acme"), 2,
         r"mapping\.json: rules\[0\]\.rule-id: .*too long", long_rule_id),
    # command-line arguments
    Case("run --endpoint-url not a url", ("run", "acme", "--endpoint-url", "not a url"), 2,
         r"--endpoint-url: not an http\(s\) URL"),
    Case("run --time-scale -1", ("run", "acme", "--time-scale", "-1"), 2, r"--time-scale"),
    Case("run --time-scale nan", ("run", "acme", "--time-scale", "nan"), 2, r"--time-scale"),
    Case("run --timeout -5", ("run", "acme", "--timeout", "-5"), 2, r"--timeout"),
    Case("run --timeout nan", ("run", "acme", "--timeout", "nan"), 2, r"--timeout"),
    Case("serve --port 99999", ("serve", "--port", "99999"), 2, r"--port must be 0 .* to 65535"),
    Case("serve --db a directory", ("serve", "--port", "0", "--db", "{tmp}"), 2, r"--db names a directory"),
    Case("serve --lambda nosuch.module", ("serve", "--port", "0", "--lambda", "X=nosuch.module:fn"), 2,
         r"--lambda: cannot import the handler: No module named 'nosuch' \(got 'X=nosuch\.module:fn'\)"),
    Case("serve --lambda no function", ("serve", "--port", "0", "--lambda", "X=dersonlake.errors:nofn"), 2,
         r"dersonlake\.errors has no function 'nofn'"),
    Case("lake show --out a directory", ("lake", "show", "acme", "shop.orders", "--out", "{tmp}/out-dir"), 2,
         r"--out .*is a directory", out_dir),
    Case("executions describe not-an-arn", ("executions", "describe", "not-an-arn"), 2,
         r"not an execution ARN"),
    Case("executions history not-an-arn", ("executions", "history", "not-an-arn"), 2,
         r"not an execution ARN"),
    Case("DERSON_HOME is a file", ("status",), 2, r"DERSON_HOME.*/etc/passwd.*not a folder",
         env=(("DERSON_HOME", "/etc/passwd"),)),
    # the lake cannot be written: the operation fails (1), with one line
    Case("stream on an unwritable lake", ("stream", "acme"), 1,
         r"/sys/derson-lake-test is not writable", unwritable_lake),
    Case("load into a lake that is a file", ("load", "acme"), 1,
         r"lake-file", lake_is_a_file),
]  # fmt: skip


def derson(tmp: Path, args: tuple[str, ...], env: tuple[tuple[str, str], ...]) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "DERSON_HOME": str(tmp / ".derson"),
        "DERSON_OWNERS_DIR": str(tmp / "owners"),
        **dict(env),
    }
    environment.pop("DERSON_LAMBDAS", None)
    return subprocess.run(
        [sys.executable, "-m", "dersonlake", *(a.replace("{tmp}", str(tmp)) for a in args)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, sandbox) -> None:
    folder = write_owner(tmp_path, sandbox, name="acme")
    (folder / "task_settings.json").write_text("{}")
    case.setup(folder, tmp_path)
    done = derson(tmp_path, case.args, case.env)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    assert done.returncode == case.code, output
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and re.search(case.message, errors[0]), done.stderr  # one clear line
    assert not list((tmp_path / "lake").rglob("*.parquet")), "nothing half-written"
