"""Registers every command group on the root app (one module per group)."""

from __future__ import annotations

from dersonlake.cli import states_cmd  # noqa: F401  (registers ``derson-lake states``)
