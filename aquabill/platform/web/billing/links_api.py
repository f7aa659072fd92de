"""Staff's view of an account's subscriber links (portal and bots) and their revocation: the account card's
section (`billing/card_links.html` loads `GET /accounts/{id}/subscriber-links`) and the API. Revoking is
audited (subscriber_links has the audit triggers; the staff user is the transaction's actor)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.response import Template

from aquabill.base.errors import Conflict, Invalid
from aquabill.billing_core.registry.queries import require_account
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.forms import FORM
from aquabill.subscribers.links import account_links, revoke_link

VIAS = {"portal": "личный кабинет", "telegram": "Telegram", "max": "MAX", "staff": "сотрудник"}


class RevokeIn(msgspec.Struct):
    reason: Annotated[str, msgspec.Meta(max_length=400)] = ""


async def _section(ctx: TenantScope, account_id: int, **kw: Any) -> Template:
    return Template("billing/card_links_body.html", context={
        "account_id": account_id, "links": await account_links(ctx.conn, account_id), "vias": VIAS,
        "can_edit": ctx.principal.can("accounts", "edit"), "message": None, "error": False, **kw})


@get("/accounts/{account_id:int}/subscriber-links", dependencies=DEPS, guards=[requires("accounts", "view")],
     include_in_schema=False)
async def links_section(ctx: Ctx, account_id: int) -> Template:
    await require_account(ctx.conn, account_id)
    return await _section(ctx, account_id)


@post("/accounts/{account_id:int}/subscriber-links/{subscriber_link_id:int}/revoke", dependencies=DEPS,
      guards=[requires("accounts", "edit")], include_in_schema=False, status_code=200)
async def revoke_submit(ctx: Ctx, account_id: int, subscriber_link_id: int,
                        data: Annotated[RevokeIn, FORM]) -> Template:
    await require_account(ctx.conn, account_id)
    try:  # (a link that is not this account's is a 404, as in the API; refusals are checked before any write)
        await revoke_link(ctx.conn, account_id, subscriber_link_id, user_id=ctx.principal.user_id, reason=data.reason)
    except (Invalid, Conflict) as exc:
        return await _section(ctx, account_id, message=exc.message, error=True)
    return await _section(ctx, account_id, message="Привязка отозвана: абонент больше не видит этот счёт")


@get("/api/accounts/{account_id:int}/subscriber-links", dependencies=DEPS, guards=[requires("accounts", "view")],
     tags=["accounts"])
async def api_links(ctx: Ctx, account_id: int) -> dict:
    """Subscribers linked to the account (live first, then revoked links)."""
    await require_account(ctx.conn, account_id)
    return {"items": await account_links(ctx.conn, account_id)}


@post("/api/accounts/{account_id:int}/subscriber-links/{subscriber_link_id:int}/revoke", dependencies=DEPS,
      guards=[requires("accounts", "edit")], tags=["accounts"], status_code=200)
async def api_revoke(ctx: Ctx, account_id: int, subscriber_link_id: int, data: RevokeIn) -> dict:
    """Revoke a subscriber's link to the account (reason required): the portal and the bots lose the account."""
    await require_account(ctx.conn, account_id)
    return await revoke_link(ctx.conn, account_id, subscriber_link_id, user_id=ctx.principal.user_id,
                             reason=data.reason)


ROUTES = [links_section, revoke_submit, api_links, api_revoke]
