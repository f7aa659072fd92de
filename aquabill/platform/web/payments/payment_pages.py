"""Payments pages: the list of payments with filters and totals, a manual or cash payment (by account number
or by the receipt's QR string), storno and transfer; the queue of unidentified payments with "identify".

Permission resource "payments" (view to read, edit to change), as the API. Forms post URL-encoded fields;
a refusal (unknown account, closed period, bad amount, …) is shown on the page (status 200) and nothing of
that attempt is written (a savepoint rolls it back). Actions answer with the page they were started from.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.params import Parameter
from litestar.response import Template

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.payments import intake
from aquabill.billing_core.payments import store as payments_store
from aquabill.billing_core.payments.queries import (
    PAYMENT_SOURCES,
    PAYMENT_STATUSES,
    PaymentFilter,
    list_payments,
    unidentified_totals,
)
from aquabill.billing_core.payments.store import list_agents
from aquabill.billing_core.registry.queries import account_by_number
from aquabill.cash import fiscal as cash_fiscal
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web import forms
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.forms import FORM, attempt, parse_amount, parse_period, parse_text
from aquabill.platform.web.paging import Offset, Search

VIEW, EDIT = [requires("payments", "view")], [requires("payments", "edit")]
PAGE = 50
Text = Annotated[str, Parameter(max_length=64)]


class PaymentForm(msgspec.Struct):
    account_number: str = ""
    qr: str = ""
    amount: str = ""
    paid_on: str = ""
    agent: str = "manual"
    period: str = ""
    note: str = ""


class ActionForm(msgspec.Struct):
    account_number: str = ""
    note: str = ""


def page_ctx(ts: TenantScope, **kw: Any) -> dict[str, Any]:
    return {"principal": ts.principal, "tenant": ts.tenant, "can_edit": ts.principal.can("payments", "edit"),
            "statuses": PAYMENT_STATUSES, "sources": PAYMENT_SOURCES, "today": date.today(), **kw}


def parse_date(raw: str, field: str, what: str) -> date | None:
    """A date typed as ДД.ММ.ГГГГ or picked (ГГГГ-ММ-ДД); `what` names it in the refusal."""
    return forms.parse_date(raw, field, f"{what}: ожидается дата ДД.ММ.ГГГГ", dotted=True)


async def require_account_number(ctx: Ctx, number: str) -> int:
    number = number.strip()
    if not number:
        raise Invalid("Укажите номер лицевого счёта", field="account_number")
    found = await account_by_number(ctx.conn, number)
    if found is None:
        raise Invalid(f"Лицевой счёт № {number} не найден", field="account_number")
    return found


async def require_payment(ctx: Ctx, payment_id: int) -> None:
    """A payment of another tenant (or none) is a 404, before any form handling."""
    if await payments_store.get_payment(ctx.conn, payment_id) is None:
        raise NotFound("Платёж не найден")


# ---- the list ----------------------------------------------------------------------------------------------

async def _agents(ctx: Ctx) -> list[dict[str, Any]]:
    return sorted(await list_agents(ctx.conn), key=lambda agent: agent["name"])


async def _payments_page(ctx: Ctx, *, filters: dict[str, str] | None = None, offset: int = 0,
                         form: PaymentForm | None = None, message: str = "", error: bool = False,
                         created: dict[str, Any] | None = None) -> Template:
    filters = filters or {}
    try:
        flt = PaymentFilter(
            date_from=parse_date(filters.get("date_from", ""), "date_from", "Дата «с»"),
            date_to=parse_date(filters.get("date_to", ""), "date_to", "Дата «по»"),
            agent=filters.get("agent", "").strip(), account=filters.get("account", "").strip(),
            status=filters.get("status", "") if filters.get("status", "") in PAYMENT_STATUSES else "",
            source=filters.get("source", "") if filters.get("source", "") in PAYMENT_SOURCES else "")
    except Invalid as exc:
        flt, message, error = PaymentFilter(), exc.message, True
    items, totals = await list_payments(ctx.conn, flt, limit=PAGE, offset=offset)
    proof = await cash_fiscal.of_payments(ctx.conn, [p["id"] for p in items])  # the receipts that fiscalized them
    items = [{**p, "fiscal": proof.get(p["id"], [])} for p in items]
    return Template("payments/payments.html", context=page_ctx(
        ctx, items=items, totals=totals, filters=filters, offset=offset, limit=PAGE, agents=await _agents(ctx),
        form=form or PaymentForm(paid_on=date.today().isoformat()), message=message, error=error,
        created=created, unidentified=await unidentified_totals(ctx.conn)))


@get("/payments", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def payments_page(ctx: Ctx, date_from: Text = "", date_to: Text = "", agent: Text = "", account: Text = "",
                        status: Text = "", source: Text = "", offset: Offset = 0) -> Template:
    filters = {"date_from": date_from, "date_to": date_to, "agent": agent, "account": account, "status": status,
               "source": source}
    return await _payments_page(ctx, filters=filters, offset=offset)


@post("/payments", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def payment_submit(ctx: Ctx, data: Annotated[PaymentForm, FORM]) -> Template:
    """A manual or cash payment by account number or by the receipt's QR string."""
    async with attempt(ctx) as tried:
        paid_on = parse_date(data.paid_on, "paid_on", "Дата платежа")
        if paid_on is None:
            raise Invalid("Укажите дату платежа", field="paid_on")
        qr = data.qr.strip() or None
        account_id = await require_account_number(ctx, data.account_number) \
            if data.account_number.strip() or not qr else None
        created = await intake.create_payment(
            ctx.conn, amount=parse_amount(data.amount), paid_on=paid_on, account_id=account_id, qr=qr,
            agent=data.agent.strip() or "manual", period=parse_period(data.period),
            note=parse_text(data.note, 500), user_id=ctx.principal.user_id)
    if tried.refused:
        return await _payments_page(ctx, form=data, message=tried.message, error=True)
    if created["status"] == "identified":
        message = f"Платёж {created['amount']} ₽ принят на лицевой счёт {created['account_number']}"
    else:
        message = f"Платёж {created['amount']} ₽ принят в очередь неопознанных: {created['reason']}"
    return await _payments_page(ctx, message=message, created=created)


@post("/payments/{payment_id:int}/storno", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def storno_submit(ctx: Ctx, payment_id: int, data: Annotated[ActionForm, FORM]) -> Template:
    await require_payment(ctx, payment_id)
    async with attempt(ctx) as tried:
        done = await intake.storno_payment(ctx.conn, payment_id, note=parse_text(data.note, 500))
    if tried.refused:
        return await _payments_page(ctx, message=tried.message, error=True)
    return await _payments_page(ctx, message=f"Платёж № {done['id']} на {done['amount']} ₽ сторнирован")


@post("/payments/{payment_id:int}/transfer", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def transfer_submit(ctx: Ctx, payment_id: int, data: Annotated[ActionForm, FORM]) -> Template:
    await require_payment(ctx, payment_id)
    async with attempt(ctx) as tried:
        account_id = await require_account_number(ctx, data.account_number)
        done = await intake.transfer_payment(ctx.conn, payment_id, account_id,
                                             note=parse_text(data.note, 500), user_id=ctx.principal.user_id)
    if tried.refused:
        return await _payments_page(ctx, message=tried.message, error=True)
    moved = done["payment"]
    return await _payments_page(ctx, message=f"Платёж № {payment_id} перенесён на лицевой счёт "
                                             f"{moved['account_number']} (новый платёж № {moved['id']})")


# ---- the unidentified queue --------------------------------------------------------------------------------

async def _queue_page(ctx: Ctx, q: str = "", offset: int = 0, *, message: str = "", error: bool = False
                      ) -> Template:
    items, total = await payments_store.list_payments(ctx.conn, status="unidentified", q=q, limit=PAGE,
                                                      offset=offset)
    return Template("payments/unidentified.html", context=page_ctx(
        ctx, items=items, total=total, q=q, offset=offset, limit=PAGE, message=message, error=error,
        unidentified=await unidentified_totals(ctx.conn)))


@get("/payments/unidentified", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def unidentified_page(ctx: Ctx, q: Search = "", offset: Offset = 0) -> Template:
    return await _queue_page(ctx, q, offset)


@post("/payments/{payment_id:int}/identify", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def identify_submit(ctx: Ctx, payment_id: int, data: Annotated[ActionForm, FORM]) -> Template:
    await require_payment(ctx, payment_id)
    async with attempt(ctx) as tried:
        account_id = await require_account_number(ctx, data.account_number)
        done = await intake.identify_payment(ctx.conn, payment_id, account_id,
                                             note=parse_text(data.note, 500))
    if tried.refused:
        return await _queue_page(ctx, message=tried.message, error=True)
    return await _queue_page(ctx, message=f"Платёж № {done['id']} на {done['amount']} ₽ привязан к лицевому "
                                          f"счёту {done['account_number']}")


ROUTES = [payments_page, payment_submit, storno_submit, transfer_submit, unidentified_page, identify_submit]
