"""Appeals pages: the journal with filters and paging plus a form to register an appeal (`/appeals`), and an
appeal's card with the telephonograms affecting its address, its e-mail and attachments, and a form to
record the result (`/appeals/{id}`). Plain server-rendered forms; a refusal is shown on the page and writes
nothing (a savepoint rolls the attempt back)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec
from litestar import get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template
from sqlalchemy import text

from aquabill.base.errors import DomainError, Invalid, NotFound
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
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.contact_center.appeals_api import announce
from aquabill.platform.web.context import Ctx, TenantScope, provide_tenant_scope
from aquabill.platform.web.paging import Offset

DEPS = {"ctx": Provide(provide_tenant_scope)}
FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
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


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


def _int(raw: str) -> int | None:
    return int(raw) if raw.strip().isdigit() else None


async def _operators(ctx: Ctx) -> list[dict[str, Any]]:
    rows = await ctx.conn.execute(text(
        "SELECT id, coalesce(nullif(full_name, ''), login) AS name FROM users WHERE is_active ORDER BY 2"))
    return [dict(r._mapping) for r in rows]


async def _journal(ctx: Ctx, filters: dict[str, str], offset: int, **kw: Any) -> Template:
    f = store.AppealFilter(
        date_from=_day(filters["date_from"]), date_to=_day(filters["date_to"]),
        operator_id=_int(filters["operator_id"]), kind=filters["kind"] or None,
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
        "kind": data.kind, "source": data.source, "address_text": data.address_text.strip()[:300],
        "applicant_name": data.applicant_name.strip()[:300], "applicant_phone": data.applicant_phone.strip()[:32],
        "applicant_email": data.applicant_email.strip()[:300], "subject": data.subject.strip()[:300],
        "text": data.text.strip()[:100_000], "operator_id": ctx.principal.user_id}
    try:
        async with ctx.conn.begin_nested():
            number = data.account_number.strip()
            if number:
                found = await store.accounts_by_numbers(ctx.conn, [number])
                if number not in found:
                    raise NotFound(f"Лицевой счёт № {number} не найден")
                values["account_id"] = found[number]
            if not (values["subject"] or values["text"]):
                raise Invalid("Напишите тему или текст обращения")
            appeal = await create_appeal(ctx.conn, values, user_id=ctx.principal.user_id)
    except DomainError as exc:
        empty = dict.fromkeys(("date_from", "date_to", "operator_id", "kind", "source", "status", "address",
                               "result", "q"), "")
        return await _journal(ctx, empty, 0, form=data, message=exc.message)
    announce(ctx, CREATED, appeal)
    return Redirect(path=f"/appeals/{appeal['id']}", status_code=303)


async def _card_page(ctx: Ctx, appeal_id: int, message: str = "") -> Template:
    appeal = await appeal_card(ctx.conn, appeal_id, ctx.core.settings.timezone)
    mail = await mail_store.get_message(ctx.conn, appeal["mail_message_id"]) if appeal["mail_message_id"] else None
    requests = [{**dict(r._mapping), "status_name": REQUEST_STATUSES.get(r.status, r.status)}
                for r in await ctx.conn.execute(text(
                    "SELECT id, number, status FROM requests WHERE appeal_id = :a ORDER BY id"), {"a": appeal_id})]
    return Template("contact_center/appeal_card.html", context=_ctx(
        ctx, a=appeal, mail=mail, message=message, requests=requests, request_kinds=REQUEST_KINDS,
        can_make_request=ctx.principal.can("requests", "edit")))


@get("/appeals/{appeal_id:int}", dependencies=DEPS, guards=[requires("appeals", "view")], include_in_schema=False)
async def appeal_page(ctx: Ctx, appeal_id: int) -> Template:
    return await _card_page(ctx, appeal_id)


@post("/appeals/{appeal_id:int}", dependencies=DEPS, guards=[requires("appeals", "edit")], include_in_schema=False,
      status_code=200)
async def result_submit(ctx: Ctx, appeal_id: int, data: Annotated[ResultForm, FORM]) -> Template | Redirect:
    changes: dict[str, Any] = {"result": data.result.strip()[:100_000]}
    if data.status:
        changes["status"] = data.status
    if data.take == "1":
        changes["operator_id"] = ctx.principal.user_id
    try:
        async with ctx.conn.begin_nested():
            appeal, changed = await update_appeal(ctx.conn, appeal_id, changes)
    except NotFound:
        raise
    except DomainError as exc:
        return await _card_page(ctx, appeal_id, exc.message)
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


def _ids(raw: list[str] | str) -> list[int]:
    return [int(x) for x in ([raw] if isinstance(raw, str) else raw) if x.strip().isdigit()]


async def _telephonograms_page(ctx: Ctx, offset: int, form: TelephonogramForm | None = None,
                               message: str = "") -> Template:
    items, total = await tg.list_telephonograms(ctx.conn, limit=PAGE, offset=offset)
    houses = [dict(r._mapping) for r in await ctx.conn.execute(text(
        "SELECT h.id, concat_ws(' ', st.kind, st.name) || ', д. ' || h.number AS address FROM houses h "
        "JOIN streets st ON st.id = h.street_id ORDER BY st.name, h.number"))]
    streets = [dict(r._mapping) for r in await ctx.conn.execute(text(
        "SELECT id, concat_ws(' ', kind, name) AS name FROM streets ORDER BY name"))]
    return Template("contact_center/telephonograms.html", context=_ctx(
        ctx, items=items, total=total, offset=offset, limit=PAGE, houses=houses, streets=streets,
        form=form or TelephonogramForm(), message=message))


@get("/telephonograms", dependencies=DEPS, guards=[requires("appeals", "view")], include_in_schema=False)
async def telephonograms_page(ctx: Ctx, offset: Offset = 0) -> Template:
    return await _telephonograms_page(ctx, offset)


def _moment(raw: str, field: str) -> datetime | None:
    """A datetime-local field (the organisation's time zone is the server's setting) or a date."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError as exc:
        raise Invalid(f"Неверная дата: {raw}", fields=[{"field": field, "message": "дата"}]) from exc


@post("/telephonograms", dependencies=DEPS, guards=[requires("appeals", "edit")], include_in_schema=False,
      status_code=200)
async def telephonogram_submit(ctx: Ctx, data: Annotated[TelephonogramForm, FORM]) -> Template | Redirect:
    zone = ZoneInfo(ctx.core.settings.timezone)
    try:
        async with ctx.conn.begin_nested():
            valid_from, valid_to = _moment(data.valid_from, "valid_from"), _moment(data.valid_to, "valid_to")
            houses, streets = _ids(data.house_ids), _ids(data.street_ids)
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
                ctx.conn, number=data.number.strip()[:32], from_org=data.from_org.strip()[:300], kind=data.kind,
                body=data.text.strip()[:10_000], valid_from=valid_from, valid_to=valid_to, received_at=None,
                house_ids=houses, street_ids=streets, user_id=ctx.principal.user_id)
    except DomainError as exc:
        return await _telephonograms_page(ctx, 0, data, exc.message)
    return Redirect(path="/telephonograms", status_code=303)


ROUTES = [appeals_page, appeal_submit, mail_page, appeal_page, result_submit, telephonograms_page,
          telephonogram_submit]
