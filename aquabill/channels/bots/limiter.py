"""Pacing what a bot sends, so a messenger's flood limits are respected rather than discovered.

`Bucket` is a GCRA token bucket (`rate` per second, `burst` at once) that reserves a time slot: pure
arithmetic on the times it is given. `Schedule` combines a bot's buckets and tells, for one message to one
chat at `now`, when it may go — and reserves that slot:
- per chat: `chat_rate` (Telegram's advice: about 1 message per second in one chat; short bursts are
  tolerated, hence `chat_burst`);
- per bot: `bot_rate` (Telegram: about 30 messages per second for bulk notices; MAX: 30 requests per
  second to its API) — for the lanes listed in `bot_lanes`: Telegram's figure is for notices sent to many
  users ('bulk'), MAX's for every request ('reply' too);
- a pause after a 429: nothing goes before `paused_until` (the `retry_after` the messenger asked for).
`Pacer` is the same on a clock with a sleep (`time.monotonic`, `asyncio.sleep`); both are injected, so the
timing is tested without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

REPLY, BULK = "reply", "bulk"


@dataclass
class Bucket:
    rate: float  # per second
    burst: int = 1
    tat: float = float("-inf")  # theoretical arrival time of the next conforming message

    @property
    def interval(self) -> float:
        return 1.0 / self.rate

    def allowed(self, at: float) -> float:
        """The earliest time ≥ `at` a message conforms."""
        return max(at, self.tat - (self.burst - 1) * self.interval)

    def take(self, at: float) -> None:
        """Reserve the slot of a message sent at `at` (a conforming time)."""
        self.tat = max(self.tat, at) + self.interval


@dataclass
class Schedule:
    bot_rate: float = 30.0
    bot_burst: int = 30
    chat_rate: float = 1.0
    chat_burst: int = 3
    bot_lanes: tuple[str, ...] = (BULK,)
    paused_until: float = float("-inf")
    _bot: Bucket = field(init=False)
    _chats: dict[str, Bucket] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._bot = Bucket(self.bot_rate, self.bot_burst)

    def reserve(self, chat: str | None, now: float, lane: str = REPLY) -> float:
        """When the message may be sent (≥ now); its slot is taken in every bucket it counts in."""
        at = max(now, self.paused_until)
        bucket = None
        if chat is not None:
            bucket = self._chats.get(chat)
            if bucket is None:
                bucket = self._chats[chat] = Bucket(self.chat_rate, self.chat_burst)
            at = bucket.allowed(at)
        if lane in self.bot_lanes:
            at = self._bot.allowed(at)  # later than the chat's slot: the chat still conforms then
            self._bot.take(at)
        if bucket is not None:
            bucket.take(at)
        if len(self._chats) > 10_000:
            self.forget_idle(now)
        return at

    def reserve_now(self, chat: str | None, now: float, lane: str = REPLY) -> bool:
        """Take the message's slots only if it may go at once (True); else take nothing (False)."""
        if self.paused_until > now:
            return False
        bucket = self._chats.get(chat) if chat is not None else None
        if bucket is not None and bucket.allowed(now) > now:
            return False
        if lane in self.bot_lanes and self._bot.allowed(now) > now:
            return False
        return self.reserve(chat, now, lane) <= now

    def pause(self, until: float) -> None:
        """After a 429: nothing is sent before `until`."""
        self.paused_until = max(self.paused_until, until)

    def forget_idle(self, now: float) -> None:
        """Drop the chats whose bucket is full again (they would start afresh anyway)."""
        self._chats = {k: b for k, b in self._chats.items() if b.tat > now}


class Pacer:
    """A `Schedule` on a clock: `await pacer.wait(chat, lane)` returns when the message may go."""

    def __init__(self, schedule: Schedule, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.schedule = schedule
        self.clock = clock
        self.sleep = sleep

    async def wait(self, chat: str | None, lane: str = REPLY) -> None:
        now = self.clock()
        at = self.schedule.reserve(chat, now, lane)
        if at > now:
            await self.sleep(at - now)

    def try_now(self, chat: str | None, lane: str = REPLY) -> bool:
        """Whether the message may go right now, its slot then taken (for a reply that cannot wait: one
        given back in a webhook's response)."""
        return self.schedule.reserve_now(chat, self.clock(), lane)

    def pause_for(self, seconds: float) -> None:
        self.schedule.pause(self.clock() + seconds)
