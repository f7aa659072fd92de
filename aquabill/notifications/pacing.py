"""Time and pace of a campaign run: a clock that tests can replace, and a sliding-window rate limit.

`RateWindow(rate)` lets at most `rate` messages start within any one second (a sliding window over the start
times of the last `rate` messages — stricter than a token bucket, whose burst would let up to twice the rate
through a one-second window); a rate of 0 is not limited. Time comes from the `Clock`, so a test counts the
starts per second of its own clock instead of measuring wall time.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from datetime import UTC, datetime
from typing import Protocol

UNLIMITED = 1_000_000


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...  # aware, UTC

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class RateWindow:
    def __init__(self, rate: int, clock: Clock) -> None:
        self.rate = rate
        self.clock = clock
        self._starts: deque[float] = deque()

    def _purge(self, now: float) -> None:
        while self._starts and self._starts[0] <= now - 1.0:
            self._starts.popleft()

    def available(self) -> int:
        if self.rate <= 0:
            return UNLIMITED
        self._purge(self.clock.monotonic())
        return self.rate - len(self._starts)

    def wait(self) -> float:
        """Seconds until one more message may start (0: now)."""
        if self.available() > 0:
            return 0.0
        return max(self._starts[0] + 1.0 - self.clock.monotonic(), 0.001)

    def take(self, n: int) -> None:
        if self.rate > 0:
            now = self.clock.monotonic()
            self._starts.extend([now] * n)
