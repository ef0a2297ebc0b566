"""A real ``derson-lake serve`` app on a free loopback port (uvicorn in a thread), and clients for it.

The server runs the same ASGI app and engine wiring as the command; only the process differs, so
tests can reach the engine and stop it cleanly. Waits and retry delays are scaled to zero.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import uvicorn
from botocore.config import Config

from dersonlake.api.app import create_app, dms_service, stepfunctions_service
from dersonlake.replication.store import ReplicationStore
from dersonlake.states import Engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningServer:
    def __init__(
        self, engine: Engine, store: ReplicationStore, port: int, owners_dir: Path | None = None
    ) -> None:
        self.engine = engine
        self.store = store
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(
            create_app(
                [stepfunctions_service(engine), dms_service(store, "us-east-1", "000000000000", owners_dir)]
            ),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.engine.start_background()
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.engine.close()
        self.store.close()


def serving(folder: Path, lambdas: dict[str, str]) -> Iterator[RunningServer]:
    """A server with a fresh engine and store in ``folder`` and the test functions ``lambdas``
    (name -> ``module:function``), stopped when the generator closes (for module fixtures)."""
    engine = Engine(folder / "states.sqlite", time_scale=0)
    for name, target in lambdas.items():
        engine.register_lambda(name, target)
    running = RunningServer(engine, ReplicationStore(folder / "replication.sqlite"), free_port())
    running.start()
    yield running
    running.stop()


def client(service: str, url: str, **config: Any) -> Any:
    """A boto3 client of ``service`` at ``url`` with dummy credentials (``config``: botocore Config)."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        **({"config": Config(**config)} if config else {}),
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    lambdas = {"greet": "tests.api.handlers:greet", "not-ready": "tests.api.handlers:not_ready"}
    yield from serving(tmp_path_factory.mktemp("serve"), lambdas)


@pytest.fixture(scope="module")
def sfn(server: RunningServer) -> Any:
    return client("stepfunctions", server.url)


@pytest.fixture(scope="module")
def dms(server: RunningServer) -> Any:
    return boto3.client(
        "dms",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
