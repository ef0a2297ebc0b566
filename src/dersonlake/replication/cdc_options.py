"""The CDC options of StartReplicationTask (dms.md §4.2, §5.3): where CDC starts and where it stops.

* ``CdcStartPosition``: the native ``mysql-bin.000003:1234``; the checkpoint form DMS returns as
  ``RecoveryCheckpoint`` (``checkpoint:V1#27#mysql-bin-changelog.157832:1975:-1:2002:...``, its
  first ``file:pos`` is taken); a MariaDB GTID ``0-1-42`` (start after that transaction); or a date
  ``2018-03-08T12:12:12`` (same as ``CdcStartTime``).
* ``CdcStartTime``: a UTC time (ISO 8601, or epoch seconds); the first transaction committed at or
  after it, at binlog precision (whole seconds). Giving both start options is an error, as in DMS.
* ``CdcStopPosition``: ``server_time:<ISO>`` (this machine's clock, the replication instance's in
  DMS) or ``commit_time:<ISO>`` (the source commit time): stop at the first transaction boundary at
  or after it, with ``Stop Reason STOPPED_AT_SERVER_TIME`` / ``STOPPED_AT_COMMIT_TIME``.

Parsing is pure (``BadInput`` naming the option); ``resolve_start`` asks the source for a position.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from dersonlake.errors import BadInput
from dersonlake.replication import status
from dersonlake.sources import (
    BinlogPosition,
    ConnectionParams,
    current_position,
    position_after_gtid,
    position_at_time,
)

_GTID = re.compile(r"^\d+-\d+-\d+$")
_CHECKPOINT = re.compile(r"^checkpoint:V\d+#[^#]*#(?P<file>[^:#\s]+\.\d+):(?P<pos>\d+)\b")
_TIME_HINT = "Use a UTC time such as 2026-11-25T14:30:00 (or epoch seconds)"


@dataclass(frozen=True)
class CdcStart:
    """Where CDC starts: exactly one of a binlog position, a GTID, or a time."""

    position: BinlogPosition | None = None
    gtid: str | None = None
    time: dt.datetime | None = None

    def describe(self) -> str:
        if self.position is not None:
            return str(self.position)
        if self.gtid is not None:
            return self.gtid
        assert self.time is not None
        return self.time.strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class CdcStop:
    """``server_time`` or ``commit_time`` (``kind``) at ``time`` (aware, UTC)."""

    kind: str
    time: dt.datetime

    @property
    def stop_reason(self) -> str:
        return status.STOP_AT_SERVER_TIME if self.kind == "server_time" else status.STOP_AT_COMMIT_TIME

    def __str__(self) -> str:
        return f"{self.kind}:{self.time.strftime('%Y-%m-%dT%H:%M:%S')}"

    def wait(self, stopping: Callable[[], bool], clock: Callable[[], float] = time.time) -> None:
        """Sleep until the stop time has passed on this clock (or the task is being stopped).

        A bounded task (the seed's delta runs stop at ``server_time:<now>``) then reads to the
        source's binlog end: every change committed by the stop time is in the lake, and changes
        committed since may be too; the checkpoint records exactly how far the lake is.
        """
        while not stopping() and clock() < self.time.timestamp():
            time.sleep(min(0.5, max(0.01, self.time.timestamp() - clock())))


def parse_time(text: str, *, option: str) -> dt.datetime:
    """ISO 8601 (``2026-11-25T14:30:00``, ``Z`` or an offset allowed; naive = UTC) or epoch seconds."""
    raw = str(text).strip()
    try:
        if re.fullmatch(r"\d+(\.\d+)?", raw):
            return dt.datetime.fromtimestamp(float(raw), dt.UTC)
        value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise BadInput("not a time", path=option, value=text, hint=_TIME_HINT) from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def parse_start(
    position: str | None, time: str | None, *, position_option: str = "CdcStartPosition",
    time_option: str = "CdcStartTime",
) -> CdcStart | None:  # fmt: skip
    """The start options (at most one given); None when neither is."""
    if position and time:
        raise BadInput(
            f"{position_option} and {time_option} exclude each other (as in DMS)",
            path=position_option,
            hint="Give one of them",
        )
    if time:
        return CdcStart(time=parse_time(time, option=time_option))
    if not position:
        return None
    text = position.strip()
    match = _CHECKPOINT.match(text)
    if match:
        return CdcStart(position=BinlogPosition(match["file"], int(match["pos"])))
    if text.startswith("checkpoint:"):
        raise BadInput(
            "not a DMS checkpoint",
            path=position_option,
            value=position,
            hint="Expected checkpoint:V1#<n>#<binlog file>:<offset>:... as DescribeReplicationTasks "
            "returns in RecoveryCheckpoint",
        )
    if _GTID.match(text):
        return CdcStart(gtid=text)
    if re.match(r"^\d{4}-\d{2}-\d{2}", text):  # DMS also takes a date string as CdcStartPosition
        return CdcStart(time=parse_time(text, option=position_option))
    try:
        return CdcStart(position=BinlogPosition.parse(text))
    except BadInput:
        raise BadInput(
            "not a CDC start position",
            path=position_option,
            value=position,
            hint="Use <binlog file>:<offset> (mysql-bin.000003:1234, from SHOW MASTER STATUS), a "
            "RecoveryCheckpoint (checkpoint:V1#...), a MariaDB GTID (0-1-42) or a UTC time",
        ) from None


def parse_stop(text: str | None, *, option: str = "CdcStopPosition") -> CdcStop | None:
    """``server_time:<ISO>`` or ``commit_time:<ISO>``; None when not given."""
    if not text:
        return None
    kind, sep, when = str(text).strip().partition(":")
    if not sep or kind.lower() not in ("server_time", "commit_time"):
        raise BadInput(
            "not a CDC stop position",
            path=option,
            value=text,
            hint="Use server_time:<UTC time> or commit_time:<UTC time>, e.g. server_time:2026-11-25T14:30:00",
        )
    return CdcStop(kind.lower(), parse_time(when, option=option))


def resolve_start(params: ConnectionParams, start: CdcStart | None) -> BinlogPosition:
    """The binlog position to read from: the given one, found from a GTID or time, or now."""
    if start is None:
        return current_position(params)
    if start.position is not None:
        return start.position
    if start.gtid is not None:
        return position_after_gtid(params, start.gtid)
    assert start.time is not None
    return position_at_time(params, start.time)
