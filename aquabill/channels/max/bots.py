"""The tenants' MAX bots in this process: one `MaxClient` per tenant (its own pacing), one HTTP connection
pool for all. The webhook route hands each update to `feed`, which answers at once and runs the
conversation in the background: a button press is answered (`POST /answers`) with the first reply
replacing the pressed message, every other reply is a new message (`POST /messages`); a reply's file is
uploaded first (`/uploads`). `connect` / `disconnect` set and remove the webhook subscription.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from aquabill.channels.bots.service import BotConfig, Conversations
from aquabill.channels.lean_http import LeanHttp
from aquabill.channels.max.client import MaxClient, MaxError
from aquabill.channels.max.wire import UPDATE_TYPES, message_body, to_event
from aquabill.platform.config import Settings
from aquabill.subscribers.bot import BotEvent, Outcome, PhotoRef, Reply, texts
from aquabill.subscribers.bot import keyboards as kb

log = logging.getLogger(__name__)


LEAN_POOL = 32  # requests to the MAX API at once from this process (every tenant's bot)


class SetupError(Exception):
    """MAX refused or could not be reached; the message is for staff (Russian)."""


def new_http() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0),
                             limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))


async def connect(settings: Settings, token: str, url: str, secret: str) -> str:
    """Check the token (`GET /me`) and subscribe the webhook with its secret; returns the bot's username."""
    async with new_http() as http:
        client = MaxClient(settings.max_api_url, token, http)
        try:
            me = await client.me()
            await client.subscribe(url, secret, UPDATE_TYPES)
        except MaxError as exc:
            if exc.status == 401:
                raise SetupError("MAX не принял токен бота: проверьте его на business.max.ru") from exc
            raise SetupError(f"MAX не ответил как ожидалось: {exc.message or exc}") from exc
        except httpx.HTTPError as exc:
            raise SetupError(f"MAX недоступен: {exc}") from exc
    return str(me.get("username") or me.get("name") or me.get("first_name") or "")


async def disconnect(settings: Settings, token: str, url: str) -> None:
    async with new_http() as http:
        try:
            await MaxClient(settings.max_api_url, token, http).unsubscribe(url)
        except (MaxError, httpx.HTTPError) as exc:
            raise SetupError(f"MAX не снял подписку: {exc}") from exc


class MaxBots:
    def __init__(self, settings: Settings, conversations: Conversations) -> None:
        self.settings = settings
        self.conversations = conversations
        self._http: httpx.AsyncClient | None = None
        self._lean: LeanHttp | None = None  # the replies' JSON calls (httpx: files)
        self._clients: dict[int, MaxClient] = {}
        self._tasks: set[asyncio.Task] = set()

    def client(self, config: BotConfig) -> MaxClient:
        known = self._clients.get(config.tenant.id)
        if known is not None and known.token == config.token:
            return known
        if self._http is None:
            self._http = new_http()
            self._lean = LeanHttp(LEAN_POOL, timeout=15.0, pool_timeout=10.0)
        client = self._clients[config.tenant.id] = MaxClient(self.settings.max_api_url, config.token, self._http,
                                                             lean=self._lean)
        return client

    def feed(self, config: BotConfig, payload: Any) -> bool:
        """Start handling one webhook update; False when it is nothing the bot answers."""
        event = to_event(payload)
        if event is None:
            return False
        task = asyncio.get_running_loop().create_task(self.process(config, event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def process(self, config: BotConfig, event: BotEvent) -> None:
        client = self.client(config)

        async def photo(ref: PhotoRef) -> bytes:
            return await client.download(ref.ref)

        try:
            outcome = await self.conversations.handle(config.tenant, event, photo)
        except Exception:
            log.exception("MAX update %s of tenant %s failed", event.update_key, config.tenant.slug)
            outcome = Outcome(replies=[Reply(texts.SERVICE_ERROR, kb.back())])
        if outcome.duplicate:
            return
        try:
            await self.deliver(client, event, outcome)
        except (MaxError, httpx.HTTPError):
            log.exception("MAX reply to %s of tenant %s not delivered", event.update_key, config.tenant.slug)

    async def deliver(self, client: MaxClient, event: BotEvent, outcome: Outcome) -> None:
        replies = list(outcome.replies)
        if event.payload is not None:  # a button press: answered, the first reply in place of the message
            first = replies.pop(0) if replies and replies[0].document is None else None
            await client.answer(event.update_key[2:], message=message_body(first) if first else None,
                                notification=None if first else "Готово")
        for reply in replies:
            token = None
            if reply.document is not None:
                d = reply.document
                token = await client.upload_file(d.filename, d.content, d.mime_type)
            await client.send(event.chat_key, message_body(reply, token))

    async def drain(self) -> None:
        """Wait for the updates being handled (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        await self.drain()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
        if self._lean is not None:
            await self._lean.close()
            self._lean = None
        self._clients.clear()
