"""``derson-lake schedule``: the local scheduler in the foreground (``serve`` runs the same one).

It runs what ``derson-lake run`` runs (the state engine, the pipelines, the DMS-intake Lambda and the
local endpoint, in this process) and starts derson-Main with ``{"owner": X, "delta": true}`` on each
owner's ``schedule:``. ``--list`` prints the owners' schedules and next due times and exits.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import typer

from dersonlake.cli.main import app


def schedule_lines(owners_dir: Path | None = None, now: float | None = None) -> list[str]:
    """One line per owner: its expression, time zone and next due times (what ``--list`` and ``demo``
    print). A ``rate()`` counts from when the scheduler first saw it, so before that it says so."""
    from dersonlake.config import list_owners, load_owner
    from dersonlake.cron import Rate, upcoming
    from dersonlake.home import derson_home
    from dersonlake.scheduler import FILE_NAME, read_overview

    now = time.time() if now is None else now
    known = {o.state.owner: o.state for o in read_overview(derson_home() / FILE_NAME)}
    lines = []
    for name in list_owners(owners_dir):
        schedule = load_owner(name, owners_dir).schedule
        if schedule is None:
            lines.append(f"{name}: no schedule (runs only when started)")
            continue
        state = known.get(name)
        same = state is not None and (state.expression, state.timezone) == (
            schedule.expression,
            schedule.timezone,
        )
        head = f"{name}: {schedule.expression} in {schedule.timezone}"
        if not schedule.enabled:
            lines.append(f"{head}, disabled")
            continue
        if isinstance(schedule.parsed, Rate) and not same:
            lines.append(
                f"{head}; next run: when the scheduler starts, then every {schedule.parsed.seconds // 60} min"
            )
            continue
        anchor = state.anchor if same and state is not None else None
        times = upcoming(schedule.parsed, now, schedule.zone, anchor, count=2)
        shown = ", ".join(_local(t, schedule.zone) for t in times) or "none (the schedule has ended)"
        lines.append(f"{head}; next run(s): {shown}")
    return lines


def _local(ts: float, zone: object) -> str:
    local = datetime.fromtimestamp(ts, zone)  # type: ignore[arg-type]
    return f"{local:%Y-%m-%d %H:%M %Z} ({datetime.fromtimestamp(ts, UTC):%H:%M} UTC)"


@app.command("schedule")
def schedule(
    owners_dir: Path | None = typer.Option(None, "--owners-dir", help="Folder of owner folders."),
    list_only: bool = typer.Option(
        False, "--list", help="Print each owner's schedule and next runs, and exit."
    ),
    pipelines: Path | None = typer.Option(None, "--pipelines", help="Folder of <name>/states.json."),
    time_scale: float = typer.Option(1.0, "--time-scale", help="Multiply Wait and retry delays (0 = none)."),
) -> None:
    """Run each owner's delta on its schedule: (owner.yaml's schedule:, EventBridge Scheduler syntax)
    until Ctrl-C."""
    from dersonlake.api import LocalServer, PipelineValues, register_pipelines
    from dersonlake.cli.run_cmd import default_pipelines
    from dersonlake.config import owners_dir as resolve_owners_dir
    from dersonlake.home import derson_home
    from dersonlake.notify import AlertWatcher, Notifier
    from dersonlake.replication import ReplicationStore
    from dersonlake.scheduler import FILE_NAME, EngineStarter, Scheduler, ScheduleStore
    from dersonlake.states import Engine, default_db_path

    base = resolve_owners_dir(owners_dir)
    for line in schedule_lines(base):
        typer.echo(line)
    if list_only:
        return
    os.environ["DERSON_OWNERS_DIR"] = str(base)  # the Lambda's environment (it runs in this process)
    home = derson_home()
    notifier = Notifier.from_files(home)
    engine = Engine(default_db_path(), time_scale=time_scale, notifier=notifier.sns_publish)
    store = ReplicationStore(home / "replication.sqlite")
    watcher = AlertWatcher(notifier, default_db_path(), home / "replication.sqlite")
    schedules = ScheduleStore(home / FILE_NAME)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        register_pipelines(engine, pipelines or default_pipelines(), PipelineValues())
        starter = EngineStarter(engine, default_db_path(), home / "replication.sqlite", "derson-Main")
        scheduler = Scheduler(starter, schedules, owners=base, send=notifier.send)
        watcher.start()
        with LocalServer(engine, store, owners_dir=base) as server:
            os.environ["DERSON_DMS_ENDPOINT_URL"] = server.url
            typer.echo(f"scheduler running (endpoint {server.url}); Ctrl-C stops it")
            scheduler.start()
            try:
                while not stop.wait(1.0):
                    pass
            except KeyboardInterrupt:
                pass
            scheduler.stop()
    finally:
        watcher.stop()
        engine.close()
        store.close()
        schedules.close()
        notifier.close()
