"""states layer: a local, durable AWS Step Functions (ASL) engine.

What other layers use (tests may reach inside; other layers may not):

* ``Engine`` / ``default_db_path``: the Step Functions operations plus the loop that runs them.
* ``load_definition`` / ``InvalidDefinition``: check a ``states.json`` without running it.
* ``Clock`` / ``ManualClock``: control time.
* ``StatesApiError`` / ``InvalidApiInput``: the API's errors; ``run_test_state``: ``TestState``.
* ``LambdaContext`` / ``SnsMessage``: what the engine hands its Lambda and SNS integrations.
* ``execution_counts`` / ``execution_input`` / ``parent_execution`` / ``recent_executions``:
  read-only queries of the executions.
* ``stats`` (``ExecutionStat``, ``StateDurations``, ...) with ``read_executions`` / ``root_cause``:
  the executions as other processes read them (status, metrics, alerts, the scheduler).

Everything else in this package is internal.
"""

from __future__ import annotations

from dersonlake.states import stats
from dersonlake.states.api_errors import InvalidApiInput, StatesApiError
from dersonlake.states.clock import Clock, ManualClock
from dersonlake.states.definition import InvalidDefinition, load_definition
from dersonlake.states.engine import Engine, default_db_path
from dersonlake.states.integrations import LambdaContext, SnsMessage
from dersonlake.states.queries import execution_counts, execution_input, parent_execution, recent_executions
from dersonlake.states.stats import read_executions, root_cause
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
    "read_executions",
    "recent_executions",
    "root_cause",
    "run_test_state",
    "stats",
]
