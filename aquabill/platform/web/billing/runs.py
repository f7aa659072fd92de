"""Starting a billing run: one code path for the API and the pages.

A run of one account is done in the request (it takes milliseconds) and its payments are reallocated in
the same transaction; a run of a house or of the whole tenant becomes the job `billing.run` (enqueued after
the request commits, progress over the WebSocket), which reallocates its scope once the run has committed.
Re-running an open period replaces its computed charges (idempotent); see billing_core/run/service.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.payments.allocation import allocate_scope
from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.compute import Scope
from aquabill.billing_core.run.service import PeriodClosed, RunResult, run_billing
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
    """Run or start the run in `ctx` (a TenantScope); refusals raise Invalid / NotFound."""
    if scope.kind == "account":
        if not (await ctx.conn.execute(text("SELECT 1 FROM accounts WHERE id = :id"), {"id": scope.id})).first():
            raise NotFound("Лицевой счёт не найден")
        try:
            result = await run_billing(ctx.conn, period, scope)
        except PeriodClosed as exc:
            raise Invalid(str(exc)) from exc
        # the account's payments over its new charges, committed with them (milliseconds, one account)
        await allocate_scope(ctx.conn, scope.kind, scope.id)
        return StartedRun(period, scope, result=result)
    if scope.kind == "house" and not (await ctx.conn.execute(
            text("SELECT 1 FROM houses WHERE id = :id"), {"id": scope.id})).first():
        raise NotFound("Дом не найден")
    job_id = await start_job(ctx, RUN_JOB, {"period": str(period), "scope": scope.kind, "scope_id": scope.id})
    return StartedRun(period, scope, job_id=job_id)


async def default_period(conn: AsyncConnection, today: date | None = None) -> Period:
    """The open period; else the month after the latest closed one; else the current month."""
    row = (await conn.execute(text(
        "SELECT min(period) FILTER (WHERE status = 'open') AS open, max(period) AS latest FROM periods"))).one()
    if row.open is not None:
        return Period.of(row.open)
    if row.latest is not None:
        return Period.of(row.latest).next()
    return Period.of(today or date.today())
