"""Lambda handlers importable as ``tests.states.handlers:<name>`` (for "module:function" tests)."""

from __future__ import annotations


class NotReady(Exception):
    """A custom error name, as a real Lambda would raise it."""


def echo(event, context):
    return {"event": event, "function": context.function_name}


def double(event, context):
    return event * 2


def not_ready(event, context):
    raise NotReady("instance still creating")


def _record(ctx) -> None:
    """Append the idempotency key to $DERSON_TEST_EFFECTS (the side effect the crash test audits)."""
    import os

    path = os.environ.get("DERSON_TEST_EFFECTS")
    if path:
        with open(path, "a") as fh:
            fh.write(ctx.idempotency_key + "\n")
            fh.flush()


def flaky_first(event, context):
    """Fails on the first attempt of every task visit, succeeds on the retry (durably decided)."""
    _record(context)
    attempt = int(context.idempotency_key.rsplit("#", 1)[1])
    if attempt == 0:
        raise NotReady("first attempt always fails")
    return {"ok": event}


def triple(event, context):
    _record(context)
    return event * 3
