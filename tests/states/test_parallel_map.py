"""Parallel and inline Map (asl.md §1.2): child frames, order, concurrency, failure, tolerance."""

from __future__ import annotations

import threading

from tests.states.conftest import one, run, start

INVOKE = "arn:aws:states:::lambda:invoke"


def branch(state):
    return {"StartAt": "B", "States": {"B": {**state, "End": True}}}


def test_parallel_outputs_in_branch_order_with_parameters_and_result_selector(engine):
    d = one(
        {
            "Type": "Parallel",
            "Parameters": {"v.$": "$.v"},
            "Branches": [
                branch({"Type": "Pass", "Parameters": {"b": 0, "v.$": "$.v"}}),
                branch({"Type": "Pass", "Result": "second"}),
                branch({"Type": "Wait", "Seconds": 5}),
            ],
            "ResultSelector": {"first.$": "$[0]", "all.$": "$"},
            "ResultPath": "$.r",
        }
    )
    r = run(engine, d, {"v": 9})
    assert r.output == {
        "v": 9,
        "r": {"first": {"b": 0, "v": 9}, "all": [{"b": 0, "v": 9}, "second", {"v": 9}]},
    }
    assert r.types[:4] == [
        "ExecutionStarted",
        "ParallelStateEntered",
        "ParallelStateStarted",
        "PassStateEntered",
    ]
    assert r.types[-3:] == ["ParallelStateSucceeded", "ParallelStateExited", "ExecutionSucceeded"]


def test_failing_branch_fails_the_state_and_aborts_siblings(engine):
    d = {
        "StartAt": "P",
        "States": {
            "P": {
                "Type": "Parallel",
                "Branches": [
                    branch({"Type": "Wait", "Seconds": 100}),
                    {
                        "StartAt": "W",
                        "States": {
                            "W": {"Type": "Wait", "Seconds": 1, "Next": "F"},
                            "F": {"Type": "Fail", "Error": "BranchBroke", "Cause": "c"},
                        },
                    },
                ],
                "Catch": [{"ErrorEquals": ["BranchBroke"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    r = run(engine, d, {})
    assert r.status == "SUCCEEDED"
    assert r.output == {"Error": "BranchBroke", "Cause": "c"}  # the branch's own error name propagates
    assert "WaitStateAborted" in r.types and "ParallelStateFailed" in r.types
    end = r.events[-1]["timestamp"].timestamp() - r.events[0]["timestamp"].timestamp()
    assert end < 10  # the 100 s sibling did not hold the state


def test_map_results_in_item_order_with_item_selector_and_context(engine):
    proc = {
        "StartAt": "Sq",
        "States": {"Sq": {"Type": "Pass", "Parameters": {"i.$": "$.i", "v.$": "$.v"}, "End": True}},
    }
    d = one(
        {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "tag.$": "$.tag"},
            "ItemProcessor": proc,
            "MaxConcurrency": 2,
            "ResultPath": "$.out",
        }
    )
    r = run(engine, d, {"items": ["a", "b", "c"], "tag": "t"})
    assert r.output["out"] == [{"i": 0, "v": "a"}, {"i": 1, "v": "b"}, {"i": 2, "v": "c"}]
    assert r.details("MapStateStarted") == [{"length": 3}]
    started = [d["index"] for d in r.details("MapIterationStarted")]
    assert started == [0, 1, 2]
    # MaxConcurrency 2: item 2 starts only after an earlier one succeeded
    idx = r.types.index
    third = [i for i, e in enumerate(r.events) if e["type"] == "MapIterationStarted"][2]
    assert idx("MapIterationSucceeded") < third


def test_map_legacy_iterator_and_parameters(engine):
    proc = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    d = one({"Type": "Map", "Iterator": proc, "Parameters": {"x.$": "$$.Map.Item.Value"}})
    assert run(engine, d, [1, 2]).output == [{"x": 1}, {"x": 2}]


def test_map_concurrency_limit_is_respected(engine):
    peak = [0]

    proc = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}}
    d = one({"Type": "Map", "ItemProcessor": proc, "MaxConcurrency": 3})
    arn = start(engine, d, list(range(10)))
    while engine.describe_execution(arn)["status"] == "RUNNING":
        engine.run_until_idle()
        n = engine.store.conn.execute(
            "SELECT COUNT(*) FROM frames WHERE exec_arn = ? AND parent_id IS NOT NULL AND status = 'RUNNING'",
            (arn,),
        ).fetchone()[0]
        peak[0] = max(peak[0], n)
        engine.clock.advance(1)
    assert peak[0] == 3
    assert engine.describe_execution(arn)["status"] == "SUCCEEDED"


def test_map_iteration_failure_fails_the_map_and_aborts_the_rest(engine):
    proc = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}],
                "Default": "Slow",
            },
            "Slow": {"Type": "Wait", "Seconds": 50, "End": True},
            "Bad": {"Type": "Fail", "Error": "ItemBad"},
        },
    }
    r = run(engine, one({"Type": "Map", "ItemProcessor": proc}), [1, 2, 3])
    assert (r.status, r.error) == ("FAILED", "ItemBad")
    assert r.types.count("MapIterationAborted") == 2
    assert "MapStateFailed" in r.types


def test_map_tolerated_failures(engine):
    proc = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$", "NumericGreaterThan": 6, "Next": "Bad"}],
                "Default": "Ok",
            },
            "Ok": {"Type": "Pass", "End": True},
            "Bad": {"Type": "Fail", "Error": "TooBig", "Cause": "big"},
        },
    }
    items = list(range(10))  # 7, 8, 9 fail: 3 of 10 = 30 %
    ok = run(engine, one({"Type": "Map", "ItemProcessor": proc, "ToleratedFailureCount": 3}), items)
    assert ok.status == "SUCCEEDED"
    assert ok.output[:7] == list(range(7))
    assert ok.output[7] == {"Error": "TooBig", "Cause": "big"}
    pct = run(engine, one({"Type": "Map", "ItemProcessor": proc, "ToleratedFailurePercentage": 30}), items)
    assert pct.status == "SUCCEEDED"
    over = run(engine, one({"Type": "Map", "ItemProcessor": proc, "ToleratedFailurePercentage": 20}), items)
    assert (over.status, over.error) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_empty_map_and_non_array_items(engine):
    proc = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    assert run(engine, one({"Type": "Map", "ItemProcessor": proc}), []).output == []
    r = run(engine, one({"Type": "Map", "ItemsPath": "$.x", "ItemProcessor": proc}), {"x": 5})
    assert (r.status, r.error) == ("FAILED", "States.Runtime")


def test_map_retry_reruns_all_iterations(engine):
    calls = []

    def flaky(event, ctx):
        calls.append(event)
        if len(calls) == 2:
            raise RuntimeError("once")
        return event

    engine.register_lambda("h", flaky)
    proc = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": INVOKE,
                "Parameters": {"FunctionName": "h", "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "End": True,
            }
        },
    }
    d = one(
        {
            "Type": "Map",
            "ItemProcessor": proc,
            "MaxConcurrency": 1,
            "Retry": [{"ErrorEquals": ["RuntimeError"], "IntervalSeconds": 1}],
        }
    )
    r = run(engine, d, [1, 2, 3])
    assert r.status == "SUCCEEDED" and r.output == [1, 2, 3]
    assert calls == [1, 2, 1, 2, 3]


def test_variables_inner_scope_reads_outer_but_cannot_write_it(engine):
    proc_read = {
        "StartAt": "P",
        "States": {"P": {"Type": "Pass", "Parameters": {"o.$": "$outer"}, "End": True}},
    }
    d = {
        "StartAt": "A",
        "States": {
            "A": {"Type": "Pass", "Assign": {"outer": 1}, "Next": "M"},
            "M": {"Type": "Map", "ItemProcessor": proc_read, "End": True},
        },
    }
    r = run(
        engine, {**d, "States": {**d["States"], "M": {**d["States"]["M"], "ItemsPath": "$.l"}}}, {"l": [1]}
    )
    assert r.output == [{"o": 1}]
    proc_write = {"StartAt": "P", "States": {"P": {"Type": "Pass", "Assign": {"outer": 2}, "End": True}}}
    d["States"]["M"] = {"Type": "Map", "ItemsPath": "$.l", "ItemProcessor": proc_write, "End": True}
    r = run(engine, d, {"l": [1]})
    assert (r.status, r.error) == ("FAILED", "States.Runtime")


def test_max_concurrency_path(engine):
    proc = {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 1, "End": True}}}
    d = one({"Type": "Map", "ItemsPath": "$.items", "MaxConcurrencyPath": "$.mc", "ItemProcessor": proc})
    r = run(engine, d, {"items": [1, 2, 3, 4], "mc": 2})
    assert r.output == [1, 2, 3, 4]
    started = [e["timestamp"].timestamp() for e in r.events if e["type"] == "MapIterationStarted"]
    assert [round(t - started[0]) for t in started] == [0, 0, 1, 1]


def test_map_iterations_call_their_handlers_side_by_side(engine):
    barrier = threading.Barrier(3, timeout=5)  # only passes if three handlers are in flight together

    def meet(event, ctx):
        barrier.wait()
        return event

    engine.register_lambda("meet", meet)
    proc = {
        "StartAt": "T",
        "States": {
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:000000000000:function:meet",
                "End": True,
            }
        },
    }
    r = run(engine, one({"Type": "Map", "ItemProcessor": proc, "MaxConcurrency": 3}), [1, 2, 3])
    assert (r.status, r.output) == ("SUCCEEDED", [1, 2, 3])
