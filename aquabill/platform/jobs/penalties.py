"""The penalty run of a month as a background job, with progress over the WebSocket (`job.progress`)."""

from __future__ import annotations

from typing import Any

from aquabill.billing_core.penalties.run import run_penalties
from aquabill.billing_core.periods import Period
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.registry import job

PENALTY_JOB = "penalties.run"


@job(PENALTY_JOB, "Расчёт пеней", resource="penalties", action="edit")
async def penalty_run(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    period = Period.parse(str(params.get("period", "")))
    async with ctx.transaction() as conn:
        result = await run_penalties(conn, period, job_id=ctx.job_id, created_by=ctx.user_id, progress=ctx.progress)
    return result.as_dict()
