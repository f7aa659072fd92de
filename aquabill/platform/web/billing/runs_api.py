"""Billing runs over the API: a run for one account answers at once; larger runs are jobs."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import get, post
from litestar.params import Parameter

from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.queries import charge_rows, latest_charged_period, run_records
from aquabill.platform.auth.permissions import requires
from aquabill.platform.jobs import store
from aquabill.platform.web.billing.runs import parse_period, parse_scope, start_billing_run
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Limit, Offset, page

PeriodText = Annotated[str, Parameter(pattern=r"^\d{4}-\d{2}$", description="Период ГГГГ-ММ")]


class RunIn(msgspec.Struct):
    period: Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}$")]
    scope: str = "tenant"
    scope_id: int | None = None


@post("/api/billing/runs", dependencies=DEPS, guards=[requires("billing", "edit")], tags=["billing"],
      status_code=202)
async def start_run(ctx: Ctx, data: RunIn) -> dict:
    started = await start_billing_run(ctx, parse_period(data.period), parse_scope(data.scope, data.scope_id))
    if started.result is not None:
        return {"mode": "immediate", "result": started.result.as_dict()}
    return {"mode": "job", "job": store.to_dict(await store.get(ctx.conn, started.job_id))}


@get("/api/billing/runs", dependencies=DEPS, guards=[requires("billing", "view")], tags=["billing"])
async def list_runs(ctx: Ctx, limit: Limit = 50, offset: Offset = 0) -> dict:
    items, total = await run_records(ctx.conn, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@get("/api/billing/charges", dependencies=DEPS, guards=[requires("billing", "view")], tags=["billing"])
async def list_charges(ctx: Ctx, period: PeriodText | None = None, account_id: int | None = None,
                       limit: Limit = 100, offset: Offset = 0) -> dict:
    """Charges of a period (by default the latest period that has any), optionally of one account."""
    if period is None:
        p = await latest_charged_period(ctx.conn) or Period.of(date.today())
    else:
        p = parse_period(period)
    found = await charge_rows(ctx.conn, p, account_id=account_id, limit=limit, offset=offset)
    return {**found, "amount": str(found["amount"])}


ROUTES = [start_run, list_runs, list_charges]
