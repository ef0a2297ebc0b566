"""Shared helpers: an engine on a temporary SQLite file with virtual time, and ``run``."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import pytest

from dersonlake.states import Engine, ManualClock

_names = itertools.count()


@dataclass
class Result:
    arn: str
    status: str
    output: Any
    error: str | None
    cause: str | None
    events: list[dict[str, Any]]

    @property
    def types(self) -> list[str]:
        return [e["type"] for e in self.events]

    def details(self, event_type: str) -> list[dict[str, Any]]:
        out = []
        for e in self.events:
            if e["type"] == event_type:
                out.append(next((v for k, v in e.items() if k.endswith("EventDetails")), {}))
        return out


@pytest.fixture
def engine(tmp_path):
    e = Engine(tmp_path / "states.sqlite", clock=ManualClock(), seed=7)
    yield e
    e.close()


def start(engine: Engine, definition: dict[str, Any], input: Any = None, name: str | None = None) -> str:
    sm = name or f"sm{next(_names)}"
    arn = engine.create_state_machine(sm, definition)["stateMachineArn"]
    return engine.start_execution(arn, json.dumps({} if input is None else input))["executionArn"]


def result(engine: Engine, arn: str) -> Result:
    desc = engine.describe_execution(arn)
    return Result(
        arn=arn,
        status=desc["status"],
        output=json.loads(desc["output"]) if "output" in desc else None,
        error=desc.get("error"),
        cause=desc.get("cause"),
        events=engine.get_execution_history(arn)["events"],
    )


def run(engine: Engine, definition: dict[str, Any], input: Any = None, name: str | None = None) -> Result:
    """Create, start and run an execution to its end (virtual time)."""
    arn = start(engine, definition, input, name)
    engine.wait_for(arn, timeout=30)
    return result(engine, arn)


def one(state: dict[str, Any], name: str = "S") -> dict[str, Any]:
    """A one-state machine."""
    return {"StartAt": name, "States": {name: {**state, **({} if _terminal(state) else {"End": True})}}}


def _terminal(state: dict[str, Any]) -> bool:
    return state.get("Type") in ("Succeed", "Fail", "Choice") or "Next" in state or "End" in state
