"""Payments in over the API: payment agents, payment files (registries, 1C statements), manual and cash
payments (by account or by a receipt's QR code), storno, transfer, the queue of unidentified payments.
Permission resource "payments" (view to read, edit to change).

`POST /api/payment-files?agent=CODE` takes the file as the request body (any non-multipart body) or as the
`file` field of a multipart form; files of up to SYNC_MAX_LINES lines are loaded in the request (200 + the
report), larger ones become a `payments.file` job (202 + the job). `mode=sync|job` forces either way.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, patch, post
from litestar.params import Parameter
from sqlalchemy import text

from aquabill.base.errors import Conflict, Invalid, NotFound, found
from aquabill.billing_core.payments import intake, store
from aquabill.billing_core.periods import Period
from aquabill.cash import fiscal as cash_fiscal
from aquabill.channels.bank_files.importer import count_lines, import_payment_file, layout_from_json
from aquabill.legal_entities.payments.allocation import reallocate
from aquabill.platform.auth.permissions import requires
from aquabill.platform.jobs import store as jobs_store
from aquabill.platform.jobs.payments_file import start_payments_file_job
from aquabill.platform.web.billing.imports_api import MAX_FILE_BYTES, Mode, _upload
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Limit, Offset, Search, page

VIEW, EDIT = [requires("payments", "view")], [requires("payments", "edit")]
TAGS = ["payments"]
SYNC_MAX_LINES = 5000

Note = Annotated[str, msgspec.Meta(max_length=500)]
Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_-]{1,32}$")]
PeriodStr = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}$", description="Период ГГГГ-ММ")]
AgentKind = Annotated[str, msgspec.Meta(pattern=r"^(bank|post|acquiring|cash_desk|other)$")]
FileFormat = Annotated[str, msgspec.Meta(pattern=r"^(sberbank|1c|none)$")]
StatusQuery = Annotated[str | None, Parameter(pattern=r"^(identified|unidentified|storno|rolled_back)$")]


class AgentIn(msgspec.Struct):
    code: Code
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    kind: AgentKind = "bank"
    inn: Annotated[str, msgspec.Meta(pattern=r"^(\d{10}|\d{12})$")] | None = None
    contract: Annotated[str, msgspec.Meta(max_length=500)] = ""
    commission_percent: Decimal = Decimal("0")
    file_format: FileFormat = "sberbank"
    file_layout: dict[str, Any] = msgspec.field(default_factory=dict)
    active: bool = True


class AgentPatch(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    kind: AgentKind | None = None
    inn: Annotated[str, msgspec.Meta(pattern=r"^(\d{10}|\d{12})$")] | None = None
    contract: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    commission_percent: Decimal | None = None
    file_format: FileFormat | None = None
    file_layout: dict[str, Any] | None = None
    active: bool | None = None


class PaymentIn(msgspec.Struct):
    """`account_id` or `qr` (the GOST R 56042 string of a receipt: its PersAcc, Sum, PaymPeriod);
    `agent`: `manual` (default) or `cash` or another agent's code."""

    paid_on: date
    amount: Decimal | None = None
    account_id: int | None = None
    qr: Annotated[str, msgspec.Meta(max_length=2000)] | None = None
    agent: Code | None = None
    period: PeriodStr | None = None
    service_id: int | None = None
    note: Note = ""
    penalty: Decimal | None = None  # the part named for penalties


class StornoIn(msgspec.Struct):
    note: Note = ""


class AccountIn(msgspec.Struct):
    account_id: int
    note: Note = ""


def _check_agent(values: dict[str, Any]) -> None:
    if values.get("commission_percent") is not None and not (0 <= values["commission_percent"] <= 100):
        raise Invalid("Комиссия — от 0 до 100 %", fields=[{"field": "commission_percent", "message": "0–100"}])
    if values.get("file_layout") is not None:
        try:
            layout_from_json(values["file_layout"])
        except (ValueError, TypeError) as exc:
            raise Invalid(f"Описание реестра неверно: {exc}",
                          fields=[{"field": "file_layout", "message": str(exc)}]) from exc


# ---- agents ----------------------------------------------------------------------------------------------

@get("/api/payment-agents", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_agents(ctx: Ctx) -> dict:
    items = await store.list_agents(ctx.conn)
    return page(items, len(items), len(items), 0)


@post("/api/payment-agents", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def create_agent(ctx: Ctx, data: AgentIn) -> dict:
    values = msgspec.structs.asdict(data)
    _check_agent(values)
    agent_id = await store.insert_agent(ctx.conn, values)
    if agent_id is None:
        raise Conflict(f"Агент с кодом «{data.code}» уже есть", fields=[{"field": "code", "message": "занят"}])
    return await store.get_agent(ctx.conn, agent_id=agent_id) or {}


@patch("/api/payment-agents/{payment_agent_id:int}", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def update_agent(ctx: Ctx, payment_agent_id: int, data: AgentPatch) -> dict:
    values = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    _check_agent(values)
    if not await store.update_agent(ctx.conn, payment_agent_id, values):
        raise NotFound("Платёжный агент не найден")
    return await store.get_agent(ctx.conn, agent_id=payment_agent_id) or {}


# ---- files -----------------------------------------------------------------------------------------------

@post("/api/payment-files", dependencies=DEPS, guards=EDIT, tags=TAGS, request_max_body_size=MAX_FILE_BYTES,
      status_code=200)
async def upload_file(ctx: Ctx, request: Request, mode: Mode = "auto",
                      agent: Annotated[str | None, Parameter(max_length=32, description="Код агента")] = None,
                      ) -> Response:
    """Load a registry or a statement: {file_id, lines, loaded, unidentified, duplicates, errors[:200]}."""
    if not agent:
        raise Invalid("Укажите агента: ?agent=КОД", fields=[{"field": "agent", "message": "обязательно"}])
    data, file_name = await _upload(request)
    if await store.get_agent(ctx.conn, code=agent) is None:
        raise NotFound(f"Платёжный агент «{agent}» не найден")
    if mode == "sync" or (mode == "auto" and count_lines(data) <= SYNC_MAX_LINES):
        report = await import_payment_file(ctx.conn, agent, data, file_name=file_name or "",
                                           user_id=ctx.principal.user_id)
        return Response({"mode": "sync", "file_name": file_name, **report.as_dict()}, status_code=200)
    job_id = await start_payments_file_job(ctx, agent, data, file_name)
    return Response({"mode": "job", "job": jobs_store.to_dict(await jobs_store.get(ctx.conn, job_id))},
                    status_code=202)


@get("/api/payment-files", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_files(ctx: Ctx, agent_id: int | None = None, limit: Limit = 50, offset: Offset = 0) -> dict:
    items, total = await store.list_files(ctx.conn, agent_id=agent_id, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@get("/api/payment-files/{payment_file_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_file(ctx: Ctx, payment_file_id: int) -> dict:
    """The file's figures and line errors (not its content)."""
    return found(await store.get_file(ctx.conn, payment_file_id), "Файл платежей не найден")


@post("/api/payment-files/{payment_file_id:int}/rollback", dependencies=DEPS, guards=EDIT, tags=TAGS,
      status_code=200)
async def rollback_file(ctx: Ctx, payment_file_id: int, data: StornoIn | None = None) -> dict:
    """Roll the whole file back while its payments' months are open; readings it added stay."""
    done = await intake.roll_back_file(ctx.conn, payment_file_id, note=data.note if data else "")
    await _reallocate_contracts(ctx, "SELECT DISTINCT contract_id FROM payments WHERE file_id = :id", payment_file_id)
    return done


# ---- payments --------------------------------------------------------------------------------------------

@post("/api/payments", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def create_payment(ctx: Ctx, data: PaymentIn) -> dict:
    """A manual or cash payment (201); a QR account that is not found goes to the unidentified queue."""
    period = None
    if data.period:
        try:
            period = Period.parse(data.period)
        except ValueError as exc:
            raise Invalid(str(exc), fields=[{"field": "period", "message": str(exc)}]) from exc
    return await intake.create_payment(ctx.conn, amount=data.amount, paid_on=data.paid_on, account_id=data.account_id,
                                       qr=data.qr, agent=data.agent, period=period, service_id=data.service_id,
                                       note=data.note, user_id=ctx.principal.user_id, penalty=data.penalty)


@get("/api/payments", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_payments(ctx: Ctx, q: Search = "", status: StatusQuery = None, account_id: int | None = None,
                        file_id: int | None = None, limit: Limit = 50, offset: Offset = 0) -> dict:
    items, total = await store.list_payments(ctx.conn, status=status, account_id=account_id, file_id=file_id, q=q,
                                             limit=limit, offset=offset)
    return page(items, total, limit, offset)


@get("/api/payments/unidentified", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def unidentified(ctx: Ctx, q: Search = "", limit: Limit = 50, offset: Offset = 0) -> dict:
    """The queue: search by the payer's text, an amount (1500,00) or a date (15.11.2026)."""
    items, total = await store.list_payments(ctx.conn, status="unidentified", q=q, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@get("/api/payments/{payment_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_payment(ctx: Ctx, payment_id: int) -> dict:
    """The payment and its fiscal proof (`fiscal`: the receipts that fiscalized it — FN, FD №, fiscal sign, when)."""
    payment = await intake.get_payment(ctx.conn, payment_id)
    payment["fiscal"] = (await cash_fiscal.of_payments(ctx.conn, [payment_id])).get(payment_id, [])
    return payment


@post("/api/payments/{payment_id:int}/storno", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200)
async def storno(ctx: Ctx, payment_id: int, data: StornoIn | None = None) -> dict:
    done = await intake.storno_payment(ctx.conn, payment_id, note=data.note if data else "")
    await _reallocate_contracts(ctx, "SELECT contract_id FROM payments WHERE id = :id", payment_id)
    return done


async def _reallocate_contracts(ctx: Ctx, sql: str, key: int) -> None:
    """A contract's payment stornoed (or a file with such payments rolled back): its allocations are gone, the
    contract's documents are covered anew by what is left."""
    contract_ids = [r for (r,) in await ctx.conn.execute(text(sql), {"id": key}) if r is not None]
    if contract_ids:
        await reallocate(ctx.conn, sorted(set(contract_ids)), user_id=ctx.principal.user_id)


@post("/api/payments/{payment_id:int}/transfer", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200)
async def transfer(ctx: Ctx, payment_id: int, data: AccountIn) -> dict:
    done = await intake.transfer_payment(ctx.conn, payment_id, data.account_id, note=data.note,
                                         user_id=ctx.principal.user_id)
    await _reallocate_contracts(ctx, "SELECT contract_id FROM payments WHERE id = :id", payment_id)
    return done


@post("/api/payments/{payment_id:int}/identify", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200)
async def identify(ctx: Ctx, payment_id: int, data: AccountIn) -> dict:
    return await intake.identify_payment(ctx.conn, payment_id, data.account_id, note=data.note)


ROUTES = [list_agents, create_agent, update_agent, upload_file, list_files, get_file, rollback_file,
          create_payment, list_payments, unidentified, get_payment, storno, transfer, identify]
