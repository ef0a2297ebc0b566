"""Shared fixtures: one real, seeded MariaDB sandbox per test session, and private ones on demand.

The server comes from ``dersonlake.sandbox`` (the same launcher ``derson-lake sandbox`` uses), in a
pytest temp folder on a free port. CI installs the binaries beforehand
(``apt-get install -y mariadb-server``); without them the fixtures fail with that instruction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pymysql
import pytest

from dersonlake.sandbox import Sandbox, find_binary
from dersonlake.sandbox.seed import SeedReport, seed
from dersonlake.sources.mysql.connection import ConnectionParams

# Orders in the session sandbox: small enough to keep the suite fast, big enough for several chunks.
SEED_ROWS = 2000


def _require_server() -> None:
    if (
        find_binary("mariadbd", "mysqld") is None
        or find_binary("mariadb-install-db", "mysql_install_db") is None
    ):
        pytest.fail(
            "MariaDB server binaries (mariadbd, mariadb-install-db) not found; "
            "install them first: apt-get install -y mariadb-server",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The session's running sandbox, seeded with ``shop`` (``SEED_ROWS`` orders).

    Use ``sandbox.params(["shop"])`` for the replication user's ``ConnectionParams``,
    ``sandbox.admin_connection()`` for root, ``sandbox.url()`` for the URL, ``sandbox.seed_report``
    for the seeded row counts. Tests that change global settings must restore them.
    """
    _require_server()
    box = Sandbox(tmp_path_factory.mktemp("sandbox"))
    box.start()
    try:
        with box.admin_connection() as conn:
            box.seed_report = seed(conn, rows=SEED_ROWS)  # type: ignore[attr-defined]
        yield box
    finally:
        box.stop()


@pytest.fixture(scope="session")
def shop_params(sandbox: Sandbox) -> ConnectionParams:
    """The replication user's connection parameters, limited to the ``shop`` schema."""
    return sandbox.params(["shop"])


@pytest.fixture
def admin(sandbox: Sandbox) -> Iterator[pymysql.connections.Connection]:
    """A root connection to the session sandbox (autocommit), closed after the test."""
    conn = sandbox.admin_connection()
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def seed_report(sandbox: Sandbox) -> SeedReport:
    """Row counts and time of the session sandbox's seeding."""
    return sandbox.seed_report  # type: ignore[attr-defined]


@pytest.fixture
def seed_rows() -> int:
    """How many ``shop.orders`` rows the session sandbox was seeded with."""
    return SEED_ROWS


SandboxFactory = Callable[..., Sandbox]


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[SandboxFactory]:
    """``make(name="sb", port=None, server_args=(), start=True) -> Sandbox``: a private server for
    tests that restart, break or reconfigure one; every one made is stopped at the end."""
    _require_server()
    made: list[Sandbox] = []

    def make(name: str = "sb", port: int | None = None, server_args: Sequence[str] = (), start: bool = True):
        box = Sandbox(tmp_path / name, port=port, server_args=server_args)
        made.append(box)
        if start:
            box.start()
        return box

    yield make
    for box in made:
        box.stop(timeout=10)


@pytest.fixture(scope="session")
def s3():
    """An S3 endpoint on 127.0.0.1 (moto's threaded server) for the whole session."""
    from tests.s3_endpoint import s3_endpoint

    with s3_endpoint() as endpoint:
        yield endpoint
