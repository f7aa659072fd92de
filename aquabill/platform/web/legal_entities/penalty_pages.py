"""The 416-FZ penalties' pages (resource "legal"): the tenant's month `/legal/penalties?period=` — the accrual
form (period, calculation day; started as the job `legal.penalties` with live progress), totals by category,
the contracts with their month's penalty and a pager; and the contract card's section, a fragment
`/legal/contracts/{id}/penalties` the card loads (htmx) — each accrual with its breakdown (days, rate,
fraction, debt, amount)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote
from uuid import UUID

import msgspec
from litestar import get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from aquabill.base.errors import DomainError, NotFound
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import default_period
from aquabill.legal_entities import contract_store, penalty_store
from aquabill.legal_entities.penalties import CATEGORIES
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, parse_date, parse_id
from aquabill.platform.web.legal_entities.counterparty_pages import page_context
from aquabill.platform.web.legal_entities.penalty_api import parse_period, start_accrual
from aquabill.platform.web.paging import Offset

VIEW, EDIT = [requires("legal", "view")], [requires("legal", "edit")]
LIST_PAGE = 30
PeriodQuery = Annotated[str, Parameter(max_length=7, description="Период ГГГГ-ММ")]
JobQuery = Annotated[str, Parameter(max_length=36, description="Задание")]


class AccrueForm(msgspec.Struct):
    period: str = ""
    on: str = ""
    contract_id: str = ""


def default_on(period: Period, today: date | None = None) -> str:
    """Today, kept within the days an accrual of `period` may be calculated on (the month and its next day)."""
    today = today or date.today()
    return min(max(today, period.first_day), period.next().first_day).isoformat()


def _job(raw: str) -> str:
    try:
        return str(UUID(raw)) if raw else ""
    except ValueError:
        return ""


async def _month_page(ctx: Ctx, period: Period, *, offset: int = 0, job: str = "", form: AccrueForm | None = None,
                      message: str = "", status_code: int = 200) -> Template:
    found = await penalty_store.month_penalties(ctx.conn, period, limit=LIST_PAGE, offset=offset)
    form = form or AccrueForm(period=str(period), on=default_on(period))
    return Template("legal_entities/penalties.html", status_code=status_code, context=page_context(
        ctx, m=found, period=str(period), offset=offset, limit=LIST_PAGE, job=job, f=form, message=message,
        category_names=CATEGORIES))


@get("/legal/penalties", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def penalties_page(ctx: Ctx, period: PeriodQuery = "", offset: Offset = 0, job: JobQuery = "") -> Template:
    try:
        p = parse_period(period) if period else await default_period(ctx.conn)
    except DomainError:
        p = await default_period(ctx.conn)
    return await _month_page(ctx, p, offset=offset, job=_job(job))


@post("/legal/penalties", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def accrue_page(ctx: Ctx, data: Annotated[AccrueForm, FORM]) -> Template | Redirect:
    contract_id = None
    try:
        period = parse_period(data.period[:7])
        on = parse_date(data.on[:10], "on", "Дата расчёта: ожидается ГГГГ-ММ-ДД", required=True)
        contract_id = parse_id(data.contract_id[:10], "contract_id") if data.contract_id.strip() else None
        job = await start_accrual(ctx, period, on, contract_id)
    except DomainError as exc:
        if contract_id is not None and not isinstance(exc, NotFound):
            return Redirect(path=f"/legal/contracts/{contract_id}?notice={quote(exc.message)}#penalties",
                            status_code=303)
        return await _month_page(ctx, await default_period(ctx.conn), form=data, message=exc.message,
                                 status_code=422)
    if contract_id is not None:
        return Redirect(path=f"/legal/contracts/{contract_id}?notice={quote('Начисление пени запущено')}#penalties",
                        status_code=303)
    return Redirect(path=f"/legal/penalties?period={period}&job={job['id']}", status_code=303)


@get("/legal/contracts/{contract_id:int}/penalties", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def contract_section(ctx: Ctx, contract_id: int) -> Template:
    await contract_store.require_contract(ctx.conn, contract_id)
    found = await penalty_store.contract_penalties(ctx.conn, contract_id)
    period = await default_period(ctx.conn)
    return Template("legal_entities/penalties_contract.html", context=page_context(
        ctx, p=found, contract_id=contract_id, period=str(period), today=default_on(period)))


ROUTES = [penalties_page, accrue_page, contract_section]
