"""The local endpoint in this process: the same ASGI app as ``derson-lake serve``, under uvicorn in a
thread on a free loopback port, for commands (``derson-lake run``) that drive it with boto3 as a
client would drive AWS.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from dersonlake.api.app import create_app, dms_service, stepfunctions_service
from dersonlake.api.dashboard import dashboard_routes
from dersonlake.errors import OperationFailed
from dersonlake.replication import ReplicationStore
from dersonlake.states import Engine


class LocalServer:
    """Step Functions (over ``engine``) and DMS (over ``store``, owners from ``owners_dir``) on one URL."""

    def __init__(
        self,
        engine: Engine,
        store: ReplicationStore,
        *,
        owners_dir: Path | None = None,
        region: str = "us-east-1",
        account: str = "000000000000",
    ) -> None:
        import uvicorn

        self.engine = engine
        self.store = store
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        services = [stepfunctions_service(engine), dms_service(store, region, account, owners_dir)]
        app = create_app(services, dashboard_routes(engine, store, owners_dir))
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name="derson-serve", daemon=True
        )

    def __enter__(self) -> LocalServer:
        self.engine.start_background()
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise OperationFailed("the local endpoint did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.engine.stop_background()
