"""``derson-lake executions list|describe|history``: what the pipelines did, for terminal users.

``derson-lake states ...`` is the engine's raw API (one state machine, AWS shapes as JSON); these
commands answer an operator's questions across every state machine: which runs there were, for
which owner, how they ended and why, and what happened step by step. ``--json`` gives the AWS
shapes for scripts.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import typer

from dersonlake.cli.main import app
from dersonlake.errors import BadInput
from dersonlake.states import Engine, default_db_path

executions_app = typer.Typer(help="The pipelines' executions: list, describe, history.", no_args_is_help=True)
app.add_typer(executions_app, name="executions")

DbOption = typer.Option(None, "--db", help="SQLite store (default: .derson/states.sqlite).")
JsonOption = typer.Option(False, "--json", help="AWS shapes as JSON instead of a table.")
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")


def _execution_arn(text: str) -> str:
    """An execution ARN (``arn:aws:states:<region>:<account>:execution:<machine>:<name>``) or BadInput."""
    parts = text.split(":")
    if len(parts) < 8 or parts[:3] != ["arn", "aws", "states"] or parts[5] not in ("execution", "express"):
        raise BadInput(
            "not an execution ARN",
            value=text,
            hint="Copy one from `derson-lake executions list` (arn:aws:states:REGION:ACCOUNT:execution:…)",
        )
    return text


def _engine(db: Path | None) -> Engine:
    return Engine(db or default_db_path())


def _json(value: Any) -> None:
    def default(o: Any) -> str:
        return o.isoformat() if isinstance(o, datetime) else str(o)

    typer.echo(json.dumps(value, indent=2, default=default))


def _owner(input_text: str | None) -> str:
    try:
        doc = json.loads(input_text or "{}")
    except ValueError:
        return ""
    return str(doc.get("owner", "")) if isinstance(doc, dict) else ""


def _duration(e: dict[str, Any]) -> str:
    if "stopDate" not in e:
        return "-"
    return f"{(e['stopDate'] - e['startDate']).total_seconds():.1f}s"


def _table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    for line in [header, *rows]:
        typer.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip())


@executions_app.command("list")
def list_executions(
    state_machine: str = typer.Option(None, "--state-machine", "-m", help="Only this state machine."),
    status: str = typer.Option(None, "--status", help="Only this status: " + ", ".join(STATUSES) + "."),
    owner: str = typer.Option(None, "--owner", help="Only runs whose input names this owner."),
    limit: int = typer.Option(50, "--limit", min=1, help="At most this many, newest first."),
    as_json: bool = JsonOption,
    db: Path = DbOption,
) -> None:
    """Executions of every state machine (or one), newest first, with owner, status and duration."""
    if status and status.upper() not in STATUSES:
        raise BadInput("not an execution status", path="--status", value=status, allowed=STATUSES)
    engine = _engine(db)
    try:
        machines = [m["stateMachineArn"] for m in engine.list_state_machines()["stateMachines"]]
        if state_machine:
            machines = [state_machine if ":" in state_machine else engine.state_machine_arn(state_machine)]
        wanted = status.upper() if status else None
        found = []
        for arn in machines:
            for e in engine.list_executions(arn, status_filter=wanted)["executions"]:
                e["owner"] = _owner(engine.describe_execution(e["executionArn"]).get("input"))
                if owner is None or e["owner"] == owner:
                    found.append(e)
    finally:
        engine.close()
    found.sort(key=lambda e: e["startDate"], reverse=True)
    found = found[:limit]
    if as_json:
        _json(found)
        return
    rows = [
        [
            e["startDate"].strftime("%Y-%m-%d %H:%M:%S"),
            e["stateMachineArn"].rsplit(":", 1)[-1],
            e["owner"] or "-",
            e["status"],
            _duration(e),
            e["executionArn"],
        ]
        for e in found
    ]
    _table(["started (UTC)", "state machine", "owner", "status", "took", "execution ARN"], rows)


@executions_app.command("describe")
def describe(
    execution_arn: str = typer.Argument(..., help="Execution ARN."),
    as_json: bool = JsonOption,
    db: Path = DbOption,
) -> None:
    """One execution: status, times, input, and its output or its error and cause."""
    engine = _engine(db)
    try:
        e = engine.describe_execution(_execution_arn(execution_arn))
    finally:
        engine.close()
    if as_json:
        _json(e)
        return
    lines = [
        ("execution", e["executionArn"]),
        ("state machine", e["stateMachineArn"].rsplit(":", 1)[-1]),
        ("owner", _owner(e.get("input")) or "-"),
        ("status", e["status"]),
        ("started", e["startDate"].isoformat()),
        ("stopped", e["stopDate"].isoformat() if "stopDate" in e else "-"),
        ("took", _duration(e)),
        ("input", e.get("input") or ""),
    ]
    if "output" in e:
        lines.append(("output", e["output"]))
    if "error" in e or "cause" in e:
        from dersonlake.cli.run_cmd import root_cause

        error, cause = root_cause(e.get("error", ""), e.get("cause", ""))
        lines += [("error", error), ("cause", cause)]
    for name, value in lines:
        typer.echo(f"{name + ':':<15}{value}")


@executions_app.command("history")
def history(
    execution_arn: str = typer.Argument(..., help="Execution ARN."),
    as_json: bool = JsonOption,
    db: Path = DbOption,
) -> None:
    """An execution's events in order: time, type, state and what it carried."""
    engine = _engine(db)
    try:
        events = engine.get_execution_history(_execution_arn(execution_arn))["events"]
    finally:
        engine.close()
    if as_json:
        _json(events)
        return
    rows = []
    for ev in events:
        details = next((v for k, v in ev.items() if k.endswith("EventDetails")), {})
        what = details.get("name") or details.get("error") or ""
        data = details.get("output") or details.get("cause") or details.get("input") or ""
        data = " ".join(str(data).split())
        rows.append(
            [
                str(ev["id"]),
                ev["timestamp"].strftime("%H:%M:%S.%f")[:-3],
                ev["type"],
                what,
                data[:100] + ("..." if len(data) > 100 else ""),
            ]
        )
    _table(["id", "time", "type", "state/error", "data"], rows)
