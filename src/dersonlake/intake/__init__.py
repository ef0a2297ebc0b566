"""intake layer: the DMS calls of the derson-Main state machine's Lambda (``lambda_function``).

What other layers use (tests may reach inside; other layers may not):

* ``Dms``: the intake's DMS client (the replication task an owner's run starts and waits for).
* ``identifier``: an owner's DMS resource identifier, as the intake names it.

Both load on first use (PEP 562 ``__getattr__``): ``intake.dms`` imports boto3, which the
command line imports only when a command needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dersonlake.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from dersonlake.intake.dms import Dms, identifier

_LAZY = {"Dms": "dersonlake.intake.dms", "identifier": "dersonlake.intake.dms"}

__all__ = ["Dms", "identifier"]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
