"""The contact-center agent's live console (`/console`).

A shell rendered by the server; static/console.js fills it from the API (calls, new appeals, the
agent's requests, colleagues' presence) and keeps it live from the tab's WebSocket: the incoming call
banner with the caller's account (`call.ringing`), queue state, SLA countdowns, presence changes.
"""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from aquabill.platform.presence import CHOOSABLE, STATUSES, PresenceBook
from aquabill.platform.web.contact_center.console_api import demo_pbx_for
from aquabill.platform.web.context import DEPS, Ctx


@get("/console", dependencies=DEPS, include_in_schema=False)
async def console_page(request: Request, ctx: Ctx) -> Template:
    p = ctx.principal
    people = await PresenceBook(ctx.core.redis, ctx.core.keys).everyone(ctx.tenant.id)
    mine = next((x for x in people if x.user_id == p.user_id), None)
    return Template("contact_center/console.html", context={
        "principal": p, "tenant": ctx.tenant, "people": people, "statuses": STATUSES, "choosable": CHOOSABLE,
        "my_status": mine.status if mine and mine.status in CHOOSABLE else "online",
        "can": {r: p.can(r, "view") for r in ("calls", "appeals", "requests", "accounts")},
        "can_edit_calls": p.can("calls", "edit"),
        "demo_pbx": demo_pbx_for(request, ctx.tenant.id) is not None and p.can("calls", "view"),
    })


ROUTES = [console_page]
