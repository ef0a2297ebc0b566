"""Waits between restarts after an environmental error, per the task's ``ErrorBehavior``
(dms.md §2): ``RecoverableErrorCount`` restarts (-1 forever, 0 never), ``RecoverableErrorInterval``
seconds apart, doubled each time when ``RecoverableErrorThrottling`` (5 -> 10 -> 20 ...), capped at
``RecoverableErrorThrottlingMax``; with ``RecoverableErrorStopRetryAfterThrottlingMax`` the retry
that waited the cap is the last one.
"""

from __future__ import annotations

from dataclasses import dataclass

from dersonlake.mapping import ErrorBehavior


@dataclass(frozen=True)
class Backoff:
    count: int = -1
    interval: float = 5
    throttling: bool = True
    maximum: float = 1800
    stop_after_max: bool = True

    @classmethod
    def from_settings(cls, eb: ErrorBehavior) -> Backoff:
        return cls(
            eb.recoverable_error_count,
            eb.recoverable_error_interval,
            eb.recoverable_error_throttling,
            eb.recoverable_error_throttling_max,
            eb.recoverable_error_stop_retry_after_throttling_max,
        )

    def wait(self, attempt: int) -> float | None:
        """Seconds to wait before restart number ``attempt`` (1, 2, ...); None when retries are over."""
        if self.count >= 0 and attempt > self.count:
            return None
        if not self.throttling:
            return float(self.interval)
        if self.stop_after_max and attempt > 1 and self._raw(attempt - 1) >= self.maximum:
            return None
        return min(self._raw(attempt), float(self.maximum))

    def _raw(self, attempt: int) -> float:
        return float(self.interval) * 2 ** min(attempt - 1, 40)
