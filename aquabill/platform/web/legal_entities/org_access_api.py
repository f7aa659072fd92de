"""The organisation's access to the portal, for staff (resource "legal"): the one-time code and the linked portal
users of a counterparty, over JSON.

`GET  /api/legal/counterparties/{id}/org-access`                    the live code (without the code) and the links;
`POST /api/legal/counterparties/{id}/org-access/code`               a new code (shown in this answer only, 14 days;
                                                                    the unused ones are voided);
`POST /api/legal/counterparties/{id}/org-access/{link_id}/revoke`   revoke a portal user's link.
Codes and links are audited (org_portal_invites, subscriber_counterparties: the staff user is the transaction's)."""

from __future__ import annotations

from litestar import Response, get, post

from aquabill.legal_entities import portal
from aquabill.legal_entities.counterparty_store import require_counterparty
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx

VIEW, EDIT = [requires("legal", "view")], [requires("legal", "edit")]
TAGS = ["Юрлица: личный кабинет организации"]
NO_STORE = {"Cache-Control": "no-store"}  # an answer with a code is kept nowhere


@get("/api/legal/counterparties/{counterparty_id:int}/org-access", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def api_org_access(ctx: Ctx, counterparty_id: int) -> dict:
    """The organisation's code waiting to be used (when issued, until when) and the portal users linked to it."""
    await require_counterparty(ctx.conn, counterparty_id)
    return {"invite": await portal.live_invite(ctx.conn, counterparty_id),
            "items": await portal.organisation_links(ctx.conn, counterparty_id)}


@post("/api/legal/counterparties/{counterparty_id:int}/org-access/code", dependencies=DEPS, guards=EDIT, tags=TAGS,
      status_code=201)
async def api_issue_code(ctx: Ctx, counterparty_id: int) -> Response[dict]:
    """A new one-time code of access to the organisation's portal (`XXXXX-XXXXX`, valid 14 days), shown once."""
    await require_counterparty(ctx.conn, counterparty_id)
    issued = await portal.issue_invite(ctx.conn, counterparty_id, user_id=ctx.principal.user_id)
    return Response(issued, status_code=201, headers=NO_STORE)


@post("/api/legal/counterparties/{counterparty_id:int}/org-access/{link_id:int}/revoke", dependencies=DEPS,
      guards=EDIT, tags=TAGS, status_code=200)
async def api_revoke(ctx: Ctx, counterparty_id: int, link_id: int) -> dict:
    """Revoke a portal user's link to the organisation: its portal pages close for that user at once."""
    await require_counterparty(ctx.conn, counterparty_id)
    return await portal.revoke_link(ctx.conn, counterparty_id, link_id, user_id=ctx.principal.user_id)


ROUTES = [api_org_access, api_issue_code, api_revoke]
