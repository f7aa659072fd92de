"""Appeals and the notifications inbox on the portal. A new appeal lands in the contact center's journal
(source 'portal', `appeal.created` published to the staff's consoles after the commit); the staff's answer
shows back in the list."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from litestar import Request
from litestar.params import Parameter
from litestar.response import Redirect, Template

from aquabill.base.errors import NotFound
from aquabill.contact_center.appeals.service import CREATED, event_data
from aquabill.platform.realtime import publish
from aquabill.platform.web.forms import attempt, parse_id, parse_text
from aquabill.platform.web.paging import INT4_MAX, Offset
from aquabill.platform.web.portal.context import My, PortalScope
from aquabill.platform.web.portal.pages_common import page_get, page_post, pages, render
from aquabill.subscribers.links import linked_accounts
from aquabill.subscribers.portal_appeals import (
    appeal_kinds,
    file_appeal,
    subscriber_appeal,
    subscriber_appeals,
)
from aquabill.subscribers.portal_inbox import inbox, mark_all_read, mark_read

log = logging.getLogger(__name__)
APPEALS_PAGE, INBOX_PAGE = 10, 20
SentId = Annotated[int | None, Parameter(ge=1, le=INT4_MAX, description="Отправленное обращение")]


def announce_appeal(my: PortalScope, appeal: dict[str, Any]) -> None:
    """`appeal.created` for the staff's consoles, once the request's transaction has committed."""
    core, tenant_id, data = my.core, my.tenant.id, event_data(appeal)

    async def after_commit() -> None:
        try:
            await publish(core.redis, core.keys, tenant_id, CREATED, data)
        except Exception:  # the appeal is stored; a missed live event only delays the console's refresh
            log.exception("publishing appeal.created failed")

    my.after_commit(after_commit)


async def _appeals(my: PortalScope, *, offset: int = 0, form: dict | None = None, message: str = "",
                   error: bool = False) -> Template:
    items, total = await subscriber_appeals(my.conn, my.subscriber_id, limit=APPEALS_PAGE, offset=offset)
    return await render(my, "appeals.html", appeals=items, paging=pages(total, APPEALS_PAGE, offset),
                        kinds=await appeal_kinds(my.conn), accounts=await linked_accounts(my.conn, my.subscriber_id),
                        form=form or {}, message=message, error=error)


@page_get("/my/appeals")
async def appeals_page(my: My, offset: Offset = 0, sent: SentId = None) -> Template:
    message = ""
    if sent is not None:  # back from the form (post, redirect, get): say which appeal was sent
        try:
            appeal = await subscriber_appeal(my.conn, my.subscriber_id, sent)
            message = f"Обращение {appeal['number']} отправлено. Ответ появится здесь и в уведомлениях."
        except NotFound:
            pass
    return await _appeals(my, offset=offset, message=message)


@page_post("/my/appeals")
async def appeal_form(my: My, request: Request) -> Template | Redirect:
    """The new appeal form; sent, the browser is redirected to the list (a reload sends nothing twice)."""
    form = await request.form()
    raw = {k: parse_text(form.get(k), 4100) for k in ("kind", "account_id", "subject", "text")}
    async with attempt(my) as tried:
        appeal = await file_appeal(my.conn, my.subscriber_id, kind=raw["kind"], body=raw["text"],
                                   subject=raw["subject"], account_id=parse_id(raw["account_id"], "account_id"),
                                   source="portal")
    if tried.refused:
        return await _appeals(my, form=raw, message=tried.message, error=True)
    announce_appeal(my, appeal)
    return Redirect(path=f"/my/appeals?sent={appeal['id']}", status_code=303)


@page_get("/my/inbox")
async def inbox_page(my: My, offset: Offset = 0) -> Template:
    items, total = await inbox(my.conn, my.subscriber_id, limit=INBOX_PAGE, offset=offset)
    return await render(my, "inbox.html", items=items, paging=pages(total, INBOX_PAGE, offset))


@page_post("/my/inbox/{item_id:int}/read")
async def inbox_read(my: My, item_id: int) -> Redirect:
    await mark_read(my.conn, my.subscriber_id, item_id)
    return Redirect(path="/my/inbox", status_code=303)


@page_post("/my/inbox/read-all")
async def inbox_read_all(my: My) -> Redirect:
    await mark_all_read(my.conn, my.subscriber_id)
    return Redirect(path="/my/inbox", status_code=303)


ROUTES = [appeals_page, appeal_form, inbox_page, inbox_read, inbox_read_all]
