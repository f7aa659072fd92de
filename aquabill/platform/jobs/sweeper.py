"""Jobs that would otherwise stay unfinished for ever (and hold month close back): a heartbeat while a job runs,
and a sweep every minute as an arq cron job, per active tenant (one tenant's failure does not stop the others):

- `queued` for REQUEUE_AFTER: enqueued again. The arq job id is the job's UUID, so a job whose message is in
  the queue (or running, or ended within the hour) is not duplicated; one whose enqueue after the commit
  failed (Redis down at that moment, the process stopped) gets its message and runs.
- `running` with no heartbeat for DEAD_AFTER: its worker died (killed, out of memory, the machine lost);
  failed. Should arq retry it later, the worker finds it failed and skips it (`store.mark_running`).
- `queued` for QUEUED_DEADLINE: it can no longer be expected to run (re-enqueued all along and never
  started); failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from typing import Any
from uuid import UUID

from arq.cron import CronJob, cron

from aquabill.platform.jobs import store
from aquabill.platform.jobs.each_tenant import each_active_tenant
from aquabill.platform.jobs.service import enqueue
from aquabill.platform.realtime import publish
from aquabill.platform.state import Core
from aquabill.tenants.context import Tenant, tenant_transaction

log = logging.getLogger(__name__)

HEARTBEAT = timedelta(seconds=10)
REQUEUE_AFTER = timedelta(minutes=5)
DEAD_AFTER = timedelta(minutes=5)  # 30 heartbeats missed
QUEUED_DEADLINE = timedelta(hours=6)  # the longest a job may run (worker.py), waited in the queue
DEAD = "Обработчик заданий, выполнявший задание, остановился, не завершив его: запустите задание заново"
LOST = "Задание так и не было запущено (очередь заданий недоступна): запустите его заново"


@asynccontextmanager
async def heartbeat(core: Core, tenant: Tenant, job_id: UUID) -> AsyncIterator[None]:
    """While the block runs, the job's `heartbeat_at` is refreshed every HEARTBEAT (a missed beat is logged,
    not fatal: the sweep waits for DEAD_AFTER)."""

    async def beat() -> None:
        while True:
            try:
                async with tenant_transaction(core.engines, tenant) as conn:
                    await store.beat(conn, job_id)
            except Exception:
                log.warning("heartbeat of job %s of tenant %s failed", job_id, tenant.slug, exc_info=True)
            await asyncio.sleep(HEARTBEAT.total_seconds())

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def sweep_tenant(core: Core, tenant: Tenant, *, requeue_after: timedelta = REQUEUE_AFTER,
                       dead_after: timedelta = DEAD_AFTER, queued_deadline: timedelta = QUEUED_DEADLINE
                       ) -> dict[str, int]:
    """One tenant's sweep (committed), its events published after the commit."""
    async with tenant_transaction(core.engines, tenant) as conn:
        failed = await store.fail_abandoned(conn, dead_after_s=dead_after.total_seconds(),
                                            queued_deadline_s=queued_deadline.total_seconds(), dead=DEAD, lost=LOST)
        waiting = await store.stale_queued(conn, requeue_after.total_seconds())
    for job_id, error in failed:
        await publish(core.redis, core.keys, tenant.id, "job.failed", {"id": str(job_id), "error": error})
    requeued = 0
    for job_id in waiting:
        requeued += await enqueue(core, tenant.id, job_id)
    return {"failed": len(failed), "requeued": requeued}


async def sweep_all_tenants(core: Core) -> dict[str, int]:
    results, errors = await each_active_tenant(core, lambda tenant: sweep_tenant(core, tenant), "job sweep")
    return {"tenants": len(results), "errors": errors, "failed": sum(stats["failed"] for stats in results),
            "requeued": sum(stats["requeued"] for stats in results)}


async def jobs_sweep_cron(ctx: dict[str, Any]) -> dict[str, int]:
    return await sweep_all_tenants(ctx["core"])


def sweep_cron_jobs() -> list[CronJob]:
    """Every minute at second 45; unique per tick, so several workers run it once."""
    return [cron(jobs_sweep_cron, name="jobs.sweep", second=45, timeout=300)]
