"""Retry, Catch, predefined errors and timeouts (asl.md §1.7, §1.8)."""

from __future__ import annotations

import itertools
import json

from tests.states.conftest import one, run, start

INVOKE = "arn:aws:states:::lambda:invoke"
FN_ARN = "arn:aws:lambda:us-east-1:123456789012:function:flaky"


class ErrorA(Exception):
    pass


class ErrorB(Exception):
    pass


class ErrorC(Exception):
    pass


def scripted(*outcomes):
    """A handler that raises/returns the given outcomes in order (the last one repeats)."""
    calls = []

    def handler(event, ctx):
        calls.append(ctx.idempotency_key)
        outcome = outcomes[min(len(calls) - 1, len(outcomes) - 1)]
        if isinstance(outcome, type) and issubclass(outcome, Exception):
            raise outcome(f"failure {len(calls)}")
        return outcome

    handler.calls = calls
    return handler


def task(**extra):
    return {
        "Type": "Task",
        "Resource": INVOKE,
        "Parameters": {"FunctionName": "flaky", "Payload.$": "$"},
        **extra,
    }


def scheduled_times(r):
    return [e["timestamp"].timestamp() for e in r.events if e["type"] == "TaskScheduled"]


def gaps(times):
    return [round(b - a, 3) for a, b in itertools.pairwise(times)]


def test_retry_backoff_and_exhaustion(engine):
    engine.register_lambda("flaky", scripted(ErrorA))
    r = run(
        engine, one(task(Retry=[{"ErrorEquals": ["ErrorA"], "IntervalSeconds": 1, "BackoffRate": 2}])), {}
    )
    assert (r.status, r.error) == ("FAILED", "ErrorA")
    assert gaps(scheduled_times(r)) == [1, 2, 4]
    assert r.types.count("TaskStateEntered") == 1
    assert r.types[1:] == ["TaskStateEntered"] + ["TaskScheduled", "TaskStarted", "TaskFailed"] * 4 + [
        "ExecutionFailed"
    ]


def test_max_delay_seconds_caps_the_interval(engine):
    engine.register_lambda("flaky", scripted(ErrorA))
    retry = [
        {
            "ErrorEquals": ["ErrorA"],
            "IntervalSeconds": 2,
            "BackoffRate": 3,
            "MaxAttempts": 3,
            "MaxDelaySeconds": 5,
        }
    ]
    r = run(engine, one(task(Retry=retry)), {})
    assert gaps(scheduled_times(r)) == [2, 5, 5]


def test_each_retrier_keeps_its_own_counter_then_catch(engine):
    # The developer guide's example: errors A, B, C, B, B wait 1, 2, 5, 4 seconds, then go to Catch.
    engine.register_lambda("flaky", scripted(ErrorA, ErrorB, ErrorC, ErrorB, ErrorB))
    retry = [
        {"ErrorEquals": ["ErrorA", "ErrorB"], "IntervalSeconds": 1, "BackoffRate": 2.0, "MaxAttempts": 3},
        {"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5},
    ]
    d = {
        "StartAt": "T",
        "States": {
            "T": task(Retry=retry, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], Next="Done"),
            "Caught": {"Type": "Pass", "End": True},
            "Done": {"Type": "Succeed"},
        },
    }
    r = run(engine, d, {})
    assert gaps(scheduled_times(r)) == [1, 2, 5, 4]
    assert r.status == "SUCCEEDED"
    assert r.output["Error"] == "ErrorB"


def test_max_attempts_zero_never_retries(engine):
    engine.register_lambda("flaky", scripted(ErrorA))
    r = run(engine, one(task(Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 0}])), {})
    assert r.types.count("TaskScheduled") == 1 and r.error == "ErrorA"


def test_full_jitter_stays_below_the_backoff(engine):
    engine.register_lambda("flaky", scripted(ErrorA))
    retry = [{"ErrorEquals": ["ErrorA"], "IntervalSeconds": 10, "MaxAttempts": 3, "JitterStrategy": "FULL"}]
    r = run(engine, one(task(Retry=retry)), {})
    g = gaps(scheduled_times(r))
    assert all(0 <= x <= limit for x, limit in zip(g, [10, 20, 40], strict=True))
    assert g != [10, 20, 40]


def test_retry_count_in_context_and_idempotency_keys(engine):
    handler = scripted(ErrorA, ErrorA, {"ok": True})
    seen = []
    engine.register_lambda("flaky", lambda ev, ctx: seen.append(ev["retry"]) or handler(ev, ctx))
    t = task(Parameters={"FunctionName": "flaky", "Payload": {"retry.$": "$$.State.RetryCount"}})
    r = run(engine, one({**t, "Retry": [{"ErrorEquals": ["ErrorA"]}]}), {})
    assert r.status == "SUCCEEDED"
    assert seen == [0, 1, 2]
    keys = handler.calls
    assert len(set(keys)) == 3 and all(k.startswith(r.arn + "#S#") for k in keys)


def test_catch_result_shape_and_result_path(engine):
    engine.register_lambda("flaky", scripted(ErrorA))
    d = {
        "StartAt": "T",
        "States": {
            "T": task(Catch=[{"ErrorEquals": ["ErrorA"], "ResultPath": "$.err", "Next": "After"}], End=True),
            "After": {"Type": "Pass", "End": True},
        },
    }
    r = run(engine, d, {"keep": 1})
    assert r.output["keep"] == 1
    assert set(r.output["err"]) == {"Error", "Cause"}
    assert r.output["err"]["Error"] == "ErrorA"
    cause = json.loads(r.output["err"]["Cause"])
    assert cause["errorType"] == "ErrorA" and cause["errorMessage"] == "failure 1"
    assert isinstance(cause["stackTrace"], list)
    assert r.types[1:5] == ["TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskFailed"]
    assert r.types[5:7] == ["TaskStateExited", "PassStateEntered"]


def test_catch_default_result_path_replaces_input_and_null_keeps_it(engine):
    engine.register_lambda("flaky", scripted(ErrorA))
    for result_path, expected_keys in ((..., {"Error", "Cause"}), (None, {"keep"})):
        catcher = {"ErrorEquals": ["States.ALL"], "Next": "After"}
        if result_path is not ...:
            catcher["ResultPath"] = result_path
        d = {
            "StartAt": "T",
            "States": {"T": task(Catch=[catcher], End=True), "After": {"Type": "Pass", "End": True}},
        }
        assert set(run(engine, d, {"keep": 1}).output) == expected_keys


def test_task_failed_matches_handler_errors_and_first_matching_catcher_wins(engine):
    engine.register_lambda("flaky", scripted(ErrorA))
    d = {
        "StartAt": "T",
        "States": {
            "T": task(
                Catch=[
                    {"ErrorEquals": ["ErrorB"], "Next": "B"},
                    {"ErrorEquals": ["States.TaskFailed"], "Next": "TF"},
                    {"ErrorEquals": ["States.ALL"], "Next": "B"},
                ],
                End=True,
            ),
            "B": {"Type": "Pass", "Result": "B", "End": True},
            "TF": {"Type": "Pass", "Result": "TF", "End": True},
        },
    }
    assert run(engine, d, {}).output == "TF"


def test_states_all_does_not_catch_states_runtime(engine):
    engine.register_lambda("flaky", scripted({"x": 1}))
    d = {
        "StartAt": "T",
        "States": {
            "T": task(InputPath="$.missing", Catch=[{"ErrorEquals": ["States.ALL"], "Next": "C"}], End=True),
            "C": {"Type": "Pass", "End": True},
        },
    }
    r = run(engine, d, {})
    assert (r.status, r.error) == ("FAILED", "States.Runtime")


def test_missing_parameter_path_is_runtime_and_not_catchable(engine):
    # On AWS a missing .$ path is States.Runtime, which neither a named catcher nor States.ALL takes.
    d = {
        "StartAt": "T",
        "States": {
            "T": task(
                Parameters={"FunctionName": "flaky", "x.$": "$.missing"},
                Catch=[
                    {"ErrorEquals": ["States.ParameterPathFailure"], "Next": "C"},
                    {"ErrorEquals": ["States.ALL"], "Next": "C"},
                ],
                End=True,
            ),
            "C": {"Type": "Pass", "End": True},
        },
    }
    r = run(engine, d, {})
    assert (r.status, r.error) == ("FAILED", "States.Runtime")


def test_plain_lambda_arn_failure_events_and_error_name(engine):
    engine.register_lambda("flaky", scripted(ErrorB))
    r = run(engine, one({"Type": "Task", "Resource": FN_ARN}), {})
    assert r.error == "ErrorB"
    assert r.types[1:] == [
        "TaskStateEntered",
        "LambdaFunctionScheduled",
        "LambdaFunctionStarted",
        "LambdaFunctionFailed",
        "ExecutionFailed",
    ]
    assert r.details("LambdaFunctionFailed")[0]["error"] == "ErrorB"


def test_task_timeout_on_a_callback_nobody_answers(engine):
    d = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "flaky", "Payload": {"token.$": "$$.Task.Token"}},
                "TimeoutSeconds": 30,
                "Catch": [
                    {"ErrorEquals": ["States.TaskFailed"], "Next": "Wrong"},
                    {"ErrorEquals": ["States.Timeout"], "ResultPath": "$.e", "Next": "TimedOut"},
                ],
                "End": True,
            },
            "Wrong": {"Type": "Fail"},
            "TimedOut": {"Type": "Pass", "End": True},
        },
    }
    engine.register_lambda("flaky", scripted({"sent": True}))
    r = run(engine, d, {})
    assert r.status == "SUCCEEDED"
    assert r.output["e"]["Error"] == "States.Timeout"
    assert "TaskTimedOut" in r.types
    assert gaps(
        [e["timestamp"].timestamp() for e in r.events if e["type"] in ("TaskScheduled", "TaskTimedOut")]
    ) == [30]


def test_slow_handler_past_timeout_is_a_timeout(engine):
    def slow(event, ctx):
        engine.clock.advance(11)  # the handler really takes 11 (virtual) seconds
        return {}

    engine.register_lambda("flaky", slow)
    r = run(engine, one(task(TimeoutSeconds=10)), {})
    assert (r.status, r.error) == ("FAILED", "States.Timeout")


def test_heartbeat_timeout_and_heartbeats_extend_it(engine):
    tokens = []
    engine.register_lambda("flaky", lambda ev, ctx: tokens.append(ev["token"]))
    d = one(
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "flaky", "Payload": {"token.$": "$$.Task.Token"}},
            "HeartbeatSeconds": 10,
            "TimeoutSeconds": 100,
        }
    )
    arn = start(engine, d, {})
    engine.run_until_idle()
    engine.clock.advance(8)
    engine.send_task_heartbeat(tokens[0])
    engine.clock.advance(8)
    engine.run_until_idle()
    assert engine.describe_execution(arn)["status"] == "RUNNING"  # 16 s in, but a heartbeat at 8 s
    engine.clock.advance(3)
    engine.run_until_idle()
    desc = engine.describe_execution(arn)
    assert (desc["status"], desc["error"]) == ("FAILED", "States.HeartbeatTimeout")


def test_execution_timeout(engine):
    d = {"TimeoutSeconds": 10, **one({"Type": "Wait", "Seconds": 100})}
    arn = start(engine, d, {})
    desc = engine.wait_for(arn)
    assert (desc["status"], desc["error"]) == ("TIMED_OUT", "States.Timeout")
    types = [e["type"] for e in engine.get_execution_history(arn)["events"]]
    assert types[-2:] == ["WaitStateAborted", "ExecutionTimedOut"]


def test_fail_state_error_and_cause_and_their_path_forms(engine):
    r = run(engine, one({"Type": "Fail", "Error": "MyError", "Cause": "because"}), {})
    assert (r.status, r.error, r.cause) == ("FAILED", "MyError", "because")
    assert r.types[1:] == ["FailStateEntered", "ExecutionFailed"]
    d = one({"Type": "Fail", "ErrorPath": "$.e", "CausePath": "States.Format('code {}', $.c)"})
    r = run(engine, d, {"e": "Dyn", "c": 7})
    assert (r.error, r.cause) == ("Dyn", "code 7")


def test_payload_over_256_kib_is_data_limit_exceeded_and_not_caught_by_all(engine):
    engine.register_lambda("double", "tests.states.handlers:double")  # "x" * 2 = "xx"
    d = {
        "StartAt": "Grow",
        "States": {
            "Grow": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:000000000000:function:double",
                "InputPath": "$.s",
                "ResultPath": "$.s2",
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    assert run(engine, d, {"s": "x" * 1000}).status == "SUCCEEDED"
    r = run(engine, d, {"s": "x" * 100_000})  # input 100 KB + result 200 KB > 256 KiB
    assert (r.status, r.error) == ("FAILED", "States.DataLimitExceeded")


def test_timeout_seconds_path(engine):
    d = one(
        {
            "Type": "Task",
            "Resource": "arn:aws:states:::sns:publish.waitForTaskToken",
            "Parameters": {"TopicArn": "arn:aws:sns:us-east-1:000000000000:t", "Message.$": "$$.Task.Token"},
            "TimeoutSecondsPath": "$.limit",
        }
    )
    r = run(engine, d, {"limit": 45})
    assert (r.status, r.error) == ("FAILED", "States.Timeout")
    times = [e["timestamp"].timestamp() for e in r.events if e["type"] in ("TaskScheduled", "TaskTimedOut")]
    assert gaps(times) == [45]
    assert r.details("TaskScheduled")[0]["timeoutInSeconds"] == 45
