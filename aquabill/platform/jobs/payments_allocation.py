"""Allocation of the whole tenant's payments as a background job."""

from __future__ import annotations

from typing import Any

from aquabill.billing_core.payments.allocation import allocate_all
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.registry import job

ALLOCATE_JOB = "payments.allocate"


@job(ALLOCATE_JOB, "Разнесение оплат по начислениям", resource="payments", action="edit")
async def allocate_payments(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    await ctx.progress(0, "Разнесение оплат")
    async with ctx.transaction() as conn:
        rows = await allocate_all(conn)
    return {"scope": "tenant", "allocations": rows}
