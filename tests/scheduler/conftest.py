"""A real state engine with a small derson-Main whose one Task is a Python handler the test controls
(block until released, fail, succeed), owners with a schedule, and a test clock for the scheduler."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dersonlake.scheduler import EngineStarter, Scheduler, ScheduleStore
from dersonlake.states import Engine

START = 1_796_000_000.0  # 2026-11-30T...Z, a fixed instant for the test clock

MAIN = {
    "StartAt": "Intake",
    "States": {
        "Intake": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "DMS-intake", "Payload.$": "$"},
            "End": True,
        }
    },
}

OWNER_YAML = """
source: {{engine: mysql, host: db.internal, user: repl, password_env: NOPE, databases: [shop]}}
target: {{uri: {lake}}}
schedule:
{schedule}
"""
MAPPING = {"rules": [{"rule-type": "selection", "rule-id": "1", "rule-name": "a",
                     "object-locator": {"schema-name": "shop", "table-name": "%"}, "rule-action": "include"}]}  # fmt: skip


class SchedulerClock:
    """The scheduler's time: moves only when the test says."""

    def __init__(self, start: float = START) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Intake:
    """The handler behind DMS-intake: records each owner it ran for; blocks while ``hold`` is clear;
    raises while ``failing`` is set."""

    hold: threading.Event = field(default_factory=threading.Event)
    failing: bool = False
    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, event: Any, context: Any) -> Any:
        self.calls.append(event)
        self.hold.wait(30)
        if self.failing:
            raise RuntimeError("source unreachable: Can't connect to MySQL server")
        return {"ok": True}


@dataclass
class Harness:
    engine: Engine
    store: ScheduleStore
    scheduler: Scheduler
    clock: SchedulerClock
    intake: Intake
    sent: list[Any]
    owners: Path

    def settle(self, timeout: float = 20) -> None:
        """Wait until no derson-Main execution is RUNNING."""
        arn = self.engine.state_machine_arn("derson-Main")
        for e in self.engine.list_executions(arn)["executions"]:
            if e["status"] == "RUNNING":
                self.engine.wait_for(e["executionArn"], timeout)

    def statuses(self) -> list[str]:
        arn = self.engine.state_machine_arn("derson-Main")
        return [e["status"] for e in reversed(self.engine.list_executions(arn)["executions"])]


def write_owner(root: Path, name: str, schedule: str) -> None:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    block = "\n".join(f"  {line}" for line in schedule.strip().splitlines())
    (folder / "owner.yaml").write_text(OWNER_YAML.format(lake=root.parent / "lake", schedule=block))
    (folder / "mapping.json").write_text(json.dumps(MAPPING))


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    owners = tmp_path / "owners"
    owners.mkdir()
    intake = Intake()
    intake.hold.set()
    engine = Engine(tmp_path / "states.sqlite", time_scale=0)
    engine.register_lambda("DMS-intake", intake)
    engine.create_state_machine("derson-Main", json.dumps(MAIN), "arn:aws:iam::000000000000:role/x")
    engine.start_background()
    store = ScheduleStore(tmp_path / "schedule.sqlite")
    clock = SchedulerClock()
    sent: list[Any] = []
    starter = EngineStarter(
        engine, tmp_path / "states.sqlite", tmp_path / "replication.sqlite", "derson-Main"
    )
    scheduler = Scheduler(starter, store, owners=owners, send=sent.append, clock=clock)
    yield Harness(engine, store, scheduler, clock, intake, sent, owners)
    intake.hold.set()
    engine.close()
    store.close()
