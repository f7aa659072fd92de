"""One code path for the API and the pages: a campaign from input (its text taken from a stored template when
only the template is named), its preview, creating it and starting its job."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aquabill.base.errors import Conflict
from aquabill.notifications.campaign_store import create_campaign, get_campaign, job_active, mark_started
from aquabill.notifications.campaigns import CampaignDraft, check_draft
from aquabill.notifications.preview import preview
from aquabill.notifications.settings import SendingRules, load_rules
from aquabill.notifications.template_store import get_template
from aquabill.platform.jobs.campaigns import CAMPAIGN_JOB
from aquabill.platform.jobs.service import start_job
from aquabill.platform.web.context import TenantScope


def today(rules: SendingRules) -> date:
    return datetime.now(ZoneInfo(rules.timezone)).date()


async def draft_of(ctx: TenantScope, raw: dict[str, Any], *, rules: SendingRules | None = None) -> CampaignDraft:
    """A checked draft; a named template fills the subject, text and sound left empty."""
    rules = rules or await load_rules(ctx.conn)
    raw = dict(raw)
    template_id = raw.get("template_id")
    if isinstance(template_id, int) and not isinstance(template_id, bool) and 0 < template_id <= 2_147_483_647 \
            and not str(raw.get("body") or "").strip():
        stored = await get_template(ctx.conn, template_id)
        raw.update(subject=raw.get("subject") or stored["subject"], body=stored["body"],
                   sound=raw.get("sound") or stored["sound"])
        raw["title"] = raw.get("title") or stored["title"]
    return check_draft(raw, rules.rates)


async def preview_of(ctx: TenantScope, raw: dict[str, Any]) -> dict[str, Any]:
    rules = await load_rules(ctx.conn)
    draft = await draft_of(ctx, {"title": "Предпросмотр", **{k: v for k, v in raw.items() if v is not None}},
                           rules=rules)
    return await preview(ctx.conn, draft, tenant_name=ctx.tenant.name, today=today(rules), rules=rules)


async def start(ctx: TenantScope, campaign_id: int) -> dict[str, Any]:
    """Start (or continue) the campaign's job; refused while its job is queued or running."""
    c = await get_campaign(ctx.conn, campaign_id, lock=True)
    if c["status"] == "running" and await job_active(ctx.conn, campaign_id):
        raise Conflict("Рассылка уже идёт")
    if c["status"] in ("done", "cancelled"):
        raise Conflict("Рассылка уже завершена" if c["status"] == "done" else "Рассылка отменена")
    job_id = await start_job(ctx, CAMPAIGN_JOB, {"campaign_id": campaign_id})
    return await mark_started(ctx.conn, campaign_id, job_id)


async def create(ctx: TenantScope, raw: dict[str, Any], *, start_now: bool) -> dict[str, Any]:
    draft = await draft_of(ctx, raw)
    c = await create_campaign(ctx.conn, draft, tenant_name=ctx.tenant.name, user_id=ctx.principal.user_id)
    return await start(ctx, c["id"]) if start_now else c
