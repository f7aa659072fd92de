"""`/receipts/delivery`: choose the month → how many accounts are paperless, how many of those by e-mail have
an issued receipt and how many not, what was sent; «Разослать» starts the month's mailing (twice is once), whose
progress follows the job's `notifications.progress` events (the notification center's live part and
static/notifications.js) with each recipient's status, filtered and paged.
API: `GET /api/receipts/delivery?period=ГГГГ-ММ`, `POST /api/receipts/delivery {"period": "ГГГГ-ММ"}`."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from aquabill.notifications import campaign_store
from aquabill.notifications.campaigns import CHANNEL_NAMES, DELIVERY_NAMES, GROUPS, MODES, STATES, grouped
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, attempt, parse_period, try_period
from aquabill.platform.web.paging import Offset
from aquabill.platform.web.receipt_delivery.service import chosen_period, month_state, start_delivery

VIEW, EDIT = [requires("notifications", "view")], [requires("notifications", "edit")]
RECIPIENTS_PAGE = 50
TAGS = ["Квитанции по эл. почте"]
Text = Annotated[str, Parameter(max_length=16)]
CampaignId = Annotated[int, Parameter(ge=0, le=2_147_483_647)]


class StartForm(msgspec.Struct):
    period: str = ""


class StartIn(msgspec.Struct):
    period: str


async def _page(ctx: Ctx, period_raw: str, *, campaign: int = 0, status: str = "", offset: int = 0,
                message: str = "", notice: str = "", status_code: int = 200) -> Template:
    asked, refused = try_period(period_raw) if period_raw.strip() else (None, "")
    period = await chosen_period(ctx, asked)
    state = await month_state(ctx, period)
    ids = [c["id"] for c in state["campaigns"]]
    current = campaign if campaign in ids else (ids[0] if ids else 0)
    context: dict[str, Any] = {
        "principal": ctx.principal, "tenant": ctx.tenant, "can_edit": ctx.principal.can("notifications", "edit"),
        "states": STATES, "channel_names": CHANNEL_NAMES, "delivery_names": DELIVERY_NAMES, "modes": MODES,
        "message": message or refused, "notice": notice, **state, "c": None}
    if current:
        c = await campaign_store.campaign_detail(ctx.conn, current)
        status = status if status in campaign_store.RECIPIENT_FILTERS else ""
        items, total = await campaign_store.recipients_page(ctx.conn, current, status=status, limit=RECIPIENTS_PAGE,
                                                            offset=offset)
        context.update(c=c, groups=GROUPS, grouped=grouped(c["counts"]),
                       group_statuses={g: s for g, (_, s) in GROUPS.items()}, recipients=items,
                       recipients_total=total, status=status, channel="", offset=offset, limit=RECIPIENTS_PAGE,
                       filters=campaign_store.RECIPIENT_FILTERS)
    return Template("receipt_delivery/page.html", context=context, status_code=status_code)


@get("/receipts/delivery", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def delivery_page(ctx: Ctx, request: Request, period: Text = "", campaign: CampaignId = 0, status: Text = "",
                        offset: Offset = 0) -> Template:
    return await _page(ctx, period, campaign=campaign, status=status, offset=offset,
                       notice=request.query_params.get("notice", "")[:200])


@post("/receipts/delivery", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def delivery_start(ctx: Ctx, data: Annotated[StartForm, FORM]) -> Template | Redirect:
    async with attempt(ctx) as tried:
        period = parse_period(data.period[:16], required=True)
        assert period is not None
        result = await start_delivery(ctx, period)
    if tried.refused:
        return await _page(ctx, data.period[:16], message=tried.message, status_code=422)
    notice = "Рассылка запущена" if result["started"] else "Рассылка уже идёт"
    return Redirect(path="/receipts/delivery", query_params={"period": str(period), "notice": notice},
                    status_code=303)


@get("/api/receipts/delivery", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def delivery_state(ctx: Ctx, period: Text = "") -> dict[str, Any]:
    """The month's paperless accounts, issued and sent receipts, and its mailings."""
    return await month_state(ctx, await chosen_period(ctx, parse_period(period)))


@post("/api/receipts/delivery", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=202)
async def delivery_start_api(ctx: Ctx, data: StartIn) -> dict[str, Any]:
    """Send the month's issued receipts to the accounts paperless by e-mail (each issue once)."""
    period = parse_period(data.period[:16], required=True)
    assert period is not None
    return await start_delivery(ctx, period)


ROUTES = [delivery_page, delivery_start, delivery_state, delivery_start_api]
