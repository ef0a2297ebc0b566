"""The DMS-intake Lambda (``lambda_function.lambda_handler``), the same code on AWS and locally.

The payload is the pipelines' (``owner``, ``step``, ``delta``, ``instance``, ``task``,
``execution_id``); the step is looked up in ``states_mapping.STEPS``. Errors propagate as
exceptions named like DMS's error codes, which is what the pipelines' Retry and Catch match.
``delta: true`` runs CDC from the owner's saved checkpoint to now (``Dms.run_kind``).
"""

from __future__ import annotations

import logging
from typing import Any

from dersonlake.intake.dms import Dms
from dersonlake.intake.errors import MissingOwner, UnknownStep
from dersonlake.intake.states_mapping import STEPS

log = logging.getLogger("dersonlake.INTAKE")


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    owner = event.get("owner")
    if not owner or not isinstance(owner, str):
        raise MissingOwner("the payload has no owner")
    step = event.get("step")
    run = STEPS.get(step)  # type: ignore[arg-type]
    if run is None:
        raise UnknownStep(f"unknown step {step!r}; expected one of {', '.join(STEPS)}")
    result = run(Dms(owner), event)
    log.info("owner=%s step=%s result=%s", owner, step, result)
    return result
