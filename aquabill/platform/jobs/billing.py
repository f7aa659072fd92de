"""The billing run as a background job, with progress.

Once the run's transaction has committed, the same job recomputes the payment allocations of the run's
scope in a second transaction (advances are consumed by the new charges): a house's accounts, one account,
or the whole tenant in one set-based pass. A retried job repeats both steps (each is idempotent).
"""

from __future__ import annotations

from typing import Any

from aquabill.billing_core.payments.allocation import allocate_scope
from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.compute import Scope
from aquabill.billing_core.run.service import run_billing
from aquabill.platform.jobs.context import JobContext
from aquabill.platform.jobs.registry import job

REALLOCATION_AT = 96.0  # progress (%) when the run is written and the allocations are recomputed


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
    scope = scope_from(params)

    async def progress(pct: float, message: str) -> None:
        if pct < 100:  # the run's own "done" comes after the reallocation
            await ctx.progress(pct * REALLOCATION_AT / 100, message)

    async with ctx.transaction() as conn:
        result = await run_billing(conn, period, scope, job_id=ctx.job_id, progress=progress)
    # the run has committed: its accounts' payments are spread over the new charges
    await ctx.progress(REALLOCATION_AT, "Разнесение оплат по новым начислениям")
    async with ctx.transaction() as conn:
        allocations = await allocate_scope(conn, scope.kind, scope.id)
    return {**result.as_dict(), "allocations": allocations}
