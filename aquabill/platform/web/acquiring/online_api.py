"""Online payments over the staff API: the attempts with their statuses, one with its receipt lines and
refunds, a refund (partial allowed) and a read-back from the acquirer. Permission resource "payments"
(view to read, edit to refund or check).

A refund and a check call the acquirer between transactions of their own (`channels/acquiring/flow`), so
these handlers take no request-wide transaction."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.params import Parameter

from aquabill.channels.acquiring import flow
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx, core_of, staff
from aquabill.platform.web.paging import Id, Limit, Offset, page
from aquabill.subscribers import online_payments as op
from aquabill.subscribers import online_store

VIEW, EDIT = [requires("payments", "view")], [requires("payments", "edit")]
TAGS = ["online payments"]
Status = Annotated[str, Parameter(pattern=r"^(new|pending|succeeded|canceled|failed|mismatch)?$")]


class RefundIn(msgspec.Struct):
    """`amount`: what to return (default: all not yet returned); `reason`: why (shown in the payment)."""

    amount: Decimal | None = None
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


@get("/api/online-payments", dependencies=DEPS, guards=VIEW, tags=TAGS, summary="Онлайн-платежи")
async def list_online(ctx: Ctx, status: Status = "", account_id: Id | None = None, limit: Limit = 50,
                      offset: Offset = 0) -> dict[str, Any]:
    items, total = await online_store.list_attempts(ctx.conn, status=status, account_id=account_id, limit=limit,
                                                    offset=offset)
    return page([op.attempt_view(a) for a in items], total, limit, offset)


@get("/api/online-payments/{attempt_id:uuid}", guards=VIEW, tags=TAGS, summary="Онлайн-платёж")
async def get_online(request: Request, attempt_id: UUID) -> dict[str, Any]:
    _, tenant = staff(request)
    return await flow.attempt_with_refunds(core_of(request), tenant, attempt_id)


@post("/api/online-payments/{attempt_id:uuid}/refund", guards=EDIT, tags=TAGS, status_code=200,
      summary="Возврат онлайн-платежа (можно частичный)")
async def refund_online(request: Request, attempt_id: UUID, data: RefundIn) -> dict[str, Any]:
    principal, tenant = staff(request)
    return await flow.refund(core_of(request), tenant, attempt_id, amount=data.amount, reason=data.reason,
                             user_id=principal.user_id)


@post("/api/online-payments/{attempt_id:uuid}/check", guards=EDIT, tags=TAGS, status_code=200,
      summary="Сверить онлайн-платёж с ЮKassa")
async def check_online(request: Request, attempt_id: UUID) -> dict[str, Any]:
    principal, tenant = staff(request)
    return await flow.check(core_of(request), tenant, attempt_id, user_id=principal.user_id)


ROUTES = [list_online, get_online, refund_online, check_online]
