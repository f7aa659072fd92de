"""The EDO API (resource "legal"): send documents through the operator and see their statuses; the operator's
settings (legal/admin).

`POST /api/legal/documents/{id}/edo` — queue one document (422 with the reason: no EDO id of the counterparty,
a bill, a cancelled document, EDO not switched on); `GET /api/legal/documents/{id}/edo` — its latest message with
the history; `POST /api/legal/documents/edo {"period": "ГГГГ-ММ"} | {"ids": [...]}` — queue many at once;
`GET /api/legal/edo/messages?status=&q=&limit=&offset=`; `GET|PUT /api/legal/edo/settings`,
`POST /api/legal/edo/settings/test` («Проверить связь»). Queueing starts the `edo.send` job after the commit."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import msgspec
from litestar import get, post, put
from litestar.params import Parameter
from sqlalchemy import text

from aquabill.base.errors import Invalid, NotFound
from aquabill.channels.edo.diadoc import check_connection
from aquabill.channels.edo.runner import default_api_url, open_credentials, seal_credentials
from aquabill.legal_entities import edo, edo_store
from aquabill.platform.auth.permissions import requires
from aquabill.platform.jobs.edo import kick
from aquabill.platform.web.context import DEPS, Ctx, TenantScope
from aquabill.platform.web.paging import Limit, Offset, Search, page

VIEW, EDIT, ADMIN = [requires("legal", "view")], [requires("legal", "edit")], [requires("legal", "admin")]
TAGS = ["Юрлица: ЭДО"]
DocumentId = Annotated[int, Parameter(ge=1, le=2_147_483_647, description="Идентификатор документа")]
Status = Annotated[str, Parameter(max_length=10, description="Статус сообщения")]
Text300 = Annotated[str, msgspec.Meta(max_length=300)]
Text200 = Annotated[str, msgspec.Meta(max_length=200)]


class SendManyBody(msgspec.Struct, forbid_unknown_fields=True):
    period: Annotated[str, msgspec.Meta(max_length=10)] | None = None  # ГГГГ-ММ
    ids: Annotated[list[Annotated[int, msgspec.Meta(ge=1, le=2_147_483_647)]], msgspec.Meta(max_length=1000)] | None \
        = None


class SettingsBody(msgspec.Struct, forbid_unknown_fields=True):
    enabled: bool = False
    api_url: Text300 = ""
    client_id: Text200 = ""
    login: Text200 = ""
    password: Text200 | None = None  # None or "": keep the stored one
    box_id: Text200 = ""
    participant_id: Annotated[str, msgspec.Meta(max_length=46)] = ""


def parse_period(raw: str | None) -> date | None:
    if raw is None or not raw.strip():
        return None
    try:
        year, month = raw.strip()[:7].split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise Invalid("Месяц: ожидается ГГГГ-ММ", field="period") from None


def kick_after(ctx: TenantScope) -> None:
    core, tenant = ctx.core, ctx.tenant

    async def after() -> None:
        await kick(core, tenant)

    ctx.after_commit(after)


async def settings_view(ctx: TenantScope) -> dict[str, Any]:
    stored = await edo_store.get_settings(ctx.conn)
    view: dict[str, Any] = dict(stored or {"enabled": False, "api_url": default_api_url(ctx.core.settings),
                                           "client_id": "", "box_id": "", "participant_id": "", "has_secret": False})
    view["login"] = ""
    if view.get("has_secret"):
        try:
            view["login"] = open_credentials(ctx.core.settings.secret_key, await edo_store.sealed_secret(ctx.conn))[0]
        except ValueError:
            view["sealed_broken"] = True
    view["operator_name"] = edo_store.OPERATORS[edo_store.OPERATOR]
    for key in ("updated_at",):
        view.pop(key, None)
    return view


async def save_settings(ctx: TenantScope, data: SettingsBody) -> dict[str, Any]:
    password = (data.password or "").strip()
    login = data.login.strip()
    sealed = None
    if password:
        sealed = seal_credentials(ctx.core.settings.secret_key, login, password)
    else:
        stored = await edo_store.sealed_secret(ctx.conn)
        if stored:  # keep the password; the login may change
            try:
                old_login, old_password = open_credentials(ctx.core.settings.secret_key, stored)
            except ValueError:
                raise Invalid("Сохранённый пароль не расшифровывается: введите его заново", field="password") from None
            if login != old_login:
                sealed = seal_credentials(ctx.core.settings.secret_key, login, old_password)
    has_secret = bool(password) or bool(await edo_store.sealed_secret(ctx.conn))
    values = edo_store.check_settings(enabled=data.enabled, api_url=data.api_url, client_id=data.client_id,
                                      box_id=data.box_id, participant_id=data.participant_id, login=login,
                                      has_secret=has_secret)
    await edo_store.save_settings(ctx.conn, values, sealed=sealed, user_id=ctx.principal.user_id)
    return await settings_view(ctx)


async def test_settings(ctx: TenantScope, data: SettingsBody | None = None) -> tuple[bool, str]:
    view = await settings_view(ctx)
    api_url = (data.api_url if data and data.api_url else view["api_url"]) or default_api_url(ctx.core.settings)
    client_id = (data.client_id if data and data.client_id else view["client_id"])
    box_id = (data.box_id if data and data.box_id else view["box_id"])
    login = (data.login if data and data.login else view["login"])
    password = (data.password or "") if data else ""
    if not password and view.get("has_secret"):
        try:
            password = open_credentials(ctx.core.settings.secret_key, await edo_store.sealed_secret(ctx.conn))[1]
        except ValueError as exc:
            return False, f"Сохранённый пароль не расшифровывается: введите его заново ({exc})"
    if not (api_url and client_id and login and password and box_id):
        return False, "Укажите адрес API, ключ разработчика, логин, пароль и ящик организации"
    edo_store.check_settings(enabled=False, api_url=api_url, client_id=client_id, box_id=box_id, participant_id="",
                             login=login, has_secret=True)
    return await check_connection(api_url, client_id, login, password, box_id)


@post("/api/legal/documents/{document_id:int}/edo", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200,
      summary="Отправить документ через ЭДО")
async def send_document(ctx: Ctx, document_id: DocumentId) -> dict[str, Any]:
    """Queue the document (once: a document on its way is not queued again; after a failure or a refusal it
    may be sent again) and start the sending job."""
    result = await edo.queue_document(ctx.conn, document_id, user_id=ctx.principal.user_id)
    kick_after(ctx)
    return result


@get("/api/legal/documents/{document_id:int}/edo", dependencies=DEPS, guards=VIEW, tags=TAGS,
     summary="Статус документа в ЭДО")
async def document_status(ctx: Ctx, document_id: DocumentId) -> dict[str, Any]:
    """The document's last message to the EDO operator; `{"document_id", "status": null}` for a document of this
    tenant never sent (404 only when there is no such document)."""
    message = await edo.document_message(ctx.conn, document_id)
    if message is not None:
        return message
    if not await ctx.conn.scalar(text("SELECT EXISTS (SELECT 1 FROM legal_documents WHERE id = :id)"),
                                 {"id": document_id}):
        raise NotFound("Документ не найден", field="document_id")
    return {"document_id": document_id, "status": None, "status_name": "Не отправлялся", "history": []}


@post("/api/legal/documents/edo", dependencies=DEPS, guards=EDIT, tags=TAGS, status_code=200,
      summary="Отправить документы через ЭДО")
async def send_many(ctx: Ctx, data: SendManyBody) -> dict[str, Any]:
    """A month's issued UPD / acts / УКД / advance invoices, or the listed documents; counts of what was queued,
    already on its way, and skipped for want of the counterparty's EDO id."""
    result = await edo.queue_many(ctx.conn, period=parse_period(data.period), ids=data.ids,
                                  user_id=ctx.principal.user_id)
    if result["queued"]:
        kick_after(ctx)
    return result


@get("/api/legal/edo/messages", dependencies=DEPS, guards=VIEW, tags=TAGS, summary="Сообщения ЭДО")
async def list_messages(ctx: Ctx, status: Status = "", q: Search = "", limit: Limit = 50,
                        offset: Offset = 0) -> dict[str, Any]:
    if status and status not in edo.STATUSES:
        raise Invalid("Статус: " + ", ".join(edo.STATUSES), field="status")
    items, total = await edo_store.list_messages(ctx.conn, status=status or None, q=q, limit=limit, offset=offset)
    return page(items, total, limit, offset)


@get("/api/legal/edo/settings", dependencies=DEPS, guards=ADMIN, tags=TAGS, summary="Настройки ЭДО")
async def get_settings(ctx: Ctx) -> dict[str, Any]:
    return await settings_view(ctx)


@put("/api/legal/edo/settings", dependencies=DEPS, guards=ADMIN, tags=TAGS, summary="Сохранить настройки ЭДО")
async def put_settings(ctx: Ctx, data: SettingsBody) -> dict[str, Any]:
    """The password is sealed before it is stored and never returned; an empty one keeps the stored."""
    return await save_settings(ctx, data)


@post("/api/legal/edo/settings/test", dependencies=DEPS, guards=ADMIN, tags=TAGS, status_code=200,
      summary="Проверить связь с оператором ЭДО")
async def check_settings(ctx: Ctx) -> dict[str, Any]:
    ok, message = await test_settings(ctx)
    return {"ok": ok, "message": message}


ROUTES = [send_document, document_status, send_many, list_messages, get_settings, put_settings, check_settings]
