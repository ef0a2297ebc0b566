"""Replication preflight: the sandbox passes; broken settings and privileges come with their fix."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dersonlake.errors import SourceNotReady
from dersonlake.sources.mysql import preflight, require_ready
from dersonlake.sources.mysql.connection import ConnectionParams
from dersonlake.sources.mysql.preflight import check_privileges, parse_grants


def _by_check(findings):
    return {f.check: f for f in findings}


def test_sandbox_is_ready(shop_params) -> None:
    findings = preflight(shop_params)
    assert [f for f in findings if not f.ok] == []
    assert {
        "server_version", "log_bin", "binlog_format", "binlog_row_image", "binlog_row_metadata",
        "binlog_retention", "binlog_checksum", "privilege_select", "privilege_replication_client",
        "privilege_replication_slave",
    } <= set(_by_check(findings))  # fmt: skip
    require_ready(findings, "sandbox")  # no exception


@pytest.fixture
def broken_globals(admin) -> Iterator[None]:
    """Wrong binlog settings on the session sandbox, restored afterwards."""
    names = ("binlog_format", "binlog_row_image", "binlog_row_metadata", "expire_logs_days")
    with admin.cursor() as cur:
        cur.execute(f"SELECT {', '.join(f'@@GLOBAL.{n}' for n in names)}")
        saved = dict(zip(names, cur.fetchone(), strict=True))
        cur.execute(
            "SET GLOBAL binlog_format = 'STATEMENT', GLOBAL binlog_row_image = 'MINIMAL', "
            "GLOBAL binlog_row_metadata = 'MINIMAL', GLOBAL expire_logs_days = 0"
        )
    try:
        yield
    finally:
        with admin.cursor() as cur:
            for name, value in saved.items():
                cur.execute(f"SET GLOBAL {name} = %s", (value,))


def test_wrong_binlog_settings_come_with_fixes(shop_params, broken_globals) -> None:
    found = _by_check(preflight(shop_params))
    fmt = found["binlog_format"]
    assert fmt.status == "error" and "STATEMENT" in fmt.message
    assert fmt.fix_sql == "SET GLOBAL binlog_format = 'ROW';" and fmt.fix_cnf == "binlog_format = ROW"
    assert found["binlog_row_image"].fix_sql == "SET GLOBAL binlog_row_image = 'FULL';"
    assert found["binlog_row_metadata"].fix_cnf == "binlog_row_metadata = FULL"
    retention = found["binlog_retention"]
    assert retention.status == "warning" and retention.fix_sql == "SET GLOBAL expire_logs_days = 7;"
    with pytest.raises(SourceNotReady) as info:
        require_ready(list(found.values()), "shop-db")
    assert info.value.exit_code == 1
    assert "SET GLOBAL binlog_format = 'ROW';" in str(info.value) and "binlog_retention" not in str(
        info.value
    )


def test_full_load_only_needs_no_binlog(shop_params, broken_globals) -> None:
    findings = preflight(shop_params, cdc=False)
    assert {f.check for f in findings} == {"server_version", "privilege_select"}
    assert all(f.ok for f in findings)


def test_short_retention_warns(shop_params, admin) -> None:
    with admin.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.binlog_expire_logs_seconds")
        saved = cur.fetchone()[0]
        cur.execute("SET GLOBAL binlog_expire_logs_seconds = 3600")
    try:
        retention = _by_check(preflight(shop_params))["binlog_retention"]
        assert retention.status == "warning" and "1 hours" in retention.message
    finally:
        with admin.cursor() as cur:
            cur.execute("SET GLOBAL binlog_expire_logs_seconds = %s", (saved,))


def test_missing_privileges_name_the_grant(sandbox, admin) -> None:
    with admin.cursor() as cur:
        cur.execute("CREATE OR REPLACE USER 'reader'@'%' IDENTIFIED BY 'Reader-Pw-1'")
        cur.execute("GRANT SELECT ON shop.* TO 'reader'@'%'")
    try:
        params = ConnectionParams(host="127.0.0.1", port=sandbox.port, user="reader", password="Reader-Pw-1")
        found = _by_check(preflight(params, schemas=["shop"]))
        assert found["privilege_select"].ok
        slave = found["privilege_replication_slave"]
        assert slave.status == "error" and slave.fix_sql == "GRANT REPLICATION SLAVE ON *.* TO 'reader'@'%';"
        assert (
            found["privilege_replication_client"].fix_sql
            == "GRANT REPLICATION CLIENT ON *.* TO 'reader'@'%';"
        )

        other = _by_check(preflight(params, schemas=["shop", "crm"]))["privilege_select"]
        assert other.status == "error" and other.fix_sql == "GRANT SELECT ON `crm`.* TO 'reader'@'%';"
        assert all(f.ok for f in preflight(params, cdc=False, schemas=["shop"]))
        assert not any("Reader-Pw-1" in str(f) for f in found.values())
    finally:
        with admin.cursor() as cur:
            cur.execute("DROP USER 'reader'@'%'")


def test_server_without_binlog(sandbox_factory) -> None:
    box = sandbox_factory("nolog", server_args=["--skip-log-bin"])
    found = _by_check(preflight(box.params()))
    log_bin = found["log_bin"]
    assert log_bin.status == "error" and log_bin.fix_sql is None
    assert log_bin.fix_cnf == "log-bin = mysql-bin\nserver-id = 1" and "restart" in log_bin.message
    assert "binlog_format" not in found  # nothing else to say until the binlog is on
    assert all(f.ok for f in preflight(box.params(), cdc=False))


def test_parse_grants_variants() -> None:
    lines = [
        "GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*ABCDEF0123'",
        "GRANT SELECT (`a`, `b`), INSERT ON `shop`.`orders` TO `u`@`%`",
        "GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'u'@'%'",
        "GRANT `analyst`@`%` TO `u`@`%`",
        "GRANT PROXY ON ''@'%' TO 'u'@'%' WITH GRANT OPTION",
    ]
    grants, roles = parse_grants(lines)
    assert roles == 1
    table = next(g for g in grants if g.table == "orders")
    assert table.schema == "shop" and table.privileges == {"INSERT"} and table.column_level == {"SELECT"}
    assert {"SELECT", "REPLICATION SLAVE", "REPLICATION CLIENT"} <= next(
        g.privileges for g in grants if g.schema == "*" and "SELECT" in g.privileges
    )


def test_all_privileges_covers_everything_and_hashes_never_leak() -> None:
    findings = check_privileges(
        [
            "GRANT ALL PRIVILEGES ON *.* TO `root`@`localhost` IDENTIFIED BY PASSWORD '*SECRETHASH' "
            "WITH GRANT OPTION"
        ],
        "'root'@'localhost'",
    )
    assert all(f.ok for f in findings)
    lacking = check_privileges(
        ["GRANT USAGE ON *.* TO `u`@`%` IDENTIFIED BY PASSWORD '*SECRETHASH'"], "'u'@'%'"
    )
    assert {f.status for f in lacking} == {"error"}
    assert not any("SECRETHASH" in str(f) for f in lacking)


def test_role_grants_soften_missing_privileges_to_warnings() -> None:
    findings = check_privileges(["GRANT USAGE ON *.* TO `u`@`%`", "GRANT `replicator` TO `u`@`%`"], "'u'@'%'")
    assert {f.status for f in findings} == {"warning"}
    assert all("SET DEFAULT ROLE" in f.message for f in findings)


def test_compressed_binlog_is_supported_with_a_dms_warning(shop_params, admin) -> None:
    with admin.cursor() as cur:
        cur.execute("SET GLOBAL log_bin_compress = ON")
    try:
        found = _by_check(preflight(shop_params))
    finally:
        with admin.cursor() as cur:
            cur.execute("SET GLOBAL log_bin_compress = OFF")
    assert found["log_bin_compress"].status == "warning"
    assert "supported by derson-lake's reader, but AWS DMS refuses" in found["log_bin_compress"].message
    assert found["log_bin_compress"].fix_sql == "SET GLOBAL log_bin_compress = OFF;"


def test_server_id_zero_and_old_servers() -> None:
    """Settings a MariaDB 10.11 cannot be put into (server_id 0, no binlog_row_metadata): from variables."""
    from dersonlake.sources.mysql.preflight import ServerVersion, _check_binlog

    mysql57 = ServerVersion.parse("5.7.44-log", "MySQL Community Server (GPL)")
    variables = {"log_bin": "ON", "server_id": "0", "binlog_format": "ROW", "binlog_row_image": "FULL",
                 "expire_logs_days": "0", "binlog_checksum": "CRC32"}  # fmt: skip
    found = _by_check(_check_binlog(variables, mysql57))
    assert (
        found["server_id"].fix_sql == "SET GLOBAL server_id = 1;"
        and found["server_id"].fix_cnf == "server-id = 1"
    )
    assert found["binlog_row_metadata"].status == "warning"
    assert found["binlog_retention"].fix_sql == "SET GLOBAL expire_logs_days = 7;"
    mysql8 = ServerVersion.parse("8.0.36")
    retention = _check_binlog({**variables, "binlog_expire_logs_seconds": "0"}, mysql8)
    assert (
        _by_check(retention)["binlog_retention"].fix_sql == "SET GLOBAL binlog_expire_logs_seconds = 604800;"
    )
