"""intake layer: the DMS calls of the derson-Main state machine's Lambda (``lambda_function``).

What other layers use (tests may reach inside; other layers may not):

* ``Dms``: the intake's DMS client (the replication task an owner's run starts and waits for).
* ``identifier``: an owner's DMS resource identifier, as the intake names it.

Both load on first use (PEP 562 ``__getattr__``): ``intake.dms`` imports boto3, which the
command line imports only when a command needs it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dersonlake.intake.dms import Dms, identifier

_LAZY = {"Dms": "dersonlake.intake.dms", "identifier": "dersonlake.intake.dms"}

__all__ = ["Dms", "identifier"]


def __getattr__(name: str) -> Any:
    """Import a lazy re-export on first use (``_LAZY``) and keep it."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
