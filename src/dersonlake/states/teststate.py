"""The TestState API: run one state once, outside any execution, and show what each step did.

AWS's TestState takes a single state (or a whole machine plus ``stateName``), an input, optional
variables and context, and an optional ``mock`` that stands in for the Task/Map/Parallel work. It
answers with ``status`` (SUCCEEDED, FAILED, RETRIABLE, CAUGHT_ERROR), ``output``, ``error``/``cause``,
``nextState`` and, at DEBUG and TRACE, ``inspectionData``: the value after each processing step
(InputPath, Parameters, the result, ResultSelector, ResultPath; Arguments in JSONata), the
variables, and which retrier or catcher took an error. Nothing is persisted; a Wait does not wait.

The steps reuse the engine's own ``io``/``paths``/``choice``/``jsonata_mode`` functions, so a
state behaves here exactly as it does inside an execution.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dersonlake.states import choice, io, jsonata_mode, mock_validation, path_values, paths
from dersonlake.states.api_errors import InvalidApiInput
from dersonlake.states.children import items_not_array
from dersonlake.states.clock import iso
from dersonlake.states.definition import InvalidDefinition, State, load_definition, parse_json_definition
from dersonlake.states.failures import (
    EXCEED_TOLERATED_FAILURE_THRESHOLD,
    RUNTIME,
    StatesFailure,
    error_matches,
)
from dersonlake.states.interpreter import Failed, Pending, Succeeded

if TYPE_CHECKING:
    from dersonlake.states.engine import Engine

SINGLE_STATE_NAME = "StateName"  # the name a lone state runs under (its context's State.Name)
_NO_MOCK_STATES = ("Pass", "Fail", "Succeed", "Choice", "Wait")
_MOCK_ONLY = "TestState API does not support Map or Parallel states. Supported state types include: " + (
    "[Task, Wait, Pass, Succeed, Fail, Choice]"
)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _invalid(message: str) -> InvalidApiInput:
    return InvalidApiInput("ValidationException", message)


@dataclass
class _Run:
    """What one TestState call has found so far: the answer and the inspection data."""

    inspection: dict[str, Any] = field(default_factory=dict)
    answer: dict[str, Any] = field(default_factory=dict)

    def see(self, key: str, value: Any) -> None:
        self.inspection[key] = _compact(value)


def _json_member(params: dict[str, Any], key: str, code: str, what: str) -> Any:
    text = params.get(key)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidApiInput(code, f"Invalid {what}: '{exc}'") from None


def _machine_for(raw: dict[str, Any], state_name: str | None) -> tuple[dict[str, Any], str]:
    """A whole definition to validate, and the name of the state under test.

    A lone state's ``Next``/``Default``/``Catch`` targets name states that are not there; they get
    placeholder Succeed states so the ordinary validation (fields, paths, retriers) applies.
    """
    if "Type" in raw and "States" not in raw:
        if state_name is not None:
            raise _invalid("stateName can only be specified when the definition is a state machine")
        name = SINGLE_STATE_NAME
        targets = [raw["Next"]] if isinstance(raw.get("Next"), str) else []
        targets += [c.get("Next") for c in raw.get("Catch", []) or [] if isinstance(c, dict)]
        targets += [r.get("Next") for r in raw.get("Choices", []) or [] if isinstance(r, dict)]
        targets.append(raw.get("Default"))
        states: dict[str, Any] = {name: raw}
        for target in targets:
            if isinstance(target, str) and target not in states:
                states[target] = {"Type": "Succeed"}
        return {"StartAt": name, "States": states}, name
    states = raw.get("States")
    name = state_name or raw.get("StartAt")
    if isinstance(states, dict) and isinstance(name, str) and name not in states:
        raise _invalid(f"State '{name}' does not exist in the definition.")
    return raw, name  # type: ignore[return-value]


# The members a mocked context object may have, and their JSON types (AWS's rules).
_CONTEXT_FIELDS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "Execution": {
        "Id": str,
        "Input": object,
        "Name": str,
        "RoleArn": str,
        "StartTime": str,
        "RedriveCount": int,
        "RedriveTime": str,
    },
    "State": {"EnteredTime": str, "Name": str, "RetryCount": int},
    "StateMachine": {"Id": str, "Name": str},
    "Task": {"Token": str},
}
_TYPE_NAMES = {str: "a string", int: "a number"}


def _check_context(context: Any, state: State) -> None:
    """A mocked context object: only AWS's fields, of the right types, and ``Task`` only where a
    task token exists (``.sync``/``.waitForTaskToken``)."""

    def bad(problem: str) -> InvalidApiInput:
        return _invalid(f"Invalid Context object provided: {problem}")

    if not isinstance(context, dict):
        raise bad("the context must be a JSON object")
    for key, value in context.items():
        if key == "Map":
            raise bad("'Map' field is not supported when mocking a Context object")
        if key not in _CONTEXT_FIELDS:
            raise bad(f"Field '{key}' is not allowed")
        if not isinstance(value, dict):
            raise bad(f"{key} must be an object")
        for field_name, field_value in value.items():
            kind = _CONTEXT_FIELDS[key].get(field_name)
            if kind is None:
                raise bad(f"Field '{field_name}' is not allowed")
            if kind is not object and (
                not isinstance(field_value, kind) or (kind is int and isinstance(field_value, bool))
            ):
                raise bad(f"{key}.{field_name} must be {_TYPE_NAMES[kind]}")  # type: ignore[index]
    resource = state.raw.get("Resource", "") if state.type == "Task" else ""
    if "Task" in context and not (".sync" in resource or ".waitForTaskToken" in resource):
        raise bad(
            "Context object contains 'Task' when state is not a Task state with a '.sync' or"
            " '.waitForTaskToken' service integration pattern"
        )


def _check_mock(state: State, mock: dict[str, Any] | None, reveal: bool) -> Any:
    """The mock's rules (AWS's ValidationException texts); returns the parsed mocked result."""
    kind = state.type
    if mock is None:
        if kind in ("Map", "Parallel"):
            raise InvalidDefinition(_MOCK_ONLY)
        resource = state.raw.get("Resource", "") if kind == "Task" else ""
        if ".sync" in resource or ".waitForTaskToken" in resource or ":activity:" in resource:
            raise _invalid(
                "TestState does not support .sync, .waitForTaskToken or Activity tasks"
                " unless a mock is specified."
            )
        return None
    if kind in _NO_MOCK_STATES:
        raise _invalid(f"State type '{kind}' is not supported when a mock is specified")
    if "result" in mock and "errorOutput" in mock:
        raise _invalid("A test mock should have only one of the following fields: [result, errorOutput].")
    if "result" not in mock and "errorOutput" not in mock:
        raise _invalid("A test mock should have one of the following fields: [result, errorOutput].")
    if reveal:
        raise _invalid("TestState does not support RevealSecrets when a mock is specified.")
    if "errorOutput" in mock:
        return None
    try:
        result = json.loads(mock["result"])
    except ValueError as exc:
        raise _invalid(f"Mocked result must be valid JSON: {exc}") from None
    if kind == "Map":
        if "ResultWriter" in state.raw:
            if not isinstance(result, dict):
                raise _invalid("Mocked result must be a JSON object.")
        elif not isinstance(result, list):
            raise _invalid("Mocked result must be an array.")
    if kind == "Parallel":
        if not isinstance(result, list):
            raise _invalid("Mocked result must be an array.")
        if len(result) != len(state.raw.get("Branches", [])):
            raise _invalid(
                "Mocked result must contain the same number of items as number of Parallel branches."
            )
    return result


def run_test_state(engine: Engine, params: dict[str, Any]) -> dict[str, Any]:
    """TestState: validate the arguments as AWS does, run the state once, shape the answer."""
    level = params.get("inspectionLevel") or "INFO"
    mock = params.get("mock")
    reveal = bool(params.get("revealSecrets"))
    if params.get("context") is not None and mock is None:
        raise _invalid("TestState does not support context unless a mock is specified.")
    raw = parse_json_definition(params["definition"])
    machine, name = _machine_for(raw, params.get("stateName"))
    definition = load_definition(machine)
    state = definition.root.states[name]
    mocked = _check_mock(state, mock, reveal)
    if state.type == "Task" and mock is None and not params.get("roleArn"):
        raise _invalid("RoleArn must be specified when testing a Task state")
    if state.type == "Task" and mock is not None and "result" in mock:
        mock_validation.validate(state.raw["Resource"], mocked, mock.get("fieldValidationMode") or "STRICT")
    state_input = _json_member(params, "input", "InvalidExecutionInput", "State Machine Execution Input")
    if state_input is None:
        state_input = {}
    variables = _json_member(params, "variables", "ValidationException", "variables") or {}
    if not isinstance(variables, dict):
        raise _invalid("variables must be a JSON object")
    context = _json_member(params, "context", "ValidationException", "context")
    if context is not None:
        _check_context(context, state)
    config = params.get("stateConfiguration") or {}
    run = _Run()
    tester = _Tester(engine, state, state_input, variables, context, mock, mocked, config, run, params)
    tester.run()
    answer = run.answer
    if level in ("DEBUG", "TRACE"):
        answer["inspectionData"] = run.inspection
    return answer


class _Tester:
    """One state, one input: the JSONPath or JSONata processing steps, recorded as they happen."""

    def __init__(
        self,
        engine: Engine,
        state: State,
        state_input: Any,
        variables: dict[str, Any],
        context: Any,
        mock: dict[str, Any] | None,
        mocked: Any,
        config: dict[str, Any],
        run: _Run,
        params: dict[str, Any],
    ) -> None:
        self.engine = engine
        self.state = state
        self.input = state_input
        self.vars = dict(variables)
        self.mock = mock
        self.mocked = mocked
        self.config = config
        self.run_ = run
        self.params = params
        now = engine.clock.now()
        name = str(uuid.uuid4())
        sm_name = f"TestState-{uuid.uuid4().hex[:12]}"
        prefix = f"arn:aws:states:{engine.region}:{engine.account}"
        # As AWS fills it for a test run: an express execution of a throwaway machine, RoleArn
        # null without a roleArn, RetryCount only on the states that retry.
        state_ctx: dict[str, Any] = {"Name": state.name, "EnteredTime": iso(now)}
        if state.type in ("Task", "Map", "Parallel"):
            state_ctx["RetryCount"] = config.get("retrierRetryCount") or 0
        base: dict[str, Any] = {
            "Execution": {
                "Id": f"{prefix}:express:{sm_name}:{name}",
                "Input": state_input,
                "Name": name,
                "RoleArn": params.get("roleArn"),
                "StartTime": iso(now),
            },
            "StateMachine": {"Id": f"{prefix}:stateMachine:{sm_name}", "Name": sm_name},
            "State": state_ctx,
        }
        if context is not None:
            base = context  # a mocked context replaces the whole context object, as on AWS
        self.context = base
        self.env = io.Env(self.context, self.vars, engine.rng)

    # -- driver ------------------------------------------------------------------------------------
    def run(self) -> None:
        st = self.state
        self.run_.see("input", self.input)
        if self.vars:
            self.run_.see("variables", self.vars)
        try:
            if st.jsonata:
                self.jsonata()
            else:
                self.jsonpath()
        except StatesFailure as exc:
            self.failed(exc.error, exc.cause)

    def succeed(self, output: Any, next_state: str | None, new_vars: dict[str, Any]) -> None:
        if new_vars:
            self.vars.update(new_vars)
            self.run_.see("variables", self.vars)
        answer = self.run_.answer
        answer["status"] = "SUCCEEDED"
        answer["output"] = _compact(output)
        if next_state:
            answer["nextState"] = next_state

    def failed(self, error: str, cause: str) -> None:
        """Retry (RETRIABLE while attempts remain), else Catch (CAUGHT_ERROR), else FAILED."""
        st = self.state
        answer = self.run_.answer
        if error:
            answer["error"] = error
        if cause:
            answer["cause"] = cause
        if st.type in ("Task", "Parallel", "Map"):
            done = self.config.get("retrierRetryCount", 0) or 0
            for i, r in enumerate(st.retriers):
                if not error_matches(list(r.error_equals), error):
                    continue
                if done < r.max_attempts:
                    self.run_.inspection["errorDetails"] = {
                        "retryIndex": i,
                        "retryBackoffIntervalSeconds": int(r.delay(done + 1)),
                    }
                    answer["status"] = "RETRIABLE"
                    return
                break
            for i, c in enumerate(st.catchers):
                if not error_matches(list(c.error_equals), error):
                    continue
                self.run_.inspection["errorDetails"] = {"catchIndex": i}
                error_output = {"Error": error, "Cause": cause}
                answer["status"] = "CAUGHT_ERROR"
                answer["nextState"] = c.next
                try:
                    if st.jsonata:
                        states = {"input": self.input, "errorOutput": error_output, "context": self.context}
                        out = (
                            self.evaluate(c.output, states, f"Catch[{i}]/Output")
                            if c.output is not None
                            else error_output
                        )
                        new_vars = self.evaluate(c.assign, states, f"Catch[{i}]/Assign") if c.assign else {}
                    else:
                        new_vars = (
                            io.render(c.assign, error_output, self.env, field_name="Assign")
                            if c.assign
                            else {}
                        )
                        out = (
                            self.input
                            if c.result_path is None
                            else io.write_result(self.input, c.result_path, error_output)
                        )
                except StatesFailure:
                    return  # AWS answers CAUGHT_ERROR and leaves the output out
                if new_vars:
                    self.vars.update(new_vars)
                    self.run_.see("variables", self.vars)
                answer["output"] = _compact(out)
                return
        answer["status"] = "FAILED"

    # -- JSONPath ----------------------------------------------------------------------------------
    def jsonpath(self) -> None:
        st, raw, env = self.state, self.state.raw, self.env
        kind = st.type
        if kind == "Pass" and "Result" in raw:
            result = raw["Result"]
            self.run_.see("result", result)
            return self.finish_result(result)
        eff = io.select(raw, "InputPath", self.input, env)
        self.run_.see("afterInputPath", eff)
        if kind == "Pass":
            result = io.render(raw["Parameters"], eff, env) if "Parameters" in raw else eff
            self.run_.see("afterParameters", result)
            return self.finish_result(result)
        if kind == "Succeed":
            return self.succeed(io.select(raw, "OutputPath", eff, env), None, {})
        if kind == "Fail":
            error = (
                io.dynamic(raw["ErrorPath"], self.input, env, key="ErrorPath")
                if "ErrorPath" in raw
                else raw.get("Error")
            )
            cause = (
                io.dynamic(raw["CausePath"], self.input, env, key="CausePath")
                if "CausePath" in raw
                else raw.get("Cause")
            )
            self.run_.answer["status"] = "FAILED"
            if error:
                self.run_.answer["error"] = error
            if cause:
                self.run_.answer["cause"] = cause
            return None
        if kind == "Choice":
            return self.choose(eff)
        if kind == "Wait":
            self.wait_value(eff)
            return self.succeed(io.select(raw, "OutputPath", eff, env), st.next, io.assign(raw, eff, env))
        if kind == "Map":
            items_path = raw.get("ItemsPath", "$")
            items = self.path(items_path, eff)
            if not isinstance(items, list):
                raise StatesFailure(RUNTIME, items_not_array(items_path))
            self.run_.see("afterItemsPath", items)
            self.map_settings(eff)
            work_input = items
        else:
            work_input = io.render(raw["Parameters"], eff, env) if "Parameters" in raw else eff
            self.run_.see("afterParameters", work_input)
        result = self.work(work_input)
        if kind == "Task":  # AWS reports no raw result for a Map or Parallel
            self.run_.see("result", result)
        return self.finish_result(result)

    def finish_result(self, result: Any) -> None:
        raw, env = self.state.raw, self.env
        if "ResultSelector" in raw:
            result = io.render(raw["ResultSelector"], result, env, field_name="ResultSelector")
        self.run_.see("afterResultSelector", result)
        new_vars = io.assign(raw, result, env)
        merged = io.apply_result_path(raw, self.input, result)
        self.run_.see("afterResultPath", merged)
        out = io.select(raw, "OutputPath", merged, env)
        self.succeed(out, self.state.next, new_vars)

    def choose(self, eff: Any) -> None:
        raw, env = self.state.raw, self.env
        for rule in raw["Choices"]:
            if choice.evaluate(rule, eff, env.context, env.variables):
                new_vars = (
                    io.render(rule["Assign"], eff, env, field_name="Assign") if "Assign" in rule else {}
                )
                new_vars = {**io.assign(raw, eff, env), **new_vars}
                return self.succeed(io.select(raw, "OutputPath", eff, env), rule["Next"], new_vars)
        default = raw.get("Default")
        if default is None:
            raise StatesFailure("States.NoChoiceMatched", "No Matches!")
        self.succeed(io.select(raw, "OutputPath", eff, env), default, io.assign(raw, eff, env))

    def path(self, text: str, data: Any) -> Any:
        try:
            return paths.resolve(text, data, self.env.context, self.env.variables)
        except paths.PathMissing as exc:
            raise StatesFailure(RUNTIME, str(exc)) from None

    def wait_value(self, eff: Any) -> None:
        """The Wait's seconds or timestamp must be valid; TestState does not actually wait."""
        raw = self.state.raw
        if "SecondsPath" in raw:
            seconds = self.path(raw["SecondsPath"], eff)
            if isinstance(seconds, bool) or not isinstance(seconds, int) or seconds < 0:
                raise StatesFailure(RUNTIME, f"Wait seconds must be a non-negative integer, got {seconds!r}")
        if "TimestampPath" in raw:
            stamp = self.path(raw["TimestampPath"], eff)
            if choice.parse_timestamp(stamp) is None:
                raise StatesFailure(RUNTIME, f"Wait timestamp must be RFC 3339, got {stamp!r}")

    def map_settings(self, eff: Any) -> None:
        raw, ctx, variables = self.state.raw, self.context, self.vars
        maxc = (
            path_values.max_concurrency(raw["MaxConcurrencyPath"], eff, ctx, variables)
            if "MaxConcurrencyPath" in raw
            else raw.get("MaxConcurrency", 0)
        )
        count = raw.get("ToleratedFailureCount")
        if "ToleratedFailureCountPath" in raw:
            count = path_values.tolerated_count(raw["ToleratedFailureCountPath"], eff, ctx, variables)
        pct = raw.get("ToleratedFailurePercentage")
        if "ToleratedFailurePercentagePath" in raw:
            pct = path_values.tolerated_percentage(raw["ToleratedFailurePercentagePath"], eff, ctx, variables)
        self.record_map_settings(maxc, count, pct)

    def record_map_settings(self, maxc: Any, count: Any, pct: Any) -> None:
        self.run_.inspection["maxConcurrency"] = maxc
        if count is not None:
            self.run_.inspection["toleratedFailureCount"] = count
        if pct is not None:
            self.run_.inspection["toleratedFailurePercentage"] = float(pct)
        self.tolerated = (count, pct)

    # -- JSONata -----------------------------------------------------------------------------------
    def jsonata(self) -> None:
        st, raw = self.state, self.state.raw
        kind = st.type
        states: dict[str, Any] = {"input": self.input, "context": self.context}
        ev = self.evaluate
        if kind == "Fail":
            error = ev(raw["Error"], states, "Error") if "Error" in raw else None
            cause = ev(raw["Cause"], states, "Cause") if "Cause" in raw else None
            self.run_.answer["status"] = "FAILED"
            if error:
                self.run_.answer["error"] = error
            if cause:
                self.run_.answer["cause"] = cause
            return None
        if kind == "Choice":
            for i, rule in enumerate(raw["Choices"]):
                cond = rule["Condition"]
                matched = cond if isinstance(cond, bool) else ev(cond, states, f"Choices[{i}]/Condition")
                if not isinstance(matched, bool):
                    raise StatesFailure(
                        "States.QueryEvaluationError", f"Condition must be a boolean, got {matched!r}"
                    )
                if matched:
                    out = (
                        ev(rule["Output"], states, f"Choices[{i}]/Output")
                        if "Output" in rule
                        else self.output(states, self.input)
                    )
                    new_vars = {**self.assign(raw, states), **self.assign(rule, states, f"Choices[{i}]/")}
                    return self.succeed(out, rule["Next"], new_vars)
            if "Default" not in raw:
                raise StatesFailure("States.NoChoiceMatched", "No Matches!")
            return self.succeed(self.output(states, self.input), raw["Default"], self.assign(raw, states))
        if kind in ("Pass", "Succeed", "Wait"):
            if kind == "Wait":
                for key in ("Seconds", "Timestamp"):
                    if key in raw:
                        ev(raw[key], states, key)
            return self.succeed(self.output(states, self.input), st.next, self.assign(raw, states))
        if kind == "Map":
            items = ev(raw["Items"], states, "Items") if "Items" in raw else self.input
            self.record_map_settings(
                ev(raw.get("MaxConcurrency", 0), states, "MaxConcurrency"),
                ev(raw["ToleratedFailureCount"], states, "ToleratedFailureCount")
                if "ToleratedFailureCount" in raw
                else None,
                ev(raw["ToleratedFailurePercentage"], states, "ToleratedFailurePercentage")
                if "ToleratedFailurePercentage" in raw
                else None,
            )
            work_input = items
        else:
            work_input = ev(raw["Arguments"], states, "Arguments") if "Arguments" in raw else self.input
            self.run_.see("afterArguments", work_input)
        result = self.work(work_input)
        self.run_.see("result", result)
        states = {**states, "result": result}
        self.succeed(self.output(states, result), st.next, self.assign(raw, states))

    tolerated: tuple[Any, Any] = (None, None)

    def evaluate(self, value: Any, states: dict[str, Any], field: str = "Output") -> Any:
        return jsonata_mode.evaluate(value, states, self.vars, field)

    def output(self, states: dict[str, Any], default: Any) -> Any:
        raw = self.state.raw
        return self.evaluate(raw["Output"], states) if "Output" in raw else default

    def assign(self, raw: dict[str, Any], states: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        return self.evaluate(raw["Assign"], states, f"{prefix}Assign") if "Assign" in raw else {}

    # -- the work: a mock, or the real integration ------------------------------------------------
    def check_failure_threshold(self, items: Any) -> None:
        """``stateConfiguration.mapIterationFailureCount`` against the Map's tolerated failures."""
        failed = self.config.get("mapIterationFailureCount")
        count, pct = self.tolerated
        if failed is None or (count is None and pct is None):
            return
        total = len(items) if isinstance(items, list) and items else 0
        over_count = count is not None and failed > count
        over_pct = pct is not None and total > 0 and failed * 100.0 / total > pct
        if over_count or over_pct:
            raise StatesFailure(
                EXCEED_TOLERATED_FAILURE_THRESHOLD, "The specified tolerated failure threshold was exceeded"
            )

    def work(self, work_input: Any) -> Any:
        if self.mock is not None:
            if "errorOutput" in self.mock:
                err = self.mock["errorOutput"] or {}
                raise StatesFailure(err.get("error", ""), err.get("cause", ""))
            if self.state.type == "Map":
                self.check_failure_threshold(work_input)
            return self.mocked
        resource = self.state.raw["Resource"]
        key = f"teststate#{uuid.uuid4()}"
        task = {
            "id": -1,
            "resource": resource,
            "request": _compact(work_input),
            "key": key,
            "exec_arn": self.context["Execution"]["Id"],
            "state": self.state.name,
            "token": None,
        }
        outcome = self.engine.dispatcher.dispatch(task)
        if isinstance(outcome, Failed):
            raise StatesFailure(outcome.error, outcome.cause)
        if isinstance(outcome, Pending):
            return outcome.submitted if outcome.submitted is not None else {}
        assert isinstance(outcome, Succeeded)
        return outcome.output
