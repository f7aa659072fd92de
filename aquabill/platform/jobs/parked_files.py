"""Files handed to a background job: parked in Redis under the tenant's and the job's key (never taken from
the job's parameters), read once by the job and removed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.service import start_job

FILE_TTL_SECONDS = 24 * 3600


async def start_file_job(scope, kind: str, params: dict[str, Any], data: bytes) -> UUID:
    """Register the job in `scope` (a TenantScope) and park the file; the job is enqueued after commit."""
    job_id = await start_job(scope, kind, {**params, "bytes": len(data)})
    await scope.core.redis.set(scope.core.keys.import_file(scope.tenant.id, str(job_id)), data,
                               ex=FILE_TTL_SECONDS)
    return job_id


@asynccontextmanager
async def parked_file(ctx: JobContext, missing: str) -> AsyncIterator[bytes]:
    """The job's file; `missing` is the message when it is gone. Removed afterwards, whatever happens (a failed
    import is not retried: the file is sent again; a killed worker leaves it for arq's retry)."""
    key = ctx.core.keys.import_file(ctx.tenant.id, str(ctx.job_id))
    data = await ctx.core.redis.get(key)
    if data is None:
        raise RuntimeError(missing)
    try:
        yield data
    finally:
        await ctx.core.redis.delete(key)
