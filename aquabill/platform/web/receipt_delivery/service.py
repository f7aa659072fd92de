"""One code path for the page and the API: the month's state and starting its mailing."""

from __future__ import annotations

from typing import Any

from aquabill.base.errors import Invalid
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import default_period
from aquabill.notifications import receipt_mail
from aquabill.notifications.campaign_store import get_campaign, job_active
from aquabill.notifications.templates import month_name
from aquabill.platform.web.context import TenantScope
from aquabill.platform.web.notifications import service as campaigns


async def chosen_period(ctx: TenantScope, period: Period | None) -> Period:
    """The month asked for, else the latest with issued receipts, else the current billing month."""
    return period or await receipt_mail.latest_issued_period(ctx.conn) or await default_period(ctx.conn)


async def month_state(ctx: TenantScope, period: Period) -> dict[str, Any]:
    return {"period": str(period), "month": month_name(period.first_day),
            "summary": await receipt_mail.month_summary(ctx.conn, period),
            "campaigns": await receipt_mail.month_campaigns(ctx.conn, period)}


async def start_delivery(ctx: TenantScope, period: Period) -> dict[str, Any]:
    """Start (or continue) the month's mailing; twice is once: an open campaign of the month is continued or,
    when its job is already at work, just returned. Refused when there is nothing to send."""
    open_ = await receipt_mail.open_campaign(ctx.conn, period)
    if open_ is None:
        n, no_email = await receipt_mail.count_to_send(ctx.conn, period)
        if n == 0:
            why = f"; без адреса эл. почты: {no_email}" if no_email else ""
            raise Invalid(f"Нечего отправлять за {month_name(period.first_day)}: все выставленные квитанции "
                          f"абонентов «по эл. почте» уже отправлены или не выставлены{why}", field="period")
    campaign_id, created = await receipt_mail.create_receipt_campaign(
        ctx.conn, period, tenant_name=ctx.tenant.name, portal_url=ctx.core.settings.base_url,
        user_id=ctx.principal.user_id)
    c = await get_campaign(ctx.conn, campaign_id, lock=True)
    if c["status"] == "running" and await job_active(ctx.conn, campaign_id):
        return {"campaign_id": campaign_id, "created": created, "started": False, "status": c["status"],
                "job_id": str(c["job_id"])}
    started = await campaigns.start(ctx, campaign_id)
    return {"campaign_id": campaign_id, "created": created, "started": True, "status": started["status"],
            "job_id": str(started["job_id"])}
