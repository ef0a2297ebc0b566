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
