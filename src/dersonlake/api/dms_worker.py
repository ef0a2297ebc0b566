"""StartReplicationTask / StopReplicationTask / ReloadTables / DeleteReplicationTask: the server's
threads, each running one ``replication.ReplicationTask``.

A task knows its owner (the ``derson-lake:owner`` tag or ``{"owner": ...}`` TaskData given at
creation); ``replication.api_task`` resolves the owner's files into source, lake and plan, and the
task runs in a thread, so the status moves ``starting`` -> ``running`` -> ``stopped`` / ``failed``
while clients poll DescribeReplicationTasks. What a task does is the runner's; this module only
keeps the threads, queues ReloadTables while a task is busy, and maps refusals to API errors.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from dersonlake.api.protocol import ApiError
from dersonlake.errors import DersonError
from dersonlake.replication import (
    ReplicationStore,
    ReplicationTask,
    StartRequest,
    StartTypeNotAllowed,
    TaskNotStartable,
    api_task,
    discard_uncovered,
    status,
)
from dersonlake.sandbox import sandbox_params

log = logging.getLogger("dersonlake.TASK_MANAGER")
OWNER_TAG = "derson-lake:owner"
STARTABLE = (status.READY, status.STOPPED, status.FAILED)


class Worker:
    """The running tasks of one server, by task ARN."""

    def __init__(self, store: ReplicationStore, owners_dir: str | Path | None = None) -> None:
        self.store = store
        self.owners_dir = owners_dir
        self._lock = threading.Lock()
        self._starting = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self._tasks: dict[str, ReplicationTask] = {}
        self._reloads: dict[str, set[tuple[str, str]]] = {}  # ReloadTables waiting for the run to end

    def busy(self, arn: str) -> bool:
        with self._lock:
            thread = self._threads.get(arn)
            return thread is not None and thread.is_alive()

    def start(self, arn: str, start_type: str) -> None:
        """Check the task can start, then run it in a thread; raises ApiError otherwise."""
        with self._starting:  # two starts at once: one runs, the other is InvalidResourceStateFault
            thread = self._launch(arn, StartRequest(start_type))
        # Answer once the task is past ``starting`` (source discovered, plan made; at most 10 s), so
        # boto3's replication_task_stopped waiter, which gives up on ``starting``, can follow at once.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.store.task(arn)["status"] in (*STARTABLE, status.STARTING):
            if not thread.is_alive():
                break
            time.sleep(0.01)

    def reload(self, arn: str, tables: list[tuple[str, str]]) -> None:
        """ReloadTables: mark the tables ``Table is being reloaded``, then load just them: now if
        the task is idle, else when its current run ends."""
        for schema, table in tables:
            self.store.mark_for_reload(arn, schema, table)
        with self._lock:
            self._reloads.setdefault(arn, set()).update(tables)
        if not self.busy(arn):
            with self._starting:
                self._launch_reload(arn)

    def _launch_reload(self, arn: str) -> threading.Thread | None:
        with self._lock:
            tables = self._reloads.pop(arn, set())
        if not tables:
            return None
        return self._launch(arn, StartRequest(status.RESUME_PROCESSING, only=frozenset(tables)))

    def _launch(self, arn: str, request: StartRequest) -> threading.Thread:
        task = self._task(arn)
        try:
            if self.busy(arn):
                row = self.store.task(arn)
                raise TaskNotStartable(f"Replication task {row['identifier']} is {row['status']}")
            task.check_start(request.start_type)
        except TaskNotStartable as exc:
            raise ApiError("InvalidResourceStateFault", exc.problem) from None
        except StartTypeNotAllowed as exc:
            raise ApiError("InvalidParameterCombinationException", exc.problem) from None
        thread = threading.Thread(
            target=self._run, args=(task, request), name=f"task-{task.identifier}", daemon=True
        )
        with self._lock:
            self._threads[arn] = thread
            self._tasks[arn] = task
        thread.start()
        return thread

    def _task(self, arn: str) -> ReplicationTask:
        try:
            return api_task(self.store, arn, self.owners_dir, sandbox_params)
        except DersonError as exc:
            raise ApiError("InvalidParameterValueException", str(exc)) from None

    def stop(self, arn: str) -> None:
        row = self.store.task(arn)
        with self._lock:
            task = self._tasks.get(arn)
        if task is None or not self.busy(arn) or row["status"] not in (status.STARTING, status.RUNNING):
            raise ApiError(
                "InvalidResourceStateFault", f"Replication task {row['identifier']} is {row['status']}"
            )
        task.stop()

    def discard_uncovered(self, arn: str) -> None:
        """Before a task is deleted: its CDC files past its last checkpoint go (``ReplicationTask``)."""
        try:
            discard_uncovered(self.store, arn, self.owners_dir, sandbox_params)
        except DersonError as exc:
            raise ApiError(
                "InvalidResourceStateFault",
                f"replication task has CDC files past its checkpoint to remove, but its owner's lake "
                f"cannot be opened: {exc}",
            ) from None

    def _run(self, task: ReplicationTask, request: StartRequest) -> None:
        arn = task.arn
        try:
            task.start(request)
        except Exception:  # the task recorded the failure (LastFailureMessage)
            log.info("replication task %s failed", arn, exc_info=True)
        finally:
            with self._lock:
                stopped = task.stopping
                if self._threads.get(arn) is threading.current_thread():
                    del self._threads[arn]  # this run is over: a queued reload may start
                    self._tasks.pop(arn, None)
            try:
                row = self.store.task(arn)
                if not stopped and row is not None and row["status"] == status.STOPPED:
                    with self._starting:
                        self._launch_reload(arn)
            except sqlite3.ProgrammingError:  # the server closed the store while the run ended
                pass
            except ApiError:  # the queued reload could not start (e.g. the task failed): logged
                log.warning("queued ReloadTables of %s could not start", arn, exc_info=True)
