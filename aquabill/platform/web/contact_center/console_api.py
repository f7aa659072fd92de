"""Agents' presence over the API (any staff member of the organisation sees colleagues' presence).

- `GET /api/console/presence`: everyone's presence (offline when not seen lately);
- `PUT /api/console/presence {status}`: the caller's own status: online / busy / away;
- `POST /api/console/demo-call {answer}`: `aquabill dev` only — the demo exchange rings the console with a
  call from one of the demo tenant's subscribers (404 elsewhere).
The live console page gets changes as `presence.changed` events over the WebSocket.
"""

from __future__ import annotations

import msgspec
from litestar import Request, get, post, put

from aquabill.base.errors import Invalid, NotFound
from aquabill.platform.auth.permissions import requires
from aquabill.platform.presence import CHOOSABLE, STATUSES, PresenceBook
from aquabill.platform.web.context import DEPS, Ctx

TAGS = ["console"]


class PresenceIn(msgspec.Struct):
    status: str


def _book(ctx: Ctx) -> PresenceBook:
    return PresenceBook(ctx.core.redis, ctx.core.keys)


@get("/api/console/presence", dependencies=DEPS, tags=TAGS)
async def list_presence(ctx: Ctx) -> dict:
    people = await _book(ctx).everyone(ctx.tenant.id)
    return {"items": [p.as_dict() for p in people], "statuses": STATUSES}


@put("/api/console/presence", dependencies=DEPS, tags=TAGS)
async def set_presence(ctx: Ctx, data: PresenceIn) -> dict:
    if data.status not in CHOOSABLE:
        raise Invalid("Недопустимый статус присутствия",
                      fields=[{"field": "status", "message": f"возможны: {', '.join(CHOOSABLE)}"}])
    p = ctx.principal
    return (await _book(ctx).choose(ctx.tenant.id, p.user_id, p.login, p.full_name, data.status)).as_dict()


class DemoCallIn(msgspec.Struct):
    answer: bool = True


def demo_pbx_for(request: Request, tenant_id: int):
    pbx = getattr(request.app.state, "demo_pbx", None)
    return pbx if pbx is not None and pbx.tenant_id == tenant_id else None


@post("/api/console/demo-call", dependencies=DEPS, guards=[requires("calls", "view")], tags=TAGS, status_code=202)
async def demo_call(request: Request, ctx: Ctx, data: DemoCallIn) -> dict:
    pbx = demo_pbx_for(request, ctx.tenant.id)
    if pbx is None:
        raise NotFound("Демо-АТС работает только в демо-организации под `aquabill dev`")
    try:
        return await pbx.ring(ctx.conn, answer=data.answer)
    except LookupError as exc:
        raise NotFound(str(exc)) from exc


ROUTES = [list_presence, set_presence, demo_call]
