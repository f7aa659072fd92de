"""Organisations' payments pages (resource "legal"): `/legal/payments` — payments bound to contracts with
filters (dates, state, contract / counterparty / INN / purpose) and a pager; «Отнести на договор»
(`/legal/payments/{id}/assign`) for a payment of the unidentified queue — the contracts are searched by number,
counterparty or INN (the purpose's contract number and the payer's name are offered first); the contract card's
part (`/legal/contracts/{id}/payments-part`, loaded by htmx from the card): the turnover of the year and the
latest payments.

A refusal shows the form again with the message (422; `forms.attempt` rolls it back); a success goes to the
contract payments' list with a notice (303)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Request, get, post
from litestar.response import Redirect, Template

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.payments import store as payments_store
from aquabill.legal_entities import contract_store
from aquabill.legal_entities.matching import numbers_in
from aquabill.legal_entities.payments.assign import STATUSES, assign_payment, list_contract_payments
from aquabill.legal_entities.payments.turnover import contract_turnover
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, attempt, parse_id, parse_text
from aquabill.platform.web.legal_entities.counterparty_pages import page_context
from aquabill.platform.web.legal_entities.payment_api import FromDay, Status, ToDay, payment_filter
from aquabill.platform.web.paging import Offset, Search

VIEW, EDIT = [requires("legal", "view")], [requires("legal", "edit")]
PAGE = 50
CHOICES = 20  # contracts offered on the assignment form
PART_PAYMENTS = 10  # the latest payments on the contract card


class AssignForm(msgspec.Struct):
    contract_id: str = ""
    note: str = ""


def _notice(request: Request) -> str:
    return request.query_params.get("notice", "")[:200]


@get("/legal/payments", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def payments_page(ctx: Ctx, request: Request, q: Search = "", status: Status = "", date_from: FromDay = "",
                        date_to: ToDay = "", offset: Offset = 0) -> Template:
    message = ""
    try:
        flt = payment_filter(date_from=date_from, date_to=date_to, status=status, q=q)
    except Invalid as exc:
        flt, message = payment_filter(q=q), exc.message
    items, total, amount = await list_contract_payments(ctx.conn, flt, limit=PAGE, offset=offset)
    filters = {"q": q, "status": flt.status, "from": date_from if flt.date_from else "",
               "to": date_to if flt.date_to else ""}
    query = "&".join(f"{k}={quote(v)}" for k, v in filters.items() if v)
    return Template("legal_entities/payments.html", context=page_context(
        ctx, items=items, total=total, amount=amount, filters=filters, query=query, offset=offset, limit=PAGE,
        statuses=STATUSES, message=message, notice=_notice(request)))


async def _queued(ctx: Ctx, payment_id: int) -> dict[str, Any]:
    p = await payments_store.get_payment(ctx.conn, payment_id)
    if p is None:
        raise NotFound("Платёж не найден")
    return p


def _suggested_search(p: dict[str, Any]) -> str:
    """What to search the contracts by: the contract number the purpose names, else the payer's name."""
    contracts, _ = numbers_in(p["purpose"] or "")
    if contracts:
        return sorted(contracts)[0]
    return (p["payer"] or "").strip()[:60]


async def _assign_page(ctx: Ctx, p: dict[str, Any], q: str, form: AssignForm, message: str = "",
                       status_code: int = 200) -> Template:
    choices, found = await contract_store.list_contracts(ctx.conn, q, kind=None, status=None, limit=CHOICES,
                                                         offset=0) if q else ([], 0)
    if q and not found:  # the payer's name rarely equals the counterparty's exactly: try its longest word
        word = max(q.replace("«", " ").replace("»", " ").replace('"', " ").split(), key=len, default="")
        if len(word) >= 4 and word != q:
            choices, found = await contract_store.list_contracts(ctx.conn, word, kind=None, status=None,
                                                                 limit=CHOICES, offset=0)
    return Template("legal_entities/payment_assign.html", status_code=status_code, context=page_context(
        ctx, p=p, q=q, choices=[c for c in choices if c["status"] != "draft"], found=found, f=form,
        message=message))


@get("/legal/payments/{payment_id:int}/assign", dependencies=DEPS, guards=EDIT, include_in_schema=False)
async def assign_page(ctx: Ctx, payment_id: int, q: Search = "") -> Template:
    p = await _queued(ctx, payment_id)
    return await _assign_page(ctx, p, q.strip() or _suggested_search(p), AssignForm())


@post("/legal/payments/{payment_id:int}/assign", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def assign_submit(ctx: Ctx, payment_id: int, data: Annotated[AssignForm, FORM]) -> Template | Redirect:
    p = await _queued(ctx, payment_id)
    async with attempt(ctx) as tried:
        contract_id = parse_id(data.contract_id, "contract_id", "Выберите договор", required=True)
        assert contract_id is not None
        done = await assign_payment(ctx.conn, payment_id, contract_id, note=parse_text(data.note, 500),
                                    user_id=ctx.principal.user_id)
    if tried.refused:
        return await _assign_page(ctx, p, _suggested_search(p), data, tried.message, 422)
    notice = (f"Платёж № {done['id']} на {done['amount']} ₽ отнесён на договор № {done['contract_number']}"
              + (f", аванс {done['advance']} ₽" if done["advance"] else ""))
    return Redirect(f"/legal/payments?notice={quote(notice)}", status_code=303)


@get("/legal/contracts/{contract_id:int}/payments-part", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def contract_part(ctx: Ctx, contract_id: int) -> Template:
    """The contract card's section: this year's turnover by month and the latest payments."""
    today = date.today()
    turnover = await contract_turnover(ctx.conn, contract_id, today.replace(month=1, day=1), today)
    items, total, _ = await list_contract_payments(ctx.conn, payment_filter(contract_id=contract_id),
                                                   limit=PART_PAYMENTS)
    return Template("legal_entities/payment_contract_part.html", context=page_context(
        ctx, t=turnover, items=items, total=total, contract_id=contract_id))


ROUTES = [payments_page, assign_page, assign_submit, contract_part]
