"""``derson-lake states ...``: the local Step Functions engine from the command line.

Wiring only: every command opens an ``Engine`` on the SQLite store (``--db``, default
``.derson/states.sqlite``) and calls one operation. Lambda functions used by Task states are
mapped to local handlers with ``--lambda name=module:function`` (repeatable) or the
``DERSON_LAMBDAS`` environment variable (comma-separated ``name=module:function`` pairs).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from dersonlake.cli.main import app
from dersonlake.errors import BadInput
from dersonlake.states import Engine, default_db_path

states_app = typer.Typer(
    help="Run AWS Step Functions (ASL) state machines locally, durably (SQLite).",
    no_args_is_help=True,
)
app.add_typer(states_app, name="states")

DbOption = typer.Option(None, "--db", help="SQLite store (default: .derson/states.sqlite).")
LambdaOption = typer.Option(
    None, "--lambda", help="Map a Lambda function to a handler: name=module:function."
)
DefinitionOption = typer.Option(..., "--definition", "-d", help="The states.json file.")
ScaleOption = typer.Option(1.0, "--time-scale", help="Multiply Wait and retry delays (0 = no waiting).")


def _engine(db: Path | None, lambdas: list[str] | None = None, time_scale: float = 1.0) -> Engine:
    engine = Engine(db or default_db_path(), time_scale=time_scale)
    register_lambdas(engine, lambdas)
    return engine


def register_lambdas(engine: Engine, lambdas: list[str] | None) -> None:
    """Map Lambda functions from ``DERSON_LAMBDAS`` then ``--lambda`` (``name=module:function``)."""
    pairs = [p for p in os.environ.get("DERSON_LAMBDAS", "").split(",") if p.strip()]
    for pair in pairs + list(lambdas or []):
        name, sep, target = pair.strip().partition("=")
        if not sep or not name or not target:
            raise BadInput("a Lambda mapping must be written name=module:function", value=pair)
        check_handler(pair.strip(), target)
        engine.register_lambda(name, target)


def check_handler(pair: str, target: str) -> None:
    """Import ``module:function`` now, so a typo stops the command at start, not the first run."""
    import importlib

    module_name, sep, function = target.partition(":")
    if not sep or not module_name or not function:
        raise BadInput("a Lambda handler must be written module:function", path="--lambda", value=pair)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BadInput(f"cannot import the handler: {exc}", path="--lambda", value=pair) from None
    if not callable(getattr(module, function, None)):
        raise BadInput(f"{module_name} has no function {function!r}", path="--lambda", value=pair)


def _print(value: Any) -> None:
    def default(o: Any) -> Any:
        if isinstance(o, datetime):
            return o.isoformat()
        raise TypeError(type(o).__name__)

    typer.echo(json.dumps(value, indent=2, default=default))


def _sm_ref(engine: Engine, name: str) -> str:
    return name if name.startswith("arn:") else engine.state_machine_arn(name)


def _read_definition(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise BadInput(f"cannot read the definition: {exc.strerror}", file=str(path)) from None


@states_app.command("create")
def create(
    name: str = typer.Argument(..., help="State machine name."),
    definition: Path = DefinitionOption,
    role_arn: str = typer.Option(None, "--role-arn", help="Role ARN shown in $$.Execution.RoleArn."),
    db: Path = DbOption,
) -> None:
    """Create a state machine from an ASL definition (validated as AWS would)."""
    from dersonlake.states import load_definition

    text = _read_definition(definition)
    load_definition(text, file=str(definition))
    _print(_engine(db).create_state_machine(name, text, role_arn=role_arn))


@states_app.command("update")
def update(
    name: str = typer.Argument(..., help="State machine name or ARN."),
    definition: Path = DefinitionOption,
    db: Path = DbOption,
) -> None:
    """Replace a state machine's definition (running executions keep theirs)."""
    from dersonlake.states import load_definition

    text = _read_definition(definition)
    load_definition(text, file=str(definition))
    engine = _engine(db)
    _print(engine.update_state_machine(_sm_ref(engine, name), text))


@states_app.command("list")
def list_machines(db: Path = DbOption) -> None:
    """List state machines."""
    _print(_engine(db).list_state_machines()["stateMachines"])


@states_app.command("describe")
def describe(
    name: str = typer.Argument(..., help="State machine name/ARN, or an execution ARN."),
    db: Path = DbOption,
) -> None:
    """Describe a state machine, or an execution when given an execution ARN."""
    engine = _engine(db)
    if ":execution:" in name:
        _print(engine.describe_execution(name))
    else:
        _print(engine.describe_state_machine(_sm_ref(engine, name)))


@states_app.command("executions")
def executions(
    name: str = typer.Argument(..., help="State machine name or ARN."),
    status: str = typer.Option(None, "--status", help="RUNNING, SUCCEEDED, FAILED, TIMED_OUT or ABORTED."),
    db: Path = DbOption,
) -> None:
    """List a state machine's executions, newest first."""
    engine = _engine(db)
    _print(engine.list_executions(_sm_ref(engine, name), status_filter=status)["executions"])


@states_app.command("start")
def start(
    name: str = typer.Argument(..., help="State machine name or ARN."),
    input: str = typer.Option("{}", "--input", "-i", help="Execution input (JSON text, or @file.json)."),
    execution_name: str = typer.Option(None, "--name", help="Execution name (default: a UUID)."),
    wait: bool = typer.Option(
        False, "--wait", help="Run to the end; print status and output; exit 1 unless SUCCEEDED."
    ),
    timeout: float = typer.Option(3600.0, "--timeout", help="With --wait: give up after this many seconds."),
    lambdas: list[str] = LambdaOption,
    time_scale: float = ScaleOption,
    db: Path = DbOption,
) -> None:
    """Start an execution and run it as far as it can go now (to the end with --wait)."""
    if input.startswith("@"):
        try:
            input = Path(input[1:]).read_text()
        except OSError as exc:
            raise BadInput(f"cannot read the input file: {exc.strerror}", file=input[1:]) from None
    engine = _engine(db, lambdas, time_scale)
    arn = engine.start_execution(_sm_ref(engine, name), input, name=execution_name)["executionArn"]
    _finish(engine, arn, wait, timeout)


def _finish(engine: Engine, arn: str, wait: bool, timeout: float) -> None:
    if wait:
        desc = engine.wait_for(arn, timeout)
    else:
        engine.run_until_idle()
        desc = engine.describe_execution(arn)
    out: dict[str, Any] = {"executionArn": arn, "status": desc["status"]}
    for key in ("output", "error", "cause"):
        if key in desc:
            out[key] = json.loads(desc[key]) if key == "output" else desc[key]
    _print(out)
    if wait and desc["status"] != "SUCCEEDED":
        sys.exit(1)


@states_app.command("history")
def history(
    execution_arn: str = typer.Argument(..., help="Execution ARN."),
    db: Path = DbOption,
) -> None:
    """Print an execution's history events (AWS GetExecutionHistory shape)."""
    _print(_engine(db).get_execution_history(execution_arn)["events"])


@states_app.command("stop")
def stop(
    execution_arn: str = typer.Argument(..., help="Execution ARN."),
    error: str = typer.Option(None, "--error"),
    cause: str = typer.Option(None, "--cause"),
    db: Path = DbOption,
) -> None:
    """Stop a running execution (it ends ABORTED)."""
    _print(_engine(db).stop_execution(execution_arn, error=error, cause=cause))


@states_app.command("redrive")
def redrive(
    execution_arn: str = typer.Argument(..., help="Execution ARN."),
    wait: bool = typer.Option(False, "--wait", help="Run to the end; exit 1 unless SUCCEEDED."),
    timeout: float = typer.Option(3600.0, "--timeout"),
    lambdas: list[str] = LambdaOption,
    time_scale: float = ScaleOption,
    db: Path = DbOption,
) -> None:
    """Continue a failed, aborted or timed-out execution from its unsuccessful states."""
    engine = _engine(db, lambdas, time_scale)
    engine.redrive_execution(execution_arn)
    _finish(engine, execution_arn, wait, timeout)


@states_app.command("resume")
def resume(
    lambdas: list[str] = LambdaOption,
    time_scale: float = ScaleOption,
    forever: bool = typer.Option(False, "--forever", help="Keep running (waits, callbacks) until Ctrl-C."),
    db: Path = DbOption,
) -> None:
    """Continue every RUNNING execution in the store (after a crash or restart)."""
    engine = _engine(db, lambdas, time_scale)
    if not forever:
        typer.echo(f"processed {engine.run_until_idle()} step(s)")
        return
    engine.start_background()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        engine.close()
