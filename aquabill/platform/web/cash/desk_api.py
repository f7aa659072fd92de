"""The cash desk's API (`/api/cash/...`), calling the same service functions as the workstation page: the desk's
state for a cash point, finding the account (number, address, a receipt's QR or barcode), its dues, sales
(own services and third parties'), refunds, retry / cancel of a failed receipt, the duplicate, shifts (open,
X report, close, list with totals). Permission resource "cash": view to read, edit to act.

A sale or a refund carries the client's `key` (UUID): posting it again returns the same receipt (200 instead of
201). After the transaction commits, the point's agent is woken (channels/edge/wake.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import Parameter

from aquabill.billing_core.periods import Period
from aquabill.billing_core.registry.queries import require_account
from aquabill.cash import receipts, refunds, sales, shifts
from aquabill.cash.dues import account_dues
from aquabill.cash.lookup import lookup
from aquabill.cash.services import ServiceSale, sell_service
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.cash.desk_common import (
    desk_state,
    parse_key,
    point_or_default,
    today,
    wake_after_commit,
)
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import INT4_MAX, Limit, Offset, Search, page

VIEW, EDIT = [requires("cash", "view")], [requires("cash", "edit")]
TAGS = ["cash"]
RowId = Annotated[int, msgspec.Meta(ge=1, le=INT4_MAX)]
Money = Decimal  # checked by the service (kopecks, above zero, a sane bound)
Key = Annotated[str, msgspec.Meta(max_length=64)]
Tender = Annotated[str, msgspec.Meta(pattern=r"^(cash|card)$")]
Contact = Annotated[str, msgspec.Meta(max_length=100)]
PointQuery = Annotated[int | None, Parameter(ge=1, le=INT4_MAX, description="Касса")]
PeriodQuery = Annotated[str, Parameter(pattern=r"^\d{4}-\d{2}$", description="Месяц квитанции ГГГГ-ММ")]


class SaleIn(msgspec.Struct):
    """`amount` — one payment of that sum (the receipt's total or any sum), or `lines` — the dues lines paid in
    full (`2026-11:3` month:service id, `penalty`); `given` — cash handed over (cash only, ≥ the total)."""

    key: Key
    point_id: RowId
    account_id: RowId
    tender: Tender = "cash"
    amount: Money | None = None
    lines: Annotated[list[Annotated[str, msgspec.Meta(max_length=40)]], msgspec.Meta(max_length=200)] = \
        msgspec.field(default_factory=list)
    given: Money | None = None
    buyer_contact: Contact = ""


class ServiceSaleIn(msgspec.Struct):
    key: Key
    point_id: RowId
    service_id: RowId
    amount: Money
    details: Annotated[str, msgspec.Meta(max_length=200)] = ""
    tender: Tender = "cash"
    given: Money | None = None
    buyer_contact: Contact = ""
    account_id: RowId | None = None


class RefundIn(msgspec.Struct):
    key: Key
    point_id: RowId


class PointIn(msgspec.Struct):
    point_id: RowId


def _created(receipt: dict[str, Any], fresh: bool) -> Response:
    return Response(content=receipt, status_code=201 if fresh else 200)


@get("/api/cash/desk", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def desk(ctx: Ctx, request: Request, point_id: PointQuery = None) -> dict[str, Any]:
    """The cash point, its shift (the current one, else the last) with its totals and latest receipts. Without
    `point_id`: the point the desk page remembers (its cookie), else the only active one."""
    point_id = await point_or_default(ctx, request, point_id)
    point = await shifts.get_point(ctx.conn, point_id)
    return {"point": point, **await desk_state(ctx, point_id)}


@get("/api/cash/lookup", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def find_account(ctx: Ctx, q: Search = "") -> dict[str, Any]:
    """By account number, address or holder, a receipt's QR string or its barcode digits (one field)."""
    return await lookup(ctx.conn, q)


@get("/api/cash/accounts/{account_id:int}/dues", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def dues(ctx: Ctx, account_id: int, period: PeriodQuery | None = None) -> dict[str, Any]:
    """What the account owes by service and month, its penalties and advance, and its receipt's «к оплате»."""
    return (await account_dues(ctx.conn, account_id, period=Period.parse(period) if period else None)).as_dict()


@post("/api/cash/sales", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def sale(ctx: Ctx, data: SaleIn) -> Response:
    """A sale (201; the same key again: the same receipt, 200): cash makes the payment at once, card once
    the terminal approved and the receipt is printed."""
    receipt, fresh = await sales.sell(ctx.conn, sales.Sale(
        key=parse_key(data.key), point_id=data.point_id, account_id=data.account_id, tender=data.tender,
        on=today(ctx), amount=data.amount, lines=tuple(data.lines), given=data.given,
        buyer_contact=data.buyer_contact), user_id=ctx.principal.user_id)
    wake_after_commit(ctx, receipt["agent_id"] if fresh else None)
    return _created(receipt, fresh)


@post("/api/cash/service-sales", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def service_sale(ctx: Ctx, data: ServiceSaleIn) -> Response:
    """A third party's service paid at the desk (the utility as a payment agent), with its commission."""
    if data.account_id is not None:  # the payer's account with us (for the record): one of this tenant's, else 404
        await require_account(ctx.conn, data.account_id)
    receipt, fresh = await sell_service(ctx.conn, ServiceSale(
        key=parse_key(data.key), point_id=data.point_id, service_id=data.service_id, amount=data.amount,
        details=data.details, tender=data.tender, on=today(ctx), given=data.given, buyer_contact=data.buyer_contact,
        account_id=data.account_id), user_id=ctx.principal.user_id)
    wake_after_commit(ctx, receipt["agent_id"] if fresh else None)
    return _created(receipt, fresh)


@get("/api/cash/receipts/{cash_receipt_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_receipt(ctx: Ctx, cash_receipt_id: int) -> dict[str, Any]:
    return await receipts.get_receipt(ctx.conn, cash_receipt_id)


@get("/api/cash/receipts", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_receipts(ctx: Ctx, shift_id: Annotated[int | None, Parameter(ge=1, le=INT4_MAX)] = None,
                        account_id: Annotated[int | None, Parameter(ge=1, le=INT4_MAX)] = None,
                        limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Receipts of a shift or of an account, newest first."""
    items, total = await receipts.list_receipts(ctx.conn, shift_id=shift_id, account_id=account_id, limit=limit,
                                                offset=offset)
    return page(items, total, limit, offset)


@post("/api/cash/receipts/{cash_receipt_id:int}/refund", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def refund(ctx: Ctx, cash_receipt_id: int, data: RefundIn) -> Response:
    """The refund receipt of a fiscalized sale (one per sale); its payment(s) are stornoed once it is printed."""
    await receipts.get_receipt(ctx.conn, cash_receipt_id)
    made, fresh = await refunds.refund(ctx.conn, key=parse_key(data.key), receipt_id=cash_receipt_id,
                                       point_id=data.point_id, user_id=ctx.principal.user_id)
    wake_after_commit(ctx, made["agent_id"] if fresh else None)
    return _created(made, fresh)


@post("/api/cash/receipts/{cash_receipt_id:int}/retry", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200)
async def retry(ctx: Ctx, cash_receipt_id: int) -> dict[str, Any]:
    """A failed receipt sent to the register again (same receipt key: printed at most once)."""
    receipt = await sales.retry(ctx.conn, cash_receipt_id, user_id=ctx.principal.user_id)
    wake_after_commit(ctx, receipt["agent_id"])
    return receipt


@post("/api/cash/receipts/{cash_receipt_id:int}/cancel", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200)
async def cancel(ctx: Ctx, cash_receipt_id: int) -> dict[str, Any]:
    """A failed receipt given up: a cash sale's payment(s) stornoed."""
    return await sales.cancel(ctx.conn, cash_receipt_id, user_id=ctx.principal.user_id)


@post("/api/cash/duplicate", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=202)
async def duplicate(ctx: Ctx, data: PointIn) -> dict[str, Any]:
    """The register prints a copy of its last document."""
    command = await sales.duplicate(ctx.conn, point_id=data.point_id, user_id=ctx.principal.user_id)
    wake_after_commit(ctx, command["agent_id"])
    return {"command_id": command["id"], "status": command["status"]}


# ---- shifts -------------------------------------------------------------------------------------------------

@post("/api/cash/shifts", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def open_shift(ctx: Ctx, data: PointIn) -> dict[str, Any]:
    """Open the cashier's shift at the point (201): 'opening' until the register answers."""
    shift = await shifts.open_shift(ctx.conn, point_id=data.point_id, user_id=ctx.principal.user_id)
    wake_after_commit(ctx, shift["agent_id"])
    return shift


async def _shift_point(ctx: Ctx, shift_id: int) -> int:
    return (await shifts.get_shift(ctx.conn, shift_id))["cash_point_id"]


@post("/api/cash/shifts/{cash_shift_id:int}/x-report", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=202)
async def x_report(ctx: Ctx, cash_shift_id: int) -> dict[str, Any]:
    """The X report of the open shift, printed by the register."""
    command = await shifts.x_report(ctx.conn, point_id=await _shift_point(ctx, cash_shift_id),
                                    user_id=ctx.principal.user_id)
    wake_after_commit(ctx, command["agent_id"])
    return {"command_id": command["id"], "status": command["status"]}


@post("/api/cash/shifts/{cash_shift_id:int}/close", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=202)
async def close_shift(ctx: Ctx, cash_shift_id: int) -> dict[str, Any]:
    """The Z report: refused while a receipt of the shift is printing or failed."""
    shift = await shifts.close_shift(ctx.conn, point_id=await _shift_point(ctx, cash_shift_id),
                                     user_id=ctx.principal.user_id, shift_id=cash_shift_id)
    wake_after_commit(ctx, shift["agent_id"])
    return shift


@get("/api/cash/shifts", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_shifts(ctx: Ctx, point_id: Annotated[int | None, Parameter(ge=1, le=INT4_MAX)] = None,
                      limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Shifts newest first, each with its totals (cash, card, refunds, third parties, commission, receipts)."""
    items, total = await shifts.list_shifts(ctx.conn, point_id=point_id, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@get("/api/cash/shifts/{cash_shift_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_shift(ctx: Ctx, cash_shift_id: int) -> dict[str, Any]:
    shift = await shifts.get_shift(ctx.conn, cash_shift_id)
    shift["totals"] = (await shifts.shift_totals(ctx.conn, [cash_shift_id]))[cash_shift_id]
    return shift


ROUTES = [desk, find_account, dues, sale, service_sale, get_receipt, list_receipts, refund, retry, cancel, duplicate,
          open_shift, x_report, close_shift, list_shifts, get_shift]
