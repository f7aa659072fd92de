"""Paperless receipts per linked account, chosen by the subscriber: the page `/my/settings/receipts` (a switch
«Получать квитанции только в электронном виде» per account; linked from `/my/settings`) and
`GET /api/my/receipt-delivery`, `PUT /api/my/accounts/{id}/receipt-delivery {"paperless": bool}`
(subscribers/receipt_choice.py: 'email' to the confirmed e-mail, else 'portal'; off → 'paper')."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, put
from litestar.response import Template

from aquabill.platform.web.forms import attempt, parse_id, parse_text
from aquabill.platform.web.portal.context import PORTAL_DEPS, My
from aquabill.platform.web.portal.pages_common import API_TAGS, page_get, page_post, render
from aquabill.subscribers.receipt_choice import receipt_choices, set_paperless


async def _page(my: My, *, message: str = "", error: bool = False, status_code: int = 200) -> Template:
    return await render(my, "receipt_choice.html", status_code=status_code, message=message, error=error,
                        **await receipt_choices(my.conn, my.subscriber_id))


@page_get("/my/settings/receipts")
async def receipt_choice_page(my: My) -> Template:
    return await _page(my)


@page_post("/my/settings/receipts")
async def receipt_choice_form(my: My, request: Request) -> Template:
    form = await request.form()
    paperless = parse_text(form.get("paperless"), 10) in ("1", "on", "true")
    async with attempt(my) as tried:
        account_id = parse_id(parse_text(form.get("account_id"), 12), "account_id", "Не выбран лицевой счёт",
                              required=True)
        assert account_id is not None
        result = await set_paperless(my.conn, my.subscriber_id, account_id, paperless)
    if tried.refused:
        return await _page(my, message=tried.message, error=True, status_code=getattr(tried.error, "status_code", 422))
    text = {"email": f"Квитанции будут приходить на {result['email']}",
            "portal": "Квитанции будут только в личном кабинете (подтвердите эл. почту, чтобы получать их письмом)",
            "paper": "Квитанции снова будут бумажными"}[result["delivery"]]
    return await _page(my, message=text)


class PaperlessIn(msgspec.Struct):
    paperless: bool


@get("/api/my/receipt-delivery", dependencies=PORTAL_DEPS, tags=API_TAGS)
async def receipt_choice_api(my: My) -> dict[str, Any]:
    """How each linked account gets its receipts."""
    return await receipt_choices(my.conn, my.subscriber_id)


@put("/api/my/accounts/{account_id:int}/receipt-delivery", dependencies=PORTAL_DEPS, tags=API_TAGS)
async def receipt_choice_put(my: My, account_id: int, data: PaperlessIn) -> dict[str, Any]:
    """Paperless receipts for a linked account on (by e-mail, or in the personal account only) or off."""
    return await set_paperless(my.conn, my.subscriber_id, account_id, data.paperless)


ROUTES = [receipt_choice_page, receipt_choice_form, receipt_choice_api, receipt_choice_put]
