"""Server-rendered pages (Jinja2 + htmx): login, home, accounts."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from aquabill.billing_core.registry.queries import registry_counts, search_accounts
from aquabill.platform.auth.permissions import requires
from aquabill.platform.auth.service import AuthError, login_staff, logout
from aquabill.platform.auth.users import count_active
from aquabill.platform.jobs import store
from aquabill.platform.web.context import (
    DEPS,
    SESSION_COOKIE,
    Ctx,
    TenantScope,
    core_of,
    slug_from_host,
)
from aquabill.platform.web.paging import Offset, Search
from aquabill.tenants import registry

JOB_STATUS = {"queued": "В очереди", "running": "Выполняется", "done": "Выполнено", "failed": "Ошибка"}
PAGE_SIZE = 25


class LoginForm(msgspec.Struct):
    login: str = ""
    password: str = ""
    tenant: str = ""
    next: str = "/"


def _safe_next(target: str) -> str:
    """Only a path on this site: no scheme, no host, no `//` or `/\\` (browsers read both as a host)."""
    if not target.startswith("/") or target.startswith(("//", "/\\")) or any(c in target for c in "\\\r\n"):
        return "/"
    return target


async def _host_tenant(request: Request):
    slug = slug_from_host(request.headers.get("host", ""), core_of(request).settings.domain)
    if slug is None:
        return None
    async with core_of(request).engines.control.connect() as conn:
        return await registry.by_slug(conn, slug)


@get("/login", include_in_schema=False)
async def login_page(request: Request, next: str = "/") -> Template:
    return Template("login.html", context={"host_tenant": await _host_tenant(request), "next": _safe_next(next),
                                           "error": None, "tenant_value": "", "login_value": ""})


@post("/login", include_in_schema=False)
async def login_submit(
    request: Request, data: Annotated[LoginForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
) -> Response:
    host_tenant = await _host_tenant(request)
    slug_from_request = slug_from_host(request.headers.get("host", ""), core_of(request).settings.domain)
    tenant_slug = slug_from_request or data.tenant
    try:
        token, _tenant = await login_staff(core_of(request), tenant_slug, data.login, data.password)
    except AuthError as exc:
        return Template("login.html", status_code=401, context={
            "host_tenant": host_tenant, "next": _safe_next(data.next), "error": exc.message,
            "tenant_value": data.tenant, "login_value": data.login})
    response = Redirect(path=_safe_next(data.next))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="lax", path="/",
                        secure=core_of(request).settings.cookie_secure,
                        max_age=core_of(request).settings.session_ttl_minutes * 60)
    return response


@post("/logout", include_in_schema=False)
async def logout_submit(request: Request) -> Response:
    token = request.scope.get("auth")
    if token:
        await logout(core_of(request), token)
    response = Redirect(path="/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _ctx(ts: TenantScope, **kw) -> dict:
    return {"principal": ts.principal, "tenant": ts.tenant, **kw}


@get("/", dependencies=DEPS, include_in_schema=False)
async def home(ctx: Ctx) -> Template:
    counts = {**await registry_counts(ctx.conn), "users": await count_active(ctx.conn)}
    jobs, _ = await store.list_jobs(ctx.conn, limit=10)
    return Template("home.html", context=_ctx(
        ctx, stats=counts, jobs=jobs, status_names=JOB_STATUS,
        can_report=ctx.principal.can("audit", "report")))


@get("/accounts", dependencies=DEPS, guards=[requires("accounts", "view")], include_in_schema=False)
async def accounts_page(ctx: Ctx, q: Search = "", offset: Offset = 0) -> Template:
    items, total = await search_accounts(ctx.conn, q, limit=PAGE_SIZE, offset=offset)
    return Template("billing/accounts.html", context=_ctx(ctx, items=items, total=total, q=q, offset=offset,
                                                  limit=PAGE_SIZE))


@get("/accounts/rows", dependencies=DEPS, guards=[requires("accounts", "view")], include_in_schema=False)
async def accounts_rows(ctx: Ctx, q: Search = "", offset: Offset = 0) -> Template:
    items, total = await search_accounts(ctx.conn, q, limit=PAGE_SIZE, offset=offset)
    return Template("billing/accounts_rows.html", context=_ctx(ctx, items=items, total=total, q=q, offset=offset,
                                                       limit=PAGE_SIZE))


ROUTES = [login_page, login_submit, logout_submit, home, accounts_page, accounts_rows]
