"""The legal entities' calculation of a month as a background job (`legal.run`), with progress over the WebSocket.

params: `period` (ГГГГ-ММ-ДД, any day of the month), `contract_id` (optional). The run is one transaction
(`run_month`); if it fails, the failure is recorded as a 'failed' row of `legal_runs` in a transaction of its own
(the run's rows were rolled back) and the job fails with the same Russian message.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from aquabill.legal_entities.calc import store
from aquabill.legal_entities.calc.run import run_month
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.registry import job

LEGAL_RUN_JOB = store.JOB_KIND


def parse_params(params: dict[str, Any]) -> tuple[date, int | None]:
    period = date.fromisoformat(str(params.get("period", ""))[:10])
    raw = params.get("contract_id")
    return period, int(raw) if raw not in (None, "") else None


@job(LEGAL_RUN_JOB, "Расчёт начислений юридическим лицам", resource="legal", action="edit")
async def legal_run(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    period, contract_id = parse_params(params)
    try:
        async with ctx.transaction() as conn:
            result = await run_month(conn, period, contract_id=contract_id, user_id=ctx.user_id,
                                     progress=ctx.progress)
    except Exception as exc:
        async with ctx.transaction() as conn:
            await store.record_failure(conn, period, contract_id, str(exc) or type(exc).__name__, ctx.user_id)
        raise
    return {**result, "amount": str(result["amount"]), "problems": result["problems"][:100]}
