"""The billing run as a background job, with progress."""

from __future__ import annotations

from typing import Any

from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.compute import Scope
from aquabill.billing_core.run.service import run_billing
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.registry import job


def scope_from(params: dict[str, Any]) -> Scope:
    kind = params.get("scope") or "tenant"
    if kind not in ("tenant", "house", "account"):
        raise ValueError(f"Неизвестная область расчёта: {kind}")
    scope_id = params.get("scope_id")
    if kind != "tenant" and not isinstance(scope_id, int):
        raise ValueError("Для расчёта по дому или лицевому счёту укажите scope_id")
    return Scope(kind, scope_id if kind != "tenant" else None)


@job("billing.run", "Расчёт начислений", resource="billing", action="edit")
async def billing_run(ctx: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    period = Period.parse(str(params.get("period", "")))
    async with ctx.transaction() as conn:
        result = await run_billing(conn, period, scope_from(params), job_id=ctx.job_id, progress=ctx.progress)
    return result.as_dict()
