"""Notices to the subscribers' chats with the tenant's bot: Telegram (`sendMessage` through python-telegram-bot,
as `channels/telegram` sends replies) and MAX (`POST /messages?user_id=` through `channels/max`'s client).
`Outgoing.address` is the chat key as the bot stored it (`bot_chats.chat_key`: Telegram's chat id, MAX's
user id).

Each message waits for its slot in the 'bulk' lane of the bot's pacing (`channels/bots/limiter.py`: about 30
notices a second per bot, about one a second per chat); the campaign's own rate limit comes on top. The
outcome:
- sent → 'sent' with the messenger's message id;
- the user blocked the bot or the chat is gone (Telegram 403 "bot was blocked by the user", 400 "chat not
  found"; MAX 403 `chat.denied` "error.dialog.suspended" as third-party clients observe it, 404) → 'failed'
  with `unreachable=True`, so the campaign can stop notifying that chat (clear `bot_chats.notify`);
- 429 → retry (the bot's pacing pauses for the time asked), a network failure or 5xx → retry;
- a token the messenger refuses, another 4xx → 'failed'.
Neither messenger takes an idempotency key: a send whose answer was lost may have arrived.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from aquabill.channels.bots.limiter import BULK, Pacer
from aquabill.channels.max.client import MaxClient, MaxError, max_schedule
from aquabill.channels.telegram.bots import api_urls
from aquabill.channels.telegram.limiter import PacedRateLimiter
from aquabill.notifications.ports import Delivery, Outgoing
from aquabill.platform.config import Settings

log = logging.getLogger(__name__)

TELEGRAM_TEXT = 4096  # characters in one Telegram message
MAX_TEXT = 4000  # characters in one MAX message (NewMessageBody.text)
UNREACHABLE_TELEGRAM = ("chat not found", "user is deactivated", "bot can't initiate conversation")


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _chat_id(address: str) -> int | None:
    value = address.strip()
    return int(value) if value.lstrip("-").isdigit() and len(value) <= 20 else None


class BotNoticeSender:
    """`notifications.ports.Sender` for 'telegram' or 'max' with one tenant's bot token."""

    def __init__(self, channel: str, settings: Settings, token: str) -> None:
        if channel not in ("telegram", "max"):
            raise ValueError(f"unknown bot channel {channel!r}")
        self.channel = channel
        self.settings = settings
        self._token = token
        self._lock = asyncio.Lock()
        self._bot: ExtBot | None = None
        self._limiter: PacedRateLimiter | None = None
        self._http: httpx.AsyncClient | None = None
        self._max: MaxClient | None = None

    async def send(self, message: Outgoing) -> Delivery:
        chat = _chat_id(message.address)
        if chat is None:
            return Delivery("failed", detail=f"Неверный номер чата: {message.address[:40]}", unreachable=True)
        if not message.text.strip():
            return Delivery("failed", detail="Пустой текст сообщения")
        if self.channel == "telegram":
            return await self._telegram(chat, message.text)
        return await self._max_send(chat, message.text)

    # ---- Telegram -------------------------------------------------------------------------------------------

    async def _telegram_bot(self) -> ExtBot:
        async with self._lock:
            if self._bot is None:
                base, files = api_urls(self.settings)
                self._limiter = PacedRateLimiter(max_retries=0)  # a 429 goes back to the campaign as a retry
                bot = ExtBot(self._token, base_url=base, base_file_url=files, rate_limiter=self._limiter,
                             request=HTTPXRequest(connection_pool_size=32, pool_timeout=30.0, connect_timeout=5.0,
                                                  read_timeout=15.0, write_timeout=15.0))
                await bot.initialize()  # getMe: checks the token once
                self._bot = bot
            return self._bot

    async def _telegram(self, chat: int, text: str) -> Delivery:
        try:
            bot = await self._telegram_bot()
            sent = await bot.send_message(chat, _fit(text, TELEGRAM_TEXT), rate_limit_args={"lane": BULK})
        except RetryAfter as exc:
            seconds = exc._retry_after.total_seconds()  # the int-or-timedelta property is deprecated
            if self._limiter is not None:
                self._limiter.pacer.pause_for(seconds)
            return Delivery("failed", detail=f"Telegram просит подождать {seconds:g} с (429)", retry=True)
        except Forbidden as exc:
            return Delivery("failed", detail=f"Абонент заблокировал бота или удалил чат: {exc.message}",
                               unreachable=True)
        except InvalidToken:
            return Delivery("failed", detail="Telegram не принял токен бота: проверьте настройки бота")
        except BadRequest as exc:
            gone = any(s in exc.message.lower() for s in UNREACHABLE_TELEGRAM)
            return Delivery("failed", detail=f"Telegram не принял сообщение: {exc.message}", unreachable=gone)
        except NetworkError as exc:  # also TimedOut and 5xx: the message may have arrived
            return Delivery("failed", detail=f"Telegram недоступен: {exc.message}", retry=True)
        except TelegramError as exc:
            return Delivery("failed", detail=f"Telegram не принял сообщение: {exc.message}")
        return Delivery("sent", external_id=str(sent.message_id))

    # ---- MAX ------------------------------------------------------------------------------------------------

    def _max_client(self) -> MaxClient:
        if self._max is None:
            self._http = httpx.AsyncClient(timeout=httpx.Timeout(15.0, connect=5.0),
                                           limits=httpx.Limits(max_connections=32, max_keepalive_connections=32))
            self._max = MaxClient(self.settings.max_api_url, self._token, self._http, pacer=Pacer(max_schedule()),
                                  max_retries=0)
        return self._max

    async def _max_send(self, chat: int, text: str) -> Delivery:
        client = self._max_client()
        try:
            answer = await client.send(str(chat), {"text": _fit(text, MAX_TEXT), "notify": True}, lane=BULK)
        except MaxError as exc:
            reason = f"{exc.code} {exc.message}".strip()
            if exc.status == 429:
                client.pacer.pause_for(1.0)
                return Delivery("failed", detail="MAX просит подождать (429)", retry=True)
            if exc.status in (403, 404):
                return Delivery("failed", detail=f"Абонент заблокировал бота или чат недоступен: {reason}",
                                   unreachable=True)
            if exc.status == 401:
                return Delivery("failed", detail="MAX не принял токен бота: проверьте настройки бота")
            if exc.status >= 500:
                return Delivery("failed", detail=f"MAX недоступен: {exc.status} {reason}", retry=True)
            return Delivery("failed", detail=f"MAX не принял сообщение: {exc.status} {reason}")
        except (httpx.HTTPError, ValueError) as exc:
            return Delivery("failed", detail=f"MAX недоступен: {exc.__class__.__name__}", retry=True)
        body = (answer.get("message") or {}).get("body") or {}
        return Delivery("sent", external_id=str(body.get("mid") or "") or None)

    async def close(self) -> None:
        if self._bot is not None:
            try:
                await self._bot.shutdown()
            except TelegramError:
                log.exception("telegram notice bot did not shut down cleanly")
            self._bot = None
        if self._http is not None:
            await self._http.aclose()
            self._http = self._max = None
