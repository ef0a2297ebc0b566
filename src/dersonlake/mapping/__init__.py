"""mapping layer: DMS table-mapping rules and task settings, resolved into a load plan.

Read a mapping (``load_mapping`` / ``parse_mapping``) and task settings (``load_task_settings`` /
``parse_task_settings``), resolve them against a source ``Catalog`` (``resolve``) and use the plan:
``render`` for people, ``TablePlan.where``/``segments`` for the reader, ``transform_batch`` for
Arrow batches and ``TablePlan.passes`` for CDC row images. Nothing here reads or writes rows.

What other layers use (tests may reach inside; other layers may not):

* ``load_mapping`` / ``parse_mapping`` / ``Mapping`` / ``SelectionRule``: the table mapping.
* ``load_task_settings`` / ``parse_task_settings`` / ``merge_task_settings`` /
  ``default_task_settings`` / ``TaskSettings`` / ``ErrorBehavior``: the task settings.
* ``resolve`` / ``render`` / ``Plan`` / ``TablePlan`` / ``Segment`` / ``LobHandling``: the plan.
* ``Filter`` / ``Condition`` / ``row_passes`` / ``Mask`` / ``OutputColumn``: rules applied to rows.
* ``transform_batch`` / ``full_load_headers`` (lazy: they import pyarrow): Arrow batches shaped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dersonlake.mapping.document import Mapping, SelectionRule, load_mapping, parse_mapping
from dersonlake.mapping.filters import Condition, Filter, row_passes
from dersonlake.mapping.plan import LobHandling, Plan, TablePlan, render, resolve
from dersonlake.mapping.table_settings import Segment
from dersonlake.mapping.task_settings import (
    ErrorBehavior,
    TaskSettings,
    default_task_settings,
    load_task_settings,
    merge_task_settings,
    parse_task_settings,
)
from dersonlake.mapping.transformations import Mask, OutputColumn

if TYPE_CHECKING:
    from dersonlake.mapping.batches import full_load_headers, transform_batch

__all__ = [
    "Condition",
    "ErrorBehavior",
    "Filter",
    "LobHandling",
    "Mapping",
    "Mask",
    "OutputColumn",
    "Plan",
    "Segment",
    "SelectionRule",
    "TablePlan",
    "TaskSettings",
    "default_task_settings",
    "full_load_headers",
    "load_mapping",
    "load_task_settings",
    "merge_task_settings",
    "parse_mapping",
    "parse_task_settings",
    "render",
    "resolve",
    "row_passes",
    "transform_batch",
]


def __getattr__(name: str) -> Any:
    """``transform_batch`` and ``full_load_headers`` import pyarrow; load them only when asked for."""
    if name in ("transform_batch", "full_load_headers"):
        from dersonlake.mapping import batches

        return getattr(batches, name)
    raise AttributeError(name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
