"""The graph layout of ASL definitions and the per-state outcome read from history, without a browser."""

from __future__ import annotations

import json
from pathlib import Path

from dersonlake.api.dashboard.graph import layout
from dersonlake.api.dashboard.state_runs import state_runs, taken_transitions
from dersonlake.states import Engine

PIPELINES = Path(__file__).resolve().parents[2] / "infra" / "terraform" / "pipelines"

NESTED = {
    "StartAt": "P",
    "States": {
        "P": {
            "Type": "Parallel",
            "ResultPath": "$.p",
            "Next": "M",
            "Branches": [
                {"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}},
                {
                    "StartAt": "B",
                    "States": {"B": {"Type": "Pass", "Next": "B2"}, "B2": {"Type": "Pass", "End": True}},
                },
            ],
        },
        "M": {
            "Type": "Map",
            "ItemsPath": "$.items",
            "ResultPath": "$.m",
            "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
            "Next": "T",
        },
        "T": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "flaky"},
            "Retry": [{"ErrorEquals": ["RuntimeError"], "IntervalSeconds": 1}],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "F"}],
            "Next": "Never",
        },
        "Never": {"Type": "Succeed"},
        "F": {"Type": "Fail", "Error": "X", "Cause": "y"},
    },
}


def overlaps(a, b) -> bool:
    return a.x < b.x + b.w and b.x < a.x + a.w and a.y < b.y + b.h and b.y < a.y + a.h


def test_dms_handler_is_laid_out_without_overlaps_and_with_its_loops_marked():
    definition = json.loads((PIPELINES / "DMS-Handler" / "states.json").read_text())
    g = layout(definition)
    assert {n.name for n in g.nodes} == set(definition["States"])
    for i, a in enumerate(g.nodes):
        for b in g.nodes[i + 1 :]:
            assert not overlaps(a, b), (a.name, b.name)
    loops = {(e.src_name, e.dst_name) for e in g.edges if e.back}
    assert loops == {("CountInstancePoll", "WaitForInstance"), ("CountTaskPoll", "WaitForTask")}
    catches = [e for e in g.edges if e.kind == "catch"]
    assert len(catches) == sum(len(s.get("Catch", ())) for s in definition["States"].values())
    for e in g.edges:  # every edge ends on its target's box
        end, target = e.points[-1], g.node(e.dst_name)
        assert target.x <= end[0] <= target.x + target.w and target.y <= end[1] <= target.y + target.h
    start = g.node("Defaults")
    assert start.start and all(n.y >= start.y for n in g.nodes)


def test_parallel_branches_and_map_processors_are_drawn_inside_their_state():
    g = layout(NESTED)
    parallel, mapped = g.node("P"), g.node("M")
    assert parallel.group and mapped.group
    for name, box in (("A", parallel), ("B", parallel), ("B2", parallel), ("I", mapped)):
        n = g.node(name)
        assert box.x < n.x and n.x + n.w < box.x + box.w and box.y < n.y and n.y + n.h < box.y + box.h, name
    assert len(g.groups) == 3  # two branches, one item processor


def test_states_are_told_apart_succeeded_caught_failed_and_not_reached(tmp_path):
    calls = []

    def flaky(event, context):
        calls.append(1)
        raise (RuntimeError("boom") if len(calls) == 1 else ValueError("always"))

    engine = Engine(tmp_path / "s.sqlite", time_scale=0)
    try:
        engine.register_lambda("flaky", flaky)
        sm = engine.create_state_machine("nested", json.dumps(NESTED), "arn:aws:iam::000000000000:role/x")
        arn = engine.start_execution(sm["stateMachineArn"], input='{"items": [1, 2, 3]}')["executionArn"]
        assert engine.wait_for(arn)["status"] == "FAILED"
        events = engine.get_execution_history(arn)["events"]
    finally:
        engine.close()
    runs = state_runs(events, "FAILED")
    status = {name: r.status for name, r in runs.items()}
    assert status == {"P": "succeeded", "A": "succeeded", "B": "succeeded", "B2": "succeeded",
                      "M": "succeeded", "I": "succeeded", "T": "caught", "F": "failed"}  # fmt: skip
    assert "Never" not in runs  # not reached
    assert runs["I"].visits == 3
    t = runs["T"]
    assert t.retries == 1 and [f.error for f in t.failures] == ["RuntimeError", "ValueError"]
    assert t.error == "ValueError" and "always" in t.cause
    assert ("T", "F") in taken_transitions(events) and ("T", "Never") not in taken_transitions(events)


def test_a_state_left_open_is_running_while_the_execution_runs():
    events = [
        {"id": 1, "previousEventId": 0, "type": "ExecutionStarted", "executionStartedEventDetails": {}},
        {"id": 2, "previousEventId": 1, "type": "WaitStateEntered",
         "stateEnteredEventDetails": {"name": "Hold", "input": "{}"}},
    ]  # fmt: skip
    assert state_runs(events, "RUNNING")["Hold"].status == "running"
    assert state_runs(events, "ABORTED")["Hold"].status == "failed"
