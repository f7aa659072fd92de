"""Receipt pages: the account's printable receipt for a month (with penalties and the payment QR), and the
payee's requisites form. Permission resource "receipts", as the API."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import get, post
from litestar.params import Parameter
from litestar.response import Template

from aquabill.billing_core.receipts import build_receipt, load_requisites, save_requisites
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.billing.receipt_view import qr_svg, receipt_period
from aquabill.platform.web.billing.receipts_api import RequisitesIn
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, attempt

VIEW, EDIT = [requires("receipts", "view")], [requires("receipts", "edit")]
Month = Annotated[str, Parameter(max_length=7, description="Период ГГГГ-ММ")]


@get("/accounts/{account_id:int}/receipt", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def receipt_page(ctx: Ctx, account_id: int, period: Month = "") -> Template:
    error = None
    try:
        month = await receipt_period(ctx.conn, account_id, period.strip() or None)
    except ValueError as exc:
        error = f"Период: {exc}"
        month = await receipt_period(ctx.conn, account_id, None)
    receipt = await build_receipt(ctx.conn, account_id, month)
    return Template(template_name="billing/receipt.html", context={
        "principal": ctx.principal, "tenant": ctx.tenant, "r": receipt, "error": error,
        "qr_svg": qr_svg(receipt.qr) if receipt.qr else None, "month": month})


async def _requisites_page(ctx: Ctx, *, form: dict | None = None, message: str | None = None,
                           error: bool = False) -> Template:
    current = await load_requisites(ctx.conn)
    values = form if form is not None else (current.as_dict() if current else {})
    return Template(template_name="billing/requisites.html", context={
        "principal": ctx.principal, "tenant": ctx.tenant, "values": values, "message": message, "error": error,
        "can_edit": ctx.principal.can("receipts", "edit")})


@get("/billing/requisites", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def requisites_page(ctx: Ctx) -> Template:
    return await _requisites_page(ctx)


@post("/billing/requisites", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def requisites_submit(ctx: Ctx, data: Annotated[RequisitesIn, FORM]) -> Template:
    raw = msgspec.structs.asdict(data)
    async with attempt(ctx) as tried:
        await save_requisites(ctx.conn, raw)
    if tried.refused:
        return await _requisites_page(ctx, form=raw, message=tried.message, error=True)
    return await _requisites_page(ctx, message="Реквизиты сохранены: они печатаются на квитанциях и в QR-коде оплаты")


ROUTES = [receipt_page, requisites_page, requisites_submit]
