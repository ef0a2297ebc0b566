"""The CDC task options on the CLI (DMS StartReplicationTask semantics, dms.md §4.2, §5.3):
``--cdc-start-position`` in every form, ``--cdc-start-time``, ``--cdc-stop-position`` with its stop
reasons, migration type ``cdc`` (no full load), and clear errors for bad values."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from dersonlake.replication import status
from dersonlake.sources.mysql.binlog_position import current_position
from tests.cli.stream_helpers import cdc_rows, cli, lake_state, make_owner, source_rows, start_stream, task

TABLE = "opt_items"


@pytest.fixture
def opt_items(admin):
    with admin.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS shop.{TABLE}")
        cur.execute(f"CREATE TABLE shop.{TABLE} (id INT PRIMARY KEY, name VARCHAR(20), qty INT)")
    yield
    with admin.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS shop.{TABLE}")


def insert(admin, *ids: int) -> None:
    with admin.cursor() as cur:
        for i in ids:
            cur.execute(f"INSERT INTO shop.{TABLE} VALUES (%s, %s, %s)", (i, f"n{i}", i))


def next_second() -> dt.datetime:
    """Wait into the next whole second and return it: binlog times have second precision."""
    now = time.time()
    time.sleep(int(now) + 1 - now + 0.05)
    return dt.datetime.fromtimestamp(int(now) + 1, dt.UTC)


def gtid_pos(admin) -> str:
    with admin.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.gtid_binlog_pos")
        return cur.fetchone()[0]


@pytest.mark.parametrize("form", ["file:pos", "checkpoint", "gtid", "time", "time-option"])
def test_cdc_starts_at_the_given_point_without_a_full_load(
    sandbox, shop_params, tmp_path, admin, opt_items, form
):
    make_owner(tmp_path, sandbox, TABLE, migration_type="cdc")
    insert(admin, 1, 2)  # before the start point: not captured
    if form in ("time", "time-option"):
        start = next_second().strftime("%Y-%m-%dT%H:%M:%S")
    elif form == "gtid":
        start = gtid_pos(admin)
    else:
        start = str(current_position(shop_params))
        if form == "checkpoint":  # the shape of DMS's RecoveryCheckpoint
            start = f"checkpoint:V1#27#{start}:-1:2002:677883278264080:{start}#0#0#*#0#93"
    insert(admin, 3, 4)
    option = "--cdc-start-time" if form == "time-option" else "--cdc-start-position"
    done = cli(tmp_path, "load", "acme", "--delta", option, start)
    assert done.returncode == 0, done.stderr
    assert "full load" not in done.stdout
    assert [r["id"] for r in cdc_rows(tmp_path, TABLE)] == [3, 4]
    assert not any("LOAD" in p.name for p in (tmp_path / "lake").rglob("*"))
    row = task(tmp_path)
    assert row["migration_type"] == "cdc" and row["cdc_start_position"]
    again = cli(tmp_path, "load", "acme", "--delta")  # from the checkpoint: nothing new
    assert again.returncode == 0 and "delta 0 change(s)" in again.stdout


def test_commit_time_stop_ends_the_stream_before_later_commits_and_loses_nothing(
    sandbox, shop_params, tmp_path, admin, opt_items
):
    make_owner(tmp_path, sandbox, TABLE, migration_type="cdc")
    begin = str(current_position(shop_params))
    insert(admin, 1, 2)
    stop_at = dt.datetime.fromtimestamp(int(time.time()), dt.UTC)  # 1 and 2 committed at or before it
    next_second()
    insert(admin, 3)  # committed after the stop time
    proc = start_stream(tmp_path, "--cdc-start-position", begin, "--cdc-stop-position",
                        f"commit_time:{stop_at:%Y-%m-%dT%H:%M:%S}")  # fmt: skip
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert status.STOP_AT_COMMIT_TIME in out
    assert [r["id"] for r in cdc_rows(tmp_path, TABLE)] == [1, 2]
    row = task(tmp_path)
    assert row["stop_reason"] == status.STOP_AT_COMMIT_TIME
    assert row["cdc_stop_position"] == f"commit_time:{stop_at:%Y-%m-%dT%H:%M:%S}"
    later = cli(tmp_path, "load", "acme", "--delta")  # continues at the transaction it stopped before
    assert later.returncode == 0, later.stderr
    assert lake_state(tmp_path, TABLE) == source_rows(admin, TABLE)
    assert [r["id"] for r in cdc_rows(tmp_path, TABLE)] == [1, 2, 3]


def test_server_time_stop_ends_an_idle_stream(sandbox, tmp_path, admin, opt_items):
    make_owner(tmp_path, sandbox, TABLE, migration_type="cdc")
    when = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)
    proc = start_stream(tmp_path, "--cdc-stop-position", f"server_time:{when:%Y-%m-%dT%H:%M:%S}")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert status.STOP_AT_SERVER_TIME in out
    row = task(tmp_path)
    assert (row["status"], row["stop_reason"]) == (status.STOPPED, status.STOP_AT_SERVER_TIME)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--cdc-start-position", "mysql-bin.000001:4", "--cdc-start-time", "2026-01-01T00:00:00"),
         "--cdc-start-position and --cdc-start-time exclude each other"),
        (("--cdc-start-position", "somewhere"), "--cdc-start-position: not a CDC start position"),
        (("--cdc-start-position", "checkpoint:V1#garbage"), "not a DMS checkpoint"),
        (("--cdc-start-time", "yesterday"), "--cdc-start-time: not a time"),
        (("--cdc-stop-position", "later"), "--cdc-stop-position: not a CDC stop position"),
        (("--cdc-stop-position", "commit_time:noon"), "--cdc-stop-position: not a time"),
    ],
)  # fmt: skip
def test_bad_cdc_options_exit_2_with_one_line_naming_the_option(sandbox, tmp_path, args, message):
    make_owner(tmp_path, sandbox, TABLE)
    for command in (("load", "acme", "--delta"), ("stream", "acme")):
        done = cli(tmp_path, *command, *args)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr and "Traceback" not in done.stderr


def test_cdc_options_without_delta_are_refused(sandbox, tmp_path):
    make_owner(tmp_path, sandbox, TABLE)
    done = cli(tmp_path, "load", "acme", "--cdc-start-time", "2026-01-01T00:00:00")
    assert done.returncode == 2 and "go with --delta" in done.stderr


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        ("StopTaskCachedChangesNotApplied", status.STOP_AFTER_FULL_LOAD),
        ("StopTaskCachedChangesApplied", status.STOP_AFTER_CACHED_EVENTS),
    ],
)
def test_stop_after_the_full_load_settings_stop_the_first_run_and_the_next_goes_on(
    sandbox, tmp_path, admin, opt_items, setting, reason
):
    insert(admin, 1)
    make_owner(tmp_path, sandbox, TABLE, settings={"FullLoadSettings": {setting: True}})
    first = start_stream(tmp_path)  # would stream forever; the setting stops it after the load
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    assert reason in out and "full load 1 rows" in out
    assert task(tmp_path)["stop_reason"] == reason
    insert(admin, 2)
    later = cli(tmp_path, "load", "acme", "--delta")
    assert later.returncode == 0, later.stderr
    assert lake_state(tmp_path, TABLE) == source_rows(admin, TABLE)
    assert [r["id"] for r in cdc_rows(tmp_path, TABLE)] == [2]
