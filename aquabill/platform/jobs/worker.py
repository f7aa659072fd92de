"""The arq worker: runs registered job kinds in their tenant's context and reports progress; while a job runs
its heartbeat is kept, and the crons include the sweep of stuck jobs (sweeper.py)."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from arq import Worker
from arq.connections import RedisSettings
from arq.worker import func

from aquabill.platform.config import Settings, apply_run_tuning
from aquabill.platform.jobs import store
from aquabill.platform.jobs.catalogue import load_job_kinds
from aquabill.platform.jobs.cloud_fiscal import cloud_fiscal_cron_jobs
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.edo import edo_cron_jobs
from aquabill.platform.jobs.mail_poll import mail_cron_jobs
from aquabill.platform.jobs.registry import JOBS
from aquabill.platform.jobs.request_timers import cron_jobs
from aquabill.platform.jobs.service import RUN_JOB
from aquabill.platform.jobs.sweeper import heartbeat, sweep_cron_jobs
from aquabill.platform.realtime import publish
from aquabill.platform.state import Core
from aquabill.tenants import registry
from aquabill.tenants.context import tenant_transaction

log = logging.getLogger(__name__)


async def run_job(ctx: dict[str, Any], tenant_id: int, job_id: str) -> dict[str, Any]:
    core: Core = ctx["core"]
    jid = UUID(job_id)
    async with core.engines.control.connect() as conn:
        tenant = await registry.by_id(conn, tenant_id)
    if tenant is None or tenant.status != "active":
        return {"skipped": "tenant not active"}
    async with tenant_transaction(core.engines, tenant) as conn:
        row = await store.get(conn, jid)
        if row is None or not await store.mark_running(conn, jid):
            return {"skipped": "job not found or already finished"}
    spec = JOBS.get(row.kind)
    await publish(core.redis, core.keys, tenant.id, "job.started", {"id": job_id, "kind": row.kind})
    job_ctx = JobContext(core=core, tenant=tenant, job_id=jid, user_id=row.created_by)
    try:
        if spec is None:
            raise RuntimeError(f"Неизвестный вид задания: {row.kind}")
        async with heartbeat(core, tenant, jid):
            result = await spec.fn(job_ctx, dict(row.params or {}))
    except Exception as exc:
        log.exception("job %s (%s) of tenant %s failed", job_id, row.kind, tenant.slug)
        async with tenant_transaction(core.engines, tenant) as conn:
            await store.finish(conn, jid, error=str(exc) or type(exc).__name__)
        await publish(core.redis, core.keys, tenant.id, "job.failed", {"id": job_id, "error": str(exc)})
        return {"error": str(exc)}
    async with tenant_transaction(core.engines, tenant) as conn:
        await store.finish(conn, jid, result=result)
    await publish(core.redis, core.keys, tenant.id, "job.finished",
                  {"id": job_id, "kind": row.kind, "result": result})
    return result


def build_worker(core: Core, *, burst: bool = False, max_jobs: int = 10) -> Worker:
    load_job_kinds()
    apply_run_tuning(core.settings)

    async def on_startup(ctx: dict[str, Any]) -> None:
        ctx["core"] = core

    return Worker(
        functions=[func(run_job, name=RUN_JOB, timeout=6 * 3600)],
        cron_jobs=[*cron_jobs(), *mail_cron_jobs(), *sweep_cron_jobs(), *cloud_fiscal_cron_jobs(), *edo_cron_jobs()],
        redis_settings=RedisSettings.from_dsn(core.settings.redis_url),
        queue_name=core.keys.queue,
        on_startup=on_startup,
        burst=burst,
        max_jobs=max_jobs,
        handle_signals=False,
        keep_result=3600,
    )


async def run_worker(settings: Settings) -> None:
    core = Core.open(settings)
    worker = build_worker(core)
    try:
        await worker.async_run()
    finally:
        await worker.close()
        await core.close()
