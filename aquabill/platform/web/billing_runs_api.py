"""Billing runs over the API: a run for one account answers at once; larger runs are jobs."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import get, post
from litestar.di import Provide
from litestar.params import Parameter
from sqlalchemy import text

from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.service import PeriodClosed, run_billing
from aquabill.platform.auth.permissions import requires
from aquabill.platform.errors import Invalid, NotFound
from aquabill.platform.jobs import store
from aquabill.platform.jobs.billing import scope_from
from aquabill.platform.jobs.service import start_job
from aquabill.platform.web.context import Ctx, provide_tenant_scope
from aquabill.platform.web.paging import Limit, Offset, page

DEPS = {"ctx": Provide(provide_tenant_scope)}
PeriodText = Annotated[str, Parameter(pattern=r"^\d{4}-\d{2}$", description="Период ГГГГ-ММ")]


class RunIn(msgspec.Struct):
    period: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}$")]
    scope: str = "tenant"
    scope_id: int | None = None


def _period(raw: str) -> Period:
    try:
        return Period.parse(raw)
    except ValueError as exc:
        raise Invalid(str(exc), fields=[{"field": "period", "message": str(exc)}]) from exc


@post("/api/billing/runs", dependencies=DEPS, guards=[requires("billing", "edit")], tags=["billing"],
      status_code=202)
async def start_run(ctx: Ctx, data: RunIn) -> dict:
    period = _period(data.period)
    try:
        scope = scope_from({"scope": data.scope, "scope_id": data.scope_id})
    except ValueError as exc:
        raise Invalid(str(exc), fields=[{"field": "scope", "message": str(exc)}]) from exc
    if scope.kind == "account":
        exists = (await ctx.conn.execute(text("SELECT 1 FROM accounts WHERE id = :id"), {"id": scope.id})).first()
        if not exists:
            raise NotFound("Лицевой счёт не найден")
        try:
            result = await run_billing(ctx.conn, period, scope)
        except PeriodClosed as exc:
            raise Invalid(str(exc)) from exc
        return {"mode": "immediate", "result": result.as_dict()}
    job_id = await start_job(ctx, "billing.run", {"period": str(period), "scope": scope.kind, "scope_id": scope.id})
    return {"mode": "job", "job": store.to_dict(await store.get(ctx.conn, job_id))}


@get("/api/billing/runs", dependencies=DEPS, guards=[requires("billing", "view")], tags=["billing"])
async def list_runs(ctx: Ctx, limit: Limit = 50, offset: Offset = 0) -> dict:
    rows = (await ctx.conn.execute(text(
        "SELECT id, to_char(period, 'YYYY-MM') AS period, scope, scope_id, status, stats, started_at, finished_at "
        "FROM billing_runs ORDER BY id DESC LIMIT :l OFFSET :o"), {"l": limit, "o": offset})).all()
    total = (await ctx.conn.execute(text("SELECT count(*) FROM billing_runs"))).scalar_one()
    return page([dict(r._mapping) for r in rows], total, limit, offset)


@get("/api/billing/charges", dependencies=DEPS, guards=[requires("billing", "view")], tags=["billing"])
async def list_charges(ctx: Ctx, period: PeriodText | None = None, account_id: int | None = None,
                       limit: Limit = 100, offset: Offset = 0) -> dict:
    """Charges of a period (by default the latest period that has any), optionally of one account."""
    if period is None:
        latest = (await ctx.conn.execute(text("SELECT max(period) FROM charges"))).scalar()
        p = Period.of(latest) if latest else Period.of(date.today())
    else:
        p = _period(period)
    cond = "c.period = :p" + (" AND c.account_id = :a" if account_id is not None else "")
    args = {"p": p.first_day, "a": account_id, "l": limit, "o": offset}
    rows = (await ctx.conn.execute(text(
        "SELECT c.id, a.number AS account_number, s.code AS service, s.name AS service_name, c.method, c.volume, "
        "c.tariff, c.coefficient, c.amount, c.days, to_char(c.corrects_period, 'YYYY-MM') AS corrects_period, "
        "c.note FROM charges c JOIN accounts a ON a.id = c.account_id JOIN services s ON s.id = c.service_id "
        f"WHERE {cond} ORDER BY a.number, s.sort, c.id LIMIT :l OFFSET :o"), args)).all()
    totals = (await ctx.conn.execute(text(
        f"SELECT count(*), coalesce(sum(c.amount), 0) FROM charges c WHERE {cond}"), args)).one()
    return {**page([dict(r._mapping) for r in rows], totals[0], limit, offset), "amount": str(totals[1]),
            "period": str(p)}


ROUTES = [start_run, list_runs, list_charges]
