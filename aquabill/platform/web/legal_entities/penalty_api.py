"""The 416-FZ penalties' API (resource "legal"):

- `POST /api/legal/penalties {"period": "ГГГГ-ММ", "on": "ГГГГ-ММ-ДД", "contract_id"?}`: the month's accrual as
  of `on` (penalty_store.accrue) as the job `legal.penalties` (202, progress over the WebSocket); a closed
  month is refused at once (409), an unknown contract 404;
- `GET /api/legal/penalties?period=&limit=&offset=`: the month's accruals by contract, with totals;
- `GET /api/legal/contracts/{id}/penalties`: the contract's accruals by document and month with the breakdown
  (days, rate, fraction, debt, amount)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.params import Parameter

from aquabill.base.errors import Conflict, Invalid
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import closed_period, default_period
from aquabill.legal_entities import contract_store, penalty_store
from aquabill.platform.auth.permissions import requires
from aquabill.platform.jobs import store
from aquabill.platform.jobs.legal_penalties import LEGAL_PENALTY_JOB, job_params
from aquabill.platform.jobs.service import start_job
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Limit, Offset

VIEW, EDIT = [requires("legal", "view")], [requires("legal", "edit")]
TAGS = ["Юрлица: пени"]
PeriodStr = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}$", description="Период ГГГГ-ММ")]
PeriodQuery = Annotated[str, Parameter(max_length=7, description="Период ГГГГ-ММ (по умолчанию открытый)")]
FIRST_DAY, LAST_DAY = date(2016, 1, 1), date(2200, 12, 31)


class AccrueBody(msgspec.Struct, forbid_unknown_fields=True):
    period: PeriodStr
    on: date
    contract_id: Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)] | None = None


def parse_period(raw: str) -> Period:
    try:
        return Period.parse(raw)
    except ValueError as exc:
        raise Invalid("Период: ожидается ГГГГ-ММ", field="period") from exc


async def check_accrual(ctx: Ctx, period: Period, on: date, contract_id: int | None) -> None:
    """What can be refused before the job starts: the day, a closed month, an unknown contract."""
    if not FIRST_DAY <= on <= LAST_DAY:
        raise Invalid("Дата расчёта пени: не раньше 01.01.2016 (пени по 416-ФЗ в редакции 307-ФЗ)", field="on")
    if not period.first_day <= on <= period.next().first_day:
        raise Invalid(f"Дата расчёта пени — в пределах периода начисления {period}: с {period.first_day:%d.%m.%Y} "
                      f"по {period.next().first_day:%d.%m.%Y}", field="on")
    closed = await closed_period(ctx.conn, period.first_day)
    if closed is not None:
        raise Conflict(f"Период {closed} закрыт: пени начисляются в открытом периоде", field="period")
    if contract_id is not None:
        await contract_store.require_contract(ctx.conn, contract_id)


async def start_accrual(ctx: Ctx, period: Period, on: date, contract_id: int | None = None) -> dict[str, Any]:
    await check_accrual(ctx, period, on, contract_id)
    job_id = await start_job(ctx, LEGAL_PENALTY_JOB, job_params(period, on, contract_id))
    return store.to_dict(await store.get(ctx.conn, job_id))


@post("/api/legal/penalties", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=202)
async def accrue_penalties(ctx: Ctx, data: AccrueBody) -> dict[str, Any]:
    """Accrue the month's 416-FZ penalties as of `on` (days of delay up to the day before it) — a job."""
    return {"mode": "job", "job": await start_accrual(ctx, parse_period(data.period), data.on, data.contract_id)}


@get("/api/legal/penalties", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def month_penalties(ctx: Ctx, period: PeriodQuery = "", limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """The month's accruals by contract (largest first) with the totals by category."""
    p = parse_period(period) if period else await default_period(ctx.conn)
    found = await penalty_store.month_penalties(ctx.conn, p, limit=limit, offset=offset)
    return {**found, "total": found["contracts"], "limit": limit, "offset": offset}


@get("/api/legal/contracts/{contract_id:int}/penalties", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def contract_penalties(ctx: Ctx, contract_id: Annotated[int, Parameter(ge=1, le=2_147_483_647)]
                             ) -> dict[str, Any]:
    """The contract's accruals (latest months first) with each one's breakdown."""
    await contract_store.require_contract(ctx.conn, contract_id)
    return await penalty_store.contract_penalties(ctx.conn, contract_id)


ROUTES = [accrue_penalties, month_penalties, contract_penalties]
__all__ = ["ROUTES", "check_accrual", "parse_period", "start_accrual"]
