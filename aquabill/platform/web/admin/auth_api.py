"""API login/logout for staff (bearer tokens) and the caller's identity."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, get, post
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException

from aquabill.platform.auth.permissions import Principal
from aquabill.platform.auth.service import login_staff, logout
from aquabill.platform.web.context import core_of


class LoginIn(msgspec.Struct):
    tenant: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    login: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


@post("/api/auth/login", tags=["auth"], status_code=200)
async def api_login(request: Request, data: LoginIn) -> dict:
    token, tenant = await login_staff(core_of(request), data.tenant, data.login, data.password)
    return {"token": token, "token_type": "bearer", "tenant": {"slug": tenant.slug, "name": tenant.name}}


def _not_subscriber(request: Request) -> None:
    """Staff and platform sessions only: a subscriber's (portal) token has its own `/api/my/auth/…`."""
    principal = request.scope.get("user")
    if isinstance(principal, Principal) and principal.kind == "subscriber":
        raise PermissionDeniedException("Доступно только сотрудникам организации")


@post("/api/auth/logout", tags=["auth"], status_code=200)
async def api_logout(request: Request) -> dict:
    token = request.scope.get("auth")
    if not token or request.scope.get("user") is None:
        raise NotAuthorizedException("Требуется вход в систему")
    _not_subscriber(request)
    await logout(core_of(request), token)
    return {"status": "ok"}


@get("/api/auth/me", tags=["auth"])
async def me(request: Request) -> dict:
    principal = request.scope.get("user")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("Требуется вход в систему")
    _not_subscriber(request)
    tenant = request.scope.get("tenant")
    return {
        "kind": principal.kind,
        "user_id": principal.user_id,
        "login": principal.login,
        "full_name": principal.full_name,
        "tenant": {"slug": tenant.slug, "name": tenant.name} if tenant else None,
        "permissions": sorted(f"{r}:{a}" for r, a in principal.permissions),
    }


ROUTES = [api_login, api_logout, me]
