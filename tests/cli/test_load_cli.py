"""``derson-lake load``, ``owners check`` and ``lake tables`` as a user runs them: exit codes, one-line
errors without tracebacks, progress lines when stderr is not a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dersonlake.sandbox.seed import seed
from tests.replication.conftest import write_owner


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DERSON_HOME": str(home / ".derson")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "dersonlake",
            *args,
            *(
                ["--owners-dir", str(home / "owners")]
                if args[0] in ("load", "lake", "owners") and args[1:2] != ("list",)
                else []
            ),
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=home,
        timeout=300,
    )


def test_load_then_reload_then_resume(sandbox, tmp_path):
    write_owner(tmp_path, sandbox)
    first = cli(tmp_path, "load", "acme")
    assert first.returncode == 0, first.stderr
    assert "acme: 6 table(s) loaded" in first.stdout and "(start-replication)" in first.stdout
    assert "shop.orders: wrote shop/orders/LOAD00000001.parquet" in first.stderr  # one line per file
    assert "shop.orders: Table completed" in first.stderr
    again = cli(tmp_path, "load", "acme")
    assert again.returncode == 0 and "(reload-target)" in again.stdout
    resumed = cli(tmp_path, "load", "acme", "--resume")
    assert resumed.returncode == 0 and "0 rows" not in resumed.stdout.split("table(s)")[0]
    tables = cli(tmp_path, "lake", "tables", "acme")
    assert tables.returncode == 0
    assert any(line.startswith("shop.orders ") for line in tables.stdout.splitlines())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("load", "nobody"), r"unknown owner 'nobody'"),
        (("load", "acme", "--resume"), r"owner acme has no earlier run to resume"),
        (("load", "acme", "--resume", "--reload"), r"--resume and --reload exclude each other"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(sandbox, tmp_path, args, message):
    write_owner(tmp_path, sandbox)
    done = cli(tmp_path, *args)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert __import__("re").search(message, done.stderr), done.stderr


def test_malformed_mapping_exits_2_naming_file_and_json_path(sandbox, tmp_path):
    bad = {
        "rules": [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "a",
                "rule-action": "include",
                "object-locator": {"schema-name": "shop", "table-name": "orders"},
                "filters": [
                    {
                        "filter-type": "source",
                        "column-name": "id",
                        "filter-conditions": [{"filter-operator": "gt", "value": "1"}],
                    }
                ],
            }
        ]
    }
    folder = write_owner(tmp_path, sandbox, mapping=bad)
    for command in (("load", "acme"), ("owners", "check", "acme")):
        done = cli(tmp_path, *command)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert str(folder / "mapping.json") in done.stderr
        assert "rules[0].filters[0].filter-conditions[0].filter-operator" in done.stderr
        assert "did you mean 'gte'" in done.stderr


def test_suspended_table_exits_1_and_names_it(sandbox, tmp_path):
    mapping = {
        "rules": [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "a",
                "rule-action": "include",
                "object-locator": {"schema-name": "shop", "table-name": "orders"},
            },
            {
                "rule-type": "transformation",
                "rule-id": "2",
                "rule-name": "b",
                "rule-target": "column",
                "rule-action": "change-data-type",
                "object-locator": {"schema-name": "shop", "table-name": "orders", "column-name": "status"},
                "data-type": {"type": "int4"},
            },
        ]
    }
    write_owner(
        tmp_path, sandbox, mapping=mapping, settings={"ErrorBehavior": {"DataErrorPolicy": "SUSPEND_TABLE"}}
    )
    done = cli(tmp_path, "load", "acme")
    assert done.returncode == 1
    assert "1 table(s) suspended (Table error): shop.orders:" in done.stderr
    assert "Traceback" not in done.stderr


def test_owners_check_prints_preflight_and_plan(sandbox, tmp_path):
    write_owner(tmp_path, sandbox)
    done = cli(tmp_path, "owners", "check", "acme")
    assert done.returncode == 0, done.stderr
    assert (
        "[ok] privilege_select" in done.stdout and "binlog_format" not in done.stdout
    )  # full-load: no binlog needed
    assert "shop.orders -> shop.orders" in done.stdout
    assert sandbox.password not in done.stdout + done.stderr


def test_owners_check_exits_1_with_the_fix_when_the_binlog_is_not_row(sandbox_factory, tmp_path):
    box = sandbox_factory("statement", server_args=("--binlog-format=STATEMENT",))
    with box.admin_connection() as conn:
        seed(conn, rows=100)
    folder = write_owner(tmp_path, box)
    doc = (
        (folder / "owner.yaml")
        .read_text()
        .replace("migration_type: full-load", "migration_type: full-load-and-cdc")
    )
    (folder / "owner.yaml").write_text(doc)
    done = cli(tmp_path, "owners", "check", "acme")
    assert done.returncode == 1
    assert "SET GLOBAL binlog_format = 'ROW';" in done.stdout
    assert "preflight check(s) failed" in done.stderr


def test_unreachable_source_exits_1(sandbox_factory, tmp_path):
    box = sandbox_factory("down")
    write_owner(tmp_path, box)
    box.stop()
    done = cli(tmp_path, "load", "acme")
    assert done.returncode == 1
    assert f"127.0.0.1:{box.port}" in done.stderr and "Traceback" not in done.stderr


def test_owners_list(sandbox, tmp_path):
    write_owner(tmp_path, sandbox)
    env = {**os.environ, "DERSON_HOME": str(tmp_path / ".derson")}
    done = subprocess.run(
        [sys.executable, "-m", "dersonlake", "owners", "list", "--owners-dir", str(tmp_path / "owners")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.startswith("acme ")


def test_lake_show_prints_the_current_state_and_writes_csv(sandbox, tmp_path, admin):
    write_owner(
        tmp_path,
        sandbox,
        s3={"DataFormat": "parquet", "IncludeOpForFullLoad": True, "TimestampColumnName": "ts"},
    )
    assert cli(tmp_path, "load", "acme").returncode == 0
    shown = cli(tmp_path, "lake", "show", "acme", "shop.customers", "--limit", "2")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].split("\t")[:2] == ["id", "first_name"] and "Op" not in lines[0] and "ts" not in lines[0]
    assert lines[-1] == "(100 rows, 2 shown)"
    out = tmp_path / "customers.csv"
    assert (
        cli(
            tmp_path, "lake", "show", "acme", "shop.customers", "--format", "csv", "--out", str(out)
        ).returncode
        == 0
    )
    with admin.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM shop.customers")
        (count,) = cur.fetchone()
    assert len(out.read_text().splitlines()) == count + 1  # header + rows
    missing = cli(tmp_path, "lake", "show", "acme", "shop.custmers")
    assert missing.returncode == 2 and "did you mean 'shop.customers'" in missing.stderr


def test_delta_first_loads_then_captures_changes_and_a_second_delta_writes_nothing(sandbox, tmp_path, admin):
    mapping = {
        "rules": [
            {
                "rule-type": "selection",
                "rule-id": "1",
                "rule-name": "c",
                "rule-action": "include",
                "object-locator": {"schema-name": "shop", "table-name": "customers"},
            }
        ]
    }
    write_owner(tmp_path, sandbox, mapping=mapping)
    first = cli(tmp_path, "load", "acme", "--delta")
    assert first.returncode == 0, first.stderr
    assert "full load 100 rows" in first.stdout and "CDC starts here" in first.stdout
    with admin.cursor() as cur:  # the session sandbox is shared: the emails are put back at the end
        cur.execute("SELECT id, email FROM shop.customers WHERE id IN (1, 2)")
        original = cur.fetchall()
        cur.execute(
            "UPDATE shop.customers SET email = CONCAT('changed-', id, '@example.com') WHERE id IN (1, 2)"
        )
    try:
        second = cli(tmp_path, "load", "acme", "--delta")
        assert second.returncode == 0, second.stderr
        assert "delta 2 change(s)" in second.stdout and "in 1 file(s)" in second.stdout
        third = cli(tmp_path, "load", "acme", "--delta")
        assert "delta 0 change(s)" in third.stdout and "in 0 file(s)" in third.stdout
        shown = cli(tmp_path, "lake", "show", "acme", "shop.customers", "--limit", "2")
        email = shown.stdout.splitlines()[0].split("\t").index("email")
        emails = [line.split("\t")[email] for line in shown.stdout.splitlines()[1:3]]
        assert emails == ["changed-1@example.com", "changed-2@example.com"]
    finally:
        with admin.cursor() as cur:
            cur.executemany(
                "UPDATE shop.customers SET email = %s WHERE id = %s", [(e, i) for i, e in original]
            )
