"""Progress of a full load for people: bars on a terminal, plain lines otherwise.

On a terminal an overall bar (every table of the load: rows done of the estimated total, rows/s,
ETA) sits above one bar per table (rows, rows/s, ETA from the catalog's row estimate), so a user
loading 200 tables sees how long the whole task will take, not only the tables running now. The
estimate is corrected as tables finish (a finished table counts with its real rows). In a log or
CI there is one line when a table starts, one per committed file and one when it ends, so a long
load shows life without flooding the log.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from dersonlake.lake import CommittedFile
from dersonlake.mapping import TablePlan


class TerminalProgress:
    """rich bars, one per table; used as a context manager around the load."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._bars = Progress(
            TextColumn("{task.fields[name]:<32}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>12}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[state]}"),
            console=self.console,
            transient=False,
        )
        self._ids: dict[str, Any] = {}
        self._start: dict[str, float] = {}
        self._lock = threading.Lock()
        self._overall: Any = None  # the bar of all tables, made by load_planned or the first table
        self._overall_start = 0.0
        self._estimates: dict[str, int] = {}  # per table: rows it counts for in the overall total
        self._seen: dict[str, int] = {}  # per table: rows reported so far
        self._finished: set[str] = set()

    def __enter__(self) -> TerminalProgress:
        self._bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bars.stop()

    def load_planned(self, tables: Sequence[tuple[TablePlan, int]]) -> None:
        """Every table this load will read, with its estimated rows: the overall bar's total."""
        with self._lock:
            self._ensure_overall()
            for table, estimated in tables:
                self._estimates.setdefault(table.source, max(estimated, 0))
            self._update_overall()

    def _ensure_overall(self) -> None:
        if self._overall is None:  # added first, so it stays above the tables' bars
            self._overall_start = time.monotonic()
            self._overall = self._bars.add_task("", total=1, name="", rate="", state="")

    def _update_overall(self) -> None:
        done = sum(self._seen.values())
        total = max(sum(self._estimates.values()), done, 1)
        elapsed = max(time.monotonic() - self._overall_start, 1e-6)
        self._bars.update(
            self._overall,
            total=total,
            completed=done,
            name=f"all {len(self._estimates)} tables ({len(self._finished)} done)",
            rate=f"{done / elapsed:,.0f} rows/s" if done else "",
        )

    def table_started(self, table: TablePlan, estimated_rows: int) -> None:
        with self._lock:
            self._ensure_overall()
            self._estimates.setdefault(table.source, max(estimated_rows, 0))
            self._start[table.source] = time.monotonic()
            self._ids[table.source] = self._bars.add_task(
                "", total=max(estimated_rows, 1), name=table.target, rate="", state="loading"
            )

    def rows_loaded(self, table: TablePlan, rows: int) -> None:
        with self._lock:
            task_id = self._ids[table.source]
            self._bars.advance(task_id, rows)
            done = self._bars.tasks[task_id].completed
            if done > self._bars.tasks[task_id].total:
                self._bars.update(task_id, total=done)
            elapsed = max(time.monotonic() - self._start[table.source], 1e-6)
            self._bars.update(task_id, rate=f"{done / elapsed:,.0f} rows/s")
            self._seen[table.source] = self._seen.get(table.source, 0) + rows
            self._update_overall()

    def file_committed(self, table: TablePlan, file: CommittedFile) -> None:
        pass

    def table_finished(self, table: TablePlan, state: str, rows: int, error: str | None) -> None:
        with self._lock:
            task_id = self._ids.get(table.source)
            if task_id is None:
                task_id = self._ids[table.source] = self._bars.add_task(
                    "", total=1, name=table.target, rate="", state=""
                )
            self._bars.update(
                task_id,
                total=max(rows, 1),
                completed=max(rows, 1),
                state="done" if error is None else f"[red]{state}: {error}",
            )
            self._ensure_overall()
            self._estimates[table.source] = rows  # the estimate gives way to the real count
            self._finished.add(table.source)
            self._seen[table.source] = rows
            self._update_overall()


class LogProgress:
    """One line per table start, committed file and table end (for logs and CI)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self._start: dict[str, float] = {}
        self._lock = threading.Lock()

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def _say(self, text: str) -> None:
        with self._lock:
            print(text, file=self.stream, flush=True)

    def load_planned(self, tables: Sequence[tuple[TablePlan, int]]) -> None:
        total = sum(max(n, 0) for _t, n in tables)
        self._say(f"loading {len(tables)} table(s), about {total:,} rows")

    def table_started(self, table: TablePlan, estimated_rows: int) -> None:
        self._start[table.source] = time.monotonic()
        self._say(f"{table.target}: loading (about {estimated_rows:,} rows)")

    def rows_loaded(self, table: TablePlan, rows: int) -> None:
        pass

    def file_committed(self, table: TablePlan, file: CommittedFile) -> None:
        self._say(f"{table.target}: wrote {file.key} ({file.rows:,} rows, {file.bytes:,} bytes)")

    def table_finished(self, table: TablePlan, state: str, rows: int, error: str | None) -> None:
        elapsed = time.monotonic() - self._start.get(table.source, time.monotonic())
        rate = f", {rows / elapsed:,.0f} rows/s" if elapsed > 0 and rows else ""
        suffix = f": {error}" if error else ""
        self._say(f"{table.target}: {state} - {rows:,} rows in {elapsed:.1f}s{rate}{suffix}")


def progress_for(stream: Any = None) -> TerminalProgress | LogProgress:
    stream = stream or sys.stderr
    return TerminalProgress() if stream.isatty() else LogProgress(stream)
