"""Connection parameters keep the password out of reprs, URLs shown to people and errors."""

from __future__ import annotations

import pytest

from dersonlake.errors import BadInput, OperationFailed
from dersonlake.sandbox.server import free_port
from dersonlake.sources.mysql.connection import ConnectionParams, connect, redact_url


def test_repr_and_str_redact_the_password() -> None:
    params = ConnectionParams(host="db", port=3307, user="repl", password="s3cr3t-pw", databases=("shop",))
    for text in (repr(params), str(params), f"{params}", params.url(with_password=False)):
        assert "s3cr3t-pw" not in text
    assert "password='***'" in repr(params)
    assert params.url() == "mysql://repl:s3cr3t-pw@db:3307/shop"


def test_from_url_round_trip_with_escaped_characters() -> None:
    params = ConnectionParams.from_url("mysql://app%40x:p%40ss%3Aw%2Fd@10.0.0.5:3310/shop,crm")
    assert (params.user, params.password, params.host, params.port) == ("app@x", "p@ss:w/d", "10.0.0.5", 3310)
    assert params.databases == ("shop", "crm")
    assert (
        ConnectionParams.from_url(ConnectionParams(host="h", user="u", password="p@ss").url()).password
        == "p@ss"
    )
    assert ConnectionParams.from_url("mysql://u@h/").port == 3306


def test_bad_url_is_bad_input_without_the_password() -> None:
    with pytest.raises(BadInput) as info:
        ConnectionParams.from_url("postgres://u:topsecret@h:5432/")
    assert info.value.exit_code == 2 and "topsecret" not in str(info.value)
    assert redact_url("mysql://u:topsecret@h:1/") == "mysql://u:***@h:1/"


def test_wrong_password_names_host_port_and_error_but_not_the_password(sandbox) -> None:
    params = ConnectionParams(
        host="127.0.0.1", port=sandbox.port, user="derson_repl", password="Wr0ngPassw0rd"
    )
    with pytest.raises(OperationFailed) as info:
        connect(params)
    message = str(info.value)
    assert f"127.0.0.1:{sandbox.port}" in message and "1045" in message and "Access denied" in message
    assert "Wr0ngPassw0rd" not in message and "\n" not in message
    assert info.value.exit_code == 1


def test_refused_connection_is_one_line() -> None:
    params = ConnectionParams(host="127.0.0.1", port=free_port(), user="x", password="pw-never-shown")
    with pytest.raises(
        OperationFailed, match=r"cannot connect to MySQL at 127\.0\.0\.1:\d+ as 'x': \(2003\)"
    ):
        connect(params)


def test_sessions_are_utc_and_utf8mb4(sandbox) -> None:
    with connect(sandbox.params()) as conn, conn.cursor() as cur:
        cur.execute("SELECT @@session.time_zone, @@character_set_client, '😀'")
        assert cur.fetchone() == ("+00:00", "utf8mb4", "😀")
