"""StartReplicationTask / StopReplicationTask: tasks run for real, in background threads of the server.

A task knows its owner (the ``derson-lake:owner`` tag or ``{"owner": ...}`` TaskData given at
creation); starting it resolves the owner's files (``owners/<owner>/``) into source, lake and plan,
as ``derson-lake load`` does, and runs ``run_task`` in a thread, so the status moves ``starting`` →
``running`` → ``stopped`` / ``failed`` while clients poll DescribeReplicationTasks. The replication
instance is the worker: a task whose instance is not ``available`` cannot start.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
import threading
import time
from pathlib import Path

from dersonlake.api.protocol import ApiError
from dersonlake.errors import DersonError
from dersonlake.mapping import Plan
from dersonlake.replication import status
from dersonlake.replication.full_load import FullLoad
from dersonlake.replication.store import ReplicationStore
from dersonlake.replication.task import TaskRun, reconcile, run_task

log = logging.getLogger("dersonlake.TASK_MANAGER")
OWNER_TAG = "derson-lake:owner"
STARTABLE = (status.READY, status.STOPPED, status.FAILED)


class Worker:
    """The running loads of one server, by task ARN."""

    def __init__(self, store: ReplicationStore, owners_dir: str | Path | None = None) -> None:
        self.store = store
        self.owners_dir = owners_dir
        self._lock = threading.Lock()
        self._starting = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self._loads: dict[str, FullLoad] = {}
        self._stopping: set[str] = set()
        self._reloads: dict[str, set[tuple[str, str]]] = {}  # ReloadTables waiting for the load to end

    def busy(self, arn: str) -> bool:
        with self._lock:
            thread = self._threads.get(arn)
            return thread is not None and thread.is_alive()

    def start(self, arn: str, start_type: str) -> None:
        """Check the task can start, then run it in a thread; raises ApiError otherwise."""
        with self._starting:  # two starts at once: one runs, the other is InvalidResourceStateFault
            thread = self._launch(arn, start_type)
        # Answer once the task is past ``starting`` (source discovered, plan made; at most 10 s), so
        # boto3's replication_task_stopped waiter, which gives up on ``starting``, can follow at once.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.store.task(arn)["status"] in (*STARTABLE, status.STARTING):
            if not thread.is_alive():
                break
            time.sleep(0.01)

    def reload(self, arn: str, tables: list[tuple[str, str]]) -> None:
        """ReloadTables: mark the tables ``Table is being reloaded`` (their earlier segments
        forgotten, their prep pending again), then load just them: now if the task is idle, else
        when its current load ends (``_run``)."""
        for schema, table in tables:
            self.store.clear_segments(arn, schema, table)
            self.store.set_table(
                arn, schema, table, state=status.TABLE_RELOADING, prep_pending=1, full_load_rows=0, reloaded=0
            )
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
        return self._launch(arn, status.RESUME_PROCESSING, only=tables)

    def _launch(
        self, arn: str, start_type: str, only: set[tuple[str, str]] | None = None
    ) -> threading.Thread:
        reconcile(self.store, arn)
        row = self.store.task(arn)
        if row["status"] not in STARTABLE or self.busy(arn):
            raise ApiError(
                "InvalidResourceStateFault",
                f"Replication task {row['identifier']} is {row['status']}; "
                "only a ready, stopped or failed task can be started",
            )
        if start_type != status.START_REPLICATION and row["start_date"] is None:
            raise ApiError(
                "InvalidParameterCombinationException",
                f"{start_type} needs a task that has run before; use start-replication the first time",
            )
        if not row["owner"]:
            raise ApiError(
                "InvalidParameterValueException",
                f"replication task {row['identifier']} has no owner: create it with the tag "
                f'{OWNER_TAG} (or TaskData {{"owner": ...}}) to say whose files it loads',
            )
        run = self._task_run(arn, row["owner"], only)
        thread = threading.Thread(
            target=self._run, args=(arn, start_type, run, only), name=f"task-{row['identifier']}", daemon=True
        )
        with self._lock:
            self._stopping.discard(arn)
            self._threads[arn] = thread
        thread.start()
        return thread

    def stop(self, arn: str) -> None:
        row = self.store.task(arn)
        if not self.busy(arn) or row["status"] not in (status.STARTING, status.RUNNING):
            raise ApiError(
                "InvalidResourceStateFault", f"Replication task {row['identifier']} is {row['status']}"
            )
        with self._lock:
            self._stopping.add(arn)
            load = self._loads.get(arn)
        self.store.update_task(arn, status=status.STOPPING)
        if load is not None:
            load.stop()

    def discard_uncovered(self, arn: str) -> None:
        """Before a task is deleted: remove its CDC files past its last checkpoint.

        A CDC run that failed leaves such files for its next run to remove (their changes are read
        again from the checkpoint); once the task is gone nobody would, and the owner's next task,
        started from the saved checkpoint, would write those changes a second time.
        """
        from dersonlake.config import load_owner
        from dersonlake.replication.cdc import CdcState
        from dersonlake.replication.owner_run import prepare

        state = CdcState(self.store)
        keys = state.uncovered(arn)
        owner = self.store.task(arn)["owner"]
        if not keys or not owner:
            return
        try:
            storage = prepare(load_owner(owner, self.owners_dir)).storage()
        except DersonError as exc:
            raise ApiError(
                "InvalidResourceStateFault",
                f"replication task has {len(keys)} CDC file(s) past its checkpoint to remove, but owner "
                f"{owner}'s lake cannot be opened: {exc}",
            ) from None
        storage.delete(keys)
        state.forget(arn, keys)
        log.info("removed %d CDC file(s) past the checkpoint of task %s", len(keys), arn)

    def _task_run(self, arn: str, owner: str, only: set[tuple[str, str]] | None = None) -> TaskRun:
        from dersonlake.config import load_owner
        from dersonlake.mapping import parse_mapping, parse_task_settings
        from dersonlake.replication.owner_run import OwnerRun

        row = self.store.task(arn)
        migration_type = row["migration_type"]
        try:  # the task's own mappings and settings, the owner's source and lake
            prepared = OwnerRun(
                load_owner(owner, self.owners_dir),
                parse_mapping(row["table_mappings"], file="TableMappings"),
                parse_task_settings(row["settings"], file="ReplicationTaskSettings"),
            )
            params, storage = prepared.source(), prepared.storage()
        except DersonError as exc:
            raise ApiError("InvalidParameterValueException", f"owner {owner}: {exc}") from None

        def started(load: FullLoad) -> None:
            with self._lock:
                self._loads[arn] = load
                stop = arn in self._stopping
            if stop:
                load.stop()

        return TaskRun(
            source=params,
            storage=storage,
            s3=prepared.s3,
            discover=lambda: prepared.catalog(params),
            plan=lambda catalog: _only(prepared.plan(catalog, migration_type), only),
            started=started,
            stopping=lambda: arn in self._stopping,
        )

    def _run(self, arn: str, start_type: str, run: TaskRun, only: set[tuple[str, str]] | None = None) -> None:
        try:
            run_task(self.store, arn, start_type, run)
        except Exception:  # run_task recorded the failure on the task (LastFailureMessage)
            log.info("replication task %s failed", arn, exc_info=True)
        finally:
            with self._lock:
                self._loads.pop(arn, None)
                stopped = arn in self._stopping
                self._stopping.discard(arn)
                if self._threads.get(arn) is threading.current_thread():
                    del self._threads[arn]  # this load is over: a queued reload may start
            try:
                row = self.store.task(arn)
                if stopped and row is not None and row["status"] == status.STOPPED:
                    self.store.update_task(arn, stop_reason=status.STOP_NORMAL)
                for schema, table in only or ():
                    done = {
                        (r["schema_name"], r["table_name"]): r["state"] for r in self.store.table_stats(arn)
                    }
                    if done.get((schema, table)) == status.TABLE_COMPLETED:
                        self.store.set_table(arn, schema, table, reloaded=1)
                if not stopped and row is not None and row["status"] == status.STOPPED:
                    with self._starting:
                        self._launch_reload(arn)
            except sqlite3.ProgrammingError:  # the server closed the store while the load ended
                pass
            except ApiError:  # the queued reload could not start (e.g. the task failed): logged
                log.warning("queued ReloadTables of %s could not start", arn, exc_info=True)


def _only(plan: Plan, tables: set[tuple[str, str]] | None) -> Plan:
    """The plan narrowed to ``tables`` (ReloadTables), or the whole plan."""
    if tables is None:
        return plan
    return dataclasses.replace(
        plan, tables=tuple(t for t in plan.tables if (t.source_schema, t.source_table) in tables)
    )
