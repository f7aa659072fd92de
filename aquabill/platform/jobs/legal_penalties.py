"""416-FZ penalties of organisations for a month as a background job (`legal.penalties`), with progress over the
WebSocket (`job.progress`): `legal_entities.penalty_store.accrue` in one transaction as the user who started it;
then, once it has committed, the contracts with an advance (a payment's remainder) are reallocated
(`legal_entities.payments.allocation.reallocate`: principal first, then penalties) so that the advance covers
the new penalties — as the individuals' penalty job does."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import text

from aquabill.base.errors import Invalid
from aquabill.billing_core.periods import Period
from aquabill.legal_entities.payments.allocation import reallocate
from aquabill.legal_entities.penalty_store import accrue
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.registry import job

LEGAL_PENALTY_JOB = "legal.penalties"
WITH_ADVANCE = """
    SELECT DISTINCT cp.contract_id FROM contract_penalties cp
    WHERE cp.posted_period = :p AND (CAST(:c AS integer) IS NULL OR cp.contract_id = :c)
      AND EXISTS (SELECT 1 FROM contract_allocations a WHERE a.contract_id = cp.contract_id AND a.kind = 'advance')
    ORDER BY 1"""


def job_params(period: Period, on: date, contract_id: int | None = None) -> dict[str, Any]:
    return {"period": str(period), "on": on.isoformat(), "contract_id": contract_id}


@job(LEGAL_PENALTY_JOB, "Пени юридических лиц (416-ФЗ)", resource="legal", action="edit")
async def legal_penalties(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    period = Period.parse(str(params.get("period", "")))
    try:
        on = date.fromisoformat(str(params.get("on", "")))
    except ValueError as exc:
        raise Invalid("Дата расчёта пени: ожидается ГГГГ-ММ-ДД", field="on") from exc
    contract_id = params.get("contract_id")
    contract = int(contract_id) if contract_id else None
    async with ctx.transaction() as conn:
        result = await accrue(conn, period.first_day, on=on, contract_id=contract, user_id=ctx.user_id,
                              progress=ctx.progress)
    async with ctx.transaction() as conn:
        ids = list((await conn.execute(text(WITH_ADVANCE), {"p": period.first_day, "c": contract})).scalars())
        moved = await reallocate(conn, ids, user_id=ctx.user_id) if ids else None
    return {**result, "reallocated_contracts": len(ids),
            "penalty_paid_from_advances": str(moved["penalty"]) if moved else "0.00"}
