"""Errors of the Step Functions API operations, carrying AWS's error codes.

The HTTP layer maps ``code`` to the ``__type`` of an AWS JSON error response; the CLI maps
``exit_code`` (2 for input the caller must fix, 1 otherwise).
"""

from __future__ import annotations

from dersonlake.errors import BadInput, OperationFailed


class StatesApiError(OperationFailed):
    """An API call that cannot be served (not found, already exists, wrong status)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class InvalidApiInput(BadInput):
    """Malformed arguments to an API call (InvalidArn, InvalidName, InvalidExecutionInput, ...)."""

    def __init__(self, code: str, problem: str, **kw: object) -> None:
        super().__init__(problem, **kw)  # type: ignore[arg-type]
        self.code = code
