"""Penalties over the API. Permission resource "penalties" (view to read, edit to change).

- `POST /api/penalties/runs {period}`: the month's penalty run for the whole organisation, as the job
  `penalties.run` (progress over the WebSocket); `GET /api/penalties/runs`: the runs;
- `GET /api/penalties?account_id=&period=`: penalty rows (accruals and storno), paginated, with their sum —
  what a receipt shows as the penalty of an account × period;
- `GET /api/accounts/{id}/penalties`: the account's penalty balance (kept apart from its main debt);
- `GET /api/accounts/{id}/penalties/breakdown?period=`: the account's penalty by month of origin as of the
  period's end (runs post one row per account × period; this is their detail, computed on demand);
- `POST /api/penalties/storno {penalty_id | account_id (+ period), reason}`: reverse accruals in the open period;
- `GET/POST /api/key-rates`, `GET/POST /api/penalty-deferrals`.
Refusals come from billing_core as DomainError (422 / 404 / 409, `period_closed` for a closed period).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import msgspec
from litestar import get, post
from litestar.params import Parameter

from aquabill.base.errors import NotFound
from aquabill.billing_core.payments.allocation import allocate_accounts
from aquabill.billing_core.penalties import store as pstore
from aquabill.billing_core.penalties.detail import penalty_breakdown
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import current_open_period
from aquabill.billing_core.registry.queries import account_exists
from aquabill.platform.auth.permissions import requires
from aquabill.platform.jobs import store
from aquabill.platform.jobs.penalties import PENALTY_JOB
from aquabill.platform.jobs.service import start_job
from aquabill.platform.web.billing.runs import parse_period
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Limit, Offset, page

VIEW, EDIT = [requires("penalties", "view")], [requires("penalties", "edit")]
TAGS = ["penalties"]
PeriodStr = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}$", description="Период ГГГГ-ММ")]
PeriodQuery = Annotated[str | None, Parameter(pattern=r"^\d{4}-\d{2}$", description="Период ГГГГ-ММ")]
Text = Annotated[str, msgspec.Meta(max_length=1000)]


class RunIn(msgspec.Struct):
    period: PeriodStr


class StornoIn(msgspec.Struct):
    """One of: `penalty_id` (one accrual row); `account_id` (+ `period`: that month's accruals only)."""

    reason: Text
    penalty_id: int | None = None
    account_id: int | None = None
    period: PeriodStr | None = None


class KeyRateIn(msgspec.Struct):
    valid_from: date
    rate: Decimal
    source: Text = ""


class DeferralIn(msgspec.Struct):
    """`scope`: `all` (the whole housing stock), `houses` (+ `house_ids`), `improvement` (+ `improvement`)."""

    scope: Annotated[str, msgspec.Meta(max_length=12)]
    date_from: date
    date_to: date
    reason: Text
    house_ids: list[int] | None = None
    improvement: Annotated[str, msgspec.Meta(max_length=32)] | None = None


@post("/api/penalties/runs", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=202)
async def start_run(ctx: Ctx, data: RunIn) -> dict:
    period = parse_period(data.period)
    job_id = await start_job(ctx, PENALTY_JOB, {"period": str(period)})
    return {"mode": "job", "job": store.to_dict(await store.get(ctx.conn, job_id))}


@get("/api/penalties/runs", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_runs(ctx: Ctx, limit: Limit = 50, offset: Offset = 0) -> dict:
    items, total = await pstore.list_runs(ctx.conn, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@get("/api/penalties", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_penalties(ctx: Ctx, account_id: int | None = None, period: PeriodQuery = None,
                         limit: Limit = 100, offset: Offset = 0) -> dict:
    p = parse_period(period) if period else None
    return await pstore.penalty_rows(ctx.conn, account_id=account_id, period=p, limit=limit, offset=offset)


@get("/api/accounts/{account_id:int}/penalties", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def account_penalties(ctx: Ctx, account_id: int) -> dict:
    if not await account_exists(ctx.conn, account_id):
        raise NotFound("Лицевой счёт не найден")
    return await pstore.account_penalties(ctx.conn, account_id)


@get("/api/accounts/{account_id:int}/penalties/breakdown", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def account_penalty_breakdown(ctx: Ctx, account_id: int, period: PeriodQuery = None) -> dict:
    if not await account_exists(ctx.conn, account_id):
        raise NotFound("Лицевой счёт не найден")
    if period:
        p = parse_period(period)
    else:  # the period of the last penalty run, else the current open period
        p = await pstore.last_run_period(ctx.conn) or await current_open_period(ctx.conn)
    return await penalty_breakdown(ctx.conn, account_id, p)


@post("/api/penalties/storno", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=201)
async def storno(ctx: Ctx, data: StornoIn) -> dict:
    done = await pstore.storno_penalties(
        ctx.conn, reason=data.reason, penalty_id=data.penalty_id, account_id=data.account_id,
        period=Period.parse(data.period) if data.period else None, created_by=ctx.principal.user_id)
    await allocate_accounts(ctx.conn, [done["account_id"]])  # payments on the reversed penalty go elsewhere
    return done


@get("/api/key-rates", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_key_rates(ctx: Ctx) -> dict:
    items = await pstore.list_key_rates(ctx.conn)
    return page(items, len(items), len(items), 0)


@post("/api/key-rates", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=201)
async def add_key_rate(ctx: Ctx, data: KeyRateIn) -> dict:
    return await pstore.add_key_rate(ctx.conn, data.valid_from, data.rate, data.source)


@get("/api/penalty-deferrals", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_deferrals(ctx: Ctx) -> dict:
    items = await pstore.list_deferrals(ctx.conn)
    return page(items, len(items), len(items), 0)


@post("/api/penalty-deferrals", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=201)
async def add_deferral(ctx: Ctx, data: DeferralIn) -> dict:
    return await pstore.add_deferral(
        ctx.conn, scope=data.scope, date_from=data.date_from, date_to=data.date_to, reason=data.reason,
        house_ids=data.house_ids, improvement=data.improvement, created_by=ctx.principal.user_id)


ROUTES = [start_run, list_runs, list_penalties, account_penalties, account_penalty_breakdown, storno, list_key_rates, add_key_rate,
          list_deferrals, add_deferral]
