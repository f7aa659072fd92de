"""Connecting a tenant's Telegram bot when staff enable it: check the token (`getMe`), point the bot's
webhook at our route with the secret Telegram will send back (`setWebhook` with `secret_token`); and
`deleteWebhook` when they disable it. Long polling (`poll`) is a development option for a machine
Telegram cannot reach."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import Forbidden, InvalidToken, TelegramError
from telegram.ext import TypeHandler

from aquabill.channels.bots.service import Conversations
from aquabill.channels.telegram.bots import TenantHandler, build_application, plain_bot
from aquabill.platform.config import Settings
from aquabill.tenants.context import Tenant

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "callback_query"]
WEBHOOK_CONNECTIONS = 40  # concurrent deliveries Telegram makes to the webhook (its default; 1–100, setWebhook)


class SetupError(Exception):
    """The messenger refused or could not be reached; the message is for staff (Russian)."""


def _explain(exc: Exception) -> SetupError:
    if isinstance(exc, InvalidToken | Forbidden):
        return SetupError("Telegram не принял токен бота: проверьте его у @BotFather")
    return SetupError(f"Telegram не ответил как ожидалось: {exc}")


async def connect(settings: Settings, token: str, url: str, secret: str) -> str:
    """Check the token and set the webhook; returns the bot's username."""
    try:
        async with plain_bot(settings, token) as bot:
            me = await bot.get_me()
            await bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES,
                                  max_connections=WEBHOOK_CONNECTIONS)
    except (TelegramError, ValueError) as exc:
        raise _explain(exc) from exc
    return me.username or ""


async def disconnect(settings: Settings, token: str) -> None:
    try:
        async with plain_bot(settings, token) as bot:
            await bot.delete_webhook()
    except (TelegramError, ValueError) as exc:
        raise _explain(exc) from exc


async def poll(settings: Settings, conversations: Conversations, tenant: Tenant, token: str,
               stop: asyncio.Event) -> None:
    """Development: receive the tenant's updates by long polling (`getUpdates`; the webhook is removed
    first) until `stop` is set."""
    app = build_application(settings, token, updater=True)
    app.add_handler(TypeHandler(Update, TenantHandler(conversations, tenant, answer_presses=True)))
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, timeout=20, drop_pending_updates=False)
        await app.start()
        log.info("telegram bot of tenant %s: long polling", tenant.slug)
        await stop.wait()
        await app.updater.stop()
        await app.stop()
