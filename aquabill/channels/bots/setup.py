"""A tenant's bots as staff set them up: the token (sealed with the app's secret key, never shown back),
enabled or not. Enabling checks the token with the messenger and points its webhook at
`{base_url}/bots/<channel>/<slug>` with a fresh secret (Telegram `setWebhook` + `secret_token`, MAX
`POST /subscriptions` + `secret`); only the secret's hash is stored. Disabling removes the webhook."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid
from aquabill.channels.bots.service import new_webhook_secret, secret_hash
from aquabill.channels.max import bots as max_bots
from aquabill.channels.telegram import setup as telegram_setup
from aquabill.platform.config import Settings
from aquabill.platform.secret_box import SecretBox
from aquabill.subscribers.bot import CHANNELS
from aquabill.subscribers.bot import store as bot_store
from aquabill.tenants.context import Tenant

NAMES = {"telegram": "Telegram", "max": "MAX"}


def webhook_url(settings: Settings, channel: str, slug: str) -> str:
    return f"{settings.base_url}/bots/{channel}/{slug}"


def _view(settings: Settings, tenant: Tenant, channel: str, row: dict[str, Any] | None) -> dict[str, Any]:
    """The channel's bot as staff see it; the webhook's address once a bot is set up (it is where the
    messenger sends updates)."""
    row = row or {}
    return {"channel": channel, "name": NAMES[channel], "configured": bool(row.get("token_sealed")),
            "enabled": bool(row.get("enabled")), "username": row.get("username") or "",
            "token_set": bool(row.get("token_sealed")),
            "webhook_url": webhook_url(settings, channel, tenant.slug) if row.get("token_sealed") else "",
            "last_error": row.get("last_error") or "", "updated_at": row.get("updated_at")}


async def bot_views(conn: AsyncConnection, settings: Settings, tenant: Tenant) -> list[dict[str, Any]]:
    rows = await bot_store.list_settings(conn)
    return [_view(settings, tenant, c, rows[c]) for c in CHANNELS]


async def _connect(settings: Settings, channel: str, token: str, url: str, secret: str) -> str:
    try:
        if channel == "telegram":
            return await telegram_setup.connect(settings, token, url, secret)
        return await max_bots.connect(settings, token, url, secret)
    except (telegram_setup.SetupError, max_bots.SetupError) as exc:
        raise Invalid(str(exc), field="token") from exc


async def _disconnect(settings: Settings, channel: str, token: str, url: str) -> str:
    """Remove the webhook; the messenger's refusal is returned (the bot is disabled here all the same)."""
    try:
        if channel == "telegram":
            await telegram_setup.disconnect(settings, token)
        else:
            await max_bots.disconnect(settings, token, url)
    except (telegram_setup.SetupError, max_bots.SetupError) as exc:
        return str(exc)
    return ""


async def configure(conn: AsyncConnection, settings: Settings, tenant: Tenant, channel: str, *,
                    token: str | None, enabled: bool, user_id: int | None) -> dict[str, Any]:
    """Save the channel's bot (a new `token` when given, else the stored one) and connect or disconnect
    it with the messenger. Refusals: no token to enable with, the messenger refusing the token (Invalid)."""
    if channel not in CHANNELS:
        raise Invalid("Канал: telegram или max", field="channel")
    box = SecretBox(settings.secret_key)
    current = await bot_store.get_settings(conn, channel) or {}
    token = (token or "").strip() or None
    if token is not None and (len(token) > 256 or any(c.isspace() for c in token)):
        raise Invalid("Токен бота: без пробелов, не длиннее 256 символов", field="token")
    try:
        stored = box.open(current["token_sealed"]) if current.get("token_sealed") else None
    except ValueError:  # sealed under another secret key: as if there were none
        stored = None
    use = token or stored
    url = webhook_url(settings, channel, tenant.slug)
    values: dict[str, Any] = {}
    if token is not None:
        values["token_sealed"] = box.seal(token)
        if stored and token != stored and current.get("enabled"):  # another bot now: the old one lets go
            await _disconnect(settings, channel, stored, url)
    if enabled:
        if not use:
            raise Invalid("Укажите токен бота", field="token")
        secret = new_webhook_secret()
        values.update(username=(await _connect(settings, channel, use, url, secret))[:64],
                      webhook_secret_hash=secret_hash(secret), enabled=True, last_error="")
    else:
        error = ""
        if current.get("enabled") and stored:
            error = await _disconnect(settings, channel, stored, url)
        values.update(enabled=False, webhook_secret_hash="", last_error=error)
    await bot_store.save_settings(conn, channel, values, user_id)
    return _view(settings, tenant, channel, await bot_store.get_settings(conn, channel))
