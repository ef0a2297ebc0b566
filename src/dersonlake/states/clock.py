"""Time for the engine: injectable so tests never wait, scalable so demos wait less.

Timers store absolute due times (epoch seconds) computed from ``Clock.now()``; ``time_scale``
multiplies every Wait, retry delay and timeout (0 = due immediately), as users of local
emulators ask for (asl.md §1.6, §4).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class Clock:
    """Real time, with a scale applied to the delays the engine schedules."""

    def __init__(self, time_scale: float = 1.0) -> None:
        self.time_scale = time_scale

    def now(self) -> float:
        return time.time()

    def delay(self, seconds: float) -> float:
        """The wall-clock length of a delay of ``seconds`` state-machine seconds."""
        return seconds * self.time_scale

    def sleep_until(self, due: float, wake: threading.Event) -> None:
        """Block the background runner until ``due`` or until ``wake`` is set."""
        wake.wait(max(0.0, min(due - self.now(), 1.0)))


class ManualClock(Clock):
    """A clock that moves only when told: ``advance(seconds)``; for tests."""

    def __init__(self, start: float = 1_780_000_000.0, time_scale: float = 1.0) -> None:
        super().__init__(time_scale)
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def sleep_until(self, due: float, wake: threading.Event) -> None:
        wake.wait(0.01)


def to_datetime(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch is not None else None


def iso(epoch: float) -> str:
    """The ISO 8601 form the context object uses (``2026-11-25T20:15:00.123Z``)."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
