"""The Telegram bot's outgoing pacing, as python-telegram-bot's rate limiter (every Bot API call of the
bot's `Application` passes through `process_request`).

- A request to a chat (`chat_id` in its parameters) waits for its slot in the bot's `Schedule`
  (channels/bots/limiter.py): about 1 message per second per chat with a short burst; and, for bulk
  notices (`rate_limit_args={"lane": "bulk"}`), about 30 messages per second per bot. Requests without a
  chat (getMe, getFile, answerCallbackQuery, setWebhook) are not paced.
- HTTP 429 (`RetryAfter`): the whole bot pauses for `retry_after` and the request is tried again, up to
  `max_retries` times; other errors propagate untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from aquabill.channels.bots.limiter import BULK, REPLY, Pacer, Schedule

MAX_RETRIES = 3


def telegram_schedule() -> Schedule:
    return Schedule(bot_rate=30.0, bot_burst=30, chat_rate=1.0, chat_burst=3, bot_lanes=(BULK,))


class PacedRateLimiter(BaseRateLimiter[dict]):
    def __init__(self, pacer: Pacer | None = None, max_retries: int = MAX_RETRIES) -> None:
        self.pacer = pacer or Pacer(telegram_schedule())
        self.max_retries = max_retries
        self.retried = 0  # 429s answered by waiting (diagnostics, tests)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, bool | dict | list[dict]]],
                              args: Any, kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: dict | None) -> bool | dict | list[dict]:
        chat = data.get("chat_id")
        lane = (rate_limit_args or {}).get("lane", REPLY)
        for attempt in range(self.max_retries + 1):
            await self.pacer.wait(None if chat is None else str(chat), lane if chat is not None else "none")
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == self.max_retries:
                    raise
                self.retried += 1
                self.pacer.pause_for(exc._retry_after.total_seconds())  # the int-or-timedelta property is deprecated
        raise AssertionError("unreachable")
