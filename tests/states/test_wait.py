"""Wait in its four forms; timers are stored, never slept (asl.md §1.6)."""

from __future__ import annotations

import pytest

from dersonlake.states import Engine
from dersonlake.states.clock import iso
from tests.states.conftest import one, run, start


def waited(r):
    times = {e["type"]: e["timestamp"].timestamp() for e in r.events}
    return round(times["WaitStateExited"] - times["WaitStateEntered"], 3)


@pytest.mark.parametrize(
    ("state", "input", "expected"),
    [
        ({"Seconds": 7}, {}, 7),
        ({"SecondsPath": "$.s"}, {"s": 12}, 12),
        ({"Timestamp": "2000-01-01T00:00:00Z"}, {}, 0),  # in the past: continue at once
    ],
)
def test_wait_forms(engine, state, input, expected):
    r = run(engine, one({"Type": "Wait", **state}), input)
    assert r.status == "SUCCEEDED" and r.output == input
    assert waited(r) == expected


def test_wait_timestamp_and_timestamp_path(engine):
    due = iso(engine.clock.now() + 90)
    r = run(engine, one({"Type": "Wait", "Timestamp": due}), {})
    assert waited(r) == pytest.approx(90, abs=0.01)
    due = iso(engine.clock.now() + 30)
    r = run(engine, one({"Type": "Wait", "TimestampPath": "$.t"}), {"t": due})
    assert waited(r) == pytest.approx(30, abs=0.01)


def test_bad_seconds_path_value_is_runtime_error(engine):
    r = run(engine, one({"Type": "Wait", "SecondsPath": "$.s"}), {"s": "soon"})
    assert (r.status, r.error) == ("FAILED", "States.Runtime")


def test_wait_is_a_stored_timer(engine):
    arn = start(engine, one({"Type": "Wait", "Seconds": 3600}), {})
    engine.run_until_idle()
    rows = engine.store.conn.execute("SELECT kind, due FROM timers WHERE exec_arn = ?", (arn,)).fetchall()
    assert [r["kind"] for r in rows] == ["wait"]
    assert rows[0]["due"] == pytest.approx(engine.clock.now() + 3600)


def test_time_scale_zero_skips_waits_and_retry_delays(tmp_path):
    e = Engine(tmp_path / "s.sqlite", time_scale=0)
    calls = []

    def flaky(event, ctx):
        calls.append(1)
        if len(calls) < 3:
            raise ValueError("x")
        return "ok"

    e.register_lambda("f", flaky)
    d = {
        "StartAt": "W",
        "States": {
            "W": {"Type": "Wait", "Seconds": 86400, "Next": "T"},
            "T": {
                "Type": "Task",
                "Resource": "arn:aws:lambda:us-east-1:000000000000:function:f",
                "Retry": [{"ErrorEquals": ["ValueError"], "IntervalSeconds": 3600}],
                "End": True,
            },
        },
    }
    arn = start(e, d, {})
    desc = e.wait_for(arn, timeout=10)
    assert desc["status"] == "SUCCEEDED" and desc["output"] == '"ok"'
    e.close()
