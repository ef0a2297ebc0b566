"""State transitions: what one step of a frame does, inside one open transaction.

The engine calls ``step`` (a runnable frame), ``fire_timer`` (a due timer) or ``deliver`` (a
task outcome) with an open ``Tx``; everything they change (frames, timers, task rows, history)
commits together. Side effects never happen here: a Task only writes a ``tasks`` row, which the
engine dispatches after the commit.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dersonlake.states import choice, io, jsonata_mode, path_values
from dersonlake.states.clock import iso
from dersonlake.states.definition import Definition, Scope, State
from dersonlake.states.failures import (
    DATA_LIMIT_EXCEEDED,
    HEARTBEAT_TIMEOUT,
    NO_CHOICE_MATCHED,
    QUERY_EVALUATION_ERROR,
    RUNTIME,
    TIMEOUT,
    StatesFailure,
    error_matches,
    located_cause,
)
from dersonlake.states.history import STATE_EVENT_PREFIX, data_details, emit
from dersonlake.states.integrations import parse_resource
from dersonlake.states.store import Frame, Tx, dumps

if TYPE_CHECKING:
    from dersonlake.states.engine import Engine

INLINE_MAP_LIMIT = 40  # AWS runs at most 40 inline Map iterations at once
PAYLOAD_LIMIT = 256 * 1024  # bytes of state input/output (States.DataLimitExceeded)


@dataclass(frozen=True)
class Succeeded:
    output: Any


@dataclass(frozen=True)
class Failed:
    error: str
    cause: str


@dataclass(frozen=True)
class Pending:
    """The task was started and now waits (for a token or a child execution)."""

    submitted: Any = None


Outcome = Succeeded | Failed | Pending


@dataclass
class ExecInfo:
    arn: str
    name: str
    sm_arn: str
    input: Any
    start: float
    role_arn: str | None
    redrive_count: int
    redrive_date: float | None
    definition: Definition

    @property
    def sm_name(self) -> str:
        return self.sm_arn.rsplit(":", 1)[-1]


def effective_input(f: Frame) -> Any:
    """The state input after InputPath (stored only when InputPath changed it)."""
    return f.data.get("eff", f.input)


class Interpreter:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.clock = engine.clock
        self._execs: dict[str, ExecInfo] = {}

    # -- lookups ------------------------------------------------------------------------------
    def info(self, tx: Tx, exec_arn: str) -> ExecInfo:
        cached = self._execs.get(exec_arn)
        if cached is not None:
            return cached
        row = tx.execution(exec_arn)
        if row is None:
            raise KeyError(exec_arn)
        info = ExecInfo(
            arn=exec_arn,
            name=row["name"],
            sm_arn=row["sm_arn"],
            input=json.loads(row["input"]),
            start=row["start"],
            role_arn=row["role_arn"],
            redrive_count=row["redrive_count"],
            redrive_date=row["redrive_date"],
            definition=self.engine.definition_for(row["definition"]),
        )
        self._execs[exec_arn] = info
        return info

    def forget(self, exec_arn: str) -> None:
        self._execs.pop(exec_arn, None)

    def scope_state(self, tx: Tx, f: Frame) -> tuple[ExecInfo, Scope, State]:
        info = self.info(tx, f.exec_arn)
        scope = info.definition.scopes[f.scope]
        return info, scope, scope.states[f.state]

    def context(self, info: ExecInfo, f: Frame, st: State, **extra: Any) -> dict[str, Any]:
        retries = f.data.get("retries", {})
        ctx: dict[str, Any] = {
            "Execution": {
                "Id": info.arn,
                "Input": info.input,
                "Name": info.name,
                "RoleArn": info.role_arn or "",
                "StartTime": iso(info.start),
                "RedriveCount": info.redrive_count,
            },
            "State": {
                "EnteredTime": iso(f.data.get("entered", info.start)),
                "Name": st.name,
                "RetryCount": sum(retries.values()),
            },
            "StateMachine": {"Id": info.sm_arn, "Name": info.sm_name},
        }
        if info.redrive_date is not None:
            ctx["Execution"]["RedriveTime"] = iso(info.redrive_date)
        ctx.update(extra)
        return ctx

    def env(self, info: ExecInfo, f: Frame, st: State, **extra: Any) -> io.Env:
        return io.Env(self.context(info, f, st, **extra), f.vars, self.engine.rng)

    def event(
        self,
        tx: Tx,
        f: Frame,
        event_type: str,
        details: dict[str, Any] | None = None,
        ts: float | None = None,
    ) -> int:
        now = self.clock.now() if ts is None else ts
        f.data["prev"] = emit(tx, f.exec_arn, f.data.get("prev"), now, event_type, details)
        return f.data["prev"]

    def cause_of(self, f: Frame, st: State, exc: StatesFailure) -> str:
        """The failure's cause as AWS reports it: located failures name the state and its entry."""
        if not exc.located:
            return exc.cause
        return located_cause(st.name, f.data.get("entered_id"), exc.cause)

    # -- entry points ---------------------------------------------------------------------------
    def step(self, tx: Tx, f: Frame) -> None:
        f.runnable = False
        info, _, st = self.scope_state(tx, f)
        try:
            if f.phase == "enter":
                self.enter(tx, info, f, st)
            elif f.phase == "join":
                self.join(tx, info, f, st)
            else:
                tx.save_frame(f)
        except StatesFailure as exc:
            self.fail_state(tx, info, f, st, exc.error, self.cause_of(f, st, exc))

    def fire_timer(self, tx: Tx, timer: Any) -> None:
        tx.delete_timer(timer["id"])
        f = tx.frame(timer["frame_id"])
        if f is None or f.status != "RUNNING":
            return
        kind = timer["kind"]
        info, _, st = self.scope_state(tx, f)
        if kind == "exec_timeout":
            self.engine.finish_abnormally(tx, f.exec_arn, "TIMED_OUT", TIMEOUT, "Execution timed out")
            return
        try:
            if kind == "wait" and f.phase == "wait":
                self.finish_wait(tx, info, f, st)
            elif kind == "retry" and f.phase == "retry":
                self.start_work(tx, info, f, st)
            elif (
                kind in ("task_timeout", "heartbeat")
                and f.phase == "task"
                and f.data.get("task") == timer["ref"]
            ):
                self.task_timed_out(tx, info, f, st, HEARTBEAT_TIMEOUT if kind == "heartbeat" else TIMEOUT)
        except StatesFailure as exc:
            self.fail_state(tx, info, f, st, exc.error, self.cause_of(f, st, exc))

    # -- entering a state ---------------------------------------------------------------------
    def enter(self, tx: Tx, info: ExecInfo, f: Frame, st: State) -> None:
        f.data = {
            "prev": f.data.get("prev"),
            "cgen": f.data.get("cgen", 0),
            "outer": f.data.get("outer", []),
            "entered": self.clock.now(),
        }
        f.data["entered_id"] = self.event(
            tx, f, STATE_EVENT_PREFIX[st.type] + "Entered", self.entered(st, f.input)
        )
        env = self.env(info, f, st)
        if st.jsonata:
            states = {"input": f.input, "context": env.context}
            eff = f.input
        else:
            states = {}
            eff = io.select(st.raw, "InputPath", f.input, env)
        kind = st.type
        if kind == "Pass":
            if st.jsonata:
                out = self.jsonata_output(st, states, env, default=f.input)
                return self.exit(tx, f, st, out, st.next, self.jsonata_assign(st.raw, states, env))
            result = io.render(st.raw["Parameters"], eff, env) if "Parameters" in st.raw else eff
            if "Result" in st.raw:
                result = st.raw["Result"]
            new_vars = io.assign(st.raw, result, env)
            out = io.select(st.raw, "OutputPath", io.apply_result_path(st.raw, f.input, result), env)
            return self.exit(tx, f, st, out, st.next, new_vars)
        if kind == "Succeed":
            out = (
                self.jsonata_output(st, states, env, default=f.input)
                if st.jsonata
                else io.select(st.raw, "OutputPath", eff, env)
            )
            return self.exit(tx, f, st, out, None, {})
        if kind == "Fail":
            return self.fail_state_enter(tx, info, f, st, env, states)
        if kind == "Choice":
            return self.choose(tx, f, st, eff, env, states)
        if "InputPath" in st.raw:
            f.data["eff"] = eff  # else the effective input is the state input, already stored
        if kind == "Wait":
            return self.start_wait(tx, f, st, eff, env, states)
        return self.start_work(tx, info, f, st)

    def entered(self, st: State, value: Any) -> dict[str, Any]:
        return {"name": st.name, **data_details("input", value)}

    def fail_state_enter(
        self, tx: Tx, info: ExecInfo, f: Frame, st: State, env: io.Env, states: dict
    ) -> None:
        raw = st.raw
        if st.jsonata:
            error = jsonata_mode.evaluate(raw["Error"], states, f.vars, "Error") if "Error" in raw else None
            cause = jsonata_mode.evaluate(raw["Cause"], states, f.vars, "Cause") if "Cause" in raw else None
        else:
            error = (
                io.dynamic(raw["ErrorPath"], f.input, env, key="ErrorPath")
                if "ErrorPath" in raw
                else raw.get("Error")
            )
            cause = (
                io.dynamic(raw["CausePath"], f.input, env, key="CausePath")
                if "CausePath" in raw
                else raw.get("Cause")
            )
        for name, value in (("Error", error), ("Cause", cause)):
            if value is not None and not isinstance(value, str):
                raise StatesFailure(
                    RUNTIME, f"The Fail state's {name} must resolve to a string, got {value!r}"
                )
        self.end_frame_failure(tx, f, error or "", cause or "")

    def choose(self, tx: Tx, f: Frame, st: State, eff: Any, env: io.Env, states: dict) -> None:
        target = None
        new_vars: dict[str, Any] = {}
        output = None
        for i, rule in enumerate(st.raw["Choices"]):
            if st.jsonata:
                cond = rule["Condition"]
                matched = (
                    cond
                    if isinstance(cond, bool)
                    else jsonata_mode.evaluate(cond, states, f.vars, f"Choices[{i}]/Condition")
                )
                if not isinstance(matched, bool):
                    raise StatesFailure(
                        "States.QueryEvaluationError", f"Condition must be a boolean, got {matched!r}"
                    )
            else:
                matched = choice.evaluate(rule, eff, env.context, env.variables)
            if matched:
                target = rule["Next"]
                if st.jsonata:
                    if "Output" in rule:
                        output = jsonata_mode.evaluate(rule["Output"], states, f.vars, f"Choices[{i}]/Output")
                    new_vars = self.jsonata_assign(rule, states, env, prefix=f"Choices[{i}]/")
                elif "Assign" in rule:
                    new_vars = io.render(rule["Assign"], eff, env, field_name="Assign")
                break
        if target is None:
            target = st.raw.get("Default")
            if target is None:
                raise StatesFailure(
                    NO_CHOICE_MATCHED, f"No Choice rule matched and there was no Default in {st.name!r}"
                )
        if st.jsonata:
            new_vars = {**self.jsonata_assign(st.raw, states, env), **new_vars}
            if output is None:
                output = self.jsonata_output(st, states, env, default=f.input)
        else:
            new_vars = {**io.assign(st.raw, eff, env), **new_vars}
            output = io.select(st.raw, "OutputPath", eff, env)
        self.exit(tx, f, st, output, target, new_vars)

    def start_wait(self, tx: Tx, f: Frame, st: State, eff: Any, env: io.Env, states: dict) -> None:
        raw = st.raw
        now = self.clock.now()
        if st.jsonata:
            seconds = (
                jsonata_mode.evaluate(raw["Seconds"], states, f.vars, "Seconds") if "Seconds" in raw else None
            )
            stamp = (
                jsonata_mode.evaluate(raw["Timestamp"], states, f.vars, "Timestamp")
                if "Timestamp" in raw
                else None
            )
        else:
            seconds = raw.get("Seconds")
            stamp = raw.get("Timestamp")
            if "SecondsPath" in raw:
                seconds = path_values.wait_seconds(raw["SecondsPath"], eff, env.context, env.variables)
            if "TimestampPath" in raw:
                moment = path_values.read_timestamp(raw["TimestampPath"], eff, env.context, env.variables)
                due = now + max(0.0, self.clock.delay(moment.timestamp() - now))
                seconds = stamp = None
        if seconds is not None:
            if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                raise StatesFailure(
                    RUNTIME,
                    f"The Seconds parameter must be a non-negative integer, got {seconds!r}",
                    located=True,
                )
            due = now + self.clock.delay(seconds)
        elif stamp is not None:
            moment = path_values.wait_timestamp("Timestamp", stamp, stamp)
            due = now + max(0.0, self.clock.delay(moment.timestamp() - now))
        f.phase = "wait"
        tx.add_timer(f, due, "wait")
        tx.save_frame(f)

    def path_value(self, path: str, eff: Any, env: io.Env) -> Any:
        from dersonlake.states import paths

        try:
            return paths.resolve(path, eff, env.context, env.variables)
        except paths.PathMissing as exc:
            raise StatesFailure(RUNTIME, str(exc)) from None

    def finish_wait(self, tx: Tx, info: ExecInfo, f: Frame, st: State) -> None:
        env = self.env(info, f, st)
        if st.jsonata:
            states = {"input": f.input, "context": env.context}
            out = self.jsonata_output(st, states, env, default=f.input)
            return self.exit(tx, f, st, out, st.next, self.jsonata_assign(st.raw, states, env))
        eff = effective_input(f)
        out = io.select(st.raw, "OutputPath", eff, env)
        self.exit(tx, f, st, out, st.next, io.assign(st.raw, eff, env))

    # -- Task / Parallel / Map work -----------------------------------------------------------
    def start_work(self, tx: Tx, info: ExecInfo, f: Frame, st: State) -> None:
        if st.type == "Task":
            return self.schedule_task(tx, info, f, st)
        if st.type == "Parallel":
            return self.engine.children.start_parallel(tx, info, f, st)
        return self.engine.children.start_map(tx, info, f, st)

    def schedule_task(self, tx: Tx, info: ExecInfo, f: Frame, st: State) -> None:
        raw = st.raw
        res = parse_resource(raw["Resource"])
        token = str(uuid.uuid4()) if res.pattern == ".waitForTaskToken" else None
        extra = {"Task": {"Token": token}} if token else {}
        env = self.env(info, f, st, **extra)
        eff = effective_input(f)
        if st.jsonata:
            states = {"input": f.input, "context": env.context}
            params = (
                jsonata_mode.evaluate(raw["Arguments"], states, f.vars, "Arguments")
                if "Arguments" in raw
                else f.input
            )
            timeout = self.number(raw.get("TimeoutSeconds"), states, f, "TimeoutSeconds")
            heartbeat = self.number(raw.get("HeartbeatSeconds"), states, f, "HeartbeatSeconds")
        else:
            params = io.render(raw["Parameters"], eff, env) if "Parameters" in raw else eff
            timeout = raw.get("TimeoutSeconds")
            if "TimeoutSecondsPath" in raw:
                timeout = self.path_value(raw["TimeoutSecondsPath"], eff, env)
            heartbeat = raw.get("HeartbeatSeconds")
            if "HeartbeatSecondsPath" in raw:
                heartbeat = self.path_value(raw["HeartbeatSecondsPath"], eff, env)
        attempt = f.data.get("attempts", 0)
        f.data["attempts"] = attempt + 1
        now = self.clock.now()
        key = f"{f.exec_arn}#{st.name}#{f.data['entered_id']}#{attempt}"
        deadline = now + timeout if timeout else None
        task_id = tx.insert_task(f.id, f.exec_arn, key, res.arn, st.name, dumps(params), token, now, deadline)
        f.data["task"] = task_id
        f.data["timers"] = True
        if res.kind == "lambda":
            details: dict[str, Any] = {"resource": res.arn, **data_details("input", params)}
            if timeout:
                details["timeoutInSeconds"] = timeout
            self.event(tx, f, "LambdaFunctionScheduled", details)
        else:
            details = {
                "resourceType": res.history_type,
                "resource": res.history_resource,
                "region": self.engine.region,
                "parameters": dumps(params),
            }
            if timeout:
                details["timeoutInSeconds"] = timeout
            if heartbeat:
                details["heartbeatInSeconds"] = heartbeat
            self.event(tx, f, "TaskScheduled", details)
        if timeout:
            tx.add_timer(f, deadline, "task_timeout", task_id)
        if heartbeat:
            tx.add_timer(f, now + heartbeat, "heartbeat", task_id)
        f.phase = "task"
        tx.save_frame(f)
        self.engine.wake()

    def number(self, value: Any, states: dict, f: Frame, field: str) -> Any:
        return jsonata_mode.evaluate(value, states, f.vars, field) if value is not None else None

    def deliver(self, tx: Tx, task_id: int, outcome: Outcome, started: float | None = None) -> None:
        """A task's outcome arrives (handler returned, callback, child execution ended)."""
        task = tx.task(task_id)
        if task is None or task["status"] not in ("PENDING", "WAITING"):
            return
        f = tx.frame(task["frame_id"])
        if f is None or f.status != "RUNNING" or f.phase != "task" or f.data.get("task") != task_id:
            tx.set_task_status(task_id, "CANCELLED")
            return
        info, _, st = self.scope_state(tx, f)
        res = parse_resource(task["resource"])
        is_lambda = res.kind == "lambda"
        common = {} if is_lambda else {"resourceType": res.history_type, "resource": res.history_resource}
        if task["status"] == "PENDING":
            kind = "LambdaFunctionStarted" if is_lambda else "TaskStarted"
            self.event(tx, f, kind, common or None, ts=started)
        if isinstance(outcome, Pending):
            tx.set_task_status(task_id, "WAITING")
            if outcome.submitted is not None and not is_lambda:
                self.event(tx, f, "TaskSubmitted", {**common, **data_details("output", outcome.submitted)})
            tx.save_frame(f)
            return
        tx.set_task_status(task_id, "DONE")
        if task["deadline"] is not None and self.clock.now() > task["deadline"]:
            return self.task_timed_out(tx, info, f, st, TIMEOUT, cancel=False)
        try:
            if isinstance(outcome, Failed):
                kind = "LambdaFunctionFailed" if is_lambda else "TaskFailed"
                self.event(tx, f, kind, {**common, "error": outcome.error, "cause": outcome.cause})
                raise StatesFailure(outcome.error, outcome.cause)
            kind = "LambdaFunctionSucceeded" if is_lambda else "TaskSucceeded"
            self.event(tx, f, kind, {**common, **data_details("output", outcome.output)})
            self.complete_work(tx, info, f, st, outcome.output)
        except StatesFailure as exc:
            self.fail_state(tx, info, f, st, exc.error, self.cause_of(f, st, exc))

    def task_timed_out(
        self, tx: Tx, info: ExecInfo, f: Frame, st: State, error: str, *, cancel: bool = True
    ) -> None:
        task_id = f.data.get("task")
        task = tx.task_resource(task_id)
        if cancel:
            tx.set_task_status(task_id, "CANCELLED")
        res = parse_resource(task["resource"]) if task else None
        cause = "Task timed out" if error == TIMEOUT else "Task heartbeat timed out"
        if res is not None and res.kind == "lambda":
            self.event(tx, f, "LambdaFunctionTimedOut", {"error": error, "cause": cause})
        else:
            common = {"resourceType": res.history_type, "resource": res.history_resource} if res else {}
            self.event(tx, f, "TaskTimedOut", {**common, "error": error, "cause": cause})
        if task and task["child_exec"]:
            self.engine.stop_child(tx, task["child_exec"])
        self.fail_state(tx, info, f, st, error, cause)

    def complete_work(self, tx: Tx, info: ExecInfo, f: Frame, st: State, result: Any) -> None:
        """Task/Parallel/Map result -> ResultSelector -> ResultPath -> OutputPath (or JSONata Output)."""
        env = self.env(info, f, st)
        if st.jsonata:
            states = {"input": f.input, "result": result, "context": env.context}
            out = self.jsonata_output(st, states, env, default=result)
            return self.exit(tx, f, st, out, st.next, self.jsonata_assign(st.raw, states, env))
        if "ResultSelector" in st.raw:
            result = io.render(st.raw["ResultSelector"], result, env, field_name="ResultSelector")
        new_vars = io.assign(st.raw, result, env)
        merged = io.apply_result_path(st.raw, f.input, result)
        out = io.select(st.raw, "OutputPath", merged, env)
        self.exit(tx, f, st, out, st.next, new_vars)

    def join(self, tx: Tx, info: ExecInfo, f: Frame, st: State) -> None:
        self.engine.children.join(tx, info, f, st)

    # -- JSONata helpers -----------------------------------------------------------------------
    def jsonata_output(self, st: State, states: dict, env: io.Env, *, default: Any) -> Any:
        if "Output" not in st.raw:
            return default
        return jsonata_mode.evaluate(st.raw["Output"], states, env.variables, "Output")

    def jsonata_assign(
        self, raw: dict[str, Any], states: dict, env: io.Env, prefix: str = ""
    ) -> dict[str, Any]:
        if "Assign" not in raw:
            return {}
        return jsonata_mode.evaluate(raw["Assign"], states, env.variables, f"{prefix}Assign")

    # -- leaving a state --------------------------------------------------------------------------
    def exit(self, tx: Tx, f: Frame, st: State, output: Any, next_state: str | None, new_vars: dict) -> None:
        """Leave the state. Terminal problems here (payload too large, writing an outer-scope
        variable) fail the frame directly: they are not retriable and States.ALL does not catch them."""
        text = dumps(output)
        if len(text.encode()) > PAYLOAD_LIMIT:
            return self.end_frame_failure(
                tx, f, DATA_LIMIT_EXCEEDED, f"The state/task {st.name!r} returned a result over 256 KiB"
            )
        bad = set(f.data.get("outer", ())) & set(new_vars)
        if bad:
            return self.end_frame_failure(
                tx, f, RUNTIME, f"cannot assign outer-scope variable(s) {sorted(bad)} from an inner scope"
            )
        if st.type != "Fail":
            details = {"name": st.name, "output": text, "outputDetails": {"truncated": False}}
            self.event(tx, f, STATE_EVENT_PREFIX[st.type] + "Exited", details)
        if new_vars:
            f.vars = {**f.vars, **new_vars}
        if f.data.pop("timers", False):
            tx.delete_state_timers(f.id)
        if next_state is None:
            return self.end_frame_success(tx, f, output)
        f.state = next_state
        f.input = output
        f.phase = "enter"
        f.runnable = True
        f.data = {"prev": f.data.get("prev"), "cgen": f.data.get("cgen", 0), "outer": f.data.get("outer", [])}
        tx.save_frame(f)

    def fail_state(self, tx: Tx, info: ExecInfo, f: Frame, st: State, error: str, cause: str) -> None:
        """Retry (first matching retrier), else Catch (first matching catcher), else fail the frame."""
        if error == QUERY_EVALUATION_ERROR:
            self.event(tx, f, "EvaluationFailed", {"error": error, "cause": cause, "state": st.name})
        if st.type in ("Task", "Parallel", "Map"):
            for i, r in enumerate(st.retriers):
                if not error_matches(list(r.error_equals), error):
                    continue
                retries = f.data.setdefault("retries", {})
                done = retries.get(str(i), 0)
                if done < r.max_attempts:
                    retries[str(i)] = done + 1
                    delay = r.delay(done + 1)
                    if r.jitter == "FULL":
                        delay = self.engine.rng.uniform(0, delay)
                    f.phase = "retry"
                    f.data["timers"] = True
                    tx.add_timer(f, self.clock.now() + self.clock.delay(delay), "retry")
                    tx.save_frame(f)
                    return
                break
            for i, c in enumerate(st.catchers):
                if not error_matches(list(c.error_equals), error):
                    continue
                error_output = {"Error": error, "Cause": cause}
                env = self.env(info, f, st)
                if st.jsonata:
                    states = {"input": f.input, "errorOutput": error_output, "context": env.context}
                    try:
                        out = (
                            jsonata_mode.evaluate(c.output, states, f.vars, field=f"Catch[{i}]/Output")
                            if c.output is not None
                            else error_output
                        )
                        new_vars = (
                            jsonata_mode.evaluate(c.assign, states, f.vars, field=f"Catch[{i}]/Assign")
                            if c.assign
                            else {}
                        )
                    except StatesFailure as exc:
                        error, cause = exc.error, self.cause_of(f, st, exc)
                        break
                else:
                    new_vars = io.render(c.assign, error_output, env, field_name="Assign") if c.assign else {}
                    if c.result_path is None:
                        out = f.input
                    else:
                        try:
                            out = io.write_result(f.input, c.result_path, error_output)
                        except StatesFailure as exc:
                            error, cause = exc.error, exc.cause
                            break
                if f.data.get("task"):
                    tx.cancel_open_task(f.data["task"])
                self.exit(tx, f, st, out, c.next, new_vars)
                return
        self.end_frame_failure(tx, f, error, cause)

    # -- frames ending -------------------------------------------------------------------------
    def end_frame_success(self, tx: Tx, f: Frame, output: Any) -> None:
        f.status, f.output, f.phase, f.runnable = "SUCCEEDED", output, "done", False
        tx.save_frame(f)
        if f.parent_id is None:
            self.engine.finish_execution(tx, f, output)
        else:
            self.engine.children.child_ended(tx, f)

    def end_frame_failure(self, tx: Tx, f: Frame, error: str, cause: str) -> None:
        f.status, f.error, f.cause, f.runnable = "FAILED", error, cause, False
        if f.data.pop("timers", False):
            tx.delete_state_timers(f.id)
        tx.save_frame(f)
        if f.parent_id is None:
            self.engine.fail_execution(tx, f, error, cause)
        else:
            self.engine.children.child_ended(tx, f)
