"""Developer tooling: a private MariaDB server with a binary log, and the sample ``shop`` schema.

What other layers use (tests may reach inside; other layers may not):

* ``Sandbox`` / ``default_dir`` / ``find_binary``: the private server, started and stopped.
* ``sandbox_params``: its connection parameters, for an owner with ``source: sandbox``.

Allowed surface submodule: ``dersonlake.sandbox.seed`` (the sample schema: ``SCHEMA``, ``TABLES``,
``seed``). Its function ``seed`` shares the module's name, and ``from dersonlake.sandbox import seed``
means the module (tests use it so), so it is not re-exported here.
"""

from __future__ import annotations

from dersonlake.sandbox.server import Sandbox, default_dir, find_binary, sandbox_params

__all__ = ["Sandbox", "default_dir", "find_binary", "sandbox_params"]
