"""Benchmark of the durable state engine (``dersonlake.states``).

Measures, on a SQLite file (WAL, every transition its own committed transaction):
  * transitions/s for a 1,000-state Pass chain (one execution);
  * transitions/s for an inline Map over 1,000 items (one Pass per item);
  * time to resume 100 in-flight executions after the process running them was SIGKILLed.

Run: ``PYTHONPATH=src python bench/states.py`` (add ``--write`` to update docs/benchmarks.md).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from dersonlake.states import Engine  # noqa: E402

INFLIGHT = {
    "StartAt": "Hold",
    "States": {
        "Hold": {
            "Type": "Task",
            "Resource": "arn:aws:lambda:us-east-1:000000000000:function:work",
            "Next": "A",
        },
        "A": {"Type": "Pass", "Result": 1, "ResultPath": "$.a", "Next": "B"},
        "B": {"Type": "Pass", "Result": 2, "ResultPath": "$.b", "Next": "C"},
        "C": {"Type": "Pass", "Result": 3, "ResultPath": "$.c", "End": True},
    },
}


def chain(n: int) -> dict:
    states = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(n - 1)}
    states[f"S{n - 1}"] = {"Type": "Pass", "End": True}
    return {"StartAt": "S0", "States": states}


def count_transitions(engine: Engine, arn: str) -> int:
    """State transitions = states entered (AWS bills the same way)."""
    events = engine.get_execution_history(arn)["events"]
    return sum(1 for e in events if e["type"].endswith("StateEntered"))


def timed_run(db: Path, definition: dict, input: object) -> tuple[float, int]:
    engine = Engine(db, time_scale=0)
    arn = engine.create_state_machine("bench", definition)["stateMachineArn"]
    t0 = time.perf_counter()
    x = engine.start_execution(arn, json.dumps(input))["executionArn"]
    engine.run_until_idle()
    elapsed = time.perf_counter() - t0
    assert engine.describe_execution(x)["status"] == "SUCCEEDED"
    n = count_transitions(engine, x)
    engine.close()
    return elapsed, n


def work(event: dict, context: object) -> dict:
    return {**event, "worked": True}


def die(event: dict, context: object) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def inflight_child(db: str) -> None:
    """Start 100 executions; they all schedule their first task; the first dispatch SIGKILLs us."""
    engine = Engine(db, time_scale=0)
    engine.register_lambda("work", die)
    arn = engine.create_state_machine("inflight", INFLIGHT)["stateMachineArn"]
    for i in range(100):
        engine.start_execution(arn, json.dumps({"i": i}), name=f"x{i}")
    engine.run_until_idle()
    os.kill(os.getpid(), signal.SIGKILL)


def resume_after_kill(tmp: Path) -> float:
    db = tmp / "inflight.sqlite"
    subprocess.run([sys.executable, __file__, "--inflight-child", str(db)], check=False)
    t0 = time.perf_counter()
    engine = Engine(db, time_scale=0)
    engine.register_lambda("work", work)
    running = engine.store.one("SELECT COUNT(*) AS n FROM executions WHERE status = 'RUNNING'")["n"]
    assert running == 100, running
    engine.run_until_idle()
    elapsed = time.perf_counter() - t0
    rows = engine.store.all("SELECT status, COUNT(*) AS n FROM executions GROUP BY status")
    counts = {r["status"]: r["n"] for r in rows}
    assert counts == {"SUCCEEDED": 100}, counts
    engine.close()
    return elapsed


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--inflight-child":
        inflight_child(sys.argv[2])
        return
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t_chain, n_chain = timed_run(tmp / "chain.sqlite", chain(1000), {"x": 1})
        proc = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
        t_map, n_map = timed_run(
            tmp / "map.sqlite",
            {"StartAt": "M", "States": {"M": {"Type": "Map", "ItemProcessor": proc, "End": True}}},
            list(range(1000)),
        )
        t_resume = resume_after_kill(tmp)
    rows = [
        (
            "Pass chain, 1,000 states",
            f"{n_chain} transitions in {t_chain:.2f} s",
            f"{n_chain / t_chain:,.0f} transitions/s",
        ),
        (
            "Inline Map, 1,000 items",
            f"{n_map} transitions in {t_map:.2f} s",
            f"{n_map / t_map:,.0f} transitions/s",
        ),
        ("Resume 100 in-flight executions after SIGKILL", f"{t_resume:.2f} s to finish all 100", ""),
    ]
    for r in rows:
        print(" | ".join(x for x in r if x))
    if "--write" in sys.argv:
        write_docs(rows)


def write_docs(rows: list[tuple[str, str, str]]) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    lines = [
        "## State engine",
        "",
        "Durable transitions of `dersonlake.states` (SQLite WAL file, each transition committed in its own",
        "transaction with its history events; `time_scale=0` so Waits cost nothing).",
        f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} shared cores,"
        f" Python {sys.version.split()[0]}. The in-flight executions each had a Lambda task scheduled (the",
        "process died dispatching the first one); resuming re-dispatches 100 tasks, then 3 more states each.",
        "",
        "| Case | Work | Rate |",
        "|---|---|---|",
        *[f"| {a} | {b} | {c} |" for a, b, c in rows],
        "",
        "Reproduce: `PYTHONPATH=src python bench/states.py` (`--write` rewrites this section).",
        "",
    ]
    section = "\n".join(lines)
    start = text.find("## State engine")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


if __name__ == "__main__":
    main()
