"""The notification center's pages: campaigns (`/notifications`), compose with a preview (`/notifications/new`),
a campaign followed live (`/notifications/{id}`: counts per channel and status over the WebSocket — the job's
`notifications.progress` events, static/notifications.js — and its recipients with paging and a filter), and
the sending rules with the opt-outs (`/notifications/settings`).

Forms post URL-encoded fields; a refusal re-renders the form with its message (`forms.attempt`: nothing of that
attempt is written). The compose form's channels are checkboxes, each with its place in the order.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from aquabill.base.errors import Invalid
from aquabill.billing_core.registry.queries import account_by_number, house_options, street_choices
from aquabill.notifications import campaign_store, optouts, template_store
from aquabill.notifications.campaigns import CHANNEL_NAMES, DELIVERY_NAMES, GROUPS, MODES, STATES, grouped
from aquabill.notifications.ports import CHANNELS
from aquabill.notifications.settings import check_rules, load_rules, save_rules
from aquabill.notifications.templates import VARIABLES
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.forms import FORM, attempt, parse_id, parse_ids
from aquabill.platform.web.notifications import service
from aquabill.platform.web.paging import Offset

VIEW, EDIT = [requires("notifications", "view")], [requires("notifications", "edit")]
LIST_PAGE, RECIPIENTS_PAGE = 20, 50
DEFAULT_ORDER = ("telegram", "max", "email", "sms", "autocall", "inbox")
Part = Annotated[str, Parameter(max_length=16, description="Часть страницы")]
Filter = Annotated[str, Parameter(max_length=16)]
Id = Annotated[int, Parameter(ge=1, le=2_147_483_647)]


class ComposeForm(msgspec.Struct):
    title: str = ""
    template_id: str = ""
    subject: str = ""
    body: str = ""
    sound: str = ""
    mode: str = "first"
    house_ids: list[str] | str = ""
    street_ids: list[str] | str = ""
    request_id: str = ""
    debt_over: str = ""
    debt_months: str = ""
    verification_days: str = ""
    outage_from: str = ""
    outage_to: str = ""
    outage_text: str = ""
    ch_email: str = ""
    ch_sms: str = ""
    ch_telegram: str = ""
    ch_max: str = ""
    ch_autocall: str = ""
    ch_inbox: str = ""
    order_email: str = "3"
    order_sms: str = "4"
    order_telegram: str = "1"
    order_max: str = "2"
    order_autocall: str = "5"
    order_inbox: str = "6"
    action: str = "draft"

    def channels(self) -> list[str]:
        chosen = [ch for ch in CHANNELS if getattr(self, f"ch_{ch}")]

        def place(ch: str) -> tuple[int, int]:
            raw = getattr(self, f"order_{ch}").strip()
            return (int(raw) if raw.isdigit() and len(raw) < 3 else 99, DEFAULT_ORDER.index(ch))

        return sorted(chosen, key=place)

    def raw(self) -> dict[str, Any]:
        """The campaign's input as the API takes it (checked by notifications.campaigns.check_draft)."""
        return {
            "title": self.title, "template_id": parse_id(self.template_id, "template_id"), "subject": self.subject,
            "body": self.body, "sound": self.sound, "mode": self.mode, "channels": self.channels(),
            "audience": {"house_ids": parse_ids(self.house_ids, "house_ids"),
                         "street_ids": parse_ids(self.street_ids, "street_ids"),
                         "request_id": parse_id(self.request_id, "request_id", "Заявка: ожидается номер"),
                         "debt_over": self.debt_over.strip() or None, "debt_months": self.debt_months.strip() or None,
                         "verification_days": self.verification_days.strip() or None},
            "fields": {"outage_from": _moment(self.outage_from), "outage_to": _moment(self.outage_to),
                       "outage_text": self.outage_text[:1000]},
        }


class RulesForm(msgspec.Struct):
    quiet_from: str = "21:00"
    quiet_to: str = "09:00"
    timezone: str = "Europe/Moscow"
    sms_price: str = "3.50"
    rate_email: str = ""
    rate_sms: str = ""
    rate_telegram: str = ""
    rate_max: str = ""
    rate_autocall: str = ""
    rate_inbox: str = ""


class OptoutForm(msgspec.Struct):
    account_number: str = ""
    address: str = ""
    channel: str = ""
    reason: str = ""


def _moment(raw: str) -> str:
    """A datetime-local value (2025-04-12T09:00) as people read it: 12.04.2025 09:00; other text as typed."""
    raw = raw.strip()[:100]
    if len(raw) >= 16 and raw[4] == "-" and raw[10] == "T":
        return f"{raw[8:10]}.{raw[5:7]}.{raw[0:4]} {raw[11:16]}"
    return raw


def _ctx(ts: TenantScope, **kw: Any) -> dict[str, Any]:
    return {"principal": ts.principal, "tenant": ts.tenant, "can_edit": ts.principal.can("notifications", "edit"),
            "states": STATES, "channel_names": CHANNEL_NAMES, "delivery_names": DELIVERY_NAMES, "modes": MODES,
            "channels": DEFAULT_ORDER, **kw}


# ---- the list ------------------------------------------------------------------------------------------------

@get("/notifications", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def campaigns_page(ctx: Ctx, offset: Offset = 0) -> Template:
    items, total = await campaign_store.list_campaigns(ctx.conn, limit=LIST_PAGE, offset=offset)
    return Template("notifications/list.html", context=_ctx(ctx, items=items, total=total, offset=offset,
                                                            limit=LIST_PAGE))


# ---- compose ---------------------------------------------------------------------------------------------------

async def _compose(ctx: Ctx, form: ComposeForm, message: str = "", status_code: int = 200) -> Template:
    return Template("notifications/compose.html", status_code=status_code, context=_ctx(
        ctx, form=form, message=message, templates=await template_store.list_templates(ctx.conn),
        houses=await house_options(ctx.conn, limit=1000), streets=await street_choices(ctx.conn),
        chosen_houses=set(parse_ids(form.house_ids, "house_ids")),
        chosen_streets=set(parse_ids(form.street_ids, "street_ids")), variables=VARIABLES,
        rules=await load_rules(ctx.conn)))


@get("/notifications/new", dependencies=DEPS, guards=EDIT, include_in_schema=False)
async def compose_page(ctx: Ctx, template_id: Id | None = None) -> Template:
    form = ComposeForm(ch_email="on", ch_sms="on", ch_telegram="on", ch_max="on", ch_inbox="on")
    if template_id is not None:
        t = await template_store.get_template(ctx.conn, template_id)
        form = msgspec.structs.replace(form, template_id=str(t["id"]), title=t["title"], subject=t["subject"],
                                       body=t["body"], sound=t["sound"], ch_autocall="on" if t["sound"] else "")
    return await _compose(ctx, form)


@post("/notifications/preview", dependencies=DEPS, guards=VIEW, include_in_schema=False, status_code=200)
async def preview_part(ctx: Ctx, data: Annotated[ComposeForm, FORM]) -> Template:
    result, message = None, ""
    async with attempt(ctx) as tried:
        result = await service.preview_of(ctx, data.raw())
    if tried.refused:
        result, message = None, tried.message
    return Template("notifications/preview.html", context=_ctx(ctx, preview=result, message=message))


@post("/notifications/new", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def compose_submit(ctx: Ctx, data: Annotated[ComposeForm, FORM]) -> Template | Redirect:
    async with attempt(ctx) as tried:
        created = await service.create(ctx, data.raw(), start_now=data.action == "start")
    if tried.refused:
        return await _compose(ctx, data, tried.message)
    return Redirect(path=f"/notifications/{created['id']}", status_code=303)


# ---- one campaign ----------------------------------------------------------------------------------------------

async def _recipients(ctx: Ctx, campaign_id: int, status: str, channel: str, offset: int) -> dict[str, Any]:
    status = status if status in campaign_store.RECIPIENT_FILTERS else ""
    channel = channel if channel in CHANNELS else ""
    items, total = await campaign_store.recipients_page(ctx.conn, campaign_id, status=status, channel=channel,
                                                        limit=RECIPIENTS_PAGE, offset=offset)
    return {"recipients": items, "recipients_total": total, "status": status, "channel": channel,
            "offset": offset, "limit": RECIPIENTS_PAGE, "filters": campaign_store.RECIPIENT_FILTERS}


@get("/notifications/{campaign_id:int}", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def campaign_page(ctx: Ctx, request: Request, campaign_id: int, part: Part = "", status: Filter = "",
                        channel: Filter = "", offset: Offset = 0) -> Template:
    campaign = await campaign_store.campaign_detail(ctx.conn, campaign_id)
    context = _ctx(ctx, c=campaign, message=request.query_params.get("message", "")[:300],
                   groups=GROUPS, grouped=grouped(campaign["counts"]),
                   group_statuses={g: statuses for g, (_, statuses) in GROUPS.items()},
                   **await _recipients(ctx, campaign_id, status, channel, offset))
    if part == "live":
        return Template("notifications/live.html", context=context)
    if part == "recipients":
        return Template("notifications/recipients.html", context=context)
    return Template("notifications/campaign.html", context=context)


class ActionForm(msgspec.Struct):
    action: str = ""


@post("/notifications/{campaign_id:int}", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def campaign_action(ctx: Ctx, campaign_id: int, data: Annotated[ActionForm, FORM]) -> Redirect:
    async with attempt(ctx) as tried:
        if data.action == "start":
            await service.start(ctx, campaign_id)
        elif data.action == "pause":
            await campaign_store.pause(ctx.conn, campaign_id)
        elif data.action == "cancel":
            await campaign_store.cancel(ctx.conn, campaign_id)
        else:
            raise Invalid("Неизвестное действие")
    if tried.refused:
        await campaign_store.get_campaign(ctx.conn, campaign_id)  # an unknown campaign is a 404
        return Redirect(path=f"/notifications/{campaign_id}", query_params={"message": tried.message},
                        status_code=303)
    return Redirect(path=f"/notifications/{campaign_id}", status_code=303)


# ---- sending rules and opt-outs ----------------------------------------------------------------------------

async def _settings(ctx: Ctx, offset: int = 0, message: str = "", error: bool = False) -> Template:
    items, total = await optouts.list_optouts(ctx.conn, limit=LIST_PAGE, offset=offset)
    return Template("notifications/settings.html", context=_ctx(
        ctx, rules=(await load_rules(ctx.conn)).as_dict(), optouts=items, total=total, offset=offset,
        limit=LIST_PAGE, message=message, error=error))


@get("/notifications/settings", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def settings_page(ctx: Ctx, offset: Offset = 0) -> Template:
    return await _settings(ctx, offset)


@post("/notifications/settings", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def settings_submit(ctx: Ctx, data: Annotated[RulesForm, FORM]) -> Template:
    async with attempt(ctx) as tried:
        rates = {ch: getattr(data, f"rate_{ch}").strip() for ch in CHANNELS if getattr(data, f"rate_{ch}").strip()}
        await save_rules(ctx.conn, check_rules({"quiet_from": data.quiet_from, "quiet_to": data.quiet_to,
                                                "timezone": data.timezone, "sms_price": data.sms_price,
                                                "rates": rates}), ctx.principal.user_id)
    return await _settings(ctx, message=tried.message or "Правила рассылок сохранены", error=tried.refused)


@post("/notifications/optouts", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def optout_submit(ctx: Ctx, data: Annotated[OptoutForm, FORM]) -> Template:
    async with attempt(ctx) as tried:
        account_id = None
        if data.account_number.strip():
            account_id = await account_by_number(ctx.conn, data.account_number.strip()[:32])
            if account_id is None:
                raise Invalid(f"Лицевой счёт № {data.account_number.strip()[:32]} не найден", field="account_number")
        await optouts.add_optout(ctx.conn, account_id=account_id, address=data.address[:254] or None,
                                 channel=data.channel or None, reason=data.reason, user_id=ctx.principal.user_id)
    return await _settings(ctx, message=tried.message or "Отказ записан", error=tried.refused)


@post("/notifications/optouts/{notification_optout_id:int}/delete", dependencies=DEPS, guards=EDIT,
      include_in_schema=False, status_code=200)
async def optout_delete(ctx: Ctx, notification_optout_id: int) -> Template:
    await optouts.remove_optout(ctx.conn, notification_optout_id)  # an unknown one: 404
    return await _settings(ctx, message="Отказ удалён")


ROUTES = [campaigns_page, compose_page, preview_part, compose_submit, settings_page, settings_submit,
          optout_submit, optout_delete, campaign_page, campaign_action]
