"""The tenants' Telegram bots in this process: one python-telegram-bot `Application` per tenant, built on
the first update (webhook mode: no `Updater`; the webhook route puts each `Update` on the application's
queue and answers at once), rebuilt when the token changes.

The application's one handler maps the update to a conversation event, runs the conversation
(`Conversations.handle`), then sends the replies (a button press is answered by the webhook's response, or
at once by the handler when polling): text with an inline keyboard,
and a document when the reply has one.

A text message (no photo) takes a shorter road (`TelegramBots.answer`): the webhook runs the conversation
itself and, when the outcome is one text reply, gives it back as the webhook's response — `sendMessage` in the
response body, which Telegram runs ("Making requests when getting updates", Bot API) — so the bot makes no
request of its own; several replies, a document, or a reply the chat's pacing would hold back (or a pause
after a 429) go out through the application as usual, in order. The response's method has no answer
(Telegram runs it and says nothing), so only a reply the pacing lets go at once is sent that way. A meter photo is fetched with `getFile` when the conversation asks
for it. Sending goes through the bot's `PacedRateLimiter` (per-chat pacing, 429 retried after
`retry_after`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Bot, CallbackQuery, InputFile, Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from aquabill.channels.bots.service import BotConfig, Conversations
from aquabill.channels.telegram.limiter import PacedRateLimiter
from aquabill.channels.telegram.request import LeanRequest
from aquabill.channels.telegram.wire import keyboard, to_event
from aquabill.platform.config import Settings
from aquabill.subscribers.bot import Outcome, PhotoRef, Reply, texts
from aquabill.subscribers.bot import keyboards as kb
from aquabill.tenants.context import Tenant

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 64  # per application; the database work is bounded by `Conversations`
POOL_SIZE = 16  # HTTP connections of a bot to the Bot API


def api_urls(settings: Settings) -> tuple[str, str]:
    """(base_url, base_file_url) for python-telegram-bot: the token is appended to each."""
    return f"{settings.telegram_api_url}/bot", f"{settings.telegram_api_url}/file/bot"


def plain_bot(settings: Settings, token: str) -> Bot:
    """A bare `Bot` (no application) for set-up calls: getMe, setWebhook, deleteWebhook."""
    base, files = api_urls(settings)
    return Bot(token, base_url=base, base_file_url=files)


async def fetch_photo(bot: Bot, ref: PhotoRef) -> bytes:
    """The photo's bytes: `getFile`, then the download from the file URL it gives."""
    file = await bot.get_file(ref.ref)
    return bytes(await file.download_as_bytearray())


async def send_reply(bot: Bot, chat_id: int, reply: Reply, *, lane: str = "reply") -> None:
    args: dict[str, Any] = {"rate_limit_args": {"lane": lane}}
    if reply.document is not None:
        doc = reply.document
        await bot.send_document(chat_id, InputFile(doc.content, filename=doc.filename), caption=reply.text[:1024],
                                reply_markup=keyboard(reply), **args)
    else:
        await bot.send_message(chat_id, reply.text, reply_markup=keyboard(reply), **args)


def build_application(settings: Settings, token: str, *, updater: bool = False) -> Application:
    """The tenant's PTB application on the lean HTTP client (request.py), with no job queue and no
    persistence (the conversation's state is in PostgreSQL)."""
    base, files = api_urls(settings)
    builder = (Application.builder().token(token).base_url(base).base_file_url(files)
               .rate_limiter(PacedRateLimiter()).concurrent_updates(CONCURRENT_UPDATES).job_queue(None)
               .request(LeanRequest(POOL_SIZE, read_timeout=10.0, write_timeout=10.0, connect_timeout=5.0,
                                    pool_timeout=10.0))
               .get_updates_request(LeanRequest(1, read_timeout=10.0, write_timeout=10.0, connect_timeout=5.0,
                                                pool_timeout=10.0)))
    if not updater:
        builder = builder.updater(None)
    return builder.build()


class TenantHandler:
    """The application's handler of every update, for one tenant."""

    def __init__(self, conversations: Conversations, tenant: Tenant, *, answer_presses: bool = False) -> None:
        self.conversations = conversations
        self.tenant = tenant
        self.answer_presses = answer_presses  # webhook mode: the webhook's response answers them

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        event = to_event(update)
        if event is None:
            return
        bot = context.bot

        async def photo(ref: PhotoRef) -> bytes:
            return await fetch_photo(bot, ref)

        # a press is answered at once (the client's progress bar stops) while the conversation runs
        answering = asyncio.create_task(_answer(update.callback_query)) \
            if update.callback_query and self.answer_presses else None
        try:
            outcome = await self.conversations.handle(self.tenant, event, photo)
        except Exception:
            log.exception("telegram update %s of tenant %s failed", event.update_key, self.tenant.slug)
            outcome = Outcome(replies=[Reply(texts.SERVICE_ERROR, kb.back())])
        if answering is not None:
            await answering
        if outcome.duplicate:
            return
        chat_id = int(event.chat_key)
        for reply in outcome.replies:
            await send_reply(bot, chat_id, reply)


def answers_inline(payload: Any) -> bool:
    """Whether the webhook handles this update itself (`TelegramBots.answer`): a message with text and no
    photo or document (those need `getFile`); button presses keep their quick answer."""
    if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
        return False
    message = payload.get("message")
    return (isinstance(message, dict) and isinstance(message.get("text"), str)
            and "photo" not in message and "document" not in message)


def response_method(chat_id: int, reply: Reply) -> dict[str, Any]:
    """One text reply as a method call in the webhook's response body (JSON, as Telegram expects it)."""
    body: dict[str, Any] = {"method": "sendMessage", "chat_id": chat_id, "text": reply.text}
    markup = keyboard(reply)
    if markup is not None:
        body["reply_markup"] = markup.to_dict()
    return body


async def _send_all(bot: Bot, chat_id: int, replies: list[Reply]) -> None:
    try:
        for reply in replies:
            await send_reply(bot, chat_id, reply)
    except Exception:
        log.exception("telegram replies to chat %s not sent", chat_id)


async def _answer(query: CallbackQuery) -> None:
    try:
        await query.answer()
    except TelegramError:  # too old to answer, or answered before (a repeated delivery): nothing to do
        pass


async def _log_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("telegram bot error: %s", context.error, exc_info=context.error)


class TelegramBots:
    """Per tenant one running `Application` in this process."""

    def __init__(self, settings: Settings, conversations: Conversations) -> None:
        self.settings = settings
        self.conversations = conversations
        self._apps: dict[int, tuple[str, Application]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._sending: set[asyncio.Task] = set()

    async def application(self, config: BotConfig) -> Application:
        tenant_id = config.tenant.id
        known = self._apps.get(tenant_id)
        if known is not None and known[0] == config.token:
            return known[1]
        lock = self._locks.setdefault(tenant_id, asyncio.Lock())
        async with lock:
            known = self._apps.get(tenant_id)
            if known is not None and known[0] == config.token:
                return known[1]
            if known is not None:  # the token changed: the old bot goes
                self._apps.pop(tenant_id, None)
                await _stop(known[1])
            app = build_application(self.settings, config.token)
            app.add_handler(TypeHandler(Update, TenantHandler(self.conversations, config.tenant)))
            app.add_error_handler(_log_error)
            await app.initialize()
            await app.start()
            self._apps[tenant_id] = (config.token, app)
            return app

    async def answer(self, config: BotConfig, payload: Any) -> dict[str, Any] | None:
        """A text message's update handled before the webhook answers: the method for the webhook's response
        body (`sendMessage`) when the outcome is one text reply, else None (nothing to say, a repeated
        delivery, or replies already handed to the application to send). An update of any other kind (a
        button press, a photo, not an update) goes to `feed` instead: check with `answers_inline` first."""
        app = await self.application(config)
        try:
            update = Update.de_json(payload, app.bot)
        except (TypeError, ValueError, KeyError, AttributeError, TelegramError):
            return None
        event = to_event(update) if update is not None else None
        if event is None:
            return None
        try:
            outcome = await self.conversations.handle(config.tenant, event, None)
        except Exception:
            log.exception("telegram update %s of tenant %s failed", event.update_key, config.tenant.slug)
            outcome = Outcome(replies=[Reply(texts.SERVICE_ERROR, kb.back())])
        if outcome.duplicate or not outcome.replies:
            return None
        chat_id = int(event.chat_key)
        limiter = app.bot.rate_limiter
        if (len(outcome.replies) == 1 and outcome.replies[0].document is None
                and isinstance(limiter, PacedRateLimiter) and limiter.pacer.try_now(str(chat_id))):
            return response_method(chat_id, outcome.replies[0])
        self._sending.add(task := asyncio.create_task(_send_all(app.bot, chat_id, outcome.replies)))
        task.add_done_callback(self._sending.discard)
        return None

    async def feed(self, config: BotConfig, payload: Any) -> bool:
        """Queue one webhook update for the tenant's application; False when it is not an update."""
        if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
            return False
        app = await self.application(config)
        try:
            update = Update.de_json(payload, app.bot)
        except (TypeError, ValueError, KeyError, AttributeError, TelegramError):
            return False
        if update is None:
            return False
        await app.update_queue.put(update)
        return True

    async def close(self) -> None:
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)
        apps, self._apps = list(self._apps.values()), {}
        for _, app in apps:
            await _stop(app)


async def _stop(app: Application) -> None:
    try:
        if app.running:
            await app.stop()
        await app.shutdown()
    except Exception:
        log.exception("telegram application did not stop cleanly")
