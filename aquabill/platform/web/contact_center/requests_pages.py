"""Requests pages: the list (filters, overdue rows highlighted, SLA time left, a form to register a request)
and a request's card (phase, deadline, required documents, journal, documents, works, act) with the forms
that work on it: accept, complete the phase, assign, attach a document, record works, make the act, close,
cancel. A request is also made from an appeal's card (`appeal_id`). Plain server-rendered forms calling the
same services as the API (`requests_api.py`); a refusal is shown on the page and writes nothing (a savepoint
rolls the attempt back)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import Parameter
from litestar.response import Redirect, Template

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.registry.queries import account_by_number
from aquabill.contact_center.appeals.store import appeal_origin
from aquabill.contact_center.requests import flow, works
from aquabill.contact_center.requests.setup import KINDS, list_routes
from aquabill.contact_center.requests.store import (
    EVENT_KINDS,
    OPEN,
    STATUSES,
    Outbox,
    RequestFilter,
    list_requests,
    load_request,
    request_card,
)
from aquabill.platform.auth.permissions import requires
from aquabill.platform.auth.users import active_users
from aquabill.platform.web.contact_center.requests_api import publish_after_commit
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.forms import attempt, parse_date, parse_id, parse_period, parse_text
from aquabill.platform.web.paging import Offset

VIEW = [requires("requests", "view")]
EDIT = [requires("requests", "edit")]
PAGE = 50
MAX_UPLOAD = 20 * 1024 * 1024 + 64 * 1024
Choice = Annotated[str, Parameter(max_length=16)]


def left(seconds: int | None) -> str:
    """Time left as «2 ч 05 мин», overdue as «−0 ч 30 мин»."""
    if seconds is None:
        return ""
    sign = "−" if seconds < 0 else ""
    minutes = abs(seconds) // 60
    days, rest = divmod(minutes, 1440)
    return sign + (f"{days} д " if days else "") + f"{rest // 60} ч {rest % 60:02d} мин"


def _ctx(ts: TenantScope, **kw: Any) -> dict[str, Any]:
    return {"principal": ts.principal, "tenant": ts.tenant, "statuses": STATUSES, "kinds": KINDS,
            "event_kinds": EVENT_KINDS, "left": left, "can_edit": ts.principal.can("requests", "edit"),
            "open_statuses": OPEN, **kw}


async def _list_page(ctx: Ctx, status: str = "", kind: str = "", overdue: bool = False, offset: int = 0,
                     form: dict[str, str] | None = None, message: str = "") -> Template:
    f = RequestFilter(status=status if status in STATUSES else None, kind=kind if kind in KINDS else None,
                      overdue_only=overdue)
    items, total = await list_requests(ctx.conn, f, datetime.now(UTC), limit=PAGE, offset=offset)
    routes = [r for r in await list_routes(ctx.conn) if r["active"]]
    return Template("contact_center/requests.html", context=_ctx(ctx, items=items, total=total, offset=offset, limit=PAGE,
                                                  status=f.status or "", kind=f.kind or "", overdue=overdue,
                                                  routes=routes, form=form or {}, message=message))


@get("/requests", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def requests_page(ctx: Ctx, status: Choice = "", kind: Choice = "", overdue: bool = False,
                        offset: Offset = 0) -> Template:
    return await _list_page(ctx, status, kind, overdue, offset)


async def _account_by_number(ctx: Ctx, number: str) -> int | None:
    if not number:
        return None
    found = await account_by_number(ctx.conn, number)
    if found is None:
        raise NotFound(f"Лицевой счёт № {number} не найден", fields=[{"field": "account_number", "message": "нет"}])
    return found


async def _from_appeal(ctx: Ctx, appeal_id: int, values: dict[str, Any]) -> None:
    """A request made from an appeal takes the appeal's account, house, address and text unless given."""
    row = await appeal_origin(ctx.conn, appeal_id)
    if row is None:
        raise NotFound(f"Обращение № {appeal_id} не найдено")
    if values["account_id"] is None and values["house_id"] is None:
        values["account_id"], values["house_id"] = row["account_id"], row["house_id"]
    values["address_text"] = values["address_text"] or row["address_text"]
    values["description"] = values["description"] or "\n".join(x for x in (row["subject"], row["text"]) if x)[:4000]


@post("/requests", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def request_submit(ctx: Ctx, request: Request) -> Template | Redirect:
    """Register a request (the list's form, or the appeal card's «Создать заявку»)."""
    form = await request.form()
    raw = {k: parse_text(form.get(k)) for k in ("kind", "description", "account_number", "house_id",
                                                "address_text", "appeal_id", "route_id")}
    out = Outbox()
    async with attempt(ctx) as tried:
        values: dict[str, Any] = {
            "kind": raw["kind"], "description": raw["description"], "address_text": raw["address_text"][:500],
            "account_id": await _account_by_number(ctx, raw["account_number"]),
            **{k: parse_id(raw[k], k) for k in ("house_id", "appeal_id", "route_id")}}
        if values["appeal_id"] is not None:
            await _from_appeal(ctx, values["appeal_id"], values)
        req = await flow.create_request(ctx.conn, values, by=ctx.principal.user_id, now=datetime.now(UTC),
                                        out=out)
    if tried.refused:
        return await _list_page(ctx, form=raw, message=tried.message)
    publish_after_commit(ctx, out)
    return Redirect(path=f"/requests/{req['id']}", status_code=303)


async def _card_page(ctx: Ctx, request_id: int, message: str = "", form: dict[str, str] | None = None) -> Template:
    card = await request_card(ctx.conn, request_id, datetime.now(UTC))
    users = await active_users(ctx.conn)
    return Template("contact_center/request_card.html", context=_ctx(ctx, r=card, users=users, message=message, form=form or {},
                                                      today=datetime.now(UTC).date()))


@get("/requests/{request_id:int}", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def request_page(ctx: Ctx, request_id: int) -> Template:
    return await _card_page(ctx, request_id)


async def _document(ctx: Ctx, request_id: int, form: Any, now: datetime, out: Outbox) -> None:
    upload = form.get("file")
    content, file_name = None, ""
    if isinstance(upload, UploadFile) and upload.filename:
        content, file_name = await upload.read(), upload.filename
    await works.add_document(ctx.conn, request_id, name=parse_text(form.get("name"), 300),
                             file_name=file_name, content=content, note=parse_text(form.get("note")),
                             by=ctx.principal.user_id, now=now, out=out)


async def _work(ctx: Ctx, request_id: int, form: Any, now: datetime, out: Outbox) -> None:
    names, units = form.getall("material_name", []), form.getall("material_unit", [])
    quantities, prices = form.getall("material_quantity", []), form.getall("material_price", [])
    materials = []
    for i, name in enumerate(names):
        if isinstance(name, str) and name.strip():
            materials.append({"name": name.strip(), "unit": (units[i] if i < len(units) else "") or "шт.",
                              "quantity": quantities[i] if i < len(quantities) else "",
                              "price": prices[i] if i < len(prices) else ""})
    await works.add_work(ctx.conn, request_id, {
        "description": parse_text(form.get("description")),
        "labour_hours": parse_text(form.get("labour_hours"), 20),
        "labour_cost": parse_text(form.get("labour_cost"), 20), "materials": materials,
        "performed_on": parse_date(parse_text(form.get("performed_on"), 20), "performed_on")},
        by=ctx.principal.user_id, now=now, out=out)


async def _act(ctx: Ctx, request_id: int, form: Any, now: datetime, out: Outbox) -> None:
    raw_period = parse_text(form.get("period"), 20)
    period = parse_period(raw_period, message=f"Неверный период: {raw_period}")
    act_date = parse_date(parse_text(form.get("act_date"), 20), "act_date")
    account_id = await _account_by_number(ctx, parse_text(form.get("account_number"), 32))
    await works.make_act(ctx.conn, request_id, act_date=act_date, period=period, account_id=account_id,
                         by=ctx.principal.user_id, now=now, out=out)


async def _apply(ctx: Ctx, request_id: int, action: str, form: Any, now: datetime, out: Outbox) -> None:
    by = ctx.principal.user_id
    if action == "accept":
        await flow.accept(ctx.conn, request_id, by=by, now=now, out=out)
    elif action == "advance":
        await flow.advance(ctx.conn, request_id, by=by, now=now, out=out)
    elif action == "assign":
        user_id = parse_id(parse_text(form.get("user_id"), 12), "user_id")
        if user_id is None:
            raise Invalid("Выберите исполнителя", fields=[{"field": "user_id", "message": "не выбран"}])
        await flow.assign(ctx.conn, request_id, user_id, by=by, now=now, out=out)
    elif action == "document":
        await _document(ctx, request_id, form, now, out)
    elif action == "work":
        await _work(ctx, request_id, form, now, out)
    elif action == "act":
        await _act(ctx, request_id, form, now, out)
    elif action == "close":
        await flow.close(ctx.conn, request_id, by=by, now=now, note=parse_text(form.get("note")), out=out)
    elif action == "cancel":
        await flow.cancel(ctx.conn, request_id, by=by, now=now, note=parse_text(form.get("note")), out=out)
    else:
        raise Invalid("Неизвестное действие", fields=[{"field": "action", "message": action[:40]}])


@post("/requests/{request_id:int}", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200,
      request_max_body_size=MAX_UPLOAD)
async def request_action(ctx: Ctx, request_id: int, request: Request) -> Template | Redirect:
    """One form per action (`action`: accept, advance, assign, document, work, act, close, cancel)."""
    await load_request(ctx.conn, request_id)  # 404 for a request that is not there
    form = await request.form()
    action, out = parse_text(form.get("action"), 20), Outbox()
    async with attempt(ctx) as tried:
        await _apply(ctx, request_id, action, form, datetime.now(UTC), out)
    if tried.refused:
        echoed = {k: v for k, v in form.items() if isinstance(v, str)}
        return await _card_page(ctx, request_id, tried.message, echoed)
    publish_after_commit(ctx, out)
    return Redirect(path=f"/requests/{request_id}", status_code=303)


ROUTES = [requests_page, request_submit, request_page, request_action]
