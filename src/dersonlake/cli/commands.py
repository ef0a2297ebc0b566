"""Registers every command group on the root app (one module per group)."""

from __future__ import annotations

from dersonlake.cli import sandbox_cmd  # noqa: F401
