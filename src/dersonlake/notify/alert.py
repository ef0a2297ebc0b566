"""An alert: what went wrong, for whom, why, and where to look.

Every channel renders the same ``Alert``: the webhook posts ``to_json()``, e-mail and the log use
``text()``. Messages pass through ``logs.redact`` when the alert is made, so a cause that quotes a
connection string never carries its password to a chat room or an inbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dersonlake.logs import redact

EXECUTION_FAILED = "execution_failed"
TASK_FAILED = "task_failed"
CDC_LATENCY = "cdc_latency"
TABLE_SUSPENDED = "table_suspended"
SNS_PUBLISH = "sns_publish"
# The scheduler's alarms (dersonlake.scheduler.alarms): sent when an alarm goes off, and once more
# (ALARM_RESOLVED) when the owner's next run succeeds. A task failure alarm is of kind TASK_FAILED.
RUN_FAILED = "run_failed"
LAKE_STALE = "lake_stale"
ALARM_RESOLVED = "alarm_resolved"
KINDS = (
    EXECUTION_FAILED,
    TASK_FAILED,
    CDC_LATENCY,
    TABLE_SUSPENDED,
    SNS_PUBLISH,
    RUN_FAILED,
    LAKE_STALE,
    ALARM_RESOLVED,
)


@dataclass(frozen=True)
class Alert:
    """``key`` identifies the event, so the same failure is sent once (see ``AlertLog``)."""

    kind: str
    owner: str
    subject: str
    what: str
    cause: str
    where: dict[str, str]
    key: str
    time: float
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "subject", redact(self.subject))
        object.__setattr__(self, "what", redact(self.what))
        object.__setattr__(self, "cause", redact(self.cause))

    def to_json(self) -> dict[str, Any]:
        return {
            "source": "derson-lake",
            "kind": self.kind,
            "owner": self.owner,
            "subject": self.subject,
            "what": self.what,
            "cause": self.cause,
            "where": self.where,
            "time": datetime.fromtimestamp(self.time, UTC).isoformat(timespec="seconds"),
            "key": self.key,
            **({"details": self.details} if self.details else {}),
        }

    def text(self) -> str:
        lines = [
            self.subject,
            "",
            f"owner: {self.owner or '-'}",
            f"what:  {self.what}",
            f"cause: {self.cause}",
        ]
        lines += [f"{name}: {value}" for name, value in self.where.items()]
        lines.append(f"time:  {datetime.fromtimestamp(self.time, UTC).isoformat(timespec='seconds')}")
        return "\n".join(lines) + "\n"
