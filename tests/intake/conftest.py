"""A served local DMS + Step Functions endpoint whose DMS reads owners from a test folder, an owner
pointing at the session sandbox, and the Lambda's environment pointing at that server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from dersonlake.replication.store import ReplicationStore
from dersonlake.states import Engine
from tests.api.conftest import RunningServer, free_port
from tests.replication.conftest import write_owner


@pytest.fixture
def owners_root(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def server(owners_root: Path) -> Iterator[RunningServer]:
    engine = Engine(owners_root / "states.sqlite", time_scale=0)
    store = ReplicationStore(owners_root / "replication.sqlite")
    running = RunningServer(engine, store, free_port(), owners_dir=owners_root / "owners")
    running.start()
    yield running
    running.stop()


@pytest.fixture
def lambda_env(server: RunningServer, owners_root: Path, monkeypatch: pytest.MonkeyPatch) -> RunningServer:
    """The environment ``dersonlake.intake`` reads, as ``derson-lake run`` sets it."""
    monkeypatch.setenv("DERSON_DMS_ENDPOINT_URL", server.url)
    monkeypatch.setenv("DERSON_OWNERS_DIR", str(owners_root / "owners"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    for name in ("DERSON_ENDPOINTS", "DERSON_LAKES", "DERSON_STANDING_REPLICATION", "DERSON_RESOURCE_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    return server


@pytest.fixture
def owner(owners_root: Path, sandbox: Any) -> Path:
    return write_owner(owners_root, sandbox, name="acme")


@pytest.fixture
def dms(server: RunningServer) -> Any:
    return boto3.client(
        "dms",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
