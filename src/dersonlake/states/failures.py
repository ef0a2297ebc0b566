"""Runtime errors inside an execution, named the way Step Functions names them.

A ``StatesFailure`` is not a Python bug and not a user-input error of the CLI: it is the
``{"Error", "Cause"}`` pair that Retry and Catch match on and that a failed execution reports.
"""

from __future__ import annotations

# Predefined error names (asl.md §1.8).
ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
PERMISSIONS = "States.Permissions"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
BRANCH_FAILED = "States.BranchFailed"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
RUNTIME = "States.Runtime"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"

PREDEFINED = frozenset(
    {
        ALL,
        TASK_FAILED,
        TIMEOUT,
        HEARTBEAT_TIMEOUT,
        PERMISSIONS,
        RESULT_PATH_MATCH_FAILURE,
        PARAMETER_PATH_FAILURE,
        INTRINSIC_FAILURE,
        QUERY_EVALUATION_ERROR,
        NO_CHOICE_MATCHED,
        BRANCH_FAILED,
        DATA_LIMIT_EXCEEDED,
        RUNTIME,
        EXCEED_TOLERATED_FAILURE_THRESHOLD,
        "States.ItemReaderFailed",
        "States.ResultWriterFailed",
        "States.Http.Socket",
    }
)

# Errors that neither States.ALL nor States.TaskFailed catch and no retrier retries.
TERMINAL = frozenset({RUNTIME, DATA_LIMIT_EXCEEDED})


class StatesFailure(Exception):
    """An ASL error raised while running a state: ``error`` is the name Retry/Catch match on.

    ``located`` marks a failure of the state's own data processing (a path, a template, a JSONata
    expression): AWS prefixes its cause with where it happened, see ``located_cause``.
    """

    def __init__(self, error: str, cause: str = "", *, located: bool = False) -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause
        self.located = located


def located_cause(state: str, entered_event_id: int | None, cause: str) -> str:
    """AWS's cause for a failure in a state's own processing, naming the state and its entry event."""
    where = f"(entered at the event id #{entered_event_id})"
    return f"An error occurred while executing the state '{state}' {where}. {cause}"


def error_matches(patterns: list[str], error: str) -> bool:
    """Whether a retrier's or catcher's ``ErrorEquals`` covers ``error`` (asl.md §1.7)."""
    for pattern in patterns:
        if pattern == error:
            return True
        if error in TERMINAL:
            continue
        if pattern == ALL:
            return True
        if pattern == TASK_FAILED and error != TIMEOUT:
            return True
    return False
