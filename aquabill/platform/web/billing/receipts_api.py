"""Receipts over the API. Permission resource "receipts" (view to read, edit to change requisites).

- `GET /api/accounts/{id}/receipt?period=ГГГГ-ММ`: the account's receipt for the month (by default its
  latest billed month): services with volume, tariff, opening, charged, recalculated, paid, closing; the
  advance; penalties on their own lines; the sum to pay and the GOST R 56042 payment string for the QR;
- `GET /api/receipts/requisites`, `PUT /api/receipts/requisites`: the payee's requisites on every receipt.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get, put
from litestar.params import Parameter

from aquabill.billing_core.receipts import build_receipt, load_requisites, save_requisites
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.billing.receipt_view import receipt_period
from aquabill.platform.web.context import DEPS, Ctx

VIEW, EDIT = [requires("receipts", "view")], [requires("receipts", "edit")]
TAGS = ["receipts"]
PeriodQuery = Annotated[str | None, Parameter(pattern=r"^\d{4}-\d{2}$", description="Период ГГГГ-ММ")]
Line = Annotated[str, msgspec.Meta(max_length=500)]


class RequisitesIn(msgspec.Struct):
    """Also the page form's fields; what is required and well-formed is checked by billing_core."""

    name: Line = ""
    personal_acc: Line = ""
    bank_name: Line = ""
    bic: Line = ""
    corresp_acc: Line = "0"
    inn: Line = ""
    kpp: Line = ""
    address: Line = ""
    phone: Line = ""
    email: Line = ""


@get("/api/accounts/{account_id:int}/receipt", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_receipt(ctx: Ctx, account_id: int, period: PeriodQuery = None) -> dict[str, Any]:
    month = await receipt_period(ctx.conn, account_id, period)
    return (await build_receipt(ctx.conn, account_id, month)).as_dict()


@get("/api/receipts/requisites", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_requisites(ctx: Ctx) -> dict[str, Any]:
    req = await load_requisites(ctx.conn)
    return {"requisites": req.as_dict() if req else None}


@put("/api/receipts/requisites", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def put_requisites(ctx: Ctx, data: RequisitesIn) -> dict[str, Any]:
    req = await save_requisites(ctx.conn, msgspec.structs.asdict(data))
    return {"requisites": req.as_dict()}


ROUTES = [get_receipt, get_requisites, put_requisites]
