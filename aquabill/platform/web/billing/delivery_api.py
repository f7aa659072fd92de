"""How an account gets its receipts (paper, e-mail, personal account only) and the receipts issued to it: the
account card's section (`billing/card_delivery.html` loads `GET /accounts/{id}/receipt-delivery`) and the API.
Permission: accounts (view to see, edit to change the delivery); the issued receipts need receipts/view too.
The change is audited (the accounts' triggers, with the staff user as the transaction's actor).

- `GET /api/accounts/{id}/receipt-delivery`, `PUT /api/accounts/{id}/receipt-delivery` `{delivery, email}`:
  delivery 'paper' | 'email' | 'portal'; email: where receipts go by e-mail (empty: the account's own);
- `GET /api/accounts/{id}/receipt-issues`: the receipts issued to the account, newest first.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post, put
from litestar.response import Template

from aquabill.billing_core.receipts import DELIVERY, issues_of, receipt_delivery, set_receipt_delivery
from aquabill.billing_core.registry.queries import account_card, require_account
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.forms import attempt, parse_text

ACC_VIEW, ACC_EDIT = [requires("accounts", "view")], [requires("accounts", "edit")]
TAGS = ["accounts"]
CARD_ISSUES = 24  # issues shown on the card


class DeliveryIn(msgspec.Struct):
    """(Both optional in the body: a missing delivery is refused by billing_core with its message.)"""

    delivery: Annotated[str, msgspec.Meta(max_length=16)] = ""
    email: Annotated[str, msgspec.Meta(max_length=254)] | None = None


async def _answer(ctx: TenantScope, account_id: int) -> dict[str, Any]:
    card = await account_card(ctx.conn, account_id)
    return {**await receipt_delivery(ctx.conn, account_id), "account_number": card["number"] if card else None,
            "choices": DELIVERY}


@get("/api/accounts/{account_id:int}/receipt-delivery", dependencies=DEPS, guards=ACC_VIEW, tags=TAGS)
async def api_delivery(ctx: Ctx, account_id: int) -> dict[str, Any]:
    """How the account gets its receipts and the e-mail they go to (`email`: the receipt's, else the account's)."""
    await require_account(ctx.conn, account_id)
    return await _answer(ctx, account_id)


@put("/api/accounts/{account_id:int}/receipt-delivery", dependencies=DEPS, guards=ACC_EDIT, tags=TAGS)
async def api_set_delivery(ctx: Ctx, account_id: int, data: DeliveryIn) -> dict[str, Any]:
    """Set the delivery: 'paper' (printed), 'email' (paperless, needs an e-mail: `email` or the account's),
    'portal' (paperless, in the personal account only)."""
    await require_account(ctx.conn, account_id)
    await set_receipt_delivery(ctx.conn, account_id, data.delivery.strip(), data.email)
    return await _answer(ctx, account_id)


@get("/api/accounts/{account_id:int}/receipt-issues", dependencies=DEPS,
     guards=[requires("receipts", "view")], tags=["receipts"])
async def api_issues(ctx: Ctx, account_id: int) -> dict[str, Any]:
    """The receipts issued to the account (month, issue number, sum, what a correction corrects and why)."""
    await require_account(ctx.conn, account_id)
    card = await account_card(ctx.conn, account_id)
    return {"account_id": account_id, "account_number": card["number"] if card else None,
            "items": await issues_of(ctx.conn, account_id)}


async def _section(ctx: TenantScope, account_id: int, *, form: dict[str, str] | None = None, message: str = "",
                   error: bool = False) -> Template:
    current = await _answer(ctx, account_id)
    shows_issues = ctx.principal.can("receipts", "view")
    return Template("billing/card_delivery_body.html", context={
        "account_id": account_id, "d": current, "choices": DELIVERY,
        "form": form or {"delivery": current["delivery"], "email": current["receipt_email"] or ""},
        "issues": await issues_of(ctx.conn, account_id, limit=CARD_ISSUES) if shows_issues else None,
        "can_edit": ctx.principal.can("accounts", "edit"), "message": message, "error": error})


@get("/accounts/{account_id:int}/receipt-delivery", dependencies=DEPS, guards=ACC_VIEW, include_in_schema=False)
async def delivery_section(ctx: Ctx, account_id: int) -> Template:
    await require_account(ctx.conn, account_id)
    return await _section(ctx, account_id)


@post("/accounts/{account_id:int}/receipt-delivery", dependencies=DEPS, guards=ACC_EDIT, include_in_schema=False,
      status_code=200)
async def delivery_submit(ctx: Ctx, account_id: int, request: Request) -> Template:
    await require_account(ctx.conn, account_id)
    raw = await request.form()
    form = {"delivery": parse_text(raw.get("delivery"), 16), "email": parse_text(raw.get("email"), 254)}
    async with attempt(ctx) as tried:
        saved = await set_receipt_delivery(ctx.conn, account_id, form["delivery"], form["email"])
    if tried.refused:
        return await _section(ctx, account_id, form=form, message=tried.message, error=True)
    where = f": {saved['email']}" if saved["delivery"] == "email" else ""
    return await _section(ctx, account_id, message=f"Сохранено — {saved['delivery_name'].lower()}{where}")


ROUTES = [api_delivery, api_set_delivery, api_issues, delivery_section, delivery_submit]
