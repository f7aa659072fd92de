"""The legal entities' calculation pages (resource "legal"):

- `/legal/runs?period=ГГГГ-ММ&q=&offset=` — the month picker and «Рассчитать» (starts the job `legal.run`), the runs
  with their totals and the live progress of the job running now (the list polls itself every 2 s while one is
  active: `?part=runs`), the month's charges per contract with search and pager;
- `/legal/contracts/{id}/charges?period=` — the charges section of a contract's card (a fragment the card loads:
  `legal_entities/calc_contract_charges.html` is included in the card), each line with its explanation;
- `/legal/precipitation` — the months' precipitation for stormwater, entered by staff (audited).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.response import Template
from sqlalchemy import text

from aquabill.base.errors import DomainError
from aquabill.billing_core.periods import Period
from aquabill.billing_core.periods_guard import default_period
from aquabill.legal_entities.calc import store
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, attempt
from aquabill.platform.web.legal_entities.calc_api import Id, PeriodQuery, parse_month, start_run
from aquabill.platform.web.legal_entities.counterparty_pages import page_context
from aquabill.platform.web.paging import Offset, Search

VIEW, EDIT = [requires("legal", "view")], [requires("legal", "edit")]
PAGE = 30
RUNS = 10
Part = Annotated[str, msgspec.Meta(max_length=8)]


class RunForm(msgspec.Struct):
    period: str = ""
    contract_id: str = ""


class PrecipitationForm(msgspec.Struct):
    month: str = ""
    mm: str = ""
    source: str = ""


async def _month(ctx: Ctx, raw: str) -> tuple[Period, str]:
    """The month asked for, or the open one; a bad value falls back to it with a message."""
    if raw:
        try:
            return parse_month(raw), ""
        except DomainError as exc:
            return await default_period(ctx.conn), exc.message
    return await default_period(ctx.conn), ""


async def _runs_context(ctx: Ctx) -> dict[str, Any]:
    runs, total = await store.list_runs(ctx.conn, limit=RUNS)
    return {"runs": runs, "runs_total": total, "active": await store.active_job(ctx.conn)}


@get("/legal/runs", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def runs_page(ctx: Ctx, period: PeriodQuery = "", q: Search = "", offset: Offset = 0,
                    part: Part = "") -> Template:
    if part == "runs":
        return Template("legal_entities/calc_runs_list.html", context=page_context(ctx, **await _runs_context(ctx)))
    month, message = await _month(ctx, period)
    totals = await store.month_totals(ctx.conn, month, q, limit=PAGE, offset=offset)
    return Template("legal_entities/calc_runs.html", context=page_context(
        ctx, month=str(month), totals=totals, q=totals["q"], offset=offset, limit=PAGE, message=message,
        form=RunForm(period=str(month)), started=None, **await _runs_context(ctx)))


@post("/legal/runs", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def start_run_page(ctx: Ctx, data: Annotated[RunForm, FORM]) -> Template:
    message, started = "", None
    try:
        month = parse_month(data.period)
        contract_id = None
        if data.contract_id.strip():
            number = data.contract_id.strip()[:64]
            contract_id = await ctx.conn.scalar(
                text("SELECT id FROM contracts WHERE upper(number) = upper(:n)"), {"n": number})
            if contract_id is None:
                raise DomainError(f"Договор № {number} не найден", status_code=404)
        started = await start_run(ctx, month, contract_id)
    except DomainError as exc:
        message = exc.message
    return Template("legal_entities/calc_runs_panel.html", status_code=200 if started else 422,
                    context=page_context(ctx, form=data, message=message, started=started,
                                         **await _runs_context(ctx)))


@get("/legal/contracts/{contract_id:int}/charges", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def contract_charges_section(ctx: Ctx, contract_id: Id, period: PeriodQuery = "") -> Template:
    month = None
    if period:
        try:
            month = parse_month(period)
        except DomainError:
            month = None
    data = await store.contract_charges(ctx.conn, contract_id, month)
    return Template("legal_entities/calc_contract_section.html", context=page_context(ctx, c=data))


async def _precipitation_page(ctx: Ctx, form: PrecipitationForm, message: str = "", notice: str = "",
                              status_code: int = 200) -> Template:
    return Template("legal_entities/calc_precipitation.html", status_code=status_code, context=page_context(
        ctx, items=await store.list_precipitation(ctx.conn), f=form, message=message, notice=notice))


@get("/legal/precipitation", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def precipitation_page(ctx: Ctx) -> Template:
    return await _precipitation_page(ctx, PrecipitationForm(month=str(Period.of(date.today()))))


@post("/legal/precipitation", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def precipitation_form(ctx: Ctx, data: Annotated[PrecipitationForm, FORM]) -> Template:
    async with attempt(ctx) as tried:
        month = parse_month(data.month, "month")
        saved = await store.set_precipitation(ctx.conn, month.first_day, data.mm, data.source,
                                              user_id=ctx.principal.user_id)
    if tried.refused:
        return await _precipitation_page(ctx, data, tried.message, status_code=422)
    return await _precipitation_page(ctx, PrecipitationForm(month=str(month)),
                                     notice=f"Осадки за {month}: {saved['mm']} мм сохранены")


ROUTES = [runs_page, start_run_page, contract_charges_section, precipitation_page, precipitation_form]
