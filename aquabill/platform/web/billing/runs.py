"""Starting a billing run: one code path for the API and the pages.

A run of one account is done in the request (it takes milliseconds) and its payments are reallocated in
the same transaction; a run of a house or of the whole tenant becomes the job `billing.run` (enqueued after
the request commits, progress over the WebSocket), which reallocates its scope once the run has committed.
Re-running an open period replaces its computed charges (idempotent); see billing_core/run/service.py.
Runs of overlapping scopes never run together (billing_core/run/guard.py): the job waits its turn, while an
account's run in the request does not wait behind a run of its tenant or house (that takes minutes) but is
refused at once with 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from aquabill.base.errors import Invalid, NotFound, PeriodClosed
from aquabill.billing_core.payments.allocation import allocate_scope
from aquabill.billing_core.periods import Period
from aquabill.billing_core.registry.queries import account_exists, house_exists
from aquabill.billing_core.run.compute import Scope
from aquabill.billing_core.run.service import RunResult, run_billing
from aquabill.platform.jobs.billing import scope_from
from aquabill.platform.jobs.service import start_job

RUN_JOB = "billing.run"


@dataclass(frozen=True, slots=True)
class StartedRun:
    period: Period
    scope: Scope
    result: RunResult | None = None  # an account's run, done in the request
    job_id: UUID | None = None  # a house's or the tenant's run, started as a job


def parse_period(raw: str) -> Period:
    try:
        return Period.parse(raw or "")
    except ValueError as exc:
        raise Invalid(str(exc), fields=[{"field": "period", "message": str(exc)}]) from exc


def parse_scope(kind: str, scope_id: int | None) -> Scope:
    try:
        return scope_from({"scope": kind, "scope_id": scope_id})
    except ValueError as exc:
        raise Invalid(str(exc), fields=[{"field": "scope", "message": str(exc)}]) from exc


async def start_billing_run(ctx, period: Period, scope: Scope) -> StartedRun:
    """Run or start the run in `ctx` (a TenantScope); refusals raise Invalid / NotFound / Conflict (another run
    of the account's tenant, house or the account itself is under way)."""
    if scope.kind == "account":
        if not await account_exists(ctx.conn, scope.id):
            raise NotFound("Лицевой счёт не найден")
        try:
            result = await run_billing(ctx.conn, period, scope, wait=False)
        except PeriodClosed as exc:
            raise Invalid(str(exc)) from exc
        # the account's payments over its new charges, committed with them (milliseconds, one account)
        await allocate_scope(ctx.conn, scope.kind, scope.id)
        return StartedRun(period, scope, result=result)
    if scope.kind == "house" and not await house_exists(ctx.conn, scope.id):
        raise NotFound("Дом не найден")
    job_id = await start_job(ctx, RUN_JOB, {"period": str(period), "scope": scope.kind, "scope_id": scope.id})
    return StartedRun(period, scope, job_id=job_id)
