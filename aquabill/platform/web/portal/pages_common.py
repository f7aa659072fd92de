"""What every signed-in portal page shares: the layout's context (`portal_tenant`, `signed_in`, `unread`),
the organisation's today, and how a page answers a refusal — not signed in: to `/my/login?next=…`; a
refusal or a missing object: a portal page with the message and the right status (the API keeps the JSON
error body of `platform/web/errors.py`)."""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import partial
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.exceptions import HTTPException, NotAuthorizedException, NotFoundException
from litestar.response import Redirect, Template

from aquabill.base.errors import DomainError
from aquabill.platform.web.errors import handle_exception
from aquabill.platform.web.portal.context import PORTAL_DEPS, PortalScope
from aquabill.subscribers.portal_inbox import unread_count

log = logging.getLogger(__name__)

TOO_LARGE = "Файл слишком большой: фото счётчика — не больше 5 МБ"
_PAGE_MESSAGES = {404: "Такой страницы нет или она вам недоступна", 405: "Так эту страницу открыть нельзя",
                  413: TOO_LARGE, 429: "Слишком много запросов, попробуйте через минуту"}


def today_of(my: PortalScope) -> date:
    """The organisation's today (its time zone), the day a subscriber's reading is taken on."""
    return datetime.now(ZoneInfo(my.core.settings.timezone)).date()


async def render(my: PortalScope, template: str, *, status_code: int = 200, **context: Any) -> Template:
    """A portal page with the layout's context."""
    return Template(template_name=f"portal/{template}", status_code=status_code, context={
        "portal_tenant": my.tenant, "signed_in": True, "unread": await unread_count(my.conn, my.subscriber_id),
        **context})


def login_redirect(request: Request, _exc: Exception) -> Response:
    # the path only, as the staff redirect does: a query is the caller's text, not worth echoing back
    return Redirect(path="/my/login?next=" + quote(request.url.path, safe="/"))


def _error_page(request: Request, status: int, message: str) -> Response:
    return Template(template_name="portal/error.html", status_code=status,
                    context={"portal_tenant": None, "signed_in": False, "unread": 0, "message": message,
                             "status": status})


def page_error(request: Request, exc: Exception) -> Response:
    """A refusal on a page: the portal's error page (the refusal's own message when it has one)."""
    if isinstance(exc, DomainError):
        return _error_page(request, exc.status_code, exc.message)
    if isinstance(exc, NotFoundException):
        detail = exc.detail if exc.detail and any("а" <= ch <= "я" for ch in exc.detail.lower()) else ""
        return _error_page(request, 404, detail or _PAGE_MESSAGES[404])
    if isinstance(exc, HTTPException) and exc.status_code in _PAGE_MESSAGES:
        return _error_page(request, exc.status_code, _PAGE_MESSAGES[exc.status_code])
    return handle_exception(request, exc)


PAGE_ERRORS = {NotAuthorizedException: login_redirect, DomainError: page_error, HTTPException: page_error}

# the decorators of signed-in pages: the subscriber's scope, the pages' refusals, not in the API schema
page_get = partial(get, dependencies=PORTAL_DEPS, exception_handlers=PAGE_ERRORS, include_in_schema=False)
page_post = partial(post, dependencies=PORTAL_DEPS, exception_handlers=PAGE_ERRORS, include_in_schema=False,
                    status_code=200)
API_TAGS = ["Личный кабинет"]
api_get = partial(get, dependencies=PORTAL_DEPS, tags=API_TAGS)
api_post = partial(post, dependencies=PORTAL_DEPS, tags=API_TAGS)


def pages(total: int, limit: int, offset: int) -> dict[str, int | None]:
    """A pager's links: the previous and next offsets (None at either end)."""
    return {"prev": max(offset - limit, 0) if offset > 0 else None,
            "next": offset + limit if offset + limit < total else None, "total": total, "offset": offset,
            "limit": limit}
