"""The bots page (`/bots`, permission appeals/admin): the tenant's Telegram and MAX bots — state, username,
webhook address, last error — with a form per channel to enter the token (write-only) and enable or disable
the bot; the same service as `PUT /api/bots/{channel}`."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, get, post
from litestar.response import Redirect, Template

from aquabill.base.errors import Invalid
from aquabill.channels.bots.setup import bot_views
from aquabill.platform.web.bots.settings_api import ADMIN, save_bot
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, attempt


class BotForm(msgspec.Struct):
    action: str = "enable"  # enable | disable
    token: str = ""


async def _page(ctx: Ctx, message: str = "", channel: str = "") -> Template:
    return Template("bots/settings.html", context={
        "principal": ctx.principal, "tenant": ctx.tenant, "bots": await bot_views(ctx.conn, ctx.core.settings, ctx.tenant),
        "message": message, "failed": channel})


@get("/bots", dependencies=DEPS, guards=ADMIN, include_in_schema=False)
async def bots_page(ctx: Ctx) -> Template:
    return await _page(ctx)


@post("/bots/{channel:str}", dependencies=DEPS, guards=ADMIN, include_in_schema=False, status_code=200)
async def bot_submit(request: Request, ctx: Ctx, channel: str,
                     data: Annotated[BotForm, FORM]) -> Template | Redirect:
    async with attempt(ctx) as tried:
        if channel not in ("telegram", "max"):
            raise Invalid("Неизвестный канал", field="channel")
        if len(data.token) > 256:
            raise Invalid("Токен бота: не длиннее 256 символов", field="token")
        await save_bot(ctx, request.app, channel, data.token.strip() or None, data.action == "enable")
    if tried.refused:
        return await _page(ctx, tried.message, channel)
    return Redirect(path="/bots", status_code=303)


ROUTES = [bots_page, bot_submit]
