"""The documents' pages (resource "legal"): `/legal/documents` — filters (month, kind, status, number /
counterparty / INN), paging, «Выставить за месяц» (starts the job `legal.issue`; the page then shows its live
progress over the tab's WebSocket, polling while the socket is down), «Счета на промежуточные платежи» (starts the
job `legal.intermediate`, shown the same way with its result); the card `/legal/documents/{id}` —
parties, lines, totals, links to the XML and the PDF, the corrected / correcting documents, the EDO status
block (L4's partial, included when present) and the cancel form; `/legal/documents/{id}.xml` and `.pdf` (one
handler: a path segment cannot be an int parameter with a suffix); the contract card's section «Документы»
(`/legal/contracts/{id}/documents`, an htmx fragment)."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote
from uuid import UUID

import msgspec
from litestar import Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from aquabill.base.errors import Invalid, NotFound
from aquabill.legal_entities.issue import queries
from aquabill.legal_entities.issue.store import cancel_document
from aquabill.platform.auth.permissions import requires
from aquabill.platform.jobs import store as job_store
from aquabill.platform.jobs.legal_documents import (
    LEGAL_INTERMEDIATE_JOB,
    LEGAL_ISSUE_JOB,
    job_params,
    parse_month,
)
from aquabill.platform.jobs.service import start_job
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, attempt
from aquabill.platform.web.legal_entities.contract_api import Filter
from aquabill.platform.web.legal_entities.counterparty_pages import page_context
from aquabill.platform.web.legal_entities.document_api import (
    MonthQuery,
    document_pdf,
    document_xml,
    parse_day,
    start_intermediate,
)
from aquabill.platform.web.paging import INT4_MAX, Id, Offset, Search

VIEW, EDIT = [requires("legal", "view")], [requires("legal", "edit")]
JOB_KINDS = (LEGAL_ISSUE_JOB, LEGAL_INTERMEDIATE_JOB)  # the jobs whose progress and result the list shows
LIST_PAGE = 30
CARD_DOCUMENTS = 12  # the contract card's section; the rest through the list
JobQuery = Annotated[str, Parameter(max_length=36, description="Задание выставления")]
Notice = Annotated[str, Parameter(max_length=200, description="Сообщение")]


class IssueForm(msgspec.Struct):
    period: str = ""
    issued_on: str = ""


class IntermediateForm(msgspec.Struct):
    period: str = ""
    issued_on: str = ""


class CancelForm(msgspec.Struct):
    reason: str = ""


def _month(raw: str) -> str:
    """A filter's month: "ГГГГ-ММ" when it parses, else "" (ignored)."""
    try:
        return parse_month(raw).strftime("%Y-%m") if raw.strip() else ""
    except Invalid:
        return ""


async def _list(ctx: Ctx, *, period: str = "", kind: str = "", status: str = "", q: str = "", offset: int = 0,
                job: dict | None = None, message: str = "", form: IssueForm | None = None,
                intermediate_message: str = "", intermediate_form: IntermediateForm | None = None,
                status_code: int = 200) -> Template:
    month = _month(period)
    kind_value = kind if kind in queries.KINDS else ""
    status_value = status if status in queries.STATUSES else ""
    items, total = await queries.list_documents(ctx.conn, period=parse_month(month) if month else None,
                                                kind=kind_value or None, status=status_value or None, q=q,
                                                limit=LIST_PAGE, offset=offset)
    return Template("legal_entities/documents.html", status_code=status_code, context=page_context(
        ctx, items=items, total=total, period=month, kind=kind_value, status=status_value, q=q, offset=offset,
        limit=LIST_PAGE, document_kinds=queries.KINDS, document_statuses=queries.STATUSES, job=job,
        message=message, form=form or IssueForm(period=month), intermediate_message=intermediate_message,
        intermediate_form=intermediate_form or IntermediateForm(period=month)))


@get("/legal/documents", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def documents_page(ctx: Ctx, period: MonthQuery = "", kind: Filter = "", status: Filter = "", q: Search = "",
                         offset: Offset = 0, job: JobQuery = "") -> Template:
    running = None
    if job:
        try:
            row = await job_store.get(ctx.conn, UUID(job))
        except ValueError:
            row = None
        running = job_store.to_dict(row) if row is not None and row.kind in JOB_KINDS else None
    return await _list(ctx, period=period, kind=kind, status=status, q=q, offset=offset, job=running)


@post("/legal/documents/issue", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def issue_submit(ctx: Ctx, data: Annotated[IssueForm, FORM]) -> Template | Redirect:
    async with attempt(ctx) as tried:
        period = parse_month(data.period)
        job_id = await start_job(ctx, LEGAL_ISSUE_JOB, job_params(period, parse_day(data.issued_on.strip())))
    if tried.refused:
        return await _list(ctx, message=tried.message, form=data, status_code=422)
    return Redirect(path=f"/legal/documents?period={period:%Y-%m}&job={job_id}", status_code=303)


@post("/legal/documents/intermediate", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def intermediate_submit(ctx: Ctx, data: Annotated[IntermediateForm, FORM]) -> Template | Redirect:
    async with attempt(ctx) as tried:
        period = parse_month(data.period)
        job_id = await start_intermediate(ctx, data.period, data.issued_on.strip() or None)
    if tried.refused:
        return await _list(ctx, intermediate_message=tried.message, intermediate_form=data, status_code=422)
    return Redirect(path=f"/legal/documents?period={period:%Y-%m}&job={job_id}#intermediate", status_code=303)


async def _card(ctx: Ctx, document_id: int, *, notice: str = "", error: str = "", form: CancelForm | None = None,
                status_code: int = 200) -> Template:
    doc = await queries.get_document(ctx.conn, document_id)
    return Template("legal_entities/document.html", status_code=status_code, context=page_context(
        ctx, doc=doc, document=doc, notice=notice, error=error, form=form or CancelForm()))


_REF = re.compile(r"^(\d{1,10})(?:\.(xml|pdf))?$")


@get("/legal/documents/{ref:str}", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def document_page(ctx: Ctx, ref: str, notice: Notice = "") -> Template | Response:
    """The card `/legal/documents/{id}`, its XML `{id}.xml` and its PDF `{id}.pdf`."""
    m = _REF.match(ref)
    if m is None or not 0 < int(m[1]) <= INT4_MAX:
        raise NotFound("Документ не найден")
    document_id = int(m[1])
    if m[2] == "xml":
        return await document_xml(ctx, document_id)
    if m[2] == "pdf":
        return await document_pdf(ctx, document_id)
    return await _card(ctx, document_id, notice=notice)


@post("/legal/documents/{document_id:int}/cancel", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def cancel_submit(ctx: Ctx, document_id: Id, data: Annotated[CancelForm, FORM]) -> Template | Redirect:
    await queries.get_document(ctx.conn, document_id)
    async with attempt(ctx) as tried:
        await cancel_document(ctx.conn, document_id, data.reason)
    if tried.refused:
        return await _card(ctx, document_id, error=tried.message, form=data, status_code=422)
    return Redirect(path=f"/legal/documents/{document_id}?notice={quote('Документ аннулирован')}", status_code=303)


@get("/legal/contracts/{contract_id:int}/documents", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def contract_documents(ctx: Ctx, contract_id: Id) -> Template:
    """The contract card's section «Документы» (htmx fragment): its latest documents."""
    items, total = await queries.list_documents(ctx.conn, contract_id=contract_id, limit=CARD_DOCUMENTS)
    number = items[0]["contract_number"] if items else ""
    return Template("legal_entities/documents_contract_body.html",
                    context=page_context(ctx, items=items, total=total, number=number))


ROUTES = [documents_page, issue_submit, intermediate_submit, document_page, cancel_submit, contract_documents]
