"""The cash points pages (permission cash: view to see, admin to manage):
`/cash/points` — the points with their agents (online or not, last seen, the register each reports: model,
serial, FN, shift) and a form for a new point; `/cash/points/{id}` — the point's settings, its agents with their
recent commands (statuses in Russian, errors), «Добавить агента», «Выдать код подключения» (the code and the exact
command line shown once, with the expiry) and «Отозвать ключ». The agents' part follows the `edge.agent`,
`edge.command` and `cash.*` events live (static/cash_points.js) and polls itself while the socket is down.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.response import Redirect, Template

from aquabill.base.errors import DomainError
from aquabill.cash import agents, commands, points
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.cash.points_api import command_view, issue, point_view, points_page, revoke
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, attempt
from aquabill.platform.web.paging import Offset

VIEW, ADMIN = [requires("cash", "view")], [requires("cash", "admin")]
PAGE = 50
COMMANDS_PAGE = 10
NO_STORE = {"Cache-Control": "no-store"}  # a page showing an enrollment code is not kept anywhere


class PointForm(msgspec.Struct):
    name: str = ""
    address: str = ""
    place: str = ""
    tax_system: str = "1"
    vat: str = "none"
    cash_limit: str = "0"
    active: str = ""  # "1" when ticked (edit only)


class AgentForm(msgspec.Struct):
    name: str = ""


def _values(form: PointForm, *, edit: bool) -> dict[str, Any]:
    values: dict[str, Any] = {"name": form.name[:1000], "address": form.address[:2000], "place": form.place[:1000],
                              "tax_system": form.tax_system.strip()[:12], "vat": form.vat.strip()[:12],
                              "cash_limit": form.cash_limit.strip()[:40] or "0"}
    if edit:
        values["active"] = form.active == "1"
    return values


def _base(ctx: Ctx) -> dict[str, Any]:
    return {"principal": ctx.principal, "tenant": ctx.tenant, "can_admin": ctx.principal.can("cash", "admin"),
            "tax_systems": {k: v for k, v in points.TAX_SYSTEMS.items() if k not in points.TAX_SYSTEMS_CLOSED},
            "all_tax_systems": points.TAX_SYSTEMS, "vats": points.VATS, "agent_statuses": agents.STATUSES,
            "command_statuses": commands.STATUSES}


async def _list(ctx: Ctx, *, offset: int = 0, message: str = "", form: PointForm | None = None,
                status_code: int = 200) -> Template:
    items, total = await points_page(ctx, PAGE, offset)
    return Template("cash/points.html", status_code=status_code, context={
        **_base(ctx), "points": items, "total": total, "offset": offset, "limit": PAGE, "message": message,
        "form": form or PointForm()})


async def _agent_commands(ctx: Ctx, point: dict[str, Any], agent: int, offset: int) -> dict[int, dict[str, Any]]:
    out = {}
    for a in point["agents"]:
        skip = offset if a["id"] == agent else 0
        items, total = await commands.recent(ctx.conn, a["id"], COMMANDS_PAGE, skip)
        out[a["id"]] = {"items": [command_view(c) for c in items], "total": total, "offset": skip}
    return out


async def _detail_context(ctx: Ctx, point_id: int, agent: int = 0, offset: int = 0) -> dict[str, Any]:
    point = await point_view(ctx, point_id)
    return {**_base(ctx), "point": point, "commands": await _agent_commands(ctx, point, agent, offset),
            "page_size": COMMANDS_PAGE}


async def _detail(ctx: Ctx, point_id: int, *, agent: int = 0, offset: int = 0, message: str = "", notice: str = "",
                  issued: dict[str, Any] | None = None, form: PointForm | None = None,
                  status_code: int = 200) -> Template:
    context = await _detail_context(ctx, point_id, agent, offset)
    return Template("cash/points_detail.html", status_code=status_code,
                    headers=NO_STORE if issued else None,
                    context={**context, "message": message, "notice": notice, "issued": issued, "form": form})


@get("/cash/points", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def points_list_page(ctx: Ctx, offset: Offset = 0) -> Template:
    return await _list(ctx, offset=offset)


@post("/cash/points", dependencies=DEPS, guards=ADMIN, include_in_schema=False, status_code=200)
async def point_create(ctx: Ctx, data: Annotated[PointForm, FORM]) -> Template | Redirect:
    async with attempt(ctx) as tried:
        point = await points.create_point(ctx.conn, _values(data, edit=False))
    if tried.refused:
        return await _list(ctx, message=tried.message, form=data, status_code=422)
    return Redirect(path=f"/cash/points/{point['id']}", status_code=303)


@get("/cash/points/{cash_point_id:int}", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def point_page(ctx: Ctx, request: Request, cash_point_id: int, agent: Offset = 0,
                     offset: Offset = 0) -> Template:
    return await _detail(ctx, cash_point_id, agent=agent, offset=offset,
                         notice=request.query_params.get("notice", "")[:200])


@get("/cash/points/{cash_point_id:int}/agents", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def point_agents_part(ctx: Ctx, cash_point_id: int, agent: Offset = 0, offset: Offset = 0) -> Template:
    """The agents' part of the point's page (what the live script fetches again)."""
    context = await _detail_context(ctx, cash_point_id, agent, offset)
    return Template("cash/points_agents.html", context=context)


@post("/cash/points/{cash_point_id:int}", dependencies=DEPS, guards=ADMIN, include_in_schema=False, status_code=200)
async def point_update(ctx: Ctx, cash_point_id: int, data: Annotated[PointForm, FORM]) -> Template | Redirect:
    await points.get_point(ctx.conn, cash_point_id)
    async with attempt(ctx) as tried:
        await points.update_point(ctx.conn, cash_point_id, _values(data, edit=True))
    if tried.refused:
        return await _detail(ctx, cash_point_id, message=tried.message, form=data, status_code=422)
    return Redirect(path=f"/cash/points/{cash_point_id}", query_params={"notice": "Касса сохранена"}, status_code=303)


@post("/cash/points/{cash_point_id:int}/agents", dependencies=DEPS, guards=ADMIN, include_in_schema=False,
      status_code=200)
async def agent_create(ctx: Ctx, cash_point_id: int, data: Annotated[AgentForm, FORM]) -> Template | Redirect:
    await points.get_point(ctx.conn, cash_point_id)
    async with attempt(ctx) as tried:
        await agents.create_agent(ctx.conn, cash_point_id, data.name[:1000], user_id=ctx.principal.user_id)
    if tried.refused:
        return await _detail(ctx, cash_point_id, message=tried.message, status_code=422)
    return Redirect(path=f"/cash/points/{cash_point_id}",
                    query_params={"notice": "Агент добавлен: выдайте ему код подключения"}, status_code=303)


@post("/cash/agents/{edge_agent_id:int}/code", dependencies=DEPS, guards=ADMIN, include_in_schema=False,
      status_code=200)
async def agent_code(ctx: Ctx, request: Request, edge_agent_id: int) -> Template:
    agent = await agents.get_agent(ctx.conn, edge_agent_id)
    issued: dict[str, Any] | None = None
    async with attempt(ctx) as tried:
        issued = await issue(ctx, request, edge_agent_id)
    if tried.refused:
        return await _detail(ctx, agent["cash_point_id"], message=tried.message, status_code=409)
    assert issued is not None
    return await _detail(ctx, agent["cash_point_id"], issued={**issued, "agent_name": agent["name"]})


@post("/cash/agents/{edge_agent_id:int}/revoke", dependencies=DEPS, guards=ADMIN, include_in_schema=False,
      status_code=200)
async def agent_revoke(ctx: Ctx, edge_agent_id: int) -> Redirect | Template:
    agent = await agents.get_agent(ctx.conn, edge_agent_id)
    try:
        await revoke(ctx, edge_agent_id)
    except DomainError as exc:
        return await _detail(ctx, agent["cash_point_id"], message=exc.message, status_code=409)
    return Redirect(path=f"/cash/points/{agent['cash_point_id']}",
                    query_params={"notice": f"Ключ агента «{agent['name']}» отозван"}, status_code=303)


ROUTES = [points_list_page, point_create, point_page, point_agents_part, point_update, agent_create, agent_code,
          agent_revoke]
