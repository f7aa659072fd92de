"""EDO as jobs (the work itself: `channels/edo/runner.py`).

- `edo.send`: one pass over the tenant's due messages (queued, and unknown ones whose post is asked again).
  `kick(core, tenant)` starts it after a commit that queued documents, unless one is already queued.
- `edo.poll`: one pass asking the operator the status of sent / delivered messages.
- the `edo` arq cron: every minute, every active tenant with due messages gets a send and a poll pass (no job
  rows) — the messages whose job was lost, retries after back-off, interrupted sends (their lease ran out) and
  the statuses. One tenant's failure does not stop the others (`each_tenant.py`).
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from arq.cron import CronJob, cron
from sqlalchemy import text

from aquabill.channels.edo.runner import poll_tenant, send_tenant
from aquabill.platform.jobs import store
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.each_tenant import each_active_tenant
from aquabill.platform.jobs.registry import job
from aquabill.platform.jobs.service import enqueue
from aquabill.platform.realtime import publish
from aquabill.platform.state import Core
from aquabill.tenants.context import Tenant, tenant_transaction

log = logging.getLogger(__name__)
SEND, POLL = "edo.send", "edo.poll"
SEND_TITLE, POLL_TITLE = "Отправка документов через ЭДО", "Статусы документов в ЭДО"


@job(SEND, SEND_TITLE, resource="legal", action="edit")
async def edo_send_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    return await send_tenant(ctx.core, ctx.tenant)


@job(POLL, POLL_TITLE, resource="legal", action="edit")
async def edo_poll_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    return await poll_tenant(ctx.core, ctx.tenant)


async def kick(core: Core, tenant: Tenant) -> UUID | None:
    """After a commit that queued documents: start `edo.send` unless one is queued already; its id, or None.
    Never raises (the request has committed; the cron picks up what is missed)."""
    try:
        async with tenant_transaction(core.engines, tenant) as conn:
            if (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM jobs WHERE kind = :k AND status = 'queued')"),
                                   {"k": SEND})).scalar():
                return None
            job_id = await store.create(conn, SEND, SEND_TITLE, {}, None)
        await enqueue(core, tenant.id, job_id)
        await publish(core.redis, core.keys, tenant.id, "job.queued", {"id": str(job_id), "kind": SEND,
                                                                        "title": SEND_TITLE})
        return job_id
    except Exception:
        log.warning("tenant %s: the EDO send job was not started (the sweep will do it)", tenant.slug, exc_info=True)
        return None


async def sweep_tenant(core: Core, tenant: Tenant) -> dict[str, int]:
    async with tenant_transaction(core.engines, tenant) as conn:
        if (await conn.execute(text("SELECT to_regclass('edo_messages')"))).scalar() is None:
            return {"skipped": 1}  # a schema not migrated to t0033 yet
        due = (await conn.execute(text(
            "SELECT EXISTS (SELECT 1 FROM edo_messages WHERE status IN ('queued', 'sending', 'sent', 'delivered', "
            "'unknown') AND next_at <= now())"))).scalar()
    if not due:
        return {}
    sent = await send_tenant(core, tenant)
    polled = await poll_tenant(core, tenant)
    return {"sent": sent.get("sent", 0), "signed": polled.get("signed", 0), "rejected": polled.get("rejected", 0)}


async def sweep_all_tenants(core: Core) -> dict[str, int]:
    results, failed = await each_active_tenant(core, lambda tenant: sweep_tenant(core, tenant), "EDO sweep")
    return {"tenants": len(results), "failed": failed, "sent": sum(r.get("sent", 0) for r in results)}


async def edo_cron(ctx: dict[str, Any]) -> dict[str, int]:
    return await sweep_all_tenants(ctx["core"])


def edo_cron_jobs() -> list[CronJob]:
    """Every minute at second 40; unique per tick, so several workers run it once."""
    return [cron(edo_cron, name="edo", second=40, timeout=600)]
