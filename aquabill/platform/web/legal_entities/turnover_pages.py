"""Turnover pages (resource "legal"): `/legal/turnover?period=ГГГГ-ММ` — the month's turnover statement of every
contract (opening debt, charged, paid, closing; search by contract number, counterparty or INN; only debtors;
paged, totals over every contract found); `/legal/contracts/{id}/turnover?from=&to=` — one contract's turnover
by month with penalties beside it."""

from __future__ import annotations

from datetime import date
from urllib.parse import quote

from litestar import get
from litestar.response import Template

from aquabill.base.errors import Invalid
from aquabill.legal_entities.payments.turnover import contract_turnover, turnover_statement
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.legal_entities.counterparty_pages import page_context
from aquabill.platform.web.legal_entities.payment_api import (
    Flag,
    FromDay,
    Month,
    ToDay,
    month_of,
    turnover_range,
)
from aquabill.platform.web.paging import Offset, Search

VIEW = [requires("legal", "view")]
PAGE = 50


@get("/legal/turnover", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def statement_page(ctx: Ctx, period: Month = "", q: Search = "", debtors: Flag = False,
                         offset: Offset = 0) -> Template:
    message = ""
    try:
        month = month_of(period)
    except Invalid as exc:
        month, message = date.today().replace(day=1), exc.message
    result = await turnover_statement(ctx.conn, month, q=q, debtors=debtors, limit=PAGE, offset=offset)
    query = f"period={month:%Y-%m}&q={quote(q)}" + ("&debtors=true" if debtors else "")
    return Template("legal_entities/turnover.html", context=page_context(
        ctx, s=result, month=month, q=q, debtors=debtors, query=query, offset=offset, limit=PAGE, message=message))


@get("/legal/contracts/{contract_id:int}/turnover", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def contract_page(ctx: Ctx, contract_id: int, date_from: FromDay = "", date_to: ToDay = "") -> Template:
    message = ""
    try:
        start, end = turnover_range(date_from, date_to)
        t = await contract_turnover(ctx.conn, contract_id, start, end)
    except Invalid as exc:
        message = exc.message
        start, end = turnover_range("", "")
        t = await contract_turnover(ctx.conn, contract_id, start, end)
    return Template("legal_entities/turnover_contract.html", context=page_context(ctx, t=t, message=message))


ROUTES = [statement_page, contract_page]
