"""Cash points and their edge agents over the API (`/api/cash/points…`, `/api/cash/agents…`), and the view helpers
the pages share (points_pages.py): a point with its agents and whether each is connected right now (the
gateway's session book in Redis, channels/edge/sessions.py).
Permission resource "cash": view to read; admin to create and edit points and to manage agents (add, issue an
enrollment code, revoke a key).

`POST /api/cash/agents/{id}/code` answers the one-time code once (only its hash is kept) with the command line
that enrolls the agent; `POST /api/cash/agents/{id}/revoke` ends the agent: its live session is closed at once
(the gateway is woken after commit) and its key refused from then on.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec
from litestar import Request, get, patch, post

from aquabill.cash import agents, commands, points
from aquabill.channels.edge import sessions
from aquabill.channels.edge.wake import wake
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.paging import Limit, Offset, page

VIEW, ADMIN = [requires("cash", "view")], [requires("cash", "admin")]
TAGS = ["Кассы и агенты"]

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Address = Annotated[str, msgspec.Meta(max_length=500)]
Place = Annotated[str, msgspec.Meta(max_length=200)]
Vat = Annotated[str, msgspec.Meta(pattern=r"^(none|0|10|20|22|10/110|20/120|22/122)$")]
TaxSystem = Annotated[int, msgspec.Meta(ge=1, le=32)]
AgentName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class PointIn(msgspec.Struct):
    name: Name
    address: Address = ""
    place: Place = ""
    tax_system: TaxSystem = 1
    vat: Vat = "none"
    cash_limit: Decimal = Decimal("0")


class PointPatch(msgspec.Struct):
    name: Name | None = None
    address: Address | None = None
    place: Place | None = None
    tax_system: TaxSystem | None = None
    vat: Vat | None = None
    cash_limit: Decimal | None = None
    active: bool | None = None


class AgentIn(msgspec.Struct):
    name: AgentName


# ---- what the pages share ---------------------------------------------------------------------------------

async def mark_online(ctx: TenantScope, agent_list: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Set each agent's `online`: an active agent with a live session on any app process."""
    live = await sessions.online(ctx.core.redis, ctx.core.keys, ctx.tenant.id, [a["id"] for a in agent_list])
    for a in agent_list:
        a["online"] = a["status"] == "active" and a["id"] in live
    return agent_list


async def point_view(ctx: TenantScope, point_id: int) -> dict[str, Any]:
    point = await points.get_point(ctx.conn, point_id)
    await mark_online(ctx, point["agents"])
    return point


async def points_page(ctx: TenantScope, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    items, total = await points.list_points(ctx.conn, limit=limit, offset=offset)
    await mark_online(ctx, [a for p in items for a in p["agents"]])
    return items, total


async def agent_view(ctx: TenantScope, agent_id: int) -> dict[str, Any]:
    agent = await agents.get_agent(ctx.conn, agent_id)
    await mark_online(ctx, [agent])
    return agent


def command_view(c: dict[str, Any]) -> dict[str, Any]:
    return {**c, "kind_name": commands.KINDS.get(c["kind"], c["kind"]),
            "status_name": commands.STATUSES.get(c["status"], c["status"])}


def server_url(ctx: TenantScope, request: Request) -> str:
    """How an agent reaches this server: the public address when set, else the one the admin uses."""
    public = ctx.core.settings.public_url.rstrip("/")
    return public or f"{request.url.scheme}://{request.url.netloc}"


async def issue(ctx: TenantScope, request: Request, agent_id: int) -> dict[str, Any]:
    issued = await agents.issue_code(ctx.conn, agent_id, user_id=ctx.principal.user_id)
    issued["command"] = (f"aquabill-edge enroll --server {server_url(ctx, request)} --tenant {ctx.tenant.slug} "
                         f"--code {issued['code']}")
    return issued


async def revoke(ctx: TenantScope, agent_id: int) -> dict[str, Any]:
    agent = await agents.revoke(ctx.conn, agent_id, user_id=ctx.principal.user_id)
    core, tenant = ctx.core, ctx.tenant
    ctx.after_commit(lambda: wake(core, tenant, agent_id))  # its session checks the key at once and closes
    return agent


def _values(data: msgspec.Struct) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}


# ---- routes -----------------------------------------------------------------------------------------------

@get("/api/cash/points", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_points(ctx: Ctx, limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Cash points by name, each with its agents (online now, last seen, the register they report)."""
    items, total = await points_page(ctx, limit, offset)
    return page(items, total, limit, offset)


@post("/api/cash/points", dependencies=DEPS, guards=ADMIN, tags=TAGS, status_code=201)
async def create_point(ctx: Ctx, data: PointIn) -> dict[str, Any]:
    """A new cash point (the name is unique)."""
    return await points.create_point(ctx.conn, _values(data))


@get("/api/cash/points/{cash_point_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_point(ctx: Ctx, cash_point_id: int) -> dict[str, Any]:
    return await point_view(ctx, cash_point_id)


@patch("/api/cash/points/{cash_point_id:int}", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def update_point(ctx: Ctx, cash_point_id: int, data: PointPatch) -> dict[str, Any]:
    await points.update_point(ctx.conn, cash_point_id, _values(data))
    return await point_view(ctx, cash_point_id)


@post("/api/cash/points/{cash_point_id:int}/agents", dependencies=DEPS, guards=ADMIN, tags=TAGS, status_code=201)
async def add_agent(ctx: Ctx, cash_point_id: int, data: AgentIn) -> dict[str, Any]:
    """A new agent of the point (pending until it enrolls with a code)."""
    agent = await agents.create_agent(ctx.conn, cash_point_id, data.name, user_id=ctx.principal.user_id)
    return {**agent, "online": False}


@get("/api/cash/agents/{edge_agent_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_agent(ctx: Ctx, edge_agent_id: int) -> dict[str, Any]:
    return await agent_view(ctx, edge_agent_id)


@patch("/api/cash/agents/{edge_agent_id:int}", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def rename_agent(ctx: Ctx, edge_agent_id: int, data: AgentIn) -> dict[str, Any]:
    await agents.rename_agent(ctx.conn, edge_agent_id, data.name)
    return await agent_view(ctx, edge_agent_id)


@post("/api/cash/agents/{edge_agent_id:int}/code", dependencies=DEPS, guards=ADMIN, tags=TAGS, status_code=201)
async def issue_code(ctx: Ctx, request: Request, edge_agent_id: int) -> dict[str, Any]:
    """A one-time enrollment code (24 h; the agent's unused codes are voided), shown only in this answer."""
    return await issue(ctx, request, edge_agent_id)


@post("/api/cash/agents/{edge_agent_id:int}/revoke", dependencies=DEPS, guards=ADMIN, tags=TAGS, status_code=200)
async def revoke_agent(ctx: Ctx, edge_agent_id: int) -> dict[str, Any]:
    """Revoke the agent's key for good; its live session is closed within seconds."""
    return {**await revoke(ctx, edge_agent_id), "online": False}


@get("/api/cash/agents/{edge_agent_id:int}/commands", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def agent_commands(ctx: Ctx, edge_agent_id: int, limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
    """The agent's commands, newest first, with their statuses and errors."""
    await agents.get_agent(ctx.conn, edge_agent_id)
    items, total = await commands.recent(ctx.conn, edge_agent_id, limit, offset)
    return page([command_view(c) for c in items], total, limit, offset)


ROUTES = [list_points, create_point, get_point, update_point, add_agent, get_agent, rename_agent, issue_code,
          revoke_agent, agent_commands]
