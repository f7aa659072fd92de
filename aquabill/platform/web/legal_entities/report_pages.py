"""The legal reports' pages (resource "legal", action 'report'): the index `/legal/reports` (links and period
pickers), the sales ledger `/legal/reports/sales-ledger?from=&to=` (or `quarter=`/`month=`), the export for 1C
`/legal/reports/export` and the reconciliation act of a contract `/legal/contracts/{id}/reconciliation?from=&to=`.
A bad period shows the page again with the message (422); the files are in `report_api.py`."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import get
from litestar.response import Template

from aquabill.base.errors import DomainError
from aquabill.legal_entities.contract_store import require_contract
from aquabill.legal_entities.reports.periods import ReportPeriod, current_quarter, previous_quarter, quarter
from aquabill.legal_entities.reports.reconciliation import reconciliation_act
from aquabill.legal_entities.reports.sales_ledger import COLUMNS, MONEY_KEYS, sales_ledger
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.legal_entities.counterparty_pages import page_context
from aquabill.platform.web.legal_entities.report_api import (
    REPORT,
    ContractId,
    From,
    MonthText,
    QuarterText,
    To,
    act_period,
    period_of,
)


def _quarters(today: date, count: int = 6) -> list[dict[str, str]]:
    """The latest quarters for the pickers: value «ГГГГ-Qn» and a Russian label."""
    out, year, q = [], today.year, (today.month - 1) // 3 + 1
    for _ in range(count):
        p = quarter(year, q)
        out.append({"value": f"{year}-Q{q}", "label": f"{q} квартал {year}", "from": p.date_from.isoformat(),
                    "to": p.date_to.isoformat()})
        year, q = (year, q - 1) if q > 1 else (year - 1, 4)
    return out


def _ctx(ctx: Ctx, **kw: Any) -> dict[str, Any]:
    return page_context(ctx, quarters=_quarters(date.today()), **kw)


def _period_args(p: ReportPeriod) -> str:
    return f"from={p.date_from.isoformat()}&to={p.date_to.isoformat()}"


@get("/legal/reports", dependencies=DEPS, guards=REPORT, include_in_schema=False)
async def reports_index(ctx: Ctx) -> Template:
    today = date.today()
    return Template("legal_entities/report_index.html", context=_ctx(
        ctx, previous=previous_quarter(today), current=current_quarter(today)))


@get("/legal/reports/sales-ledger", dependencies=DEPS, guards=REPORT, include_in_schema=False)
async def sales_ledger_page(ctx: Ctx, date_from: From = "", date_to: To = "", quarter: QuarterText = "",
                            month: MonthText = "") -> Template:
    try:
        p = period_of(date_from, date_to, quarter, month)
        ledger = await sales_ledger(ctx.conn, p.date_from, p.date_to)
    except DomainError as exc:
        return Template("legal_entities/report_ledger.html", status_code=422, context=_ctx(
            ctx, error=exc.message, ledger=None, date_from=date_from[:10], date_to=date_to[:10], args=""))
    return Template("legal_entities/report_ledger.html", context=_ctx(
        ctx, error="", ledger=ledger, columns=COLUMNS, money_keys=MONEY_KEYS, date_from=p.date_from.isoformat(),
        date_to=p.date_to.isoformat(), args=_period_args(p), period=p))


@get("/legal/reports/export", dependencies=DEPS, guards=REPORT, include_in_schema=False)
async def export_page(ctx: Ctx, date_from: From = "", date_to: To = "", quarter: QuarterText = "",
                      month: MonthText = "") -> Template:
    try:
        p = period_of(date_from, date_to, quarter, month)
    except DomainError as exc:
        return Template("legal_entities/report_export.html", status_code=422, context=_ctx(
            ctx, error=exc.message, date_from=date_from[:10], date_to=date_to[:10], args=""))
    return Template("legal_entities/report_export.html", context=_ctx(
        ctx, error="", date_from=p.date_from.isoformat(), date_to=p.date_to.isoformat(), args=_period_args(p),
        period=p))


@get("/legal/contracts/{contract_id:int}/reconciliation", dependencies=DEPS, guards=REPORT,
     include_in_schema=False)
async def reconciliation_page(ctx: Ctx, contract_id: ContractId, date_from: From = "",
                              date_to: To = "") -> Template:
    contract = await require_contract(ctx.conn, contract_id)  # an unknown contract: 404
    try:
        p = act_period(date_from, date_to)
        act = await reconciliation_act(ctx.conn, contract_id, p.date_from, p.date_to)
    except DomainError as exc:
        return Template("legal_entities/report_act.html", status_code=422, context=_ctx(
            ctx, error=exc.message, act=None, contract=contract, date_from=date_from[:10], date_to=date_to[:10],
            args=""))
    return Template("legal_entities/report_act.html", context=_ctx(
        ctx, error="", act=act, contract=contract, date_from=p.date_from.isoformat(),
        date_to=p.date_to.isoformat(), args=_period_args(p)))


ROUTES = [reports_index, sales_ledger_page, export_page, reconciliation_page]
