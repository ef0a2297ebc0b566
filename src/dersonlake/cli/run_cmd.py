"""``derson-lake run <owner>``: the seed's flow, locally — derson-Main → DMS-Handler → DMS-intake.

It starts the local endpoint in this process (or uses ``--endpoint-url`` of a running ``serve``),
registers the pipelines with ``DMS-intake`` served by ``dersonlake.intake`` (the Lambda's code, with
its environment pointing at that endpoint), starts derson-Main with ``{"owner": ...}`` and follows
it through the public APIs until it ends. Exit 0 on SUCCEEDED; 1 with the execution's cause.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from dersonlake.cli.main import app
from dersonlake.cli.run_guard import OwnerLock, abort, clean_dms, running_executions, stop_killed_run
from dersonlake.errors import BadInput, OperationFailed
from dersonlake.states import root_cause

PIPELINES = ("derson-Main", "DMS-Handler", "DMS-ErrorHandling")


def default_pipelines() -> Path:
    """``infra/terraform/pipelines`` of the working folder, else of the checkout this package is in."""
    here = Path("infra/terraform/pipelines")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[3] / "infra" / "terraform" / "pipelines"


def _client(service: str, url: str) -> Any:
    import boto3

    return boto3.client(
        service,
        endpoint_url=url,
        region_name=os.environ.get("AWS_REGION") or "us-east-1",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or "derson-lake",
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or "derson-lake",
    )


def follow(
    owner: str, url: str, timeout: float, poll: float, delta: bool = False
) -> tuple[dict[str, Any], Any]:
    """Start derson-Main for ``owner`` on ``url`` and print progress until it ends."""
    from botocore.exceptions import BotoCoreError, ClientError

    from dersonlake.cli.run_watch import Watcher
    from dersonlake.intake import identifier

    sfn, dms = _client("stepfunctions", url), _client("dms", url)
    try:  # the first call says whether the endpoint is there and accepts our credentials
        machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise OperationFailed(
            f"the endpoint {url} refused the request: {error.get('Code')}: {error.get('Message')} "
            "(credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)"
        ) from None
    except BotoCoreError as exc:
        raise OperationFailed(f"cannot reach the endpoint {url}: {exc}") from None
    missing = [name for name in PIPELINES if name not in machines]
    if missing:
        raise OperationFailed(f"the endpoint {url} has no state machine {', '.join(missing)}")
    since = datetime.now(UTC).replace(microsecond=0)
    payload = json.dumps({"owner": owner, "delta": delta})
    started = sfn.start_execution(stateMachineArn=machines["derson-Main"], input=payload)
    arn = started["executionArn"]
    typer.echo(f"started {arn}")
    ident = identifier(owner)
    watcher = Watcher(sfn, dms, ident, ident, [machines[n] for n in PIPELINES], since, typer.echo)
    deadline = time.monotonic() + timeout
    while True:
        watcher.poll()
        done = sfn.describe_execution(executionArn=arn)
        if done["status"] != "RUNNING":
            watcher.poll()
            return done, watcher
        if time.monotonic() > deadline:
            raise OperationFailed(f"derson-Main did not end within {timeout:.0f}s: {arn} is still running")
        time.sleep(poll)


def lake_files(owner: Any) -> int:
    from dersonlake.lake import open_storage

    t = owner.target
    storage = open_storage(t.uri if t.is_s3 else t.folder, endpoint_url=t.endpoint_url, region=t.region)
    return len(storage.list(""))


@dataclass
class RunSummary:
    """What a successful run did, as ``run`` and ``demo`` print it."""

    owner: str
    tables: int
    rows: int
    files: int
    lake: str
    execution_arn: str
    seconds: float
    changes: int = 0


def run_owner(
    owner: str,
    owners_dir: Path | None = None,
    *,
    endpoint_url: str | None = None,
    pipelines: Path | None = None,
    time_scale: float = 0.05,
    timeout: float = 3600,
    delta: bool = False,
) -> RunSummary:
    """Run derson-Main for ``owner`` to its end; OperationFailed (exit 1) with the cause otherwise."""
    from dersonlake.config import load_owner
    from dersonlake.config import owners_dir as resolve_owners_dir

    began = time.monotonic()
    base = resolve_owners_dir(owners_dir)
    config = load_owner(owner, base)  # an unknown owner fails here, naming it
    os.environ["DERSON_OWNERS_DIR"] = str(base)  # the Lambda's environment (it runs in this process)
    if endpoint_url:
        done, watcher = follow(owner, endpoint_url, timeout, 0.5, delta)
    else:
        folder = pipelines or default_pipelines()
        done, watcher = _run_locally(owner, base, folder, time_scale, timeout, delta)
    lake = config.target.uri if config.target.is_s3 else config.target.folder
    if done["status"] != "SUCCEEDED":
        error, cause = root_cause(done.get("error") or "", done.get("cause") or "")
        raise OperationFailed(
            f"derson-Main {done['status']} for owner {owner}: {error}: {cause} ({done['executionArn']})"
        )
    return RunSummary(
        owner,
        watcher.tables_loaded,
        watcher.rows,
        lake_files(config),
        lake,
        done["executionArn"],
        time.monotonic() - began,
        watcher.changes,
    )


@app.command("run")
def run(
    owner: str = typer.Argument(..., help="Owner name (a folder in the owners dir)"),
    owners_dir: Path | None = typer.Option(None, "--owners-dir", help="Folder of owner folders."),
    endpoint_url: str | None = typer.Option(
        None, "--endpoint-url", help="Use a running `derson-lake serve` instead of one in this process."
    ),
    pipelines: Path | None = typer.Option(None, "--pipelines", help="Folder of <name>/states.json."),
    time_scale: float = typer.Option(0.05, "--time-scale", help="Multiply Wait and retry delays."),
    timeout: float = typer.Option(3600, "--timeout", help="Give up after this many seconds."),
    delta: bool = typer.Option(
        False, "--delta", help="Changes since the owner's last run (the first time: a full load)."
    ),
) -> None:
    """Run the seed's flow for one owner, end to end: derson-Main, DMS-Handler and the DMS-intake
    Lambda against the local DMS: a full load, or with --delta the changes since the last run."""
    check_run_arguments(endpoint_url, time_scale, timeout)
    s = run_owner(
        owner,
        owners_dir,
        endpoint_url=endpoint_url,
        pipelines=pipelines,
        time_scale=time_scale,
        timeout=timeout,
        delta=delta,
    )
    cdc = f", {s.changes:,} change(s) captured" if s.changes or delta else ""
    typer.echo(
        f"{owner}: SUCCEEDED — {s.tables} table(s), {s.rows:,} rows{cdc}, {s.files} file(s) in {s.lake} "
        f"({s.seconds:.1f}s)"
    )


def check_run_arguments(endpoint_url: str | None, time_scale: float, timeout: float) -> None:
    """BadInput before anything starts: a negative or NaN scale would corrupt the engine's timers, a
    timeout of zero or less would leave an execution running with nobody following it."""
    from urllib.parse import urlsplit

    if endpoint_url is not None:
        parts = urlsplit(endpoint_url)
        try:
            port_ok = parts.port is None or 0 < parts.port < 65536
        except ValueError:
            port_ok = False
        if parts.scheme not in ("http", "https") or not parts.hostname or not port_ok:
            raise BadInput(
                "not an http(s) URL", path="--endpoint-url", value=endpoint_url,
                hint="Give the URL `derson-lake serve` prints, e.g. http://127.0.0.1:4599",
            )  # fmt: skip
    if not math.isfinite(time_scale) or time_scale < 0:
        raise BadInput("must be a number, 0 or more", path="--time-scale", value=time_scale)
    if not math.isfinite(timeout) or timeout <= 0:
        raise BadInput("must be a number of seconds above 0", path="--timeout", value=timeout)


def _run_locally(
    owner: str, base: Path, pipelines: Path, time_scale: float, timeout: float, delta: bool
) -> tuple[dict[str, Any], Any]:
    from dersonlake.api import LocalServer, PipelineValues, register_pipelines
    from dersonlake.home import derson_home
    from dersonlake.notify import AlertWatcher, Notifier
    from dersonlake.replication import ReplicationStore
    from dersonlake.states import Engine, default_db_path

    if not pipelines.is_dir():
        raise BadInput("no pipelines folder", value=str(pipelines), hint="Pass --pipelines")
    lock = OwnerLock(derson_home(), owner).acquire()  # one run per owner (cli/run_guard.py)
    notifier = Notifier.from_files(derson_home())  # notify.yaml: sns:publish and failure alerts
    engine = Engine(default_db_path(), time_scale=time_scale, notifier=notifier.sns_publish)
    store = ReplicationStore(derson_home() / "replication.sqlite")
    watcher = AlertWatcher(notifier, default_db_path(), derson_home() / "replication.sqlite")
    try:
        stopped = stop_killed_run(engine, lock)  # before the loop starts: never beside this run
        if stopped:
            typer.echo(
                f"stopped {len(stopped)} execution(s) of killed run (pid {lock.killed_pid}) of {owner}"
            )
        register_pipelines(engine, pipelines, PipelineValues())
        watcher.start()
        with LocalServer(engine, store, owners_dir=base) as server:
            os.environ["DERSON_DMS_ENDPOINT_URL"] = server.url
            if stopped:
                clean_dms(owner, typer.echo)
            try:
                return follow(owner, server.url, timeout, 0.3, delta)
            except BaseException:  # --timeout or Ctrl-C: leave nothing running or billed behind
                left = abort(engine, running_executions(engine, owner), "derson-lake run gave up on it")
                if left:
                    clean_dms(owner, typer.echo)
                raise
    finally:
        watcher.stop()  # one last check: the run's own failure is alerted before the command exits
        engine.close()
        store.close()
        notifier.close()
        lock.release()
