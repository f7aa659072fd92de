"""The notification center over the API. Permission resource "notifications" (view to read, edit to change and
send).

- templates: `GET/POST /api/notifications/templates`, `GET/PUT/DELETE /api/notifications/templates/{id}`
  (checked when saved: a bad template is a 422 naming the line);
- `POST /api/notifications/preview`: template + audience + channels → count, reach per channel, SMS parts and
  cost, three rendered messages (nothing written);
- campaigns: `GET/POST /api/notifications/campaigns` (`start: true` starts it at once), `GET …/{id}` with counts
  per channel and status, `POST …/{id}/start` (also continues one whose job stopped), `…/pause`, `…/cancel`,
  `GET …/{id}/recipients?status=&channel=` (a page of recipients with their deliveries);
- opt-outs: `GET/POST /api/notifications/optouts`, `DELETE /api/notifications/optouts/{id}`;
- sending rules: `GET/PUT /api/notifications/settings` (quiet hours, time zone, SMS price, rates).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import delete, get, post, put
from litestar.params import Parameter

from aquabill.base.errors import Invalid
from aquabill.notifications import campaign_store, optouts, template_store
from aquabill.notifications.ports import CHANNELS
from aquabill.notifications.settings import check_rules, load_rules, save_rules
from aquabill.notifications.templates import VARIABLES, MessageTemplate
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.notifications import service
from aquabill.platform.web.paging import Limit, Offset, page

VIEW, EDIT = [requires("notifications", "view")], [requires("notifications", "edit")]
TAGS = ["notifications"]
Short = Annotated[str, msgspec.Meta(max_length=200)]
Long = Annotated[str, msgspec.Meta(max_length=10_000)]
Small = Annotated[str, msgspec.Meta(max_length=100)]
StatusQuery = Annotated[str, Parameter(max_length=16, description="Состояние доставки (или unreachable)")]
ChannelQuery = Annotated[str, Parameter(max_length=16, description="Канал")]


class TemplateIn(msgspec.Struct):
    title: Short
    body: Long
    subject: Short = ""
    sound: Short = ""


class CampaignIn(msgspec.Struct):
    """A campaign (or, for the preview, what to preview): its text directly or from a stored template."""

    channels: list[Annotated[str, msgspec.Meta(max_length=16)]]
    title: Short = ""
    template_id: int | None = None
    subject: Short = ""
    body: Long = ""
    sound: Short = ""
    audience: dict[str, Any] = {}
    mode: Annotated[str, msgspec.Meta(max_length=8)] = "first"
    fields: dict[str, Long] = {}
    rates: dict[str, int] | None = None
    start: bool = False


class OptoutIn(msgspec.Struct):
    account_id: Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)] | None = None
    address: Short | None = None
    channel: Annotated[str, msgspec.Meta(max_length=16)] | None = None
    reason: Short = ""


class RulesIn(msgspec.Struct):
    quiet_from: Annotated[str, msgspec.Meta(max_length=8)] = "21:00"
    quiet_to: Annotated[str, msgspec.Meta(max_length=8)] = "09:00"
    timezone: Annotated[str, msgspec.Meta(max_length=64)] = "Europe/Moscow"
    sms_price: Annotated[str, msgspec.Meta(max_length=16)] = "3.50"
    rates: dict[str, int] = {}


def _raw(data: CampaignIn) -> dict[str, Any]:
    raw = msgspec.structs.asdict(data)
    raw.pop("start")
    return raw


# ---- templates -----------------------------------------------------------------------------------------------

@get("/api/notifications/templates", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_templates(ctx: Ctx, archived: bool = False) -> dict[str, Any]:
    return {"items": await template_store.list_templates(ctx.conn, archived=archived), "variables": VARIABLES}


@post("/api/notifications/templates", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=201)
async def create_template(ctx: Ctx, data: TemplateIn) -> dict[str, Any]:
    return await template_store.create_template(ctx.conn, data.title, MessageTemplate(data.subject, data.body,
                                                data.sound), ctx.principal.user_id)


@get("/api/notifications/templates/{notification_template_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_template(ctx: Ctx, notification_template_id: int) -> dict[str, Any]:
    return await template_store.get_template(ctx.conn, notification_template_id)


@put("/api/notifications/templates/{notification_template_id:int}", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def update_template(ctx: Ctx, notification_template_id: int, data: TemplateIn) -> dict[str, Any]:
    return await template_store.update_template(ctx.conn, notification_template_id, data.title, MessageTemplate(
        data.subject, data.body, data.sound), ctx.principal.user_id)


@delete("/api/notifications/templates/{notification_template_id:int}", dependencies=DEPS, guards=EDIT, tags=TAGS,
        status_code=200)
async def archive_template(ctx: Ctx, notification_template_id: int) -> dict[str, Any]:
    await template_store.archive_template(ctx.conn, notification_template_id, ctx.principal.user_id)
    return {"archived": notification_template_id}


# ---- preview and campaigns -------------------------------------------------------------------------------------

@post("/api/notifications/preview", dependencies=DEPS, guards=VIEW, tags=TAGS, status_code=200)
async def preview(ctx: Ctx, data: CampaignIn) -> dict[str, Any]:
    return await service.preview_of(ctx, _raw(data))


@get("/api/notifications/campaigns", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_campaigns(ctx: Ctx, limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
    items, total = await campaign_store.list_campaigns(ctx.conn, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@post("/api/notifications/campaigns", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=201)
async def create_campaign(ctx: Ctx, data: CampaignIn) -> dict[str, Any]:
    return await service.create(ctx, _raw(data), start_now=data.start)


@get("/api/notifications/campaigns/{campaign_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def campaign_detail(ctx: Ctx, campaign_id: int) -> dict[str, Any]:
    return await campaign_store.campaign_detail(ctx.conn, campaign_id)


@post("/api/notifications/campaigns/{campaign_id:int}/start", dependencies=DEPS, guards=EDIT, tags=TAGS,
      status_code=202)
async def start_campaign(ctx: Ctx, campaign_id: int) -> dict[str, Any]:
    return await service.start(ctx, campaign_id)


@post("/api/notifications/campaigns/{campaign_id:int}/pause", dependencies=DEPS, guards=EDIT, tags=TAGS,
      status_code=200)
async def pause_campaign(ctx: Ctx, campaign_id: int) -> dict[str, Any]:
    await campaign_store.pause(ctx.conn, campaign_id)
    return {"id": campaign_id, "status": "paused"}


@post("/api/notifications/campaigns/{campaign_id:int}/cancel", dependencies=DEPS, guards=EDIT, tags=TAGS,
      status_code=200)
async def cancel_campaign(ctx: Ctx, campaign_id: int) -> dict[str, Any]:
    skipped = await campaign_store.cancel(ctx.conn, campaign_id)
    return {"id": campaign_id, "status": "cancelled", "skipped": skipped}


@get("/api/notifications/campaigns/{campaign_id:int}/recipients", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def campaign_recipients(ctx: Ctx, campaign_id: int, status: StatusQuery = "", channel: ChannelQuery = "",
                              limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    await campaign_store.get_campaign(ctx.conn, campaign_id)
    if channel and channel not in CHANNELS:
        raise Invalid("Неизвестный канал", field="channel")
    items, total = await campaign_store.recipients_page(ctx.conn, campaign_id, status=status, channel=channel,
                                                        limit=limit, offset=offset)
    return page(items, total, limit, offset)


# ---- opt-outs and rules ---------------------------------------------------------------------------------------

@get("/api/notifications/optouts", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_optouts(ctx: Ctx, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    items, total = await optouts.list_optouts(ctx.conn, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@post("/api/notifications/optouts", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=201)
async def add_optout(ctx: Ctx, data: OptoutIn) -> dict[str, Any]:
    return await optouts.add_optout(ctx.conn, account_id=data.account_id, address=data.address,
                                    channel=data.channel, reason=data.reason, user_id=ctx.principal.user_id)


@delete("/api/notifications/optouts/{notification_optout_id:int}", dependencies=DEPS, guards=EDIT, tags=TAGS,
        status_code=200)
async def remove_optout(ctx: Ctx, notification_optout_id: int) -> dict[str, Any]:
    await optouts.remove_optout(ctx.conn, notification_optout_id)
    return {"removed": notification_optout_id}


@get("/api/notifications/settings", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_rules(ctx: Ctx) -> dict[str, Any]:
    return (await load_rules(ctx.conn)).as_dict()


@put("/api/notifications/settings", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def put_rules(ctx: Ctx, data: RulesIn) -> dict[str, Any]:
    rules = check_rules(msgspec.structs.asdict(data))
    return (await save_rules(ctx.conn, rules, ctx.principal.user_id)).as_dict()


ROUTES = [list_templates, create_template, get_template, update_template, archive_template, preview,
          list_campaigns, create_campaign, campaign_detail, start_campaign, pause_campaign, cancel_campaign,
          campaign_recipients, list_optouts, add_optout, remove_optout, get_rules, put_rules]
