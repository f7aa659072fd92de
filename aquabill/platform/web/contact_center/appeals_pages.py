"""Appeals pages: the journal with filters and paging plus a form to register an appeal (`/appeals`), and an
appeal's card with the telephonograms affecting its address, its e-mail and attachments, and a form to
record the result (`/appeals/{id}`). Plain server-rendered forms; a refusal is shown on the page and writes
nothing (a savepoint rolls the attempt back)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec
from litestar import get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from aquabill.base.errors import Invalid, NotFound
from aquabill.billing_core.registry.queries import house_choices, street_choices
from aquabill.contact_center.appeals import mail_store, store
from aquabill.contact_center.appeals import telephonograms as tg
from aquabill.contact_center.appeals.service import (
    CREATED,
    UPDATED,
    appeal_card,
    create_appeal,
    update_appeal,
)
from aquabill.contact_center.appeals.telephonograms import KINDS as TG_KINDS
from aquabill.contact_center.requests.setup import KINDS as REQUEST_KINDS
from aquabill.contact_center.requests.store import STATUSES as REQUEST_STATUSES
from aquabill.contact_center.requests.store import requests_of_appeal
from aquabill.platform.auth.permissions import requires
from aquabill.platform.auth.users import active_users
from aquabill.platform.web.contact_center.appeals_api import announce
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.forms import (
    FORM,
    attempt,
    or_none,
    parse_date,
    parse_id,
    parse_ids,
    parse_moment,
    parse_text,
)
from aquabill.platform.web.paging import Offset

PAGE = 25
Field = Annotated[str, Parameter(max_length=200)]


class AppealForm(msgspec.Struct):
    kind: str = "other"
    source: str = "phone"
    account_number: str = ""
    address_text: str = ""
    applicant_name: str = ""
    applicant_phone: str = ""
    applicant_email: str = ""
    subject: str = ""
    text: str = ""


class ResultForm(msgspec.Struct):
    status: str = ""
    result: str = ""
    take: str = ""  # "1": the caller becomes the appeal's operator


def _ctx(ts: TenantScope, **kw: Any) -> dict[str, Any]:
    return {"principal": ts.principal, "tenant": ts.tenant, "can_edit": ts.principal.can("appeals", "edit"),
            "sources": store.SOURCES, "statuses": store.STATUSES, "tg_kinds": TG_KINDS, **kw}


async def _operators(ctx: Ctx) -> list[dict[str, Any]]:
    return await active_users(ctx.conn)


async def _journal(ctx: Ctx, filters: dict[str, str], offset: int, **kw: Any) -> Template:
    f = store.AppealFilter(
        date_from=or_none(parse_date, filters["date_from"], "date_from"),
        date_to=or_none(parse_date, filters["date_to"], "date_to"),
        operator_id=or_none(parse_id, filters["operator_id"], "operator_id"), kind=filters["kind"] or None,
        source=filters["source"] if filters["source"] in store.SOURCES else None,
        status=filters["status"] if filters["status"] in store.STATUSES else None,
        address=filters["address"], result=filters["result"], q=filters["q"], zone=ctx.core.settings.timezone)
    items, total = await store.list_appeals(ctx.conn, f, limit=PAGE, offset=offset)
    query = urlencode({k: v for k, v in filters.items() if v})
    return Template("contact_center/appeals.html", context=_ctx(
        ctx, items=items, total=total, offset=offset, limit=PAGE, filters=filters, query=query,
        kinds=await store.list_kinds(ctx.conn), operators=await _operators(ctx),
        form=kw.pop("form", None) or AppealForm(), **kw))


@get("/appeals", dependencies=DEPS, guards=[requires("appeals", "view")], include_in_schema=False)
async def appeals_page(ctx: Ctx, date_from: Field = "", date_to: Field = "", operator_id: Field = "",
                       kind: Field = "", source: Field = "", status: Field = "", address: Field = "",
                       result: Field = "", q: Field = "", offset: Offset = 0) -> Template:
    filters = {"date_from": date_from, "date_to": date_to, "operator_id": operator_id, "kind": kind,
               "source": source, "status": status, "address": address, "result": result, "q": q}
    return await _journal(ctx, filters, offset)


@post("/appeals", dependencies=DEPS, guards=[requires("appeals", "edit")], include_in_schema=False,
      status_code=200)
async def appeal_submit(ctx: Ctx, data: Annotated[AppealForm, FORM]) -> Template | Redirect:
    values: dict[str, Any] = {
        "kind": data.kind, "source": data.source, "address_text": parse_text(data.address_text, 300),
        "applicant_name": parse_text(data.applicant_name, 300),
        "applicant_phone": parse_text(data.applicant_phone, 32),
        "applicant_email": parse_text(data.applicant_email, 300), "subject": parse_text(data.subject, 300),
        "text": parse_text(data.text, 100_000), "operator_id": ctx.principal.user_id}
    async with attempt(ctx) as tried:
        number = data.account_number.strip()
        if number:
            found = await store.accounts_by_numbers(ctx.conn, [number])
            if number not in found:
                raise NotFound(f"Лицевой счёт № {number} не найден")
            values["account_id"] = found[number]
        if not (values["subject"] or values["text"]):
            raise Invalid("Напишите тему или текст обращения")
        appeal = await create_appeal(ctx.conn, values, user_id=ctx.principal.user_id)
    if tried.refused:
        empty = dict.fromkeys(("date_from", "date_to", "operator_id", "kind", "source", "status", "address",
                               "result", "q"), "")
        return await _journal(ctx, empty, 0, form=data, message=tried.message)
    announce(ctx, CREATED, appeal)
    return Redirect(path=f"/appeals/{appeal['id']}", status_code=303)


async def _card_page(ctx: Ctx, appeal_id: int, message: str = "") -> Template:
    appeal = await appeal_card(ctx.conn, appeal_id, ctx.core.settings.timezone)
    mail = await mail_store.get_message(ctx.conn, appeal["mail_message_id"]) if appeal["mail_message_id"] else None
    requests = [{**r, "status_name": REQUEST_STATUSES.get(r["status"], r["status"])}
                for r in await requests_of_appeal(ctx.conn, appeal_id)]
    return Template("contact_center/appeal_card.html", context=_ctx(
        ctx, a=appeal, mail=mail, message=message, requests=requests, request_kinds=REQUEST_KINDS,
        can_make_request=ctx.principal.can("requests", "edit")))


@get("/appeals/{appeal_id:int}", dependencies=DEPS, guards=[requires("appeals", "view")], include_in_schema=False)
async def appeal_page(ctx: Ctx, appeal_id: int) -> Template:
    return await _card_page(ctx, appeal_id)


@post("/appeals/{appeal_id:int}", dependencies=DEPS, guards=[requires("appeals", "edit")], include_in_schema=False,
      status_code=200)
async def result_submit(ctx: Ctx, appeal_id: int, data: Annotated[ResultForm, FORM]) -> Template | Redirect:
    changes: dict[str, Any] = {"result": parse_text(data.result, 100_000)}
    if data.status:
        changes["status"] = data.status
    if data.take == "1":
        changes["operator_id"] = ctx.principal.user_id
    async with attempt(ctx) as tried:
        appeal, changed = await update_appeal(ctx.conn, appeal_id, changes)
    if isinstance(tried.error, NotFound):
        raise tried.error  # no such appeal: a 404, not a refusal shown on its card
    if tried.refused:
        return await _card_page(ctx, appeal_id, tried.message)
    if changed:
        announce(ctx, UPDATED, appeal, changed)
    return Redirect(path=f"/appeals/{appeal_id}", status_code=303)


@get("/appeals/mail", dependencies=DEPS, guards=[requires("appeals", "view")], include_in_schema=False)
async def mail_page(ctx: Ctx, q: Field = "", offset: Offset = 0) -> Template:
    """The mail journal: every message received, its appeal and attachments, and the mailboxes' state."""
    items, total = await mail_store.list_messages(ctx.conn, q=q, limit=PAGE, offset=offset)
    boxes = await mail_store.list_mailboxes(ctx.conn) if ctx.principal.can("appeals", "admin") else []
    return Template("contact_center/mail.html", context=_ctx(ctx, items=items, total=total, q=q, offset=offset, limit=PAGE,
                                                      mailboxes=boxes))


class TelephonogramForm(msgspec.Struct):
    number: str = ""
    from_org: str = ""
    kind: str = "planned"
    text: str = ""
    valid_from: str = ""
    valid_to: str = ""
    house_ids: list[str] | str = ""  # a form sends one value as a string, several as a list
    street_ids: list[str] | str = ""


async def _telephonograms_page(ctx: Ctx, offset: int, form: TelephonogramForm | None = None,
                               message: str = "") -> Template:
    items, total = await tg.list_telephonograms(ctx.conn, limit=PAGE, offset=offset)
    houses, streets = await house_choices(ctx.conn), await street_choices(ctx.conn)
    return Template("contact_center/telephonograms.html", context=_ctx(
        ctx, items=items, total=total, offset=offset, limit=PAGE, houses=houses, streets=streets,
        form=form or TelephonogramForm(), message=message))


@get("/telephonograms", dependencies=DEPS, guards=[requires("appeals", "view")], include_in_schema=False)
async def telephonograms_page(ctx: Ctx, offset: Offset = 0) -> Template:
    return await _telephonograms_page(ctx, offset)


@post("/telephonograms", dependencies=DEPS, guards=[requires("appeals", "edit")], include_in_schema=False,
      status_code=200)
async def telephonogram_submit(ctx: Ctx, data: Annotated[TelephonogramForm, FORM]) -> Template | Redirect:
    zone = ZoneInfo(ctx.core.settings.timezone)
    async with attempt(ctx) as tried:
        valid_from = parse_moment(data.valid_from, "valid_from")
        valid_to = parse_moment(data.valid_to, "valid_to")
        houses, streets = parse_ids(data.house_ids, "house_ids"), parse_ids(data.street_ids, "street_ids")
        if not data.from_org.strip() or not data.text.strip() or valid_from is None:
            raise Invalid("Укажите организацию, текст и начало действия")
        if data.kind not in tg.KINDS:
            raise Invalid("Неизвестный вид телефонограммы")
        if not houses and not streets:
            raise Invalid("Выберите дома или улицы")
        valid_from = valid_from if valid_from.tzinfo else valid_from.replace(tzinfo=zone)
        valid_to = valid_to if valid_to is None or valid_to.tzinfo else valid_to.replace(tzinfo=zone)
        if valid_to is not None and valid_to < valid_from:
            raise Invalid("Окончание раньше начала")
        missing = await tg.missing_places(ctx.conn, houses, streets)
        if missing:
            raise NotFound("Не найдены: " + ", ".join(missing))
        await tg.insert_telephonogram(
            ctx.conn, number=parse_text(data.number, 32), from_org=parse_text(data.from_org, 300),
            kind=data.kind, body=parse_text(data.text, 10_000), valid_from=valid_from, valid_to=valid_to,
            received_at=None, house_ids=houses, street_ids=streets, user_id=ctx.principal.user_id)
    if tried.refused:
        return await _telephonograms_page(ctx, 0, data, tried.message)
    return Redirect(path="/telephonograms", status_code=303)


ROUTES = [appeals_page, appeal_submit, mail_page, appeal_page, result_submit, telephonograms_page,
          telephonogram_submit]
