"""Parsing of the CDC task options, the RecoverableError backoff, and finding positions from a time
or a GTID on the real sandbox."""

from __future__ import annotations

import datetime as dt

import pytest

from dersonlake.errors import BadInput, OperationFailed
from dersonlake.replication import status
from dersonlake.replication.cdc_options import parse_start, parse_stop, resolve_start
from dersonlake.replication.recoverable import Backoff
from dersonlake.sources.mysql.binlog_position import BinlogPosition, current_position
from dersonlake.sources.mysql.binlog_seek import position_after_gtid, position_at_time


def test_start_position_forms():
    assert parse_start("mysql-bin.000003:1234", None).position == BinlogPosition("mysql-bin.000003", 1234)
    dms = "checkpoint:V1#27#mysql-bin-changelog.157832:1975:-1:2002:677883278264080:mysql-bin-changelog.157832:1876#0#0#*#0#93"
    assert parse_start(dms, None).position == BinlogPosition("mysql-bin-changelog.157832", 1975)
    assert parse_start("0-1-42", None).gtid == "0-1-42"
    assert parse_start("2018-03-08T12:12:12", None).time == dt.datetime(2018, 3, 8, 12, 12, 12, tzinfo=dt.UTC)
    assert parse_start(None, "2018-03-08T14:12:12+02:00").time == dt.datetime(
        2018, 3, 8, 12, 12, 12, tzinfo=dt.UTC
    )
    assert parse_start(None, None) is None


@pytest.mark.parametrize(
    ("position", "time", "message"),
    [
        ("mysql-bin.000003:1", "2018-03-08T12:12:12", "exclude each other"),
        ("mysql-bin:12", None, "not a CDC start position"),
        ("checkpoint:V1#x", None, "not a DMS checkpoint"),
        (None, "soon", "not a time"),
    ],
)
def test_bad_start_options_name_the_option(position, time, message):
    with pytest.raises(BadInput, match=message) as err:
        parse_start(position, time)
    assert "CdcStart" in str(err.value)


def test_stop_positions_and_their_stop_reasons():
    server = parse_stop("server_time:2026-11-25T10:00:00")
    commit = parse_stop("commit_time:2026-11-25T10:00:00Z")
    assert (server.kind, server.stop_reason) == ("server_time", status.STOP_AT_SERVER_TIME)
    assert (commit.kind, commit.stop_reason) == ("commit_time", status.STOP_AT_COMMIT_TIME)
    assert str(commit) == "commit_time:2026-11-25T10:00:00"
    assert parse_stop(None) is None
    for bad in ("2026-11-25T10:00:00", "local_time:2026-11-25T10:00:00", "server_time:"):
        with pytest.raises(BadInput, match="CdcStopPosition"):
            parse_stop(bad)


def test_backoff_doubles_to_the_cap_and_stops_as_the_settings_say():
    assert [Backoff(5, 5, True, 1800, True).wait(n) for n in range(1, 7)] == [5, 10, 20, 40, 80, None]
    assert [Backoff(-1, 5, True, 20, True).wait(n) for n in range(1, 6)] == [5, 10, 20, None, None]
    assert [Backoff(-1, 5, True, 20, False).wait(n) for n in range(1, 6)] == [5, 10, 20, 20, 20]
    assert [Backoff(2, 3, False, 20, True).wait(n) for n in range(1, 4)] == [3, 3, None]
    assert Backoff(0, 5, True, 20, True).wait(1) is None  # 0: never restart


def test_a_time_older_than_every_binlog_is_a_purge_error(shop_params):
    with pytest.raises(OperationFailed, match="purged"):
        position_at_time(shop_params, dt.datetime(2000, 1, 1))


def test_a_future_time_or_the_newest_gtid_start_now(shop_params, admin):
    now = current_position(shop_params)
    assert position_at_time(shop_params, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)) >= now
    with admin.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.gtid_binlog_pos")
        newest = cur.fetchone()[0]
    assert position_after_gtid(shop_params, newest) >= now
    assert resolve_start(shop_params, parse_start(newest, None)) >= now


def test_an_unknown_gtid_is_an_error(shop_params):
    with pytest.raises(OperationFailed, match="not in the binlogs"):
        position_after_gtid(shop_params, "0-1-999999999")
    with pytest.raises(BadInput, match="not a MariaDB GTID"):
        position_after_gtid(shop_params, "0-1")
