"""cron: EventBridge Scheduler's schedule expressions (``rate()``, ``cron()``, ``at()``) and the
instants they fall due, in a time zone, with DST as EventBridge Scheduler documents it. Pure: no
I/O, no clock; callers pass the time.

What other layers use (tests may reach inside; other layers may not):

* ``parse_expression`` / ``InvalidExpression``: read a schedule expression (config checks it).
* ``Expression`` (``Rate`` / ``Cron`` / ``At``) and ``upcoming``: the instants it falls due.
* ``nominal_period``: an expression's usual gap, for the scheduler's staleness alarm.
"""

from __future__ import annotations

from dersonlake.cron.expression import At, Cron, Expression, Rate, nominal_period, parse_expression, upcoming
from dersonlake.cron.fields import InvalidExpression

__all__ = [
    "At",
    "Cron",
    "Expression",
    "InvalidExpression",
    "Rate",
    "nominal_period",
    "parse_expression",
    "upcoming",
]
