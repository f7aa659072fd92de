"""The legal reports' API and files (resource "legal", action 'report'): the sales ledger, the reconciliation act
of a contract and the export for 1C.

`GET /api/legal/reports/sales-ledger?from=&to=` (or `quarter=ГГГГ-Q1`, `month=ГГГГ-ММ`) — JSON;
`GET /legal/reports/sales-ledger.csv|.pdf?from=&to=` — files;
`GET /api/legal/contracts/{id}/reconciliation?from=&to=` — JSON;
`GET /legal/contracts/{id}/reconciliation.pdf|.xml?from=&to=&number=` — the printable act and the FNS XML;
`GET /legal/reports/export.xml|.csv?from=&to=` — the export for 1C.
Dates are ГГГГ-ММ-ДД; a bad one, a reversed or too long period is a 422 with a Russian message."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Response, get
from litestar.params import Parameter, QueryParameter

from aquabill.billing_core.receipts.requisites import load_requisites
from aquabill.channels.fns_upd.akt_sverki import build_akt_sverki, ensure_valid_akt
from aquabill.channels.print.legal_report_act import act_pdf
from aquabill.channels.print.legal_report_ledger import ledger_pdf
from aquabill.legal_entities.reports import export_1c
from aquabill.legal_entities.reports.csv_out import to_csv
from aquabill.legal_entities.reports.periods import ReportPeriod, parse_period, previous_quarter
from aquabill.legal_entities.reports.reconciliation import reconciliation_act
from aquabill.legal_entities.reports.sales_ledger import sales_ledger, table
from aquabill.legal_entities.reports.sender import our_party
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx

REPORT = [requires("legal", "report")]
TAGS = ["Юрлица: отчёты"]
MSK = ZoneInfo("Europe/Moscow")
From = Annotated[str, QueryParameter(name="from", max_length=10, description="С даты ГГГГ-ММ-ДД")]
To = Annotated[str, QueryParameter(name="to", max_length=10, description="По дату ГГГГ-ММ-ДД")]
QuarterText = Annotated[str, Parameter(max_length=8, description="Квартал ГГГГ-Q1 … ГГГГ-Q4")]
MonthText = Annotated[str, Parameter(max_length=7, description="Месяц ГГГГ-ММ")]
ActNumber = Annotated[str, Parameter(max_length=50, description="Номер акта сверки")]
ContractId = Annotated[int, Parameter(ge=0, le=2_147_483_647)]


def period_of(date_from: str, date_to: str, quarter: str = "", month: str = "") -> ReportPeriod:
    return parse_period(date_from, date_to, quarter_text=quarter, month_text=month,
                        default=previous_quarter(date.today()))


def act_period(date_from: str, date_to: str) -> ReportPeriod:
    """The act's period: the given one, by default the current year up to today."""
    today = date.today()
    return parse_period(date_from, date_to, default=ReportPeriod(date(today.year, 1, 1), today))


def _file(content: bytes, name: str, media_type: str, inline: bool = False) -> Response:
    how = "inline" if inline else "attachment"
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'{how}; filename="{name}"'})


@get("/api/legal/reports/sales-ledger", dependencies=DEPS, guards=REPORT, tags=TAGS)
async def sales_ledger_api(ctx: Ctx, date_from: From = "", date_to: To = "", quarter: QuarterText = "",
                           month: MonthText = "") -> dict[str, Any]:
    """The sales ledger of the period (by default the previous quarter): rows, totals, what is excluded."""
    p = period_of(date_from, date_to, quarter, month)
    return await sales_ledger(ctx.conn, p.date_from, p.date_to)


@get("/legal/reports/sales-ledger.csv", dependencies=DEPS, guards=REPORT, include_in_schema=False)
async def sales_ledger_csv(ctx: Ctx, date_from: From = "", date_to: To = "", quarter: QuarterText = "",
                           month: MonthText = "") -> Response:
    p = period_of(date_from, date_to, quarter, month)
    header, body = table(await sales_ledger(ctx.conn, p.date_from, p.date_to))
    return _file(to_csv(header, body), f"sales-ledger-{p.slug}.csv", "text/csv; charset=utf-8")


@get("/legal/reports/sales-ledger.pdf", dependencies=DEPS, guards=REPORT, include_in_schema=False)
async def sales_ledger_pdf(ctx: Ctx, date_from: From = "", date_to: To = "", quarter: QuarterText = "",
                           month: MonthText = "") -> Response:
    p = period_of(date_from, date_to, quarter, month)
    ledger = await sales_ledger(ctx.conn, p.date_from, p.date_to)
    req = await load_requisites(ctx.conn)
    seller = req.name if req else "—"
    ids = f"{req.inn}/{req.kpp}" if req and req.kpp else (req.inn if req else "—")
    pdf = await asyncio.to_thread(ledger_pdf, ledger, seller=seller, seller_ids=ids)
    return _file(pdf, f"sales-ledger-{p.slug}.pdf", "application/pdf", inline=True)


@get("/api/legal/contracts/{contract_id:int}/reconciliation", dependencies=DEPS, guards=REPORT, tags=TAGS)
async def reconciliation_api(ctx: Ctx, contract_id: ContractId, date_from: From = "",
                             date_to: To = "") -> dict[str, Any]:
    """The reconciliation act of the contract for the period (by default this year up to today)."""
    p = act_period(date_from, date_to)
    return await reconciliation_act(ctx.conn, contract_id, p.date_from, p.date_to)


@get("/legal/contracts/{contract_id:int}/reconciliation.pdf", dependencies=DEPS, guards=REPORT,
     include_in_schema=False)
async def reconciliation_pdf(ctx: Ctx, contract_id: ContractId, date_from: From = "",
                             date_to: To = "") -> Response:
    p = act_period(date_from, date_to)
    act = await reconciliation_act(ctx.conn, contract_id, p.date_from, p.date_to)
    pdf = await asyncio.to_thread(act_pdf, act)
    return _file(pdf, f"akt-sverki-{contract_id}-{p.slug}.pdf", "application/pdf", inline=True)


@get("/legal/contracts/{contract_id:int}/reconciliation.xml", dependencies=DEPS, guards=REPORT,
     include_in_schema=False)
async def reconciliation_xml(ctx: Ctx, contract_id: ContractId, date_from: From = "", date_to: To = "",
                             number: ActNumber = "") -> Response:
    """The act in the FNS format (КНД 1110332, 5.01), validated before it is given out."""
    p = act_period(date_from, date_to)
    act = await reconciliation_act(ctx.conn, contract_id, p.date_from, p.date_to)
    sender = await our_party(ctx.conn)
    number = number.strip() or f"{act['contract']['number']}/{p.date_to:%Y%m%d}"
    formed_at = datetime.now(MSK).replace(microsecond=0, tzinfo=None)
    name, content = build_akt_sverki(act, sender=sender, recipient=act["counterparty"], number=number,
                                     formed_at=formed_at)
    ensure_valid_akt(content, name)
    return _file(content, name, "application/xml; charset=windows-1251")


@get("/legal/reports/export.xml", dependencies=DEPS, guards=REPORT, include_in_schema=False)
async def export_xml(ctx: Ctx, date_from: From = "", date_to: To = "", quarter: QuarterText = "",
                     month: MonthText = "") -> Response:
    p = period_of(date_from, date_to, quarter, month)
    data = await export_1c.collect(ctx.conn, p.date_from, p.date_to)
    content = export_1c.build_xml(data, formed_at=datetime.now(MSK))
    export_1c.ensure_valid(content)  # our file against our schema: a failure is a 422 naming the element
    return _file(content, f"aquabill-1c-{p.slug}.xml", "application/xml; charset=utf-8")


@get("/legal/reports/export.csv", dependencies=DEPS, guards=REPORT, include_in_schema=False)
async def export_csv(ctx: Ctx, date_from: From = "", date_to: To = "", quarter: QuarterText = "",
                     month: MonthText = "") -> Response:
    p = period_of(date_from, date_to, quarter, month)
    data = await export_1c.collect(ctx.conn, p.date_from, p.date_to)
    return _file(export_1c.build_csv(data), f"aquabill-1c-{p.slug}.csv", "text/csv; charset=utf-8")


ROUTES = [sales_ledger_api, sales_ledger_csv, sales_ledger_pdf, reconciliation_api, reconciliation_pdf,
          reconciliation_xml, export_xml, export_csv]
