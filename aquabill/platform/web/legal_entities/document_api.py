"""Documents to legal entities (resource "legal"): issuing a month as the job `legal.issue`, the list, one
document, its XML as issued and its PDF, cancelling.

`POST /api/legal/documents/issue {"period": "ГГГГ-ММ", "issued_on"?, "contract_id"?}` (legal edit; 202 with the
job), `POST /api/legal/documents/intermediate {"period", "issued_on"?}` (the bills of the month's intermediate
payments as the job `legal.intermediate`; legal edit; 202), `GET /api/legal/documents/jobs/{id}` (the job's state for the page's progress), `GET /api/legal/documents
?period=&kind=&status=&q=&contract_id=&limit=&offset=`, `GET /api/legal/documents/{id}`,
`GET /legal/documents/{id}.xml` (windows-1251, attachment named by @ИдФайл), `GET /legal/documents/{id}.pdf`
(served by `document_pages.document_page`: a path segment cannot be an int parameter with a suffix),
`POST /api/legal/documents/{id}/cancel {"reason"}` (legal edit; audited by the table's trigger),
`GET|PUT /api/legal/documents/signer` (the signer of the documents, the tenant setting `legal_signer`)."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote
from uuid import UUID

import msgspec
from litestar import Response, get, post, put
from litestar.params import Parameter

from aquabill.base.errors import Invalid, NotFound
from aquabill.channels.print.legal_bill_pdf import render_bill
from aquabill.channels.print.legal_upd_pdf import render_upd
from aquabill.legal_entities.issue import parties, queries
from aquabill.legal_entities.issue.intermediate import check_issue_day
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
from aquabill.platform.web.paging import Id, Limit, Offset, Search, page

VIEW, EDIT = [requires("legal", "view")], [requires("legal", "edit")]
TAGS = ["Юрлица: документы"]
Filter = Annotated[str, Parameter(max_length=16, description="Значение фильтра")]
MonthQuery = Annotated[str, Parameter(max_length=10, description="Месяц ГГГГ-ММ")]
OptionalId = Annotated[int | None, Parameter(ge=1, le=2_147_483_647, description="Идентификатор")]


class IssueBody(msgspec.Struct):
    period: Annotated[str, msgspec.Meta(max_length=10)]
    issued_on: Annotated[str, msgspec.Meta(max_length=10)] | None = None
    contract_id: Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)] | None = None


class IntermediateBody(msgspec.Struct):
    period: Annotated[str, msgspec.Meta(max_length=10)]
    issued_on: Annotated[str, msgspec.Meta(max_length=10)] | None = None


class SignerBody(msgspec.Struct):
    last_name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    first_name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    middle_name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    position: Annotated[str, msgspec.Meta(max_length=200)] = ""


class CancelBody(msgspec.Struct):
    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""


def parse_day(raw: str | None) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid("Дата выставления: ожидается ГГГГ-ММ-ДД", field="issued_on") from None


def optional_month(raw: str) -> date | None:
    return parse_month(raw) if raw.strip() else None


@post("/api/legal/documents/issue", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=202)
async def issue_documents(ctx: Ctx, data: IssueBody) -> dict[str, Any]:
    """Issue the month's UPD/acts and bills (and UKDs of recalculated closed months) as a background job."""
    period = parse_month(data.period)
    job_id = await start_job(ctx, LEGAL_ISSUE_JOB, job_params(period, parse_day(data.issued_on), data.contract_id))
    return {"mode": "job", "job": job_store.to_dict(await job_store.get(ctx.conn, job_id))}


def intermediate_params(raw_period: str, raw_issued_on: str | None) -> dict[str, Any]:
    """The job's parameters, checked now (a bad month or day is a 422 here, not a failed job)."""
    period = parse_month(raw_period)
    issued_on = check_issue_day(period, parse_day(raw_issued_on))
    return {"period": period.isoformat(), "issued_on": issued_on.isoformat()}


async def start_intermediate(ctx: Ctx, raw_period: str, raw_issued_on: str | None) -> UUID:
    return await start_job(ctx, LEGAL_INTERMEDIATE_JOB, intermediate_params(raw_period, raw_issued_on))


@post("/api/legal/documents/intermediate", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=202)
async def issue_intermediate_bills(ctx: Ctx, data: IntermediateBody) -> dict[str, Any]:
    """Issue the bills of the month's intermediate payments (the contracts' payment terms) as a background job:
    each part's share of the previous month's UPD/act amount, due by its day of the month."""
    job_id = await start_intermediate(ctx, data.period, data.issued_on)
    return {"mode": "job", "job": job_store.to_dict(await job_store.get(ctx.conn, job_id))}


@get("/api/legal/documents/jobs/{job_id:uuid}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def issue_job(ctx: Ctx, job_id: UUID) -> dict[str, Any]:
    """The state of a job of the tenant for the page's progress (status, progress, message, result)."""
    row = await job_store.get(ctx.conn, job_id)
    if row is None:
        raise NotFound("Задание не найдено")
    return job_store.to_dict(row)


@get("/api/legal/documents", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_documents(ctx: Ctx, period: MonthQuery = "", kind: Filter = "", status: Filter = "", q: Search = "",
                         contract_id: OptionalId = None, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Documents newest first; `q`: the number, the counterparty's name or INN, the contract's number."""
    items, total = await queries.list_documents(ctx.conn, period=optional_month(period), kind=kind or None,
                                                status=status or None, q=q, contract_id=contract_id, limit=limit,
                                                offset=offset)
    return page(items, total, limit, offset)


@get("/api/legal/documents/{document_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_document(ctx: Ctx, document_id: Id) -> dict[str, Any]:
    return await queries.get_document(ctx.conn, document_id)


@post("/api/legal/documents/{document_id:int}/cancel", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200)
async def cancel(ctx: Ctx, document_id: Id, data: CancelBody) -> dict[str, Any]:
    """Cancel (annul) an issued document with a reason; refused once sent by EDO or in a closed month."""
    return await cancel_document(ctx.conn, document_id, data.reason)


async def document_xml(ctx: Ctx, document_id: int) -> Response:
    """The XML exactly as issued (windows-1251), named by its @ИдФайл."""
    name, content = await queries.document_xml(ctx.conn, document_id)
    return Response(content, media_type="application/xml; charset=windows-1251",
                    headers={"Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"})


def pdf_name(doc: dict[str, Any]) -> str:
    return f"{doc['kind']}-{doc['number']}-{doc['issued_on']:%Y%m%d}.pdf"


async def document_pdf(ctx: Ctx, document_id: int) -> Response:
    data = await queries.print_data(ctx.conn, document_id)
    doc = data["document"]
    render = render_bill if doc["kind"] == "bill" else render_upd
    pdf = await asyncio.to_thread(render, data)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{pdf_name(doc)}"'})


@get("/api/legal/documents/signer", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_signer(ctx: Ctx) -> dict[str, str]:
    """Who signs the documents to legal entities (the tenant setting `legal_signer`)."""
    return await parties.get_signer(ctx.conn)


@put("/api/legal/documents/signer", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def put_signer(ctx: Ctx, data: SignerBody) -> dict[str, str]:
    """Set the signer: surname, first name, patronymic, position (the head or an authorised person)."""
    return await parties.save_signer(ctx.conn, msgspec.structs.asdict(data))


ROUTES = [issue_documents, issue_intermediate_bills, issue_job, get_signer, put_signer, list_documents, get_document, cancel]
