"""The messengers' webhooks, one route per tenant and channel:
`POST /bots/telegram/{slug}` (header `X-Telegram-Bot-Api-Secret-Token`) and `POST /bots/max/{slug}`
(header `X-Max-Bot-Api-Secret`).

Unknown tenant, no bot or a disabled one → 404; a secret that does not match (compared in constant time
with the stored hash) → 403; a body that is not JSON → 400; JSON that is no update the bot answers → 200
and dropped (the messenger would only retry it). A good update is handed to the tenant's bot and answered
200 at once; the conversation runs after the answer (Telegram and MAX retry whatever is not a quick 200).
Telegram's button presses are answered (`answerCallbackQuery`) in that same response body.
"""

from __future__ import annotations

import msgspec
from litestar import Litestar, Request, Response, post
from litestar.exceptions import NotFoundException, PermissionDeniedException, ValidationException

from aquabill.channels.bots.hub import BotsHub
from aquabill.channels.bots.service import BotConfig, secret_matches
from aquabill.channels.telegram.bots import answers_inline
from aquabill.tenants.naming import SLUG_RE

TELEGRAM_HEADER = "x-telegram-bot-api-secret-token"
MAX_HEADER = "x-max-bot-api-secret"
NO_BOT = "Бот не найден"


def bots_hub(app: Litestar) -> BotsHub:
    """The process's bots, created on first use (`app.state.bots`)."""
    hub = getattr(app.state, "bots", None)
    if hub is None:
        hub = app.state.bots = BotsHub(app.state.core)
    return hub


async def _checked(request: Request, slug: str, channel: str, header: str) -> tuple[BotsHub, BotConfig, object]:
    hub = bots_hub(request.app)
    config = await hub.directory.lookup(slug, channel) if SLUG_RE.match(slug) else None
    if config is None:
        raise NotFoundException(NO_BOT)
    if not secret_matches(request.headers.get(header), config.secret_hash):
        raise PermissionDeniedException("Неверный секрет вебхука")
    try:
        payload = msgspec.json.decode(await request.body())
    except msgspec.DecodeError as exc:
        raise ValidationException("Тело запроса — не JSON") from exc
    return hub, config, payload


def _ok() -> Response:
    return Response(content={"ok": True}, status_code=200)


@post("/bots/telegram/{slug:str}", status_code=200, include_in_schema=False)
async def telegram_webhook(request: Request, slug: str) -> Response:
    hub, config, payload = await _checked(request, slug, "telegram", TELEGRAM_HEADER)
    if answers_inline(payload):
        method = await hub.telegram.answer(config, payload)
        return Response(content=method, status_code=200) if method is not None else _ok()
    if await hub.telegram.feed(config, payload):
        query = payload.get("callback_query") if isinstance(payload, dict) else None
        if isinstance(query, dict) and isinstance(query.get("id"), str):
            # a button press is answered in the webhook's own response (Telegram runs the method given there):
            # the client's progress bar stops at once, and the bot makes one request less
            return Response(content={"method": "answerCallbackQuery", "callback_query_id": query["id"]},
                            status_code=200)
    return _ok()


@post("/bots/max/{slug:str}", status_code=200, include_in_schema=False)
async def max_webhook(request: Request, slug: str) -> Response:
    hub, config, payload = await _checked(request, slug, "max", MAX_HEADER)
    hub.max.feed(config, payload)
    return _ok()


async def close_bots(app: Litestar) -> None:
    """Stop the process's bots (the app's shutdown, tests)."""
    hub = getattr(app.state, "bots", None)
    if hub is not None:
        app.state.bots = None
        await hub.close()


ROUTES = [telegram_webhook, max_webhook]
