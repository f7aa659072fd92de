"""The counterparty card's section «Доступ в личный кабинет организации» (resource "legal"): it loads itself
(`legal_entities/_org_access.html`, htmx) from `GET /legal/counterparties/{id}/org-access`; «Выдать код» shows a new
one-time code once (the page is not cached); «Отозвать» revokes a portal user's link. Audited like the API."""

from __future__ import annotations

from typing import Any

from litestar import get, post
from litestar.response import Template

from aquabill.base.errors import Conflict
from aquabill.legal_entities import portal
from aquabill.legal_entities.counterparty_store import require_counterparty
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx, TenantScope

VIEW, EDIT = [requires("legal", "view")], [requires("legal", "edit")]
NO_STORE = {"Cache-Control": "no-store"}


async def _section(ctx: TenantScope, counterparty_id: int, **kw: Any) -> Template:
    card = await require_counterparty(ctx.conn, counterparty_id)
    return Template("legal_entities/_org_access_body.html", headers=NO_STORE, context={
        "c": card, "invite": await portal.live_invite(ctx.conn, counterparty_id),
        "links": await portal.organisation_links(ctx.conn, counterparty_id), "days": portal.INVITE_DAYS,
        "can_edit": ctx.principal.can("legal", "edit"), "issued": None, "message": None, "error": False, **kw})


@get("/legal/counterparties/{counterparty_id:int}/org-access", dependencies=DEPS, guards=VIEW,
     include_in_schema=False)
async def org_access_section(ctx: Ctx, counterparty_id: int) -> Template:
    return await _section(ctx, counterparty_id)


@post("/legal/counterparties/{counterparty_id:int}/org-access/code", dependencies=DEPS, guards=EDIT,
      include_in_schema=False, status_code=200)
async def org_access_code(ctx: Ctx, counterparty_id: int) -> Template:
    await require_counterparty(ctx.conn, counterparty_id)
    issued = await portal.issue_invite(ctx.conn, counterparty_id, user_id=ctx.principal.user_id)
    return await _section(ctx, counterparty_id, issued=issued)


@post("/legal/counterparties/{counterparty_id:int}/org-access/{link_id:int}/revoke", dependencies=DEPS, guards=EDIT,
      include_in_schema=False, status_code=200)
async def org_access_revoke(ctx: Ctx, counterparty_id: int, link_id: int) -> Template:
    await require_counterparty(ctx.conn, counterparty_id)
    try:  # (a link of another counterparty is a 404, as in the API)
        await portal.revoke_link(ctx.conn, counterparty_id, link_id, user_id=ctx.principal.user_id)
    except Conflict as exc:
        return await _section(ctx, counterparty_id, message=exc.message, error=True)
    return await _section(ctx, counterparty_id, message="Доступ отозван: этот пользователь больше не видит организацию")


ROUTES = [org_access_section, org_access_code, org_access_revoke]
