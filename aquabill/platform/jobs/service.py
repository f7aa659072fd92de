"""Start jobs: a row in the tenant's job registry now, the arq message once the transaction commits."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from arq.connections import ArqRedis

from aquabill.base.errors import DomainError, Invalid
from aquabill.platform.jobs import store
from aquabill.platform.jobs.registry import JOBS
from aquabill.platform.realtime import publish
from aquabill.platform.state import Core

RUN_JOB = "run_job"


async def enqueue(core: Core, tenant_id: int, job_id: UUID) -> bool:
    """Deterministic arq job id: a retried enqueue of the same job cannot run it twice. False when arq already
    holds the job (waiting or running) or its result (it ended within the hour)."""
    redis = core.redis
    assert isinstance(redis, ArqRedis)
    job = await redis.enqueue_job(RUN_JOB, tenant_id, str(job_id), _job_id=str(job_id), _queue_name=core.keys.queue)
    return job is not None


async def start_job(ctx, kind: str, params: dict[str, Any]) -> UUID:
    """Create the job in `scope` (a TenantScope); it is enqueued and announced after the commit."""
    spec = JOBS.get(kind)
    if spec is None:
        raise Invalid(f"Неизвестный вид задания: {kind}", fields=[{"field": "kind", "message": "неизвестен"}])
    if not ctx.principal.can(spec.resource, spec.action):
        raise DomainError("Недостаточно прав для запуска этого задания", code="forbidden", status_code=403)
    job_id = await store.create(ctx.conn, kind, spec.title, params, ctx.principal.user_id)
    core, tenant_id = ctx.core, ctx.tenant.id

    async def after_commit() -> None:
        await enqueue(core, tenant_id, job_id)
        await publish(core.redis, core.keys, tenant_id, "job.queued", {"id": str(job_id), "kind": kind,
                                                                        "title": spec.title})

    ctx.after_commit(after_commit)
    return job_id
