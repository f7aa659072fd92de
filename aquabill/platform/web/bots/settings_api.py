"""The tenant's bots over the API (permission appeals/admin, like the mailboxes the contact center reads):
- `GET /api/bots`: each channel (telegram, max) with enabled, the bot's username, the webhook URL and the
  last set-up error; the token is write-only (`token_set` tells whether one is stored);
- `PUT /api/bots/{channel} {token?, enabled}`: save the token (sealed) and enable — the token is checked
  with the messenger and the webhook set with a fresh secret — or disable (the webhook removed).
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Litestar, Request, get, put
from litestar.params import Parameter

from aquabill.channels.bots.setup import bot_views, configure
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.bots.webhooks import bots_hub
from aquabill.platform.web.context import DEPS, Ctx

ADMIN = [requires("appeals", "admin")]
TAGS = ["bots"]
Channel = Annotated[str, Parameter(pattern=r"^(telegram|max)$", description="telegram или max")]


class BotIn(msgspec.Struct):
    enabled: bool
    token: Annotated[str, msgspec.Meta(max_length=256)] | None = None  # None: keep the stored one


@get("/api/bots", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def list_bots(ctx: Ctx) -> dict:
    return {"items": await bot_views(ctx.conn, ctx.core.settings, ctx.tenant)}


async def save_bot(ctx: Ctx, app: Litestar, channel: str, token: str | None, enabled: bool) -> dict:
    """Configure the channel's bot; this process forgets what it knew of it once the change commits."""
    view = await configure(ctx.conn, ctx.core.settings, ctx.tenant, channel, token=token, enabled=enabled,
                           user_id=ctx.principal.user_id)
    slug = ctx.tenant.slug

    async def forget() -> None:
        bots_hub(app).directory.forget(slug)

    ctx.after_commit(forget)
    return view


@put("/api/bots/{channel:str}", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def put_bot(request: Request, ctx: Ctx, channel: Channel, data: BotIn) -> dict:
    return await save_bot(ctx, request.app, channel, data.token, data.enabled)


ROUTES = [list_bots, put_bot]
