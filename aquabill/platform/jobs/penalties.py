"""The penalty run of a month as a background job, with progress over the WebSocket (`job.progress`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from aquabill.billing_core.payments.allocation import allocate_accounts
from aquabill.billing_core.penalties.run import run_penalties
from aquabill.billing_core.periods import Period
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.registry import job

PENALTY_JOB = "penalties.run"
REALLOCATE = """
    SELECT DISTINCT pc.account_id FROM penalty_charges pc WHERE pc.run_id = :run
    AND (EXISTS (SELECT 1 FROM payment_allocations pa WHERE pa.account_id = pc.account_id
                 AND pa.kind IN ('advance', 'penalty'))
         OR EXISTS (SELECT 1 FROM payments p WHERE p.account_id = pc.account_id AND p.status = 'identified'
                    AND p.penalty > 0))
    ORDER BY 1"""


@job(PENALTY_JOB, "Расчёт пеней", resource="penalties", action="edit")
async def penalty_run(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    period = Period.parse(str(params.get("period", "")))
    async with ctx.transaction() as conn:
        result = await run_penalties(conn, period, job_id=ctx.job_id, created_by=ctx.user_id, progress=ctx.progress)
    # payments that can cover the new penalties (advances, parts named for penalties, earlier penalty
    # allocations) are reallocated once the run has committed, as after a billing run
    async with ctx.transaction() as conn:
        accounts = list((await conn.execute(text(REALLOCATE), {"run": result.run_id})).scalars())
        reallocated = await allocate_accounts(conn, accounts) if accounts else 0
    return {**result.as_dict(), "reallocated_accounts": len(accounts), "allocation_rows": reallocated}
