"""The preflight warning of issue #4 item 8: binlog retention shorter than the full load may take.

A full-load-and-cdc task starts CDC at a position recorded before the load; if the binlog from
there is purged while the load runs, the task has to reload. ``owners check`` warns (exit 0).
"""

from __future__ import annotations

from dersonlake.sandbox.seed import seed
from dersonlake.sources.mysql.preflight import (
    ESTIMATE_BYTES_PER_SECOND,
    ESTIMATE_ROWS_PER_SECOND,
    check_load_time,
)
from tests.cli.test_load_cli import cli
from tests.replication.conftest import write_owner

CHECK = "binlog_retention_vs_full_load"


def _cdc_owner(tmp_path, box) -> None:
    folder = write_owner(tmp_path, box)
    doc = (folder / "owner.yaml").read_text()
    (folder / "owner.yaml").write_text(
        doc.replace("migration_type: full-load", "migration_type: full-load-and-cdc")
    )


def test_short_retention_warns_in_owners_check(sandbox_factory, tmp_path):
    box = sandbox_factory("short", server_args=("--binlog-expire-logs-seconds=10",))
    with box.admin_connection() as conn:
        seed(conn, rows=100)
        with conn.cursor() as cur:
            # ~120k rows of 300 bytes: at the documented conservative rates that is a full load of
            # several seconds, more than half the 10 s retention.
            cur.execute(
                "CREATE TABLE shop.big (id INT PRIMARY KEY, pad VARCHAR(300)) "
                "SELECT seq AS id, REPEAT('x', 300) AS pad FROM seq_1_to_120000"
            )
            cur.execute("ANALYZE TABLE shop.big")
            cur.fetchall()
        conn.commit()
    _cdc_owner(tmp_path, box)
    done = cli(tmp_path, "owners", "check", "acme")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"[warning] {CHECK}: binlogs are kept only 10 s" in done.stdout, done.stdout
    assert "SET GLOBAL binlog_expire_logs_seconds = 86400;" in done.stdout
    assert "binlog_expire_logs_seconds = 86400" in done.stdout  # the my.cnf line
    assert "mysql.rds_set_configuration('binlog retention hours', 24)" in done.stdout


def test_default_retention_does_not_warn(sandbox, tmp_path):
    _cdc_owner(tmp_path, sandbox)
    done = cli(tmp_path, "owners", "check", "acme")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"[ok] {CHECK}: binlogs are kept" in done.stdout, done.stdout
    assert f"[warning] {CHECK}" not in done.stdout


def test_full_load_only_owner_has_no_retention_check(sandbox, tmp_path):
    write_owner(tmp_path, sandbox)
    done = cli(tmp_path, "owners", "check", "acme")
    assert done.returncode == 0, done.stdout + done.stderr
    assert CHECK not in done.stdout


def test_the_estimate_takes_the_slower_of_rows_and_bytes():
    one_hour_of_rows = ESTIMATE_ROWS_PER_SECOND * 3600
    # 1 h by rows, ~0 by bytes: retention 1.5 h < 2 h warns, 2 h does not, 0 (never purged) does not.
    assert check_load_time(5400, one_hour_of_rows, 0).status == "warning"
    assert check_load_time(7200, one_hour_of_rows, 0).status == "ok"
    assert check_load_time(0, one_hour_of_rows, 0).status == "ok"
    # 1 h by bytes, few rows.
    assert check_load_time(5400, 10, ESTIMATE_BYTES_PER_SECOND * 3600).status == "warning"
    warned = check_load_time(5400, one_hour_of_rows, 0)
    assert warned.fix_sql == "SET GLOBAL binlog_expire_logs_seconds = 86400;"
    # a load estimated at 2 days asks for more than the 1-day floor
    two_days = check_load_time(86400, ESTIMATE_ROWS_PER_SECOND * 2 * 86400, 0)
    assert two_days.fix_sql == f"SET GLOBAL binlog_expire_logs_seconds = {4 * 86400 + 1};"
    assert "'binlog retention hours', 97)" in two_days.message
