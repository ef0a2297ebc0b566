"""``derson-lake status [owner]``: one screen of what ran, what runs, what failed, what lags.

It reads the state engine's and the replication stores read-only (``states.stats``,
``replication.stats``) and the sent alerts, so it works while ``serve``, ``run`` or ``load`` write
them. rich tables on a terminal; plain columns otherwise (pipes, CI logs); ``--json`` for scripts.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from dersonlake.cli.main import app

RECENT_ALERTS = 5


def collect(states_db: Path, replication_db: Path, alerts_db: Path, owner: str | None) -> dict[str, Any]:
    """The status as plain data (what ``--json`` prints)."""
    from dersonlake.replication import stats as rstats
    from dersonlake.states import stats as sstats

    executions = sstats.read_executions(states_db, owner=owner)
    tasks = rstats.read_tasks(replication_db, owner=owner)
    last: dict[str, sstats.ExecutionStat] = {}
    for e in executions:
        if not e.nested and e.owner:
            last[e.owner] = e  # oldest first: the last one wins
    owners = []
    for name in sorted(last):
        e = last[name]
        runs = [x for x in executions if x.owner == name and not x.nested]
        error, cause = sstats.root_cause(e.error or "", e.cause or "")
        owners.append(
            {
                "owner": name,
                "last_run": {
                    "state_machine": e.state_machine,
                    "execution_arn": e.arn,
                    "status": e.status,
                    "start": _iso(e.start),
                    "seconds": round((e.stop or time.time()) - e.start, 1),
                    "error": error or None,
                    "cause": cause or None,
                },
                "runs": len(runs),
                "failed_runs": sum(x.status in ("FAILED", "TIMED_OUT") for x in runs),
            }
        )
    task_rows = [
        {
            "owner": t.owner,
            "task": t.identifier,
            "arn": t.arn,
            "status": t.status,
            "stop_reason": t.stop_reason,
            "progress_percent": t.progress_percent,
            "tables": len(t.tables),
            "tables_errored": sum(x.suspended for x in t.tables),
            "full_load_rows": sum(x.full_load_rows for x in t.tables),
            "cdc_changes": sum(x.applied for x in t.tables),
            "latency_seconds": _lag(t),
            "last_failure": t.last_failure,
        }
        for t in tasks
    ]
    suspended = [
        {"owner": t.owner, "task": t.identifier, "table": f"{x.schema}.{x.table}", "error": x.error}
        for t in tasks
        for x in t.tables
        if x.suspended
    ]
    from dersonlake.cli.run_guard import killed_run_pid

    killed = {e.owner: killed_run_pid(states_db.parent, e.owner) for e in executions if e.owner}
    running = [
        {"owner": e.owner, "state_machine": e.state_machine, "execution_arn": e.arn, "start": _iso(e.start)}
        for e in executions
        if e.status == "RUNNING" and not killed.get(e.owner)
    ]
    orphaned = [  # RUNNING in the store, but the run driving them was killed: nothing advances them
        {"owner": e.owner, "state_machine": e.state_machine, "execution_arn": e.arn, "start": _iso(e.start),
         "dead_pid": killed[e.owner]}
        for e in executions
        if e.status == "RUNNING" and killed.get(e.owner)
    ]  # fmt: skip
    return {
        "time": _iso(time.time()),
        "owners": owners,
        "tasks": task_rows,
        "running_executions": running,
        "killed_run_executions": orphaned,
        "suspended_tables": suspended,
        "alerts": _alerts(alerts_db, owner),
        "schedules": _schedules(Path(alerts_db).parent, owner),
    }


def _schedules(home: Path, owner: str | None) -> list[dict[str, Any]]:
    """Each scheduled owner's next due time, last run and alarms (the scheduler's store, read-only)."""
    from dersonlake.scheduler import FILE_NAME, read_overview

    out = []
    for o in read_overview(home / FILE_NAME):
        s = o.state
        if owner is not None and s.owner != owner:
            continue
        out.append(
            {
                "owner": s.owner,
                "expression": s.expression,
                "timezone": s.timezone,
                "enabled": s.enabled,
                "next_due": _iso(s.next_due) if s.next_due is not None and s.enabled else None,
                "last_status": s.last_status,
                "last_started": _iso(s.last_started) if s.last_started else None,
                "last_success": _iso(s.last_success) if s.last_success else None,
                "last_event": o.last_event.action if o.last_event else None,
                "alarms": [a.name for a in o.alarms if a.state == "ALARM"],
            }
        )
    return out


def _lag(t: Any) -> float | None:
    if t.latency_source is None and t.latency_target is None:
        return None
    return (t.latency_source or 0) + (t.latency_target or 0)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _alerts(path: Path, owner: str | None) -> list[dict[str, Any]]:
    from dersonlake.notify import recent_alerts

    return [
        {"time": _iso(a.ts), "kind": a.kind, "owner": a.owner, "subject": a.subject}
        for a in recent_alerts(path, owner, RECENT_ALERTS)
    ]


def sections(data: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for each part of the screen, as text cells."""
    owners = [
        [
            o["owner"],
            o["last_run"]["state_machine"],
            o["last_run"]["status"],
            o["last_run"]["start"],
            f"{o['last_run']['seconds']}s",
            f"{o['failed_runs']}/{o['runs']}",
            _short(": ".join(p for p in (o["last_run"]["error"], o["last_run"]["cause"]) if p)),
        ]
        for o in data["owners"]
    ]
    tasks = [
        [
            t["owner"] or "-",
            t["task"],
            t["status"],
            f"{t['progress_percent']}%",
            str(t["tables"]),
            str(t["tables_errored"]),
            f"{t['full_load_rows']:,}",
            f"{t['cdc_changes']:,}",
            "-" if t["latency_seconds"] is None else f"{t['latency_seconds']:.0f}s",
            _short(t["last_failure"] or ""),
        ]
        for t in data["tasks"]
    ]
    running = [
        [e["owner"] or "-", e["state_machine"], e["start"], e["execution_arn"]]
        for e in data["running_executions"]
    ]
    orphaned = [
        [e["owner"], e["state_machine"], str(e["dead_pid"]), e["execution_arn"]]
        for e in data.get("killed_run_executions", [])
    ]
    suspended = [
        [s["owner"] or "-", s["task"], s["table"], _short(s["error"] or "")] for s in data["suspended_tables"]
    ]
    alerts = [[a["time"], a["kind"], a["subject"]] for a in data["alerts"]]
    schedules = [
        [
            s["owner"],
            f"{s['expression']} {s['timezone']}",
            s["next_due"] or ("disabled" if not s["enabled"] else "-"),
            s["last_status"] or "-",
            s["last_success"] or "-",
            s["last_event"] or "-",
            ", ".join(s["alarms"]) or "OK",
        ]
        for s in data.get("schedules", [])
    ]
    return [
        (
            "Last run per owner",
            ["OWNER", "PIPELINE", "STATUS", "STARTED (UTC)", "TOOK", "FAILED", "CAUSE"],
            owners,
        ),
        ("Running executions", ["OWNER", "PIPELINE", "STARTED (UTC)", "EXECUTION"], running),
        (
            "Executions of killed runs (the owner's next `run` stops them)",
            ["OWNER", "PIPELINE", "DEAD PID", "EXECUTION"],
            orphaned,
        ),
        (
            "Replication tasks",
            ["OWNER", "TASK", "STATUS", "LOAD", "TABLES", "ERRORS", "ROWS", "CHANGES", "LAG", "LAST FAILURE"],
            tasks,
        ),
        ("Suspended tables", ["OWNER", "TASK", "TABLE", "ERROR"], suspended),
        ("Recent alerts", ["TIME (UTC)", "KIND", "ALERT"], alerts),
        (
            "Schedules",
            [
                "OWNER",
                "SCHEDULE",
                "NEXT RUN (UTC)",
                "LAST RUN",
                "LAST SUCCESS (UTC)",
                "LAST DUE TIME",
                "ALARMS",
            ],
            schedules,
        ),
    ]


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plain(data: dict[str, Any]) -> str:
    out = [f"derson-lake status at {data['time']} UTC"]
    for title, header, rows in sections(data):
        out.append("")
        if not rows:
            out.append(f"{title}: none")
            continue
        out.append(f"{title}:")
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            out.append("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(out) + "\n"


def rich_screen(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(f"[bold]derson-lake status[/bold] at {data['time']} UTC")
    colours = {
        "FAILED": "red",
        "failed": "red",
        "TIMED_OUT": "red",
        "SUCCEEDED": "green",
        "RUNNING": "yellow",
    }
    colours.update({"running": "yellow", "stopped": "green"})
    for title, header, rows in sections(data):
        if not rows:
            console.print(f"[dim]{title}: none[/dim]")
            continue
        table = Table(title=title, title_justify="left", expand=False)
        for name in header:
            table.add_column(name, overflow="fold")
        for row in rows:
            table.add_row(*(f"[{colours[c]}]{c}[/]" if c in colours else c for c in row))
        console.print(table)


@app.command("status")
def status(
    owner: str | None = typer.Argument(None, help="Only this owner."),
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
    db: Path = typer.Option(None, "--db", help="State engine store (default: .derson/states.sqlite)."),
    replication_db: Path = typer.Option(
        None, "--replication-db", help="Replication task store (default: .derson/replication.sqlite)."
    ),
) -> None:
    """One screen: last run per owner, running executions, tasks, lag, failures, suspended tables."""
    from dersonlake.home import derson_home
    from dersonlake.states import default_db_path

    states_db = db or default_db_path()
    data = collect(
        states_db,
        replication_db or derson_home() / "replication.sqlite",
        Path(states_db).parent / "alerts.sqlite",
        owner,
    )
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    elif sys.stdout.isatty():
        rich_screen(data)
    else:
        typer.echo(plain(data), nl=False)
