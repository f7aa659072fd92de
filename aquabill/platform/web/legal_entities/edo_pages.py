"""The EDO pages (resource "legal"): `/legal/edo` — the operator's settings (legal/admin: Контур.Диадок, the API
address, developer key, login, password sealed before it is stored, our box and EDO participant id; «Проверить
связь»); `/legal/edo/messages` — the messages sent with their statuses (filters, pager) and «Отправить за месяц»;
the document card's EDO section `/legal/documents/{id}/edo` (a fragment the card loads with htmx: status, history,
the buyer's refusal reason, «Отправить» / «Отправить повторно»)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Request, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from aquabill.base.errors import Invalid
from aquabill.legal_entities import edo, edo_store
from aquabill.platform.auth.permissions import requires
from aquabill.platform.web.context import DEPS, Ctx
from aquabill.platform.web.forms import FORM, attempt, parse_text
from aquabill.platform.web.legal_entities.counterparty_pages import page_context
from aquabill.platform.web.legal_entities.edo_api import (
    DocumentId,
    SettingsBody,
    kick_after,
    parse_period,
    save_settings,
    settings_view,
    test_settings,
)
from aquabill.platform.web.paging import Offset, Search

VIEW, EDIT, ADMIN = [requires("legal", "view")], [requires("legal", "edit")], [requires("legal", "admin")]
PAGE = 30
Status = Annotated[str, Parameter(max_length=10)]
Notice = Annotated[str, Parameter(max_length=300)]


class SettingsForm(msgspec.Struct):
    api_url: str = ""
    client_id: str = ""
    login: str = ""
    password: str = ""
    box_id: str = ""
    participant_id: str = ""
    enabled: str = ""
    action: str = "save"


class MonthForm(msgspec.Struct):
    period: str = ""


def _body(data: SettingsForm) -> SettingsBody:
    return SettingsBody(enabled=bool(data.enabled), api_url=parse_text(data.api_url, 300),
                        client_id=parse_text(data.client_id, 200), login=parse_text(data.login, 200),
                        password=parse_text(data.password, 200), box_id=parse_text(data.box_id, 200),
                        participant_id=parse_text(data.participant_id, 46))


async def _settings_page(ctx: Ctx, *, message: str = "", error: bool = False, form: dict[str, Any] | None = None,
                         status_code: int = 200) -> Template:
    view = await settings_view(ctx)
    return Template("legal_entities/edo_settings.html", status_code=status_code, context=page_context(
        ctx, s={**view, **(form or {})}, message=message, error=error))


@get("/legal/edo", dependencies=DEPS, guards=ADMIN, include_in_schema=False)
async def settings_page(ctx: Ctx) -> Template:
    return await _settings_page(ctx)


@post("/legal/edo", dependencies=DEPS, guards=ADMIN, include_in_schema=False, status_code=200)
async def settings_submit(ctx: Ctx, data: Annotated[SettingsForm, FORM]) -> Template:
    message, error = "", False
    body = _body(data)
    async with attempt(ctx) as tried:
        if data.action == "test":
            ok, message = await test_settings(ctx, body)
            error = not ok
        else:
            await save_settings(ctx, body)
            message = "Настройки сохранены"
    if tried.refused:
        form = {k: getattr(body, k) for k in ("api_url", "client_id", "login", "box_id", "participant_id", "enabled")}
        return await _settings_page(ctx, message=tried.message, error=True, form=form, status_code=422)
    return await _settings_page(ctx, message=message, error=error)


async def _messages_page(ctx: Ctx, *, status: str = "", q: str = "", offset: int = 0, notice: str = "",
                         error: str = "", period: str = "", status_code: int = 200) -> Template:
    status = status if status in edo.STATUSES else ""
    items, total = await edo_store.list_messages(ctx.conn, status=status or None, q=q, limit=PAGE, offset=offset)
    for item in items:
        item["status_name"] = edo.STATUSES[item["status"]]
        item["kind_name"] = edo.SENDABLE.get(item["kind"], item["kind"])
    settings = await edo_store.get_settings(ctx.conn)
    return Template("legal_entities/edo_messages.html", status_code=status_code, context=page_context(
        ctx, items=items, total=total, offset=offset, limit=PAGE, status=status, q=q, statuses=edo.STATUSES,
        notice=notice, error=error, period=period, enabled=bool(settings and settings["enabled"]),
        can_admin=ctx.principal.can("legal", "admin")))


@get("/legal/edo/messages", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def messages_page(ctx: Ctx, status: Status = "", q: Search = "", offset: Offset = 0,
                        notice: Notice = "") -> Template:
    return await _messages_page(ctx, status=status, q=q, offset=offset, notice=notice)


@post("/legal/edo/messages/month", dependencies=DEPS, guards=EDIT, include_in_schema=False, status_code=200)
async def send_month(ctx: Ctx, data: Annotated[MonthForm, FORM]) -> Template | Redirect:
    period_text = parse_text(data.period, 10)
    async with attempt(ctx) as tried:
        period = parse_period(period_text)
        if period is None:
            raise Invalid("Укажите месяц", field="period")
        result = await edo.queue_many(ctx.conn, period=period, user_id=ctx.principal.user_id)
        if result["queued"]:
            kick_after(ctx)
    if tried.refused:
        return await _messages_page(ctx, error=tried.message, period=period_text, status_code=422)
    notice = (f"Документов за {period:%m.%Y}: {result['documents']}; поставлено в очередь: {result['queued']}, "
              f"уже отправлены: {result['already']}, без идентификатора ЭДО контрагента: {result['no_edo_id']}"
              + (f", выписаны на прежние идентификаторы ЭДО (выпишите заново): {result['misaddressed']}"
                 if result["misaddressed"] else ""))
    return Redirect(f"/legal/edo/messages?notice={quote(notice)}", status_code=303)


async def _fragment(ctx: Ctx, document_id: int, *, notice: str = "", error: str = "") -> Template:
    view = await edo.document_view(ctx.conn, document_id)
    return Template("legal_entities/_edo_status_body.html", context=page_context(
        ctx, edo_doc=view["document"], edo_message=view["message"], edo_can_send=view["can_send"],
        edo_notice=notice, edo_error=error))


@get("/legal/documents/{document_id:int}/edo", dependencies=DEPS, guards=VIEW, include_in_schema=False)
async def document_fragment(ctx: Ctx, document_id: DocumentId) -> Template:
    return await _fragment(ctx, document_id)


@post("/legal/documents/{document_id:int}/edo", dependencies=DEPS, guards=EDIT, include_in_schema=False,
      status_code=200)
async def document_send(ctx: Ctx, request: Request, document_id: DocumentId) -> Template | Redirect:
    async with attempt(ctx) as tried:
        await edo.queue_document(ctx.conn, document_id, user_id=ctx.principal.user_id)
        kick_after(ctx)
    if tried.refused and tried.error is not None and getattr(tried.error, "status_code", 0) == 404:
        raise tried.error
    notice = "" if tried.refused else "Документ поставлен в очередь на отправку"
    if request.headers.get("hx-request") == "true":
        return await _fragment(ctx, document_id, notice=notice, error=tried.message if tried.refused else "")
    text = tried.message if tried.refused else notice
    return Redirect(f"/legal/documents/{document_id}?notice={quote(text)}#edo", status_code=303)


ROUTES = [settings_page, settings_submit, messages_page, send_month, document_fragment, document_send]
