"""Registers every command group on the root app (one module per group)."""

from __future__ import annotations

from dersonlake.cli import (  # noqa: F401
    demo_cmd,
    executions_cmd,
    lake_cmd,
    load_cmd,
    owners_cmd,
    run_cmd,
    sandbox_cmd,
    schedule_cmd,
    serve_cmd,
    states_cmd,
    status_cmd,
    stream_cmd,
)
