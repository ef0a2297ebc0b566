"""Lambda handlers for the server tests, mapped with ``Engine.register_lambda`` as ``--lambda`` does."""

from __future__ import annotations

from typing import Any


class NotReady(Exception):
    """A custom error name, as a real Lambda would raise it."""


def greet(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"greeting": f"hello {event['owner']}", "function": context.function_name}


def not_ready(event: Any, context: Any) -> Any:
    raise NotReady("instance still creating")
