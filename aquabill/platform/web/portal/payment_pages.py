"""Paying online from the portal: `/my/accounts/{id}/pay` (the sum prefilled with what is due, editable; the
e-mail or phone for the receipt) → the acquirer's page; `/pay/{token}` — the same from a payment link (the bots
send it), without signing in; `/pay/return/{attempt_id}` — where the payer comes back: «Платёж принят» or
«Ожидаем подтверждение банка…» (htmx asks `…/status` every 2 s; that also reads the payment back from the
acquirer when its notification has not come — another way a payment gets credited), then the new balance.
`POST /api/my/accounts/{id}/pay` starts a payment for an API client (JSON: the attempt and its
`confirmation_url`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import NotAuthorizedException
from litestar.params import Parameter
from litestar.response import Redirect, Template

from aquabill.base.errors import Conflict, Invalid
from aquabill.channels.acquiring import flow
from aquabill.platform.web.context import core_of
from aquabill.platform.web.forms import FORM, parse_amount
from aquabill.platform.web.portal.context import My, bind_subscriber, current_subscriber
from aquabill.platform.web.portal.pages_common import API_TAGS, PAGE_ERRORS, page_get, render
from aquabill.platform.web.portal.payment_common import (
    PAID_VIA,
    PUBLIC_ERRORS,
    PayForm,
    form_values,
    link_tenant,
    public_page,
    return_base,
    return_tenant,
)
from aquabill.subscribers import online_payments as op
from aquabill.subscribers.portal_inbox import unread_count
from aquabill.tenants.context import Tenant, tenant_transaction

Via = Annotated[str, Parameter(max_length=16)]
Slug = Annotated[str, Parameter(max_length=40)]


class PayIn(msgspec.Struct):
    amount: Decimal | None = None  # default: what is due
    contact: Annotated[str, msgspec.Meta(max_length=254)] = ""  # default: the subscriber's e-mail or phone


# ---- signed in -------------------------------------------------------------------------------------------------

@page_get("/my/accounts/{account_id:int}/pay")
async def pay_page(my: My, account_id: int) -> Template:
    form = await op.pay_form(my.conn, account_id, subscriber_id=my.subscriber_id)
    return await render(my, "pay.html", f=form, values=form_values(form, None), error="",
                        action=f"/my/accounts/{account_id}/pay")


async def _signed_in(request: Request) -> tuple[int, Tenant]:
    found = await current_subscriber(request)
    if found is None:
        raise NotAuthorizedException("Войдите в личный кабинет")
    return found


@post("/my/accounts/{account_id:int}/pay", exception_handlers=PAGE_ERRORS, include_in_schema=False,
      status_code=200)
async def pay_submit(request: Request, account_id: int, data: Annotated[PayForm, FORM]) -> Response:
    subscriber_id, tenant = await _signed_in(request)
    core = core_of(request)
    try:
        started = await flow.start_payment(
            core, tenant, account_id=account_id, amount=parse_amount(data.amount), contact=data.contact,
            channel="portal", subscriber_id=subscriber_id, return_base=return_base(request))
    except (Invalid, Conflict) as exc:
        async with tenant_transaction(core.engines, tenant) as conn:
            await bind_subscriber(conn, subscriber_id)
            form = await op.pay_form(conn, account_id, subscriber_id=subscriber_id)
            unread = await unread_count(conn, subscriber_id)
        return Template(template_name="portal/pay.html", context={
            "portal_tenant": tenant, "signed_in": True, "unread": unread, "f": form,
            "values": form_values(form, data), "error": exc.message, "action": f"/my/accounts/{account_id}/pay"})
    return Redirect(path=started["confirmation_url"], status_code=303)


@post("/api/my/accounts/{account_id:int}/pay", tags=API_TAGS, status_code=201,
      summary="Начать онлайн-оплату: попытка и адрес страницы оплаты (confirmation_url)")
async def pay_api(request: Request, account_id: int, data: PayIn) -> dict[str, Any]:
    subscriber_id, tenant = await _signed_in(request)
    return await flow.start_payment(core_of(request), tenant, account_id=account_id, amount=data.amount,
                                    contact=data.contact, channel="portal", subscriber_id=subscriber_id,
                                    return_base=return_base(request))


# ---- a payment link --------------------------------------------------------------------------------------------

@get("/pay/{token:str}", exception_handlers=PUBLIC_ERRORS, include_in_schema=False)
async def link_page(request: Request, token: str, via: Via = "") -> Template:
    tenant, account_id = await link_tenant(request, token)
    async with tenant_transaction(core_of(request).engines, tenant) as conn:
        form = await op.pay_form(conn, account_id, subscriber_id=None)
    return public_page("pay.html", tenant, f=form, values=form_values(form, None), error="",
                       action=f"/pay/{token}" + (f"?via={via}" if via in PAID_VIA else ""))


@post("/pay/{token:str}", exception_handlers=PUBLIC_ERRORS, include_in_schema=False, status_code=200)
async def link_submit(request: Request, token: str, data: Annotated[PayForm, FORM], via: Via = "") -> Response:
    tenant, account_id = await link_tenant(request, token)
    core = core_of(request)
    try:
        started = await flow.start_payment(
            core, tenant, account_id=account_id, amount=parse_amount(data.amount), contact=data.contact,
            channel=via if via in PAID_VIA else "link", subscriber_id=None, return_base=return_base(request))
    except (Invalid, Conflict) as exc:
        async with tenant_transaction(core.engines, tenant) as conn:
            form = await op.pay_form(conn, account_id, subscriber_id=None)
        return public_page("pay.html", tenant, f=form, values=form_values(form, data), error=exc.message,
                           action=f"/pay/{token}" + (f"?via={via}" if via in PAID_VIA else ""))
    return Redirect(path=started["confirmation_url"], status_code=303)


# ---- the return page -------------------------------------------------------------------------------------------

@get("/pay/return/{attempt_id:uuid}", exception_handlers=PUBLIC_ERRORS, include_in_schema=False)
async def return_page(request: Request, attempt_id: UUID, t: Slug = "") -> Template:
    tenant = await return_tenant(request, t)
    view = await flow.payer_status(core_of(request), tenant, attempt_id)
    return public_page("pay_return.html", tenant, p=view, slug=tenant.slug)


@get("/pay/return/{attempt_id:uuid}/status", exception_handlers=PUBLIC_ERRORS, include_in_schema=False)
async def return_status(request: Request, attempt_id: UUID, t: Slug = "") -> Template:
    tenant = await return_tenant(request, t)
    view = await flow.payer_status(core_of(request), tenant, attempt_id)
    return Template(template_name="portal/pay_status.html", context={"p": view, "slug": tenant.slug})


ROUTES = [pay_page, pay_submit, pay_api, link_page, link_submit, return_page, return_status]
