"""``derson-lake serve``: the local AWS endpoint (Step Functions and DMS JSON protocols) in the foreground.

Wiring only: open the state engine, register the project's pipelines, run the engine's loop in a
background thread and the ASGI app under uvicorn on one socket, bound before the URL is printed
(``--port 0`` picks a free port and prints it).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import typer

from dersonlake.api import Access, default_allowed_hosts, is_loopback, load_credentials
from dersonlake.cli.main import app
from dersonlake.cli.states_cmd import register_lambdas
from dersonlake.errors import BadInput

DEFAULT_PORT = 4599


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(DEFAULT_PORT, "--port", help="Port to listen on (0 = any free port)."),
    db: Path = typer.Option(None, "--db", help="State engine store (default: .derson/states.sqlite)."),
    replication_db: Path = typer.Option(
        None, "--replication-db", help="Replication task store (default: .derson/replication.sqlite)."
    ),
    lambdas: list[str] = typer.Option(
        None, "--lambda", help="Map a Lambda function to a handler: name=module:function (repeatable)."
    ),
    pipelines: Path = typer.Option(
        Path("infra/terraform/pipelines"),
        "--pipelines",
        help="Folder of <name>/states.json pipelines registered at start (skipped if missing).",
    ),
    region: str = typer.Option("us-east-1", "--region", envvar="DERSON_REGION", help="Region in ARNs."),
    account_id: str = typer.Option(
        "000000000000", "--account-id", envvar="DERSON_ACCOUNT_ID", help="Account id in ARNs."
    ),
    prefix: str = typer.Option(
        "", "--state-machine-prefix", envvar="DERSON_STATE_MACHINE_PREFIX", help="Prefix of pipeline names."
    ),
    time_scale: float = typer.Option(1.0, "--time-scale", help="Multiply Wait and retry delays (0 = none)."),
    no_schedule: bool = typer.Option(
        False, "--no-schedule", help="Do not run the owners' schedules (owner.yaml schedule:) here."
    ),
    credentials_file: Path = typer.Option(
        None,
        "--credentials-file",
        envvar="DERSON_SERVE_CREDENTIALS_FILE",
        help="AWS credentials file (aws configure's format) whose keys may call the server: requests "
        "must be SigV4-signed with one of them (the dashboard asks for key id and secret). "
        "Required with a --host that is not loopback.",
    ),
    allowed_hosts: list[str] = typer.Option(
        None,
        "--allowed-host",
        help="A name clients use for this server, accepted in the Host header besides IP addresses and "
        "localhost (repeatable; '*' accepts any, behind a proxy that checks it).",
    ),
) -> None:
    """Serve the AWS Step Functions and DMS APIs locally (use with --endpoint-url) and the web dashboard
    at / ; Ctrl-C stops it."""
    import uvicorn

    from dersonlake.api import (
        PipelineValues,
        create_app,
        dashboard_routes,
        dms_service,
        metrics_route,
        register_pipelines,
        stepfunctions_service,
    )
    from dersonlake.home import derson_home
    from dersonlake.notify import AlertWatcher, Notifier
    from dersonlake.replication import ReplicationStore
    from dersonlake.states import Engine, default_db_path

    access = serve_access(host, port, credentials_file, allowed_hosts or [])
    states_path = check_store_path(db or default_db_path(), "--db")
    replication_path = check_store_path(
        replication_db or derson_home() / "replication.sqlite", "--replication-db"
    )
    notifier = Notifier.from_files(Path(states_path).parent)  # notify.yaml; alerts.sqlite by the stores
    engine = Engine(
        states_path, time_scale=time_scale, region=region, account=account_id, notifier=notifier.sns_publish
    )
    store = ReplicationStore(replication_path)
    watcher = AlertWatcher(notifier, states_path, replication_path)
    scheduler = None if no_schedule else _scheduler(engine, states_path, replication_path, prefix, notifier)
    try:
        registered: list[str] = []
        if pipelines.is_dir():  # with DMS-intake, the function they call
            values = PipelineValues(region=region, account_id=account_id, state_machine_prefix=prefix)
            registered = register_pipelines(engine, pipelines, values)
        register_lambdas(engine, lambdas)  # DERSON_LAMBDAS / --lambda replace a registered function
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            typer.echo(f"cannot listen on {host}:{port}: {exc.strerror}", err=True)
            raise typer.Exit(1) from None
        sock.listen(2048)  # connections queue from the moment the URL is printed
        bound = sock.getsockname()[1]
        shown = f"[{host}]" if ":" in host else host
        for arn in registered:
            typer.echo(f"registered {arn}")
        typer.echo(f"derson-lake serve: http://{shown}:{bound}", color=False)
        typer.echo(f"dashboard: http://{shown}:{bound}/", color=False)
        # A DMS-intake Lambda mapped with --lambda runs in this process: it talks to this endpoint
        # unless told otherwise.
        local = "127.0.0.1" if host in ("0.0.0.0", "::") else shown
        os.environ.setdefault("DERSON_DMS_ENDPOINT_URL", f"http://{local}:{bound}")
        if access.credentials:  # ... and signs with the server's first key, as a client must
            key, secret = next(iter(access.credentials.items()))
            os.environ.setdefault("DERSON_DMS_ACCESS_KEY_ID", key)
            os.environ.setdefault("DERSON_DMS_SECRET_ACCESS_KEY", secret)
        engine.start_background()
        watcher.start()
        if scheduler is not None:
            scheduler.start()
        services = [stepfunctions_service(engine), dms_service(store, region, account_id)]
        dashboard = dashboard_routes(engine, store, os.environ.get("DERSON_OWNERS_DIR"))
        routes = [metrics_route(replication_path, states_path), *dashboard]
        config = uvicorn.Config(create_app(services, routes, access), log_level="warning")
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        if scheduler is not None:
            scheduler.stop()
            scheduler.store.close()
        watcher.stop()
        engine.close()
        store.close()
        notifier.close()


def _scheduler(engine: Any, states_path: Path, replication_path: Path, prefix: str, notifier: Any) -> Any:
    """The owners' schedules, run in this server (docs/schedule.md); state beside the state store."""
    from dersonlake.scheduler import FILE_NAME, EngineStarter, Scheduler, ScheduleStore

    starter = EngineStarter(engine, states_path, replication_path, f"{prefix}derson-Main")
    store = ScheduleStore(Path(states_path).parent / FILE_NAME)
    return Scheduler(starter, store, owners=os.environ.get("DERSON_OWNERS_DIR"), send=notifier.send)


def serve_access(host: str, port: int, credentials_file: Path | None, allowed_hosts: list[str]) -> Access:
    """The server's access rules (api/access.py); BadInput when a non-loopback address has no
    credentials to check, or an argument is out of range."""
    if not 0 <= port <= 65535:
        raise BadInput("--port must be 0 (any free port) to 65535", value=port)
    credentials = load_credentials(credentials_file) if credentials_file else {}
    if not credentials and not is_loopback(host):
        raise BadInput(
            f"serve on {host} would let anyone who can reach it drive your databases and lake",
            value=host,
            hint="Give --credentials-file (an AWS credentials file; clients sign with those keys) or "
            "listen on 127.0.0.1",
        )
    names, any_host = default_allowed_hosts(host, allowed_hosts)
    return Access(allowed_hosts=names, any_host=any_host, credentials=credentials)


def check_store_path(path: Path, option: str) -> Path:
    """A store path must be a file (or not exist yet): SQLite on a directory fails deep inside."""
    if Path(path).is_dir():
        raise BadInput(f"{option} names a directory, not a database file", value=str(path),
                       hint="Give a file path such as .derson/states.sqlite")  # fmt: skip
    return path
