"""Appeals over the API (permission resource "appeals": view to read, edit to change, admin for mailboxes).

- `/api/appeals`: the journal with filters (period, operator, address, result, kind, source, status,
  account, search), registering an appeal, one appeal (with the telephonograms affecting its address and,
  for an e-mail, its message and attachments), changing it (result, status, operator, …);
- `POST /api/appeals/from-call`: an appeal linked to a call record;
- `/api/mail/messages`: the mail journal, a message; `/api/mail/attachments/{id}`: an attachment as a file;
- `/api/mailboxes`: the tenant's IMAP mailboxes (the password is write-only), `…/poll` starts `mail.poll`;
- `/api/telephonograms`: notices of outages by house or street; `…/affecting?house_id=&on=`.
Events: `appeal.created`, `appeal.updated` (see `platform/appeals/service.py::event_data`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import msgspec
from litestar import Response, get, patch, post
from litestar.params import Parameter

from aquabill.base.errors import Invalid, NotFound, found
from aquabill.contact_center import appeals
from aquabill.contact_center.appeals import mail_store, store
from aquabill.contact_center.appeals import telephonograms as tg
from aquabill.platform.auth.permissions import requires
from aquabill.platform.jobs import store as jobs_store
from aquabill.platform.jobs.mail_poll import KIND as MAIL_POLL
from aquabill.platform.jobs.service import start_job
from aquabill.platform.realtime import publish
from aquabill.platform.secret_box import SecretBox
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.paging import Limit, Offset, Search, page

VIEW, EDIT, ADMIN = ([requires("appeals", a)] for a in ("view", "edit", "admin"))
TAGS = ["appeals"]
SAFE_INLINE = {"application/pdf", "image/png", "image/jpeg", "image/gif", "text/plain"}

Short = Annotated[str, msgspec.Meta(max_length=300)]
Long = Annotated[str, msgspec.Meta(max_length=100_000)]
Phone = Annotated[str, msgspec.Meta(max_length=32)]
KindCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9_-]{1,32}$")]
Source = Annotated[str, msgspec.Meta(pattern=r"^(phone|email|visit|portal|bot|letter)$")]
Status = Annotated[str, msgspec.Meta(pattern=r"^(new|in_work|answered|closed)$")]
TgKind = Annotated[str, msgspec.Meta(pattern=r"^(planned|emergency|info)$")]
SourceQuery = Annotated[str | None, Parameter(pattern=r"^(phone|email|visit|portal|bot|letter)$")]
StatusQuery = Annotated[str | None, Parameter(pattern=r"^(new|in_work|answered|closed)$")]
KindQuery = Annotated[str | None, Parameter(max_length=32)]
TextQuery = Annotated[str, Parameter(max_length=200)]
Ids = Annotated[list[int], msgspec.Meta(max_length=1000)]


class AppealIn(msgspec.Struct):
    kind: KindCode = "other"
    source: Source = "phone"
    received_at: datetime | None = None
    account_id: int | None = None
    house_id: int | None = None
    premise_id: int | None = None
    address_text: Short = ""
    applicant_name: Short = ""
    applicant_phone: Phone = ""
    applicant_email: Short = ""
    subject: Short = ""
    text: Long = ""
    result: Long = ""
    status: Status = "new"
    operator_id: int | None = None
    call_id: int | None = None


class AppealPatch(msgspec.Struct):
    """Only the fields given change; `operator_id: null` / `account_id: null` clear them."""

    kind: KindCode | msgspec.UnsetType = msgspec.UNSET
    status: Status | msgspec.UnsetType = msgspec.UNSET
    result: Long | msgspec.UnsetType = msgspec.UNSET
    operator_id: int | None | msgspec.UnsetType = msgspec.UNSET
    account_id: int | None | msgspec.UnsetType = msgspec.UNSET
    house_id: int | None | msgspec.UnsetType = msgspec.UNSET
    address_text: Short | msgspec.UnsetType = msgspec.UNSET
    applicant_name: Short | msgspec.UnsetType = msgspec.UNSET
    applicant_phone: Phone | msgspec.UnsetType = msgspec.UNSET
    applicant_email: Short | msgspec.UnsetType = msgspec.UNSET
    subject: Short | msgspec.UnsetType = msgspec.UNSET
    text: Long | msgspec.UnsetType = msgspec.UNSET


class FromCallIn(msgspec.Struct):
    call_id: int
    kind: KindCode = "other"
    account_id: int | None = None
    applicant_name: Short = ""
    applicant_phone: Phone = ""
    subject: Short = ""
    text: Long = ""
    result: Long = ""
    status: Status = "new"


class MailboxIn(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    host: Annotated[str, msgspec.Meta(min_length=1, max_length=253)]
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    password: Annotated[str, msgspec.Meta(max_length=500)] = ""
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 993
    use_ssl: bool = True
    folder: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] = "INBOX"
    enabled: bool = True
    kind: KindCode | None = None


class MailboxPatch(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    host: Annotated[str, msgspec.Meta(min_length=1, max_length=253)] | None = None
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=300)] | None = None
    password: Annotated[str, msgspec.Meta(max_length=500)] | None = None
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] | None = None
    use_ssl: bool | None = None
    folder: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None
    enabled: bool | None = None
    kind: KindCode | None = None


class TelephonogramIn(msgspec.Struct):
    from_org: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
    valid_from: datetime
    valid_to: datetime | None = None
    kind: TgKind = "planned"
    number: Annotated[str, msgspec.Meta(max_length=32)] = ""
    received_at: datetime | None = None
    house_ids: Ids = msgspec.field(default_factory=list)
    street_ids: Ids = msgspec.field(default_factory=list)


# ---- appeals ---------------------------------------------------------------------------------------------

@get("/api/appeal-kinds", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_kinds(ctx: Ctx) -> dict:
    items = await store.list_kinds(ctx.conn)
    return {"items": items, "sources": store.SOURCES, "statuses": store.STATUSES}


@get("/api/appeals", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_appeals(ctx: Ctx, date_from: date | None = None, date_to: date | None = None,
                       operator_id: int | None = None, house_id: int | None = None, address: TextQuery = "",
                       result: TextQuery = "", kind: KindQuery = None, source: SourceQuery = None,
                       status: StatusQuery = None, account_id: int | None = None, q: Search = "",
                       limit: Limit = 50, offset: Offset = 0) -> dict:
    """The journal, newest first; the period is by the day received (`date_from`, `date_to` inclusive)."""
    f = store.AppealFilter(date_from=date_from, date_to=date_to, operator_id=operator_id, house_id=house_id,
                           address=address, result=result, kind=kind, source=source, status=status,
                           account_id=account_id, q=q, zone=ctx.core.settings.timezone)
    items, total = await store.list_appeals(ctx.conn, f, limit=limit, offset=offset)
    return page(items, total, limit, offset)


def announce(ctx: Ctx, event: str, appeal: dict[str, Any], changed: list[str] | None = None) -> None:
    """Publish the appeal's event once the request's transaction has committed."""
    core, tenant_id = ctx.core, ctx.tenant.id

    async def after_commit() -> None:
        await publish(core.redis, core.keys, tenant_id, event, appeals.event_data(appeal, changed))

    ctx.after_commit(after_commit)


@post("/api/appeals", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def create(ctx: Ctx, data: AppealIn) -> dict:
    """Register an appeal (201); the operator defaults to the caller; the address comes from the account
    or the house unless written out."""
    values = msgspec.structs.asdict(data)
    values.setdefault("operator_id", None)
    if values["operator_id"] is None:
        values["operator_id"] = ctx.principal.user_id
    appeal = await appeals.create_appeal(ctx.conn, values, user_id=ctx.principal.user_id)
    announce(ctx, appeals.CREATED, appeal)
    return appeal


@post("/api/appeals/from-call", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def create_from_call(ctx: Ctx, data: FromCallIn) -> dict:
    """An appeal linked to a call record (its number and account taken from the call when it is known)."""
    values = msgspec.structs.asdict(data)
    call_id = values.pop("call_id")
    appeal = await appeals.appeal_from_call(ctx.conn, call_id, values, user_id=ctx.principal.user_id)
    announce(ctx, appeals.CREATED, appeal)
    return appeal


async def _card(ctx: Ctx, appeal_id: int) -> dict:
    appeal = await appeals.appeal_card(ctx.conn, appeal_id, ctx.core.settings.timezone)
    appeal["mail_message"] = (await mail_store.get_message(ctx.conn, appeal["mail_message_id"])
                              if appeal["mail_message_id"] else None)
    return appeal


@get("/api/appeals/{appeal_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_appeal(ctx: Ctx, appeal_id: int) -> dict:
    """The appeal, `telephonograms` in force for its house on the day it came, its `mail_message`."""
    return await _card(ctx, appeal_id)


@patch("/api/appeals/{appeal_id:int}", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def change(ctx: Ctx, appeal_id: int, data: AppealPatch) -> dict:
    changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
    appeal, changed = await appeals.update_appeal(ctx.conn, appeal_id, changes)
    if changed:
        announce(ctx, appeals.UPDATED, appeal, changed)
    return appeal


# ---- mail ------------------------------------------------------------------------------------------------

@get("/api/mail/messages", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_messages(ctx: Ctx, mailbox_id: int | None = None, q: Search = "", limit: Limit = 50,
                        offset: Offset = 0) -> dict:
    """The mail journal: every message received, newest first, with its appeal and attachments."""
    items, total = await mail_store.list_messages(ctx.conn, mailbox_id=mailbox_id, q=q, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@get("/api/mail/messages/{mail_message_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_message(ctx: Ctx, mail_message_id: int) -> dict:
    return found(await mail_store.get_message(ctx.conn, mail_message_id), "Письмо не найдено")


@get("/api/mail/attachments/{mail_attachment_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def download_attachment(ctx: Ctx, mail_attachment_id: int) -> Response:
    """An attachment of a received message, as received (a download)."""
    att = found(await mail_store.get_attachment(ctx.conn, mail_attachment_id), "Вложение не найдено")
    media = att["content_type"] if att["content_type"] in SAFE_INLINE else "application/octet-stream"
    name = att["file_name"] or f"attachment-{att['id']}"
    return Response(bytes(att["content"]), media_type=media, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
        "X-Content-Type-Options": "nosniff"})


# ---- mailboxes -------------------------------------------------------------------------------------------

async def _mailbox_values(ctx: Ctx, values: dict[str, Any]) -> dict[str, Any]:
    values = {k: v for k, v in values.items() if v is not None}
    if "kind" in values:
        kid = await store.kind_id(ctx.conn, values.pop("kind"))
        if kid is None:
            raise Invalid("Неизвестный вид обращения", fields=[{"field": "kind", "message": "неизвестен"}])
        values["kind_id"] = kid
    if "password" in values:
        password = values.pop("password")
        values["secret"] = SecretBox(ctx.core.settings.secret_key).seal(password) if password else ""
    return values


@get("/api/mailboxes", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def list_mailboxes(ctx: Ctx) -> dict:
    items = await mail_store.list_mailboxes(ctx.conn)
    return page(items, len(items), len(items), 0)


@post("/api/mailboxes", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def create_mailbox(ctx: Ctx, data: MailboxIn) -> dict:
    """A mailbox to poll (201); the password is stored encrypted and never returned."""
    mailbox_id = await mail_store.insert_mailbox(ctx.conn, await _mailbox_values(ctx, msgspec.structs.asdict(data)))
    return await mail_store.get_mailbox(ctx.conn, mailbox_id) or {}


@patch("/api/mailboxes/{mailbox_id:int}", dependencies=DEPS, guards=ADMIN, tags=TAGS)
async def update_mailbox(ctx: Ctx, mailbox_id: int, data: MailboxPatch) -> dict:
    values = await _mailbox_values(ctx, msgspec.structs.asdict(data))
    if {"host", "port", "username", "folder"} & values.keys():  # another box or folder: its UIDs start over
        values.update(last_uid=0, uid_validity=None)
    if not await mail_store.update_mailbox(ctx.conn, mailbox_id, values):
        raise NotFound("Почтовый ящик не найден")
    return await mail_store.get_mailbox(ctx.conn, mailbox_id) or {}


@post("/api/mailboxes/{mailbox_id:int}/poll", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=202)
async def poll(ctx: Ctx, mailbox_id: int) -> dict:
    """Check the mailbox now: a `mail.poll` job (202 + the job); its result has the new appeals."""
    if await mail_store.get_mailbox(ctx.conn, mailbox_id) is None:
        raise NotFound("Почтовый ящик не найден")
    job_id = await start_job(ctx, MAIL_POLL, {"mailbox_id": mailbox_id})
    return {"job": jobs_store.to_dict(await jobs_store.get(ctx.conn, job_id))}


# ---- telephonograms --------------------------------------------------------------------------------------

@get("/api/telephonograms", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def list_telephonograms(ctx: Ctx, active_on: date | None = None,
                              kind: Annotated[str | None, Parameter(pattern=r"^(planned|emergency|info)$")] = None,
                              limit: Limit = 50, offset: Offset = 0) -> dict:
    items, total = await tg.list_telephonograms(ctx.conn, active_on=active_on, kind=kind, limit=limit, offset=offset,
                                                zone=ctx.core.settings.timezone)
    return page(items, total, limit, offset)


@get("/api/telephonograms/affecting", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def affecting_house(ctx: Ctx, house_id: int | None = None, on: date | None = None,
                          limit: Limit = 50) -> dict:
    """Telephonograms in force on day `on` (default: today) for the house or its street; without
    `house_id`, all those in force that day."""
    day = on or datetime.now(ZoneInfo(ctx.core.settings.timezone)).date()
    if house_id is None:
        items, total = await tg.list_telephonograms(ctx.conn, active_on=day, limit=limit,
                                                    zone=ctx.core.settings.timezone)
        return page(items, total, limit, 0)
    items = await tg.affecting(ctx.conn, house_id, day, zone=ctx.core.settings.timezone)
    return page(items[:limit], len(items), limit, 0)


@post("/api/telephonograms", dependencies=DEPS, guards=EDIT, tags=TAGS)
async def create_telephonogram(ctx: Ctx, data: TelephonogramIn) -> dict:
    if not data.house_ids and not data.street_ids:
        raise Invalid("Укажите дома или улицы, которых касается телефонограмма",
                      fields=[{"field": "house_ids", "message": "нужен хотя бы один дом или улица"}])
    if data.valid_to is not None and data.valid_to < data.valid_from:
        raise Invalid("Окончание раньше начала", fields=[{"field": "valid_to", "message": "раньше valid_from"}])
    missing = await tg.missing_places(ctx.conn, data.house_ids, data.street_ids)
    if missing:
        raise NotFound("Не найдены: " + ", ".join(missing),
                       fields=[{"field": "house_ids", "message": ", ".join(missing)}])
    tid = await tg.insert_telephonogram(
        ctx.conn, number=data.number, from_org=data.from_org, kind=data.kind, body=data.text,
        valid_from=data.valid_from, valid_to=data.valid_to, received_at=data.received_at,
        house_ids=data.house_ids, street_ids=data.street_ids, user_id=ctx.principal.user_id)
    return await tg.get_telephonogram(ctx.conn, tid) or {}


@get("/api/telephonograms/{telephonogram_id:int}", dependencies=DEPS, guards=VIEW, tags=TAGS)
async def get_telephonogram(ctx: Ctx, telephonogram_id: int) -> dict:
    return found(await tg.get_telephonogram(ctx.conn, telephonogram_id), "Телефонограмма не найдена")


ROUTES = [list_kinds, list_appeals, create, create_from_call, get_appeal, change, list_messages, get_message,
          download_attachment, list_mailboxes, create_mailbox, update_mailbox, poll, list_telephonograms,
          affecting_house, create_telephonogram, get_telephonogram]
