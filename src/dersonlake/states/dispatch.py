"""Dispatching Task work after commit: claiming a task, calling its integration, returning an outcome.

The loop (``Engine._tick``) records each outcome in a new transaction, so this module never
touches frames or history: it only runs side effects (Lambda handlers, SNS notifications, child
executions) and says how they went. A task is delivered at least once; its idempotency key is
stable across re-deliveries.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from dersonlake.processes import pid_alive
from dersonlake.states import integrations as integ
from dersonlake.states.api_errors import StatesApiError
from dersonlake.states.interpreter import Failed, Outcome, Pending, Succeeded
from dersonlake.states.store import dumps

if TYPE_CHECKING:
    from dersonlake.states.engine import Engine


class Dispatcher:
    """Runs the side effect of one task row and turns what happened into an ``Outcome``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._executor: ThreadPoolExecutor | None = None

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                self.engine.dispatch_workers, thread_name_prefix="derson-task"
            )
        return self._executor

    def claim(self, task: Any) -> bool:
        """Take a pending task for this process unless another live process holds it.

        Several processes may share one store (a server and a CLI run); frames and timers are
        already safe because every step re-reads its row inside the transaction, but a task is
        dispatched outside any transaction. A claim names the process id; a claim by a process
        that is gone (killed) is taken over at once, so crash recovery does not wait for a lease.
        """
        owner = task["claimed_by"]
        me = os.getpid()
        if owner not in (None, me) and pid_alive(owner):
            return False
        with self.engine.store.tx() as tx:
            return tx.claim_task(task["id"], me, owner)

    def dispatch(self, task: Any) -> Outcome:
        res = integ.parse_resource(task["resource"])
        params = json.loads(task["request"])
        key = task["key"]
        ctx = integ.LambdaContext(
            function_name=res.function,
            aws_request_id=integ.request_id(key),
            idempotency_key=key,
            invoked_function_arn=res.arn,
            execution_arn=task["exec_arn"],
            state_name=task["state"],
            task_token=task["token"],
        )
        callback = res.pattern == ".waitForTaskToken"
        try:
            if res.kind == "lambda":
                return Succeeded(self.engine.lambdas.invoke(res.function, params, ctx))
            base = res.arn[: len(res.arn) - len(res.pattern)] if res.pattern else res.arn
            if base in self.engine.resources or res.arn in self.engine.resources:
                out = (self.engine.resources.get(res.arn) or self.engine.resources[base])(params, ctx)
                return Pending() if callback else Succeeded(out)
            if res.service == "lambda" and res.api == "invoke":
                if not isinstance(params, dict):
                    raise integ.HandlerFailed(
                        "Lambda.InvalidRequestContentException", "Parameters must be an object"
                    )
                ctx.function_name = integ.function_name(params.get("FunctionName"))
                payload = self.engine.lambdas.invoke(ctx.function_name, params.get("Payload", {}), ctx)
                response = integ.lambda_invoke_response(payload, key)
                return Pending(response) if callback else Succeeded(response)
            if res.service == "sns" and res.api == "publish":
                target, message, subject, attrs = integ.sns_request(params)
                self.record_notification(task, target, message, subject, attrs)
                self.engine.notifier(integ.SnsMessage(key, task["exec_arn"], target, message, subject, attrs))
                response = integ.sns_response(key)
                return Pending(response) if callback else Succeeded(response)
            if res.service == "states" and res.api == "startExecution":
                return self.start_child(task, params, res)
        except integ.HandlerFailed as exc:
            return Failed(exc.error, exc.cause)
        except StatesApiError as exc:
            return Failed(f"StepFunctions.{exc.code}Exception", exc.message)
        except Exception as exc:  # an integration bug must fail the task, not the engine
            return Failed(type(exc).__name__, str(exc))
        return Failed(
            "States.Runtime",
            f"The local engine has no handler for resource {res.arn!r}; use Engine.register_resource",
        )

    def record_notification(
        self, task: Any, target: str, message: str, subject: str | None, attrs: Any
    ) -> None:
        with self.engine.store.tx() as tx:
            tx.add_notification(
                task["key"], self.engine.clock.now(), task["exec_arn"], target, subject, message, dumps(attrs)
            )

    def start_child(self, task: Any, params: Any, res: integ.Resource) -> Outcome:
        if not isinstance(params, dict) or "StateMachineArn" not in params:
            raise integ.HandlerFailed("StepFunctions.InvalidArnException", "StateMachineArn is required")
        sm = self.engine.sm_row(params["StateMachineArn"])
        raw_input = params.get("Input", {})
        text = raw_input if isinstance(raw_input, str) else dumps(raw_input)
        name = params.get("Name") or integ.request_id(task["key"])
        sync = res.pattern.startswith(".sync")
        with self.engine.store.tx() as tx:
            arn, start, _ = self.engine.create_execution(
                tx, sm, name, text, parent_task=task["id"], closed_ok=True
            )
            tx.set_child_execution(task["id"], arn)
            row = tx.execution(arn)
        started = {"ExecutionArn": arn, "StartDate": int(start * 1000)}
        if res.pattern == ".waitForTaskToken":
            return Pending()
        if not sync:
            return Succeeded(started)
        if row["status"] != "RUNNING":
            return self.engine.child_outcome(row, res.pattern)
        return Pending(started)
