"""Staff pages of online payments: the list with statuses (`/payments/online`), one payment with its receipt
lines and refunds, the refund form (partial allowed) and «Проверить» (read it back from the acquirer).
Permission resource "payments" (view to read, edit to refund or check). A refusal is shown on the page."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Template

from aquabill.base.errors import DomainError
from aquabill.channels.acquiring import flow
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx, core_of, staff
from aquabill.platform.web.forms import FORM, parse_amount, parse_text
from aquabill.platform.web.paging import Offset
from aquabill.subscribers import online_payments as op
from aquabill.subscribers import online_store

VIEW, EDIT = [requires("payments", "view")], [requires("payments", "edit")]
PAGE = 50
Status = Annotated[str, Parameter(max_length=16)]


class RefundForm(msgspec.Struct):
    amount: str = ""
    reason: str = ""


@get("/payments/online", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def online_page(ctx: Ctx, status: Status = "", offset: Offset = 0) -> Template:
    status = status if status in op.STATUS_TEXT else ""
    items, total = await online_store.list_attempts(ctx.conn, status=status, limit=PAGE, offset=offset)
    return Template("payments/online.html", context={
        "principal": ctx.principal, "tenant": ctx.tenant, "items": [op.attempt_view(a) for a in items],
        "total": total, "offset": offset, "limit": PAGE, "status": status, "statuses": op.STATUS_TEXT,
        "channels": CHANNEL_TEXT, "can_admin": ctx.principal.can("payments", "admin")})


CHANNEL_TEXT = {"portal": "Личный кабинет", "telegram": "Telegram", "max": "MAX", "link": "Ссылка на оплату"}


async def _detail(request: Request, attempt_id: UUID, *, message: str = "", error: bool = False,
                  form: RefundForm | None = None) -> Template:
    principal, tenant = staff(request)
    view = await flow.attempt_with_refunds(core_of(request), tenant, attempt_id)
    context: dict[str, Any] = {"principal": principal, "tenant": tenant, "p": view, "message": message,
                               "error": error, "form": form or RefundForm(amount=view["refundable"]),
                               "can_edit": principal.can("payments", "edit"), "channels": CHANNEL_TEXT}
    return Template("payments/online_payment.html", context=context)


@get("/payments/online/{attempt_id:uuid}", guards=VIEW, include_in_schema=False)
async def online_detail(request: Request, attempt_id: UUID) -> Template:
    return await _detail(request, attempt_id)


@post("/payments/online/{attempt_id:uuid}/refund", guards=EDIT, include_in_schema=False, status_code=200)
async def refund_submit(request: Request, attempt_id: UUID, data: Annotated[RefundForm, FORM]) -> Template:
    principal, tenant = staff(request)
    try:
        amount = parse_amount(data.amount)
        done = await flow.refund(core_of(request), tenant, attempt_id, amount=amount,
                                 reason=parse_text(data.reason, 500), user_id=principal.user_id)
    except DomainError as exc:
        return await _detail(request, attempt_id, message=exc.message, error=True, form=data)
    last = done["refunds"][-1] if done["refunds"] else None
    text = (f"Возврат {last['amount']} ₽: {last['status_text'].lower()}" if last else "Возврат отправлен")
    return await _detail(request, attempt_id, message=text, error=bool(last and last["status"] == "canceled"))


@post("/payments/online/{attempt_id:uuid}/check", guards=EDIT, include_in_schema=False, status_code=200)
async def check_submit(request: Request, attempt_id: UUID) -> Template:
    principal, tenant = staff(request)
    try:
        done = await flow.check(core_of(request), tenant, attempt_id, user_id=principal.user_id)
    except DomainError as exc:
        return await _detail(request, attempt_id, message=exc.message, error=True)
    return await _detail(request, attempt_id, message=f"Сверено с ЮKassa: {done['status_text'].lower()}")


ROUTES = [online_page, online_detail, refund_submit, check_submit]
