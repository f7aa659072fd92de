"""`/cash` — the cashier's workstation: the cash point (remembered), the shift with «Открыть смену» / «X-отчёт» /
«Закрыть смену (Z-отчёт)», the one search field (account number, address, a receipt's QR or barcode: a scanner
types it and Enter), the account card with its dues by service and month (checkboxes), the receipt's total and
penalties, the amount, the tender (cash: given → change; card), «Принять оплату»; the shift's receipts turn
from «Печатается…» into «Чек № {FD}, ФП {fiscal sign}» live (static/cash.js refetches `/cash/live` on the tab's
`cash.receipt` / `cash.shift` events); a failed one offers «Повторить» / «Отменить», a printed sale «Возврат»;
the tab «Прочие услуги» takes third parties' services. Resource "cash": view to see, edit to act.

Every action posts a form and answers with a redirect to the desk (303) or, refused, the desk with the message;
a sale's form carries a fresh key (UUID), so a form posted twice is one sale."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.datastructures import Cookie
from litestar.params import Parameter
from litestar.response import Redirect, Template

from aquabill.base.errors import Invalid
from aquabill.cash import receipts, refunds, sales, shifts
from aquabill.cash import services as cash_services
from aquabill.cash.dues import account_dues
from aquabill.cash.lookup import lookup
from aquabill.cash.orders import FORMS
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.cash.desk_common import (
    POINT_COOKIE,
    desk_state,
    parse_key,
    remembered_point,
    rub,
    today,
    wake_after_commit,
)
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, attempt, or_none, parse_amount, parse_id, parse_text
from aquabill.platform.web.paging import INT4_MAX

VIEW, EDIT = [requires("cash", "view")], [requires("cash", "edit")]
Text = Annotated[str, Parameter(max_length=200)]
Small = Annotated[str, Parameter(max_length=300)]
OptId = Annotated[int, Parameter(ge=0, le=INT4_MAX)]


class ShiftForm(msgspec.Struct):
    point_id: str = ""
    action: str = ""


class SaleForm(msgspec.Struct):
    key: str = ""
    point_id: str = ""
    account_id: str = ""
    pay: str = "amount"  # amount | lines
    lines: list[str] | str = ""
    amount: str = ""
    tender: str = "cash"
    given: str = ""
    buyer_contact: str = ""


class ServiceSaleForm(msgspec.Struct):
    key: str = ""
    point_id: str = ""
    service_id: str = ""
    details: str = ""
    amount: str = ""
    tender: str = "cash"
    given: str = ""
    buyer_contact: str = ""


class ReceiptForm(msgspec.Struct):
    action: str = ""
    key: str = ""
    point_id: str = ""


def page_context(ctx: Ctx, **kw: Any) -> dict[str, Any]:
    return {"principal": ctx.principal, "tenant": ctx.tenant, "can_edit": ctx.principal.can("cash", "edit"),
            "shift_statuses": shifts.STATUSES, "receipt_statuses": receipts.STATUSES, "tenders": receipts.TENDERS,
            "operations": receipts.OPERATIONS, "order_forms": FORMS, "new_key": lambda: str(uuid.uuid4()), **kw}


async def _desk(ctx: Ctx, request: Request, *, point: int = 0, q: str = "", account: int = 0, tab: str = "",
                message: str = "", notice: str = "", form: dict[str, Any] | None = None) -> Template:
    points = await shifts.list_points(ctx.conn)
    chosen = remembered_point(request, points, point)
    found, card, lookup_error = None, None, ""
    if q.strip():
        async with attempt(ctx) as tried:
            found = await lookup(ctx.conn, q)
        if tried.refused:
            lookup_error = tried.message
        elif found["exact"] and not account:
            account = found["items"][0]["id"]
    if account:
        async with attempt(ctx) as tried:
            card = (await account_dues(ctx.conn, account)).as_dict()
        if tried.refused:
            lookup_error = lookup_error or tried.message
    state = await desk_state(ctx, chosen["id"]) if chosen else {"shift": None, "totals": None, "receipts": []}
    scanned = (found or {}).get("scanned") or {}
    context = page_context(
        ctx, points=points, point=chosen, q=q, found=found, card=card, scanned=scanned, tab=tab or "account",
        lookup_error=lookup_error, message=message, notice=notice, key=str(uuid.uuid4()), form=form or {},
        services=await cash_services.list_services(ctx.conn, active_only=True), **state)
    cookies = [Cookie(key=POINT_COOKIE, value=str(chosen["id"]), path="/", httponly=True, samesite="lax",
                      max_age=365 * 24 * 3600)] if chosen else None
    return Template("cash/desk.html", context=context, cookies=cookies)


@get("/cash", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def desk_page(ctx: Ctx, request: Request, point: OptId = 0, q: Text = "", account: OptId = 0, tab: Text = "",
                    notice: Small = "") -> Template:
    return await _desk(ctx, request, point=point, q=q, account=account, tab=tab, notice=notice)


@get("/cash/live", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def desk_live(ctx: Ctx, point: OptId = 0) -> Template:
    """The shift panel and its receipts (what static/cash.js puts back into the page on an event)."""
    chosen = await shifts.get_point(ctx.conn, point) if point else None
    state = await desk_state(ctx, point) if chosen else {"shift": None, "totals": None, "receipts": []}
    return Template("cash/desk_live.html", context=page_context(ctx, point=chosen, **state))


def _back(point_id: int | None, notice: str, **query: Any) -> Redirect:
    params = {k: str(v) for k, v in query.items() if v}
    if point_id:
        params["point"] = str(point_id)
    params["notice"] = notice
    return Redirect(path="/cash", query_params=params, status_code=303)


def _form_id(raw: str, field: str, what: str) -> int:
    value = parse_id(raw, field, f"{what}: неверный номер", required=True)
    assert value is not None
    return value


@post("/cash/shift", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def shift_action(ctx: Ctx, request: Request, data: Annotated[ShiftForm, FORM]) -> Template | Redirect:
    """«Открыть смену», «X-отчёт», «Закрыть смену (Z-отчёт)», «Дубликат»."""
    point_id = or_none(parse_id, data.point_id, "point_id") or 0
    notices = {"open": "Смена открывается: касса печатает отчёт об открытии",
               "x": "X-отчёт отправлен на кассу", "close": "Смена закрывается: касса печатает Z-отчёт",
               "duplicate": "Копия последнего документа отправлена на кассу"}
    async with attempt(ctx) as tried:
        if data.action not in notices:
            raise Invalid("Неизвестное действие со сменой", field="action")
        if not point_id:
            raise Invalid("Выберите кассу", field="point_id")
        uid = ctx.principal.user_id
        if data.action == "open":
            agent_id = (await shifts.open_shift(ctx.conn, point_id=point_id, user_id=uid))["agent_id"]
        elif data.action == "x":
            agent_id = (await shifts.x_report(ctx.conn, point_id=point_id, user_id=uid))["agent_id"]
        elif data.action == "close":
            agent_id = (await shifts.close_shift(ctx.conn, point_id=point_id, user_id=uid))["agent_id"]
        else:
            agent_id = (await sales.duplicate(ctx.conn, point_id=point_id, user_id=uid))["agent_id"]
    if tried.refused:
        return await _desk(ctx, request, point=point_id, message=tried.message)
    wake_after_commit(ctx, agent_id)
    return _back(point_id, notices[data.action])


@post("/cash/sale", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def sale_submit(ctx: Ctx, request: Request, data: Annotated[SaleForm, FORM]) -> Template | Redirect:
    """«Принять оплату»: the account's total, any sum, or the ticked lines; cash or card."""
    point_id = or_none(parse_id, data.point_id, "point_id") or 0
    account_id = or_none(parse_id, data.account_id, "account_id") or 0
    async with attempt(ctx) as tried:
        chosen_lines = [x for x in ([data.lines] if isinstance(data.lines, str) else data.lines) if x][:200]
        sale = sales.Sale(
            key=parse_key(data.key), point_id=_form_id(data.point_id, "point_id", "Касса"),
            account_id=_form_id(data.account_id, "account_id", "Лицевой счёт"), tender=data.tender,
            on=today(ctx), amount=parse_amount(data.amount) if data.pay != "lines" else None,
            lines=tuple(chosen_lines) if data.pay == "lines" else (),
            given=parse_amount(data.given, "given") if data.tender == "cash" else None,
            buyer_contact=parse_text(data.buyer_contact, 100))
        if data.pay == "lines" and not chosen_lines:
            raise Invalid("Отметьте строки долга, которые оплачиваются", field="lines")
        receipt, fresh = await sales.sell(ctx.conn, sale, user_id=ctx.principal.user_id)
    if tried.refused:
        return await _desk(ctx, request, point=point_id, account=account_id, message=tried.message,
                           form={"amount": data.amount, "given": data.given, "tender": data.tender,
                                 "buyer_contact": data.buyer_contact})
    wake_after_commit(ctx, receipt["agent_id"] if fresh else None)
    notice = f"Оплата {rub(receipt['total'])} ₽ принята, касса печатает чек"
    if receipt["tender"] == "cash" and receipt["change"]:
        notice += f". Сдача {rub(receipt['change'])} ₽"
    return _back(point_id, notice, account=account_id)


@post("/cash/service-sale", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def service_sale_submit(ctx: Ctx, request: Request,
                              data: Annotated[ServiceSaleForm, FORM]) -> Template | Redirect:
    """A third party's service (tab «Прочие услуги»)."""
    point_id = or_none(parse_id, data.point_id, "point_id") or 0
    async with attempt(ctx) as tried:
        amount = parse_amount(data.amount)
        if amount is None:
            raise Invalid("Укажите сумму платежа", field="amount")
        receipt, fresh = await cash_services.sell_service(ctx.conn, cash_services.ServiceSale(
            key=parse_key(data.key), point_id=_form_id(data.point_id, "point_id", "Касса"),
            service_id=_form_id(data.service_id, "service_id", "Услуга"), amount=amount,
            details=parse_text(data.details, 200), tender=data.tender, on=today(ctx),
            given=parse_amount(data.given, "given") if data.tender == "cash" else None,
            buyer_contact=parse_text(data.buyer_contact, 100)), user_id=ctx.principal.user_id)
    if tried.refused:
        return await _desk(ctx, request, point=point_id, tab="services", message=tried.message,
                           form={"amount": data.amount, "given": data.given, "details": data.details,
                                 "service_id": data.service_id, "tender": data.tender})
    wake_after_commit(ctx, receipt["agent_id"] if fresh else None)
    notice = (f"Платёж {rub(receipt['total'])} ₽ (в т. ч. комиссия {rub(receipt['commission'])} ₽) принят, "
              "касса печатает чек")
    return _back(point_id, notice, tab="services")


@post("/cash/receipts/{cash_receipt_id:int}", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def receipt_action(ctx: Ctx, request: Request, cash_receipt_id: int,
                         data: Annotated[ReceiptForm, FORM]) -> Template | Redirect:
    """«Повторить», «Отменить» a failed receipt; «Возврат» of a printed sale."""
    receipt = await receipts.get_receipt(ctx.conn, cash_receipt_id)  # another tenant's (or no) receipt: 404
    point_id = receipt["cash_point_id"]
    async with attempt(ctx) as tried:
        uid = ctx.principal.user_id
        if data.action == "retry":
            done = await sales.retry(ctx.conn, cash_receipt_id, user_id=uid)
            notice, agent_id = f"Чек № {cash_receipt_id} отправлен на кассу повторно", done["agent_id"]
        elif data.action == "cancel":
            await sales.cancel(ctx.conn, cash_receipt_id, user_id=uid)
            notice, agent_id = f"Чек № {cash_receipt_id} отменён", None
        elif data.action == "refund":
            made, fresh = await refunds.refund(ctx.conn, key=parse_key(data.key), receipt_id=cash_receipt_id,
                                               point_id=point_id, user_id=uid)
            notice = "Возврат принят, касса печатает чек возврата"
            agent_id = made["agent_id"] if fresh else None
        else:
            raise Invalid("Неизвестное действие с чеком", field="action")
    if tried.refused:
        return await _desk(ctx, request, point=point_id, message=tried.message)
    wake_after_commit(ctx, agent_id)
    return _back(point_id, notice)


ROUTES = [desk_page, desk_live, shift_action, sale_submit, service_sale_submit, receipt_action]
