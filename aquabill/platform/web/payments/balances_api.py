"""Balances and allocation of payments over the API. Permission resource "payments" (view / edit).

- `GET /api/accounts/{id}/balance`: the current debt by month of origin × service, and the advance;
- `GET /api/balances/turnover?from=YYYY-MM&to=YYYY-MM&house_id=&account_id=&by_month=`: the turnover
  statement (a page of lines + totals over all lines); without `from`/`to`: the current billing period;
- `POST /api/payments/allocate {account_id?}`: recompute the allocations of an account at once, or of the
  whole tenant as the job `payments.allocate`.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get, post
from litestar.params import QueryParameter

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.payments.allocation import allocate_accounts
from aquabill.billing_core.payments.balances import TurnoverScope, account_balance, turnover
from aquabill.billing_core.penalties.store import account_penalties
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import default_period
from aquabill.billing_core.registry.queries import account_exists
from aquabill.platform.auth.permissions import requires
from aquabill.platform.jobs import store
from aquabill.platform.jobs.payments_allocation import ALLOCATE_JOB
from aquabill.platform.jobs.service import start_job
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Limit, Offset

VIEW, EDIT = [requires("payments", "view")], [requires("payments", "edit")]
TAGS = ["payments"]
FromQuery = Annotated[str | None, QueryParameter(name="from", pattern=r"^\d{4}-\d{2}$",
                                                description="Первый месяц ГГГГ-ММ")]
ToQuery = Annotated[str | None, QueryParameter(name="to", pattern=r"^\d{4}-\d{2}$",
                                              description="Последний месяц ГГГГ-ММ")]


class AllocateIn(msgspec.Struct):
    """`account_id`: one account (answered at once); none: the whole organisation (a job)."""

    account_id: int | None = None


async def _require_account(ctx: Ctx, account_id: int) -> None:
    if not await account_exists(ctx.conn, account_id):
        raise NotFound("Лицевой счёт не найден")


def _month(raw: str, field: str) -> Period:
    try:
        return Period.parse(raw)
    except ValueError as exc:
        raise Invalid(str(exc), fields=[{"field": field, "message": str(exc)}]) from exc


@get("/api/accounts/{account_id:int}/balance", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_balance(ctx: Ctx, account_id: int) -> dict:
    await _require_account(ctx, account_id)
    # the penalty balance is reported apart from the main debt (never netted with it)
    return {**(await account_balance(ctx.conn, account_id)).as_dict(),
            "penalties": await account_penalties(ctx.conn, account_id)}


@get("/api/balances/turnover", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_turnover(ctx: Ctx, date_from: FromQuery = None, date_to: ToQuery = None,
                       house_id: int | None = None, account_id: int | None = None, by_month: bool = False,
                       limit: Limit = 100, offset: Offset = 0) -> dict:
    current = await default_period(ctx.conn)
    last = _month(date_to, "to") if date_to else current
    first = _month(date_from, "from") if date_from else last
    if first > last:
        raise Invalid("Начало диапазона позже его конца", fields=[{"field": "from", "message": "позже «to»"}])
    return await turnover(ctx.conn, first, last, TurnoverScope(house_id=house_id, account_id=account_id),
                          by_month=by_month, limit=limit, offset=offset)


@post("/api/payments/allocate", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=202)
async def allocate(ctx: Ctx, data: AllocateIn) -> dict:
    if data.account_id is not None:
        await _require_account(ctx, data.account_id)
        rows = await allocate_accounts(ctx.conn, [data.account_id])
        return {"mode": "immediate", "result": {"account_id": data.account_id, "allocations": rows}}
    job_id = await start_job(ctx, ALLOCATE_JOB, {})
    return {"mode": "job", "job": store.to_dict(await store.get(ctx.conn, job_id))}


ROUTES = [get_balance, get_turnover, allocate]
