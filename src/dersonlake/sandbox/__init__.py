"""Developer tooling: a private MariaDB server with a binary log, and the sample ``shop`` schema."""

from __future__ import annotations

from dersonlake.sandbox.server import Sandbox, default_dir, find_binary, sandbox_params

__all__ = ["Sandbox", "default_dir", "find_binary", "sandbox_params"]
