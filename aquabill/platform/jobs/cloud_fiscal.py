"""Cloud fiscalization as jobs (the work itself: `channels/cloud_fiscal/runner.py`).

- the `fiscal.cloud` job: one pass over the tenant's due requests. `kick(core, tenant)` starts it after a commit
  that may have written requests (an online payment credited or refunded: `channels/acquiring/flow.py`), unless
  one is already queued; staff may start it too (`POST /api/jobs {"kind": "fiscal.cloud"}`, the page's button).
- the `fiscal.cloud` arq cron: every minute, every active tenant with due requests gets a pass (no job rows) —
  requests whose job was lost (the process stopped before the enqueue, Redis down), polls still waiting, and
  retries after an unknown outcome. One tenant's failure does not stop the others.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from arq.cron import CronJob, cron
from sqlalchemy import text

from aquabill.cash import cloud
from aquabill.channels.cloud_fiscal.runner import process_tenant
from aquabill.platform.jobs import store
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.each_tenant import each_active_tenant
from aquabill.platform.jobs.registry import job
from aquabill.platform.jobs.service import enqueue
from aquabill.platform.realtime import publish
from aquabill.platform.state import Core
from aquabill.tenants.context import Tenant, tenant_transaction

log = logging.getLogger(__name__)
KIND = "fiscal.cloud"
TITLE = "Облачная фискализация онлайн-платежей"


@job(KIND, TITLE, resource="payments", action="edit")
async def cloud_fiscal_job(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    return await process_tenant(ctx.core, ctx.tenant)


async def kick(core: Core, tenant: Tenant) -> UUID | None:
    """After a commit: start the job if requests are due and none is queued yet; its id, or None. Never raises
    (the request that called it has committed; the cron picks up what is missed)."""
    try:
        async with tenant_transaction(core.engines, tenant) as conn:
            if not await cloud.has_due(conn):
                return None
            if (await conn.execute(text("SELECT EXISTS (SELECT 1 FROM jobs WHERE kind = :k AND status = 'queued')"),
                                   {"k": KIND})).scalar():
                return None
            job_id = await store.create(conn, KIND, TITLE, {}, None)
        await enqueue(core, tenant.id, job_id)
        await publish(core.redis, core.keys, tenant.id, "job.queued", {"id": str(job_id), "kind": KIND, "title": TITLE})
        return job_id
    except Exception:
        log.warning("tenant %s: the cloud fiscalization job was not started (the sweep will do it)", tenant.slug,
                    exc_info=True)
        return None


async def sweep_tenant(core: Core, tenant: Tenant) -> dict[str, int]:
    async with tenant_transaction(core.engines, tenant) as conn:
        if (await conn.execute(text("SELECT to_regclass('cloud_fiscal_requests')"))).scalar() is None:
            return {"skipped": 1}  # a schema not migrated to t0031 yet
        if not await cloud.has_due(conn):
            return {}
    return await process_tenant(core, tenant)


async def sweep_all_tenants(core: Core) -> dict[str, int]:
    results, failed = await each_active_tenant(core, lambda tenant: sweep_tenant(core, tenant),
                                               "cloud fiscalization sweep")
    return {"tenants": len(results), "failed": failed, "done": sum(stats.get("done", 0) for stats in results)}


async def cloud_fiscal_cron(ctx: dict[str, Any]) -> dict[str, int]:
    return await sweep_all_tenants(ctx["core"])


def cloud_fiscal_cron_jobs() -> list[CronJob]:
    """Every minute at second 15; unique per tick, so several workers run it once."""
    return [cron(cloud_fiscal_cron, name=KIND, second=15, timeout=600)]
