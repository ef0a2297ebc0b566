"""The CDC phase of a ``cdc`` or ``full-load-and-cdc`` replication task with a ``CdcStopPosition``.

This is what the seed's ``delta`` runs ask of DMS: the intake creates a task that starts at the
owner's last ``RecoveryCheckpoint`` (``cdc``), or does a full load first (``full-load-and-cdc``),
and stops at ``server_time:<now>``, so the task ends by itself (``STOPPED_AT_SERVER_TIME``) and its
``RecoveryCheckpoint`` is where the next run starts (dms.md §5.1, §5.3).

Positions (dms.md §5.1): ``CdcStartPosition`` is a binlog ``file:pos`` (also what this engine reports
as ``RecoveryCheckpoint``). ``CdcStopPosition`` is ``server_time:<ISO>`` or ``commit_time:<ISO>``;
this engine waits until that time has passed on its clock and then reads up to the source's binlog
end, so every change committed by then is in the lake (changes committed between that time and the
read may be included as well: the checkpoint records exactly how far the lake is).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from dersonlake.errors import BadInput
from dersonlake.replication import status
from dersonlake.sources.mysql.binlog_position import BinlogPosition

_STOP_KINDS = {"server_time": status.STOP_AT_SERVER_TIME, "commit_time": status.STOP_AT_COMMIT_TIME}


@dataclass(frozen=True)
class StopAt:
    """A parsed ``CdcStopPosition``: when, and the stop reason DMS gives on reaching it."""

    when: datetime
    reason: str

    @classmethod
    def parse(cls, text: str) -> StopAt:
        kind, _, value = text.partition(":")
        reason = _STOP_KINDS.get(kind.strip().lower())
        when = _iso(value) if reason else None
        if reason is None or when is None:
            raise BadInput(
                "not a CdcStopPosition",
                path="CdcStopPosition",
                value=text,
                hint="Use server_time:<ISO time> or commit_time:<ISO time>, e.g. "
                "server_time:2026-11-25T12:00:00 (UTC)",
            )
        return cls(when, reason)

    def wait(self, stopping: Callable[[], bool], clock: Callable[[], float] = time.time) -> None:
        """Sleep until the stop time has passed (or the task is being stopped)."""
        while not stopping() and clock() < self.when.timestamp():
            time.sleep(min(0.5, max(0.01, self.when.timestamp() - clock())))


def start_position(text: str) -> BinlogPosition:
    """A ``CdcStartPosition``: ``file:pos`` (DMS's native MySQL form, and our RecoveryCheckpoint)."""
    try:
        return BinlogPosition.parse(text)
    except BadInput:
        raise BadInput(
            "not a CdcStartPosition this engine can start from",
            path="CdcStartPosition",
            value=text,
            hint="Use a binlog position <file>:<offset> (e.g. mysql-bin.000024:373) or a "
            "RecoveryCheckpoint this engine reported",
        ) from None


def _iso(value: str) -> datetime | None:
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
