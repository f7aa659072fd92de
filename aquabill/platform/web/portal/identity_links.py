"""The subscriber's accounts on the portal: linking one (number + the tenant's check value), the list, and
giving one up. Pages (`/my/link`, `POST /my/accounts/{id}/unlink`) and their API (`/api/my/links`)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Response, delete, get, post
from litestar.response import Redirect, Template

from aquabill.base.errors import DomainError
from aquabill.platform.web.forms import FORM
from aquabill.platform.web.portal.context import PORTAL_DEPS, My, PortalScope
from aquabill.platform.web.portal.pages_common import page_get, page_post, render
from aquabill.subscribers import links

API_TAGS = ["Личный кабинет: вход и счета"]


class LinkIn(msgspec.Struct):
    number: Annotated[str, msgspec.Meta(max_length=64)] = ""
    check: Annotated[str, msgspec.Meta(max_length=64)] = ""


async def _check(my: PortalScope) -> dict[str, str]:
    kind = await links.link_check_kind(my.conn)
    return {"kind": kind, "label": links.CHECK_LABELS[kind], "hint": links.CHECK_HINTS[kind]}


async def _page(my: PortalScope, *, status_code: int = 200, **context: Any) -> Template:
    return await render(my, "link.html", status_code=status_code, check=await _check(my),
                        accounts=await links.linked_accounts(my.conn, my.subscriber_id),
                        **{"message": None, "error": None, "form": {}, **context})


@page_get("/my/link")
async def link_page(my: My) -> Template:
    return await _page(my)


@page_post("/my/link")
async def link_submit(my: My, data: Annotated[LinkIn, FORM]) -> Template:
    try:
        account = await links.link_account(my.conn, my.subscriber_id, data.number, data.check, via="portal")
    except DomainError as exc:  # (the failed attempt is already counted: links writes it on its own)
        return await _page(my, status_code=exc.status_code, error=exc.message, form={"number": data.number})
    return await _page(my, message=f"Лицевой счёт {account['number']} ({account['address']}) привязан.")


@page_post("/my/accounts/{account_id:int}/unlink")
async def unlink_submit(my: My, account_id: int) -> Response:
    await links.unlink(my.conn, my.subscriber_id, account_id)
    return Redirect(path="/my/link", status_code=303)


# ---- API -----------------------------------------------------------------------------------------------------

@get("/api/my/links", dependencies=PORTAL_DEPS, tags=API_TAGS)
async def api_links(my: My) -> dict:
    """The subscriber's linked accounts and what proves an account is one's own on this portal."""
    return {"items": await links.linked_accounts(my.conn, my.subscriber_id), "check": await _check(my)}


@post("/api/my/links", dependencies=PORTAL_DEPS, tags=API_TAGS, status_code=201)
async def api_link(my: My, data: LinkIn) -> dict:
    """Link an account by its number and the check value (422 for a wrong pair, 409 after too many)."""
    return await links.link_account(my.conn, my.subscriber_id, data.number, data.check, via="portal")


@delete("/api/my/links/{account_id:int}", dependencies=PORTAL_DEPS, tags=API_TAGS, status_code=200)
async def api_unlink(my: My, account_id: int) -> dict:
    await links.unlink(my.conn, my.subscriber_id, account_id)
    return {"status": "ok"}


ROUTES = [link_page, link_submit, unlink_submit, api_links, api_link, api_unlink]
