"""Requests and works over the API (permission resource "requests": view to read, edit to work on requests,
admin to configure divisions, executors and routes).

Divisions (heads, parents) are served by `divisions_api.py` (`/api/divisions`).

Real-time events (published after commit, see README): request.created, request.assigned, request.phase,
request.overdue, request.escalated — each with the request's id, number, kind, status, assignee_user_id,
phase_id, phase, deadline (ISO) and escalation_level.
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Response, get, patch, post
from litestar.params import Parameter

from aquabill.base.errors import Invalid
from aquabill.billing_core.periods import Period
from aquabill.contact_center.requests import flow, setup, works
from aquabill.contact_center.requests.store import (
    Outbox,
    RequestFilter,
    list_requests,
    my_requests,
    request_card,
)
from aquabill.platform.auth.permissions import requires
from aquabill.platform.realtime import publish
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.paging import Limit, Offset, Search, page

log = logging.getLogger(__name__)
VIEW, EDIT, ADMIN = ([requires("requests", a)] for a in ("view", "edit", "admin"))
TAGS = ["requests"]

Kind = Annotated[str, msgspec.Meta(pattern=r"^(emergency|planned|paid)$", description="emergency | planned | paid")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Note = Annotated[str, msgspec.Meta(max_length=4000)]
Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_-]{1,32}$")]
Minutes = Annotated[int, msgspec.Meta(ge=1, le=525600)]
PeriodStr = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-\d{2}$", description="Период ГГГГ-ММ")]
StatusQuery = Annotated[str | None, Parameter(pattern=r"^(new|assigned|in_work|done|closed|cancelled)$")]
KindQuery = Annotated[str | None, Parameter(pattern=r"^(emergency|planned|paid)$")]


def now() -> datetime:
    return datetime.now(UTC)


def _given(data: msgspec.Struct) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}


def publish_after_commit(ctx: TenantScope, out: Outbox) -> None:
    async def send() -> None:
        for event_type, data in out.events:
            try:
                await publish(ctx.core.redis, ctx.core.keys, ctx.tenant.id, event_type, data)
            except Exception:  # the change is committed; a lost notification must not fail the request
                log.exception("publishing %s failed", event_type)

    if out.events:
        ctx.after_commit(send)


# ---- configuration: executors, routes (divisions: divisions_api.py) ---------------------------------------------------------

class ExecutorIn(msgspec.Struct):
    user_id: int
    division_id: int
    cap: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 5
    house_ids: list[int] = msgspec.field(default_factory=list)
    street_ids: list[int] = msgspec.field(default_factory=list)
    active: bool = True


class ExecutorPatch(msgspec.Struct):
    division_id: int | None = None
    cap: Annotated[int, msgspec.Meta(ge=0, le=1000)] | None = None
    house_ids: list[int] | None = None
    street_ids: list[int] | None = None
    active: bool | None = None


class PhaseIn(msgspec.Struct):
    name: Name
    time_limit_minutes: Minutes
    ordinal: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None
    working_time: bool = False
    reaction_minutes: Minutes | None = None
    executor_user_id: int | None = None
    division_id: int | None = None
    required_documents: list[Annotated[str, msgspec.Meta(max_length=200)]] = msgspec.field(default_factory=list)


class PhasePatch(msgspec.Struct):
    name: Name | None = None
    time_limit_minutes: Minutes | None = None
    ordinal: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None
    working_time: bool | None = None
    reaction_minutes: Minutes | None = None
    executor_user_id: int | None = None
    division_id: int | None = None
    required_documents: list[Annotated[str, msgspec.Meta(max_length=200)]] | None = None


class RouteIn(msgspec.Struct):
    code: Code
    name: Name
    kind: Kind
    active: bool = True
    phases: list[PhaseIn] = msgspec.field(default_factory=list)


class RoutePatch(msgspec.Struct):
    name: Name | None = None
    active: bool | None = None


@get("/api/executors", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def executors(ctx: Ctx, division_id: int | None = None) -> dict:
    items = await setup.list_executors(ctx.conn, division_id)
    return {"items": items, "total": len(items)}


@post("/api/executors", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def create_executor(ctx: Ctx, data: ExecutorIn) -> dict:
    return await setup.save_executor(ctx.conn, None, _given(data))


@get("/api/executors/{executor_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_executor(ctx: Ctx, executor_id: int) -> dict:
    return await setup.get_executor(ctx.conn, executor_id)


@patch("/api/executors/{executor_id:int}", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def patch_executor(ctx: Ctx, executor_id: int, data: ExecutorPatch) -> dict:
    return await setup.save_executor(ctx.conn, executor_id, _given(data))


@get("/api/request-routes", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def routes(ctx: Ctx, kind: KindQuery = None) -> dict:
    items = await setup.list_routes(ctx.conn, kind=kind)
    return {"items": items, "total": len(items)}


@post("/api/request-routes", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def create_route(ctx: Ctx, data: RouteIn) -> dict:
    values = _given(data)
    values["phases"] = [msgspec.structs.asdict(p) for p in data.phases]
    return await setup.save_route(ctx.conn, None, values)


@get("/api/request-routes/{request_route_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_route(ctx: Ctx, request_route_id: int) -> dict:
    return await setup.get_route(ctx.conn, request_route_id)


@patch("/api/request-routes/{request_route_id:int}", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def patch_route(ctx: Ctx, request_route_id: int, data: RoutePatch) -> dict:
    return await setup.save_route(ctx.conn, request_route_id, _given(data))


@post("/api/request-routes/{request_route_id:int}/phases", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def add_phase(ctx: Ctx, request_route_id: int, data: PhaseIn) -> dict:
    await setup.get_route(ctx.conn, request_route_id)
    return await setup.save_phase(ctx.conn, None, {**msgspec.structs.asdict(data), "route_id": request_route_id})


@patch("/api/route-phases/{route_phase_id:int}", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def patch_phase(ctx: Ctx, route_phase_id: int, data: PhasePatch) -> dict:
    return await setup.save_phase(ctx.conn, route_phase_id, _given(data))


# ---- requests --------------------------------------------------------------------------------------------

class RequestIn(msgspec.Struct):
    """Directly (kind, description and an account, a house or an address) or from an appeal (`appeal_id`)."""

    kind: Kind
    description: Note = ""
    appeal_id: int | None = None
    account_id: int | None = None
    house_id: int | None = None
    address_text: Annotated[str, msgspec.Meta(max_length=500)] = ""
    route_id: int | None = None


class AssignIn(msgspec.Struct):
    user_id: int


class NoteIn(msgspec.Struct):
    note: Note = ""


class DocumentIn(msgspec.Struct):
    """A document of the current phase: a file (`content_base64`) or only its name and a note."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    file_name: Annotated[str, msgspec.Meta(max_length=300)] = ""
    content_base64: str | None = None
    note: Note = ""


class MaterialIn(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    quantity: Decimal
    price: Decimal
    unit: Annotated[str, msgspec.Meta(max_length=20)] = "шт."


class WorkIn(msgspec.Struct):
    description: Note
    labour_hours: Decimal = Decimal("0")
    labour_cost: Decimal = Decimal("0")
    materials: list[MaterialIn] = msgspec.field(default_factory=list)
    performed_on: date | None = None


class ActIn(msgspec.Struct):
    act_date: date | None = None
    period: PeriodStr | None = None  # default: the open period
    account_id: int | None = None  # default: the request's account


@post("/api/requests", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def create_request(ctx: Ctx, data: RequestIn) -> dict:
    """Create a request; its route's first phase starts and it is assigned automatically when possible."""
    out = Outbox()
    req = await flow.create_request(ctx.conn, msgspec.structs.asdict(data), by=ctx.principal.user_id, now=now(),
                                    out=out)
    publish_after_commit(ctx, out)
    return await request_card(ctx.conn, req["id"], now())


@get("/api/requests", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_all(ctx: Ctx, status: StatusQuery = None, kind: KindQuery = None, assignee_user_id: int | None = None,
                   house_id: int | None = None, account_id: int | None = None, overdue: bool = False,
                   date_from: date | None = None, date_to: date | None = None, q: Search = "",
                   limit: Limit = 50, offset: Offset = 0) -> dict:
    """Requests, newest first; `overdue=true`: only those past their phase's deadline (most overdue first)."""
    f = RequestFilter(status=status, kind=kind, assignee_user_id=assignee_user_id, house_id=house_id,
                      account_id=account_id, overdue_only=overdue, created_from=date_from, created_to=date_to, q=q)
    items, total = await list_requests(ctx.conn, f, now(), limit=limit, offset=offset)
    return page(items, total, limit, offset)


@get("/api/requests/my", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def mine(ctx: Ctx) -> dict:
    """The caller's open requests with their deadlines (SLA countdowns of the live console)."""
    items = await my_requests(ctx.conn, ctx.principal.user_id, now())
    return {"items": items, "total": len(items), "now": now()}


@get("/api/requests/{request_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_request(ctx: Ctx, request_id: int) -> dict:
    return await request_card(ctx.conn, request_id, now())


async def _act(ctx: Ctx, request_id: int, fn, **kw: Any) -> dict:
    out = Outbox()
    await fn(ctx.conn, request_id, by=ctx.principal.user_id, now=now(), out=out, **kw)
    publish_after_commit(ctx, out)
    return await request_card(ctx.conn, request_id, now())


@post("/api/requests/{request_id:int}/accept", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200)
async def accept(ctx: Ctx, request_id: int) -> dict:
    """The assignee accepts the request."""
    return await _act(ctx, request_id, flow.accept)


@post("/api/requests/{request_id:int}/assign", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200)
async def assign(ctx: Ctx, request_id: int, data: AssignIn) -> dict:
    return await _act(ctx, request_id, flow.assign, user_id=data.user_id)


@post("/api/requests/{request_id:int}/advance", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200)
async def advance(ctx: Ctx, request_id: int) -> dict:
    """Complete the current phase (refused while its required documents are missing)."""
    return await _act(ctx, request_id, flow.advance)


@post("/api/requests/{request_id:int}/close", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200)
async def close(ctx: Ctx, request_id: int, data: NoteIn | None = None) -> dict:
    return await _act(ctx, request_id, flow.close, note=(data or NoteIn()).note)


@post("/api/requests/{request_id:int}/cancel", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200)
async def cancel(ctx: Ctx, request_id: int, data: NoteIn) -> dict:
    return await _act(ctx, request_id, flow.cancel, note=data.note)


@post("/api/requests/{request_id:int}/documents", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def add_document(ctx: Ctx, request_id: int, data: DocumentIn) -> dict:
    content = None
    if data.content_base64 is not None:
        try:
            content = base64.b64decode(data.content_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Invalid("Содержимое файла: ожидается base64",
                          fields=[{"field": "content_base64", "message": "не base64"}]) from exc
    return await works.add_document(ctx.conn, request_id, name=data.name, file_name=data.file_name, content=content,
                                    note=data.note, by=ctx.principal.user_id, now=now(), out=Outbox())


@get("/api/request-documents/{request_document_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def document_file(ctx: Ctx, request_document_id: int) -> Response:
    name, content = await works.document_content(ctx.conn, request_document_id)
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@post("/api/requests/{request_id:int}/works", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def add_work(ctx: Ctx, request_id: int, data: WorkIn) -> dict:
    values = msgspec.structs.asdict(data)
    values["materials"] = [msgspec.structs.asdict(m) for m in data.materials]
    return await works.add_work(ctx.conn, request_id, values, by=ctx.principal.user_id, now=now(), out=Outbox())


@post("/api/requests/{request_id:int}/act", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def make_act(ctx: Ctx, request_id: int, data: ActIn | None = None) -> dict:
    """The act of completed works of a done paid request: posts a one-off charge on the account."""
    data = data or ActIn()
    try:
        period = Period.parse(data.period) if data.period else None
    except ValueError as exc:
        raise Invalid(str(exc), fields=[{"field": "period", "message": str(exc)}]) from exc
    return await works.make_act(ctx.conn, request_id, act_date=data.act_date, period=period,
                                account_id=data.account_id, by=ctx.principal.user_id, now=now(), out=Outbox())


ROUTES = [executors, create_executor, get_executor,
          patch_executor, routes, create_route, get_route, patch_route, add_phase, patch_phase, create_request,
          list_all, mine, get_request, accept, assign, advance, close, cancel, add_document, document_file,
          add_work, make_act]
