"""``derson-lake stream <owner>``: CDC continuously, with seconds of lag, until SIGTERM or SIGINT.

The signal only sets a flag: the stream stops reading at the next transaction boundary (at most a
heartbeat later when idle), commits its open files, saves the checkpoint, marks the task
``stopped`` (``Stop Reason NORMAL``) and exits 0. During the first run's full load it interrupts
the load instead (the task is ``stopped``; the next run loads again), exit 1. A status line goes
to stderr every ``--status-every`` seconds with the CDC latency and throughput (also in the
replication store).
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import typer

from dersonlake.cli.main import app


@app.command()
def stream(
    owner: str = typer.Argument(..., help="Owner name (a folder in the owners dir)"),
    owners_dir: Path | None = typer.Option(None, "--owners-dir", help="Folder of owner folders."),
    cdc_start_position: str | None = typer.Option(
        None,
        "--cdc-start-position",
        help="Start here instead of the checkpoint: mysql-bin.000003:1234, a RecoveryCheckpoint, a GTID.",
    ),
    cdc_start_time: str | None = typer.Option(
        None, "--cdc-start-time", help="Start at the first transaction committed at/after this UTC time."
    ),
    cdc_stop_position: str | None = typer.Option(
        None, "--cdc-stop-position", help="Stop at server_time:<UTC time> or commit_time:<UTC time>."
    ),
    status_every: float = typer.Option(
        10.0, "--status-every", help="Seconds between status lines (0: none)."
    ),
) -> None:
    """Stream the owner's changes into the lake until stopped (SIGTERM/SIGINT: flush, checkpoint, exit 0).

    The first time it does the full load first (as `load --delta`); later it continues from the
    checkpoint. Files are committed every CdcMaxBatchInterval seconds or CdcMinFileSize KB.
    """
    from dersonlake.cli.load_cmd import open_store, raise_for_result, start_options
    from dersonlake.replication import delta_request, owner_task
    from dersonlake.sandbox import sandbox_params

    start, stop_at = start_options(cdc_start_position, cdc_start_time, cdc_stop_position)
    stop = threading.Event()  # ends the status reporter
    reporter: list[threading.Thread] = []

    def started(task: object) -> None:
        arn = getattr(task, "arn", "")
        typer.echo(f"{owner}: running (task {arn}); SIGTERM or Ctrl-C stops it", err=True)
        if status_every > 0:
            thread = threading.Thread(
                target=_report,
                args=(owner, arn, getattr(task, "store", None), stop, status_every),
                daemon=True,
            )
            thread.start()
            reporter.append(thread)

    store = open_store()
    task = owner_task(
        store,
        owner,
        owners_dir,
        delta=True,
        explicit_start=start is not None,
        on_running=started,
        sandbox=sandbox_params,
    )

    def request_stop(signum: int, _frame: object) -> None:
        if not task.cdc_running.is_set():  # still in the first full load: interrupt it (task stopped)
            raise KeyboardInterrupt
        typer.echo(
            f"{owner}: {signal.Signals(signum).name}: stopping at the next transaction boundary", err=True
        )
        task.stop()

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        done = task.start(delta_request(task, start=start, stop_at=stop_at, blocking=True))
    finally:
        stop.set()
        for s, handler in previous.items():
            signal.signal(s, handler)
    if done.full_load is not None:
        o = done.full_load
        typer.echo(f"{owner}: full load {o.rows:,} rows, {o.files} files; CDC started there")
    cdc = done.cdc
    if cdc is None:
        typer.echo(f"{owner}: {done.stop_reason}")
    else:
        typer.echo(
            f"{owner}: streamed {cdc.changes:,} change(s) from {cdc.transactions:,} transaction(s) in "
            f"{cdc.files} file(s); checkpoint {cdc.checkpoint.position if cdc.checkpoint else '-'}; "
            f"{done.stop_reason}"
            + (f"; {done.restarts} restart(s) after source errors" if done.restarts else "")
        )
    raise_for_result(task, done)


def _report(owner: str, arn: str, store: object, stop: threading.Event, every: float) -> None:
    """A status line every ``every`` seconds from the metrics the stream saves."""
    from dersonlake.replication import ReplicationStore, cdc_metrics

    assert isinstance(store, ReplicationStore)
    while not stop.wait(every):
        m = cdc_metrics(store, arn)
        if m:
            typer.echo(
                f"{owner}: latency source {m['CDCLatencySource']:.1f}s "
                f"target {m['CDCLatencyTarget']:.1f}s; {m['CDCThroughputRowsSource']:.0f} rows/s in, "
                f"{m['CDCThroughputRowsTarget']:.0f} rows/s out; "
                f"{m['CDCIncomingChanges']} pending",
                err=True,
            )
