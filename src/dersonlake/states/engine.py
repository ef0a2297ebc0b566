"""The durable Step Functions engine: the AWS-shaped operations and the loop that advances them.

``Engine`` is the one object other layers call. Its methods mirror the Step Functions API
(``create_state_machine``, ``start_execution``, ``describe_execution``, ...) and return plain
dicts with AWS's camelCase keys and ``datetime`` values, so the HTTP server only serialises
them. Executions advance in ``run_until_idle()`` (or a background thread from
``start_background()``): due timers fire, runnable frames take one transition each, pending
tasks are dispatched after commit and their outcomes recorded in a new transaction.
"""

from __future__ import annotations

import base64
import json
import logging
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dersonlake.home import derson_home
from dersonlake.states import integrations as integ
from dersonlake.states.api_errors import InvalidApiInput, StatesApiError
from dersonlake.states.children import Children
from dersonlake.states.clock import Clock, ManualClock, to_datetime
from dersonlake.states.definition import Definition, InvalidDefinition, load_definition
from dersonlake.states.dispatch import Dispatcher
from dersonlake.states.failures import TASK_FAILED
from dersonlake.states.failures import TIMEOUT as TIMEOUT_ERROR
from dersonlake.states.history import data_details, emit, to_api
from dersonlake.states.interpreter import Failed, Interpreter, Outcome, Succeeded
from dersonlake.states.store import Frame, Store, Tx, dumps
from dersonlake.states.validate import check_express

log = logging.getLogger("dersonlake.STATES")

TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
_BAD_NAME = re.compile(r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\x00-\x1f\x7f-\x9f]")
ResourceHandler = Callable[[Any, integ.LambdaContext], Any]


def _page(key: str, items: list[Any], max_results: int, next_token: str | None) -> dict[str, Any]:
    """AWS-style pagination: ``maxResults`` items from the opaque ``nextToken`` on."""
    start = 0
    if next_token:
        try:
            start = int(base64.urlsafe_b64decode(next_token.encode()).decode())
        except ValueError:
            raise InvalidApiInput("InvalidToken", "invalid nextToken", value=next_token) from None
    end = start + max_results if max_results else len(items)
    out: dict[str, Any] = {key: items[start:end]}
    if end < len(items):
        out["nextToken"] = base64.urlsafe_b64encode(str(end).encode()).decode()
    return out


def default_db_path() -> Path:
    return derson_home() / "states.sqlite"


class Engine:
    """A local, durable Step Functions service backed by one SQLite file.

    ``clock`` (or ``time_scale``) controls time: ``time_scale=0`` makes Waits and retry delays
    due at once; a ``ManualClock`` gives virtual time that ``wait_for`` advances itself.
    ``seed`` makes jitter and ``States.MathRandom`` without a seed reproducible.
    ``dispatch_workers`` is how many task handlers of one batch may run at once (threads).
    """

    def __init__(
        self,
        db_path: str | Path | None = None,
        *,
        clock: Clock | None = None,
        time_scale: float | None = None,
        region: str = "us-east-1",
        account: str = "000000000000",
        seed: int | None = None,
        notifier: integ.Notifier | None = None,
        lambdas: dict[str, integ.Handler | str] | None = None,
        dispatch_workers: int = 4,
    ) -> None:
        self.store = Store(db_path if db_path is not None else default_db_path())
        self.clock = clock or Clock(1.0)
        if time_scale is not None:
            self.clock.time_scale = time_scale
        self.region = region
        self.account = account
        self.rng = random.Random(seed)
        self.notifier = notifier or integ.log_notifier
        self.lambdas = integ.LambdaRegistry()
        for name, target in (lambdas or {}).items():
            self.lambdas.register(name, target)
        self.resources: dict[str, ResourceHandler] = {}
        self._definitions: dict[str, Definition] = {}
        self.interp = Interpreter(self)
        self.children = Children(self, self.interp)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop_lock = threading.Lock()
        self.dispatch_workers = dispatch_workers
        self.dispatcher = Dispatcher(self)

    def close(self) -> None:
        self.stop_background()
        self.dispatcher.shutdown()
        self.store.close()

    # -- registration ----------------------------------------------------------------------------
    def register_lambda(self, name: str, target: integ.Handler | str) -> None:
        """Serve Lambda function ``name`` with ``handler(event, context)`` or ``"module:function"``."""
        self.lambdas.register(name, target)

    def register_resource(self, resource: str, handler: ResourceHandler) -> None:
        """Serve any other Task resource ARN (e.g. an ``aws-sdk:*`` call) with ``handler(params, ctx)``."""
        self.resources[resource] = handler

    def definition_for(self, text: str) -> Definition:
        d = self._definitions.get(text)
        if d is None:
            d = self._definitions[text] = load_definition(text)
        return d

    # -- ARNs ----------------------------------------------------------------------------------------
    def state_machine_arn(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}"

    def execution_arn(self, sm_name: str, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:execution:{sm_name}:{name}"

    @staticmethod
    def _check_name(name: str, what: str) -> None:
        if not isinstance(name, str) or not 1 <= len(name) <= 80 or _BAD_NAME.search(name):
            raise InvalidApiInput(
                "InvalidName",
                f"invalid {what} name: 1 to 80 characters, no spaces, wildcards, brackets or :/#%$",
                value=name,
            )

    def sm_row(self, ref: str) -> Any:
        """A state machine by ARN, or by name (so ARNs from another region/account still resolve)."""
        row = self.store.state_machine(ref)
        if row is None:
            name = ref.rsplit(":", 1)[-1] if ref.startswith("arn:") else ref
            row = self.store.state_machine_named(name)
        if row is None:
            raise StatesApiError("StateMachineDoesNotExist", f"State Machine Does Not Exist: '{ref}'")
        return row

    def _exec_row(self, arn: str) -> Any:
        row = self.store.execution(arn)
        if row is None:
            raise StatesApiError("ExecutionDoesNotExist", f"Execution Does Not Exist: '{arn}'")
        return row

    # -- state machines -------------------------------------------------------------------------------
    def create_state_machine(
        self, name: str, definition: str | dict[str, Any], role_arn: str | None = None, type: str = "STANDARD"
    ) -> dict[str, Any]:
        self._check_name(name, "state machine")
        text = definition if isinstance(definition, str) else json.dumps(definition, indent=2)
        loaded = load_definition(text)
        if type == "EXPRESS":
            check_express(loaded.raw)
        arn = self.state_machine_arn(name)
        now = self.clock.now()
        with self.store.tx() as tx:
            row = tx.state_machine_named(name)
            if row is not None:
                if row["definition"] == text and row["role_arn"] == role_arn:
                    return {"stateMachineArn": row["arn"], "creationDate": to_datetime(row["created"])}
                raise StatesApiError("StateMachineAlreadyExists", f"State Machine Already Exists: '{arn}'")
            tx.insert_state_machine(arn, name, text, role_arn, type, now)
        return {"stateMachineArn": arn, "creationDate": to_datetime(now)}

    def update_state_machine(
        self,
        state_machine_arn: str,
        definition: str | dict[str, Any] | None = None,
        role_arn: str | None = None,
    ) -> dict[str, Any]:
        row = self.sm_row(state_machine_arn)
        text = row["definition"]
        if definition is not None:
            text = definition if isinstance(definition, str) else json.dumps(definition, indent=2)
            load_definition(text)
        now = self.clock.now()
        with self.store.tx() as tx:
            tx.update_state_machine(
                row["arn"], text, role_arn if role_arn is not None else row["role_arn"], now
            )
        return {"updateDate": to_datetime(now)}

    def describe_state_machine(self, state_machine_arn: str) -> dict[str, Any]:
        row = self.sm_row(state_machine_arn)
        out = {
            "stateMachineArn": row["arn"],
            "name": row["name"],
            "status": "ACTIVE",
            "definition": row["definition"],
            "roleArn": row["role_arn"] or "",
            "type": row["type"],
            "creationDate": to_datetime(row["created"]),
        }
        if row["updated"] is not None:
            out["updateDate"] = to_datetime(row["updated"])
        return out

    def list_state_machines(self, max_results: int = 0, next_token: str | None = None) -> dict[str, Any]:
        rows = self.store.state_machines()
        items = [
            {
                "stateMachineArn": r["arn"],
                "name": r["name"],
                "type": r["type"],
                "creationDate": to_datetime(r["created"]),
            }
            for r in rows
        ]
        return _page("stateMachines", items, max_results, next_token)

    def validate_state_machine_definition(
        self, definition: str | dict[str, Any], type: str | None = None
    ) -> dict[str, Any]:
        """ValidateStateMachineDefinition: ``{"result": "OK"|"FAIL", "diagnostics": [...]}``.

        The codes are AWS's: ``INVALID_JSON_DESCRIPTION`` when the text is not a JSON object,
        ``SCHEMA_VALIDATION_FAILED`` otherwise; ``type=EXPRESS`` adds the Express rules.
        """
        text = definition if isinstance(definition, str) else json.dumps(definition)
        try:
            loaded = load_definition(text)
            if type == "EXPRESS":
                check_express(loaded.raw)
        except InvalidDefinition as exc:
            diagnostic = {"severity": "ERROR", "code": exc.diagnostic, "message": exc.problem}
            if exc.location:
                diagnostic["location"] = exc.location
            return {"result": "FAIL", "diagnostics": [diagnostic], "truncated": False}
        return {"result": "OK", "diagnostics": [], "truncated": False}

    def describe_state_machine_for_execution(self, execution_arn: str) -> dict[str, Any]:
        """The definition an execution runs (it keeps its own copy across UpdateStateMachine)."""
        row = self._exec_row(execution_arn)
        sm = self.store.state_machine(row["sm_arn"])
        return {
            "stateMachineArn": row["sm_arn"],
            "name": row["sm_arn"].rsplit(":", 1)[-1],
            "definition": row["definition"],
            "roleArn": row["role_arn"] or "",
            "updateDate": to_datetime(sm["updated"] or sm["created"]) if sm else to_datetime(row["start"]),
        }

    def delete_state_machine(self, state_machine_arn: str) -> dict[str, Any]:
        row = self.sm_row(state_machine_arn)
        with self.store.tx() as tx:
            tx.delete_state_machine(row["arn"])
        return {}

    # -- executions -------------------------------------------------------------------------------------
    def start_execution(
        self, state_machine_arn: str, input: str | None = None, name: str | None = None
    ) -> dict[str, Any]:
        """Start an execution; the same name with the same input while it runs returns it again."""
        sm = self.sm_row(state_machine_arn)
        text = "{}" if input is None else input
        if not isinstance(text, str):
            text = json.dumps(text)
        try:
            json.loads(text)
        except ValueError as exc:
            raise InvalidApiInput(
                "InvalidExecutionInput", f"the execution input is not valid JSON: {exc}"
            ) from None
        name = name or str(uuid.uuid4())
        self._check_name(name, "execution")
        with self.store.tx() as tx:
            arn, start, _ = self.create_execution(tx, sm, name, text, parent_task=None, closed_ok=False)
        self.wake()
        return {"executionArn": arn, "startDate": to_datetime(start)}

    def start_sync_execution(
        self,
        state_machine_arn: str,
        input: str | None = None,
        name: str | None = None,
        timeout: float = 300.0,
        included_data: str = "ALL_DATA",
    ) -> dict[str, Any]:
        """StartSyncExecution: run an EXPRESS machine to its end and answer with its outcome.

        AWS serves this only for EXPRESS state machines (``StateMachineTypeNotSupported`` otherwise)
        and names the run with an ``express:`` ARN; an Express workflow lasts at most five minutes.
        """
        sm = self.sm_row(state_machine_arn)
        if sm["type"] != "EXPRESS":
            raise StatesApiError(
                "StateMachineTypeNotSupported",
                "This operation is not supported by this type of state machine",
            )
        started = self.start_execution(sm["arn"], input, name)
        arn = started["executionArn"]
        desc = self.wait_for(arn, timeout=timeout)
        if desc["status"] == "RUNNING":
            with self.store.tx() as tx:
                self.finish_abnormally(tx, arn, "TIMED_OUT", TIMEOUT_ERROR, "Express execution timed out")
            desc = self.describe_execution(arn)
        row = self._exec_row(arn)
        stop = row["stop"] if row["stop"] is not None else self.clock.now()
        out: dict[str, Any] = {
            "executionArn": arn.replace(":execution:", ":express:", 1) + f":{uuid.uuid4()}",
            "stateMachineArn": sm["arn"],
            "name": row["name"],
            "startDate": to_datetime(row["start"]),
            "stopDate": to_datetime(stop),
            "status": desc["status"],
            "input": row["input"],
            "inputDetails": {"included": True},
            "billingDetails": {
                "billedMemoryUsedInMB": 64,
                "billedDurationInMilliseconds": max(100, -(-int((stop - row["start"]) * 1000) // 100) * 100),
            },
        }
        if desc["status"] == "SUCCEEDED":
            out["output"] = row["output"]
            out["outputDetails"] = {"included": True}
        else:
            for key in ("error", "cause"):
                if row[key]:  # empty is absent (null), as DescribeExecution
                    out[key] = row[key]
        if included_data == "METADATA_ONLY":  # input and output left out, as AWS does
            out.pop("input", None)
            out.pop("output", None)
            out["inputDetails"] = {"included": False}
            if "outputDetails" in out:
                out["outputDetails"] = {"included": False}
        return out

    def create_execution(
        self, tx: Tx, sm: Any, name: str, text: str, *, parent_task: int | None, closed_ok: bool
    ) -> tuple[str, float, bool]:
        arn = self.execution_arn(sm["name"], name)
        row = tx.execution_start(arn)
        if row is not None:
            same = json.loads(row["input"]) == json.loads(text)
            if same and (closed_ok or row["status"] == "RUNNING"):
                return arn, row["start"], True
            raise StatesApiError("ExecutionAlreadyExists", f"Execution Already Exists: '{arn}'")
        definition = self.definition_for(sm["definition"])
        now = self.clock.now()
        tx.insert_execution(arn, sm["arn"], name, sm["definition"], text, now, parent_task, sm["role_arn"])
        first = emit(
            tx,
            arn,
            0,
            now,
            "ExecutionStarted",
            {**data_details("input", text), "roleArn": sm["role_arn"] or ""},
        )
        root = Frame(
            id=0,
            exec_arn=arn,
            parent_id=None,
            gen=0,
            idx=0,
            scope="",
            status="RUNNING",
            phase="enter",
            state=definition.root.start_at,
            input=json.loads(text),
            data={"prev": first},
            runnable=True,
        )
        frame_id = tx.insert_frame(root)
        tx.set_root_frame(arn, frame_id)
        if definition.timeout_seconds:
            tx.add_timer(root, now + definition.timeout_seconds, "exec_timeout")
        return arn, now, False

    def describe_execution(self, execution_arn: str) -> dict[str, Any]:
        row = self._exec_row(execution_arn)
        out: dict[str, Any] = {
            "executionArn": row["arn"],
            "stateMachineArn": row["sm_arn"],
            "name": row["name"],
            "status": row["status"],
            "startDate": to_datetime(row["start"]),
            "input": row["input"],
            "inputDetails": {"included": True},
            "redriveCount": row["redrive_count"],
        }
        if row["stop"] is not None:
            out["stopDate"] = to_datetime(row["stop"])
        if row["output"] is not None:
            out["output"] = row["output"]
            out["outputDetails"] = {"included": True}
        # AWS reports an empty error or cause (a Fail state without them) as absent (null)
        if row["error"]:
            out["error"] = row["error"]
        if row["cause"]:
            out["cause"] = row["cause"]
        if row["redrive_date"] is not None:
            out["redriveDate"] = to_datetime(row["redrive_date"])
        if row["status"] in ("FAILED", "TIMED_OUT", "ABORTED"):
            out["redriveStatus"] = "REDRIVABLE"
        else:
            out["redriveStatus"] = "NOT_REDRIVABLE"
            if row["status"] == "SUCCEEDED":
                out["redriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
        return out

    def list_executions(
        self,
        state_machine_arn: str,
        status_filter: str | None = None,
        max_results: int = 0,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        sm = self.sm_row(state_machine_arn)
        items = []
        for r in self.store.executions_of(sm["arn"], status_filter):
            item = {
                "executionArn": r["arn"],
                "stateMachineArn": r["sm_arn"],
                "name": r["name"],
                "status": r["status"],
                "startDate": to_datetime(r["start"]),
                "redriveCount": r["redrive_count"],
            }
            if r["stop"] is not None:
                item["stopDate"] = to_datetime(r["stop"])
            items.append(item)
        return _page("executions", items, max_results, next_token)

    def get_execution_history(
        self,
        execution_arn: str,
        reverse_order: bool = False,
        include_execution_data: bool = True,
        max_results: int = 0,
        next_token: str | None = None,
    ) -> dict[str, Any]:
        self._exec_row(execution_arn)
        rows = self.store.history(execution_arn, reverse=reverse_order)
        events = [to_api(r, include_execution_data) for r in rows]
        return _page("events", events, max_results, next_token)

    def stop_execution(
        self, execution_arn: str, error: str | None = None, cause: str | None = None
    ) -> dict[str, Any]:
        row = self._exec_row(execution_arn)
        if row["status"] != "RUNNING":
            raise StatesApiError("ExecutionNotRunning", f"Execution is {row['status']}: '{execution_arn}'")
        with self.store.tx() as tx:
            self.finish_abnormally(tx, execution_arn, "ABORTED", error, cause)
        return {"stopDate": to_datetime(self.clock.now())}

    def redrive_execution(self, execution_arn: str) -> dict[str, Any]:
        """Continue a FAILED/ABORTED/TIMED_OUT execution from its unsuccessful states."""
        row = self._exec_row(execution_arn)
        if row["status"] not in ("FAILED", "ABORTED", "TIMED_OUT"):
            raise StatesApiError(
                "ExecutionNotRedrivable",
                f"Execution is {row['status']}; only FAILED, ABORTED or TIMED_OUT can be redriven",
            )
        now = self.clock.now()
        with self.store.tx() as tx:
            count = row["redrive_count"] + 1
            tx.redrive_execution(execution_arn, count, now)
            self.interp.forget(execution_arn)
            root = tx.frame(row["root_frame"])
            assert root is not None
            root.data["prev"] = emit(
                tx, execution_arn, root.data.get("prev"), now, "ExecutionRedriven", {"redriveCount": count}
            )
            self.children.redrive_frame(tx, root)
        self.wake()
        return {"redriveDate": to_datetime(now)}

    # -- callbacks -------------------------------------------------------------------------------------
    def _task_by_token(self, tx: Tx, token: str) -> Any:
        task = tx.task_by_token(token)
        if task is None:
            raise StatesApiError("InvalidToken", "Invalid Token")
        if task["status"] not in ("PENDING", "WAITING"):
            raise StatesApiError("TaskTimedOut", "Task Timed Out or already completed")
        return task

    def send_task_success(self, task_token: str, output: str) -> dict[str, Any]:
        try:
            value = json.loads(output) if isinstance(output, str) else output
        except ValueError as exc:
            raise InvalidApiInput("InvalidOutput", f"the task output is not valid JSON: {exc}") from None
        with self.store.tx() as tx:
            task = self._task_by_token(tx, task_token)
            self.interp.deliver(tx, task["id"], Succeeded(value))
        self.wake()
        return {}

    def send_task_failure(
        self, task_token: str, error: str | None = None, cause: str | None = None
    ) -> dict[str, Any]:
        with self.store.tx() as tx:
            task = self._task_by_token(tx, task_token)
            self.interp.deliver(tx, task["id"], Failed(error or "", cause or ""))
        self.wake()
        return {}

    def send_task_heartbeat(self, task_token: str) -> dict[str, Any]:
        with self.store.tx() as tx:
            task = self._task_by_token(tx, task_token)
            f = tx.frame(task["frame_id"])
            if f is not None:
                _, _, st = self.interp.scope_state(tx, f)
                hb = st.raw.get("HeartbeatSeconds")
                if isinstance(hb, int):
                    tx.delete_heartbeat_timers(f.id)
                    tx.add_timer(f, self.clock.now() + hb, "heartbeat", task["id"])
        return {}

    def notifications(self, execution_arn: str | None = None) -> list[dict[str, Any]]:
        """Messages published through ``sns:publish`` (recorded for inspection and tests)."""
        return [
            {
                "target": r["target"],
                "subject": r["subject"],
                "message": r["message"],
                "attributes": json.loads(r["attributes"] or "{}"),
                "executionArn": r["exec_arn"],
                "timestamp": to_datetime(r["ts"]),
            }
            for r in self.store.notifications(execution_arn)
        ]

    # -- execution endings (called by the interpreter inside a transaction) -------------------------
    def _close(
        self, tx: Tx, arn: str, status: str, output: Any, error: str | None, cause: str | None
    ) -> None:
        text = dumps(output) if output is not None else None
        tx.close_execution(arn, status, text, error, cause, self.clock.now())
        self._notify_parent(tx, arn)
        self.interp.forget(arn)  # the cache only serves running executions

    def finish_execution(self, tx: Tx, root: Frame, output: Any) -> None:
        emit(
            tx,
            root.exec_arn,
            root.data.get("prev"),
            self.clock.now(),
            "ExecutionSucceeded",
            data_details("output", output),
        )
        self._close(tx, root.exec_arn, "SUCCEEDED", output, None, None)

    def fail_execution(self, tx: Tx, root: Frame, error: str, cause: str) -> None:
        details = {"error": error, "cause": cause}
        emit(tx, root.exec_arn, root.data.get("prev"), self.clock.now(), "ExecutionFailed", details)
        self._close(tx, root.exec_arn, "FAILED", None, error, cause)

    def finish_abnormally(self, tx: Tx, arn: str, status: str, error: str | None, cause: str | None) -> None:
        """Abort every running frame, then close the execution as ABORTED or TIMED_OUT."""
        row = tx.execution_root(arn)
        if row is None or row["status"] != "RUNNING":
            return
        root = tx.frame(row["root_frame"])
        prev = None
        if root is not None and root.status == "RUNNING":
            self.children.abort_frame(tx, root)
            prev = root.data.get("prev")
        kind = {"TIMED_OUT": "ExecutionTimedOut", "FAILED": "ExecutionFailed"}.get(status, "ExecutionAborted")
        details = {k: v for k, v in (("error", error), ("cause", cause)) if v is not None}
        emit(tx, arn, prev, self.clock.now(), kind, details)
        self._close(tx, arn, status, None, error, cause)

    def stop_child(self, tx: Tx, child_arn: str) -> None:
        self.finish_abnormally(tx, child_arn, "ABORTED", None, "Parent task stopped")

    def _notify_parent(self, tx: Tx, arn: str) -> None:
        row = tx.execution(arn)
        if row is None or row["parent_task"] is None:
            return
        task = tx.task(row["parent_task"])
        if task is None:
            return
        pattern = integ.parse_resource(task["resource"]).pattern
        if not pattern.startswith(".sync"):
            return
        self.interp.deliver(tx, task["id"], self.child_outcome(row, pattern))

    def child_outcome(self, row: Any, pattern: str) -> Outcome:
        as_json = pattern == ".sync:2"

        def value(text: str | None) -> Any:
            if text is None:
                return None
            return json.loads(text) if as_json else text

        desc: dict[str, Any] = {
            "ExecutionArn": row["arn"],
            "Input": value(row["input"]),
            "InputDetails": {"Included": True},
            "Name": row["name"],
            "StartDate": int(row["start"] * 1000),
            "StateMachineArn": row["sm_arn"],
            "Status": row["status"],
            "RedriveCount": row["redrive_count"],
        }
        if row["stop"] is not None:
            desc["StopDate"] = int(row["stop"] * 1000)
        if row["status"] == "SUCCEEDED":
            desc["Output"] = value(row["output"])
            desc["OutputDetails"] = {"Included": True}
            return Succeeded(desc)
        desc["Error"] = row["error"]
        desc["Cause"] = row["cause"]
        return Failed(TASK_FAILED, json.dumps({**desc, "Input": row["input"]}, separators=(",", ":")))

    # -- the loop ---------------------------------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    def run_until_idle(self, max_transitions: int | None = None) -> int:
        """Process everything that can run now (due timers, runnable frames, pending tasks).

        Returns the number of units of work done; timers due later are left for later calls.
        """
        done = 0
        with self._loop_lock:
            while True:
                n = self._tick()
                done += n
                if n == 0 or (max_transitions is not None and done >= max_transitions):
                    return done

    def _tick(self) -> int:
        n = 0
        now = self.clock.now()
        for timer in self.store.due_timers(now):
            try:
                with self.store.tx() as tx:
                    if tx.has_timer(timer["id"]):
                        self.interp.fire_timer(tx, timer)
            except Exception as exc:
                self._internal_failure(timer["exec_arn"], exc)
            n += 1
        for row in self.store.runnable_frames():
            try:
                with self.store.tx() as tx:
                    f = tx.frame(row["id"])
                    if f is not None and f.runnable and f.status == "RUNNING":
                        self.interp.step(tx, f)
            except Exception as exc:
                self._internal_failure(row["exec_arn"], exc)
            n += 1
        pending = self.store.pending_tasks()
        claimed = [t for t in pending if self.dispatcher.claim(t)]
        started = self.clock.now()
        if len(claimed) > 1 and self.dispatch_workers > 1:
            # handlers of one batch (e.g. the running iterations of a Map) run side by side
            outcomes = list(self.dispatcher.pool().map(self.dispatcher.dispatch, claimed))
        else:
            outcomes = [self.dispatcher.dispatch(t) for t in claimed]
        for task, outcome in zip(claimed, outcomes, strict=True):
            try:
                with self.store.tx() as tx:
                    self.interp.deliver(tx, task["id"], outcome, started)
            except Exception as exc:
                self._internal_failure(task["exec_arn"], exc)
            n += 1
        return n

    def _internal_failure(self, exec_arn: str, exc: Exception) -> None:
        """An engine bug must not wedge the loop: fail that execution (States.Runtime) and go on."""
        log.exception("internal error while running %s", exec_arn)
        self.interp.forget(exec_arn)
        with self.store.tx() as tx:
            tx.halt_execution(exec_arn)
            self.finish_abnormally(
                tx, exec_arn, "FAILED", "States.Runtime", f"internal engine error: {exc!r}"
            )

    def next_due(self) -> float | None:
        return self.store.next_due()

    def wait_for(self, execution_arn: str, timeout: float = 60.0) -> dict[str, Any]:
        """Advance (or, with a background runner, watch) until the execution ends or ``timeout``.

        With a ManualClock, virtual time jumps to the next due timer instead of sleeping.
        """
        deadline = time.monotonic() + timeout
        while True:
            if self._thread is None:
                self.run_until_idle()
            desc = self.describe_execution(execution_arn)
            if desc["status"] != "RUNNING" or time.monotonic() >= deadline:
                return desc
            if self._thread is not None:
                self._stop.wait(0.01)
                continue
            due = self.next_due()
            if isinstance(self.clock, ManualClock):
                if due is None:
                    return desc  # waiting for a callback nobody will send in this thread
                if due > self.clock.now():
                    self.clock.advance(due - self.clock.now())
                continue
            pause = 0.05 if due is None else max(0.0, min(due - self.clock.now(), 0.5))
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))

    def start_background(self) -> None:
        """Run the loop in a daemon thread (for the server); ``stop_background`` ends it."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._background, name="derson-states-runner", daemon=True)
        self._thread.start()

    def stop_background(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=10)
        self._thread = None

    def _background(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_until_idle()
            except Exception:  # keep the runner alive; the failing unit stays for the next pass
                log.exception("state engine loop failed")
            self._wake.clear()
            due = self.next_due()
            if due is None:
                self._wake.wait(1.0)
            else:
                self.clock.sleep_until(due, self._wake)
