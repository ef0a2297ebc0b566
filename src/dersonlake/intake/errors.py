"""Errors the DMS-intake Lambda raises, named as the pipelines expect them.

Lambda reports an error by its exception's class name, and the pipelines' Retry/Catch match on that
name (``InvalidResourceStateFault`` is retried, anything else goes to DMS-ErrorHandling). boto3
raises a modelled DMS error as a class of that name, but an unmodelled one (e.g.
``InvalidParameterValueException``) as a plain ``ClientError``; ``dms_error`` turns both into an
exception whose class name is DMS's error code, with DMS's message.
"""

from __future__ import annotations

import functools

from botocore.exceptions import ClientError


class IntakeError(Exception):
    """Base of the intake's own errors (class name = error name in Step Functions)."""


class DeltaNotAvailable(IntakeError):
    """``delta: true`` for an owner whose runs do not capture changes (``migration_type: full-load``)."""


class UnknownStep(IntakeError):
    """The payload's ``step`` is none of the seven the pipelines send."""


class IcebergNotDeployed(IntakeError):
    """The Iceberg step reached DMS-intake for an owner that keeps Iceberg tables: the deployment
    has no DMS-iceberg function (it is created when an owner's files say ``tables: iceberg``)."""


class MissingOwner(IntakeError):
    """The payload has no ``owner``."""


class OwnerAlreadyRunning(IntakeError):
    """Another execution of the same pipeline runs for this owner: DMS-Handler fails at once, before
    touching the resources the other run owns (no DMS-ErrorHandling cleanup)."""


class DmsError(Exception):
    """A DMS API error; subclasses are named by DMS's error code (``InvalidResourceStateFault``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@functools.cache
def error_class(code: str) -> type[DmsError]:
    return type(code, (DmsError,), {"__module__": __name__, "__doc__": f"DMS error {code}."})


def dms_error(exc: ClientError) -> DmsError:
    error = exc.response.get("Error", {})
    code = error.get("Code") or "ClientError"
    return error_class(code)(code, error.get("Message") or str(exc))


def code_of(exc: BaseException) -> str | None:
    """DMS's error code of ``exc`` (a ClientError or a DmsError), else None."""
    if isinstance(exc, DmsError):
        return exc.code
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code")
    return None
