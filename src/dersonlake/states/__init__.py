"""states layer: a local, durable AWS Step Functions (ASL) engine.

Other layers use ``Engine`` (the Step Functions operations plus the loop that runs them),
``load_definition`` to check a ``states.json`` without running it, and the clocks to control
time. Everything else in this package is internal.
"""

from __future__ import annotations

from dersonlake.states.api_errors import InvalidApiInput, StatesApiError
from dersonlake.states.clock import Clock, ManualClock
from dersonlake.states.definition import InvalidDefinition, load_definition
from dersonlake.states.engine import Engine, default_db_path
from dersonlake.states.integrations import LambdaContext, SnsMessage
from dersonlake.states.queries import execution_counts, execution_input, parent_execution, recent_executions
from dersonlake.states.teststate import run_test_state

__all__ = [
    "Clock",
    "Engine",
    "InvalidApiInput",
    "InvalidDefinition",
    "LambdaContext",
    "ManualClock",
    "SnsMessage",
    "StatesApiError",
    "default_db_path",
    "execution_counts",
    "execution_input",
    "load_definition",
    "parent_execution",
    "recent_executions",
    "run_test_state",
]
