"""One local ``derson-lake run`` per owner at a time, and what happens to a run that was killed.

Every run of an owner drives the same DMS resources (instance and task ``derson-<owner>``), so two
at once delete each other's resources. A run holds an exclusive ``flock`` on
``$DERSON_HOME/runs/<owner>.lock`` for its whole life; the kernel drops it when the process dies,
SIGKILL included, so a lock can never outlive its holder. The file also says who holds it: a run
that ends writes it empty, a killed run leaves its pid there.

Choice: a new run **stops and cleans up** a killed run's work before starting its own (it does not
resume it). The killed run's executions (derson-Main and the DMS-Handler / DMS-ErrorHandling
children of the owner) are stopped as ``ABORTED`` with ``DersonLake.RunProcessDied`` naming the dead
process, *before* this process's engine loop starts (so they are never advanced beside the new
run), then its replication task and instance are deleted through the DMS-intake's own steps
(which save the CDC checkpoint first). Resuming would mean following a half-finished pipeline whose
DMS task died with its process; starting clean gives the same lake (loads are idempotent, CDC
restarts from the checkpoint) and a run whose output the user can read from the start.

Running executions of the owner that no killed ``run`` left (a ``derson-lake serve`` on the same
store started them) are not ours to stop: the new run refuses, naming them.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any

from dersonlake.errors import OperationFailed
from dersonlake.processes import pid_alive

PIPELINES = ("derson-Main", "DMS-Handler", "DMS-ErrorHandling")
DIED = "DersonLake.RunProcessDied"


class OwnerLock:
    """The exclusive lock of one owner's runs (see the module docstring)."""

    def __init__(self, home: Path, owner: str) -> None:
        self.path = home / "runs" / f"{owner}.lock"
        self.owner = owner
        self._fd: int | None = None
        self.killed_pid: int | None = None  # the pid a killed run left in the file, if any

    def acquire(self) -> OwnerLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(fd).get("pid", "?")
            os.close(fd)
            raise OperationFailed(
                f"owner {self.owner} is already being run by process {holder}: one run per owner at a "
                f"time; wait for it to end (or stop it) and run again"
            ) from None
        left = _read(fd).get("pid")
        if isinstance(left, int) and left != os.getpid() and not pid_alive(left):
            self.killed_pid = left
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "started": time.time()}).encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """A clean end: the file says nobody, the lock goes."""
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> OwnerLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def killed_run_pid(home: Path, owner: str) -> int | None:
    """The pid of the owner's run when it was killed (its lock file still names it, and it is gone)."""
    try:
        doc = json.loads((home / "runs" / f"{owner}.lock").read_text() or "{}")
    except (OSError, ValueError):
        return None
    pid = doc.get("pid") if isinstance(doc, dict) else None
    return pid if isinstance(pid, int) and not pid_alive(pid) else None


def _read(fd: int) -> dict[str, Any]:
    try:
        doc = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def running_executions(engine: Any, owner: str) -> list[str]:
    """ARNs of the owner's RUNNING pipeline executions in this store, derson-Main first."""
    found: list[str] = []
    for machine in PIPELINES:
        try:
            listed = engine.list_executions(engine.state_machine_arn(machine), status_filter="RUNNING")
        except Exception:  # the machine is not registered yet: nothing of it runs
            continue
        for e in listed["executions"]:
            described = engine.describe_execution(e["executionArn"])
            try:
                doc = json.loads(described.get("input") or "{}")
            except ValueError:
                continue
            if isinstance(doc, dict) and doc.get("owner") == owner:
                found.append(e["executionArn"])
    return found


def stop_killed_run(engine: Any, lock: OwnerLock) -> list[str]:
    """Abort what a killed run left RUNNING (before this engine's loop starts); refuse executions
    that no killed run left. Returns the ARNs stopped."""
    running = running_executions(engine, lock.owner)
    if not running:
        return []
    if lock.killed_pid is None:
        raise OperationFailed(
            f"owner {lock.owner} has running executions that this command did not start "
            f"(a `derson-lake serve` on the same {engine.store.path}?): {', '.join(running)}; "
            "let them end or stop them (aws stepfunctions stop-execution) first"
        )
    return abort(
        engine, running, f"the derson-lake run process (pid {lock.killed_pid}) that drove it was killed"
    )


def abort(engine: Any, arns: list[str], why: str) -> list[str]:
    from dersonlake.states import StatesApiError

    stopped = []
    for arn in arns:
        try:
            engine.stop_execution(arn, DIED, why)
        except StatesApiError:  # already ended (a child stopped with its parent)
            continue
        stopped.append(arn)
    return stopped


def clean_dms(owner: str, echo: Any) -> None:
    """Delete the owner's replication task and instance through the DMS-intake's own steps (the
    checkpoint is saved first); the endpoint is the one ``DERSON_DMS_ENDPOINT_URL`` names."""
    from dersonlake.intake import Dms

    dms = Dms(owner)
    task = dms.delete_task(None)
    deadline = time.monotonic() + 60
    while dms.find_task() is not None and time.monotonic() < deadline:
        time.sleep(0.2)
    instance = dms.delete_instance()
    deadline = time.monotonic() + 120
    while dms.find_instance() is not None and time.monotonic() < deadline:  # deleting takes a while
        time.sleep(0.2)
    echo(
        f"cleaned up: task {'deleted' if task.get('deleted') else 'none'}, "
        f"instance {'deleted' if instance.get('deleted') else 'none'}"
    )
