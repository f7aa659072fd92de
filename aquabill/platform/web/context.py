"""Request context: who is calling (principal), for which tenant, and the tenant transaction.

Tenant resolution fails closed: the tenant comes only from the authenticated session; for pages on
`<slug>.<domain>` the host must name that same tenant. No header or parameter can choose a tenant.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from litestar import Litestar, Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.platform.auth.permissions import Principal
from aquabill.platform.auth.service import principal_for
from aquabill.platform.state import Core
from aquabill.tenants.context import Tenant, tenant_transaction

SESSION_COOKIE = "aquabill_session"


def core_of(connection: ASGIConnection) -> Core:
    return connection.app.state.core


def token_of(headers, cookies) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return cookies.get(SESSION_COOKIE) or None


def slug_from_host(host: str, domain: str) -> str | None:
    """`demo.example.ru` → `demo` when domain is `example.ru`; None for the bare domain or an IP."""
    host = (host or "").split(":", 1)[0].lower().rstrip(".")
    suffix = "." + domain.lower()
    if host.endswith(suffix):
        sub = host[: -len(suffix)]
        if sub and "." not in sub:
            return sub
    return None


def auth_middleware(app):
    async def middleware(scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            scope["user"] = None
            scope["tenant"] = None
            litestar_app = Litestar.from_scope(scope)
            core: Core | None = getattr(litestar_app.state, "core", None)
            conn = ASGIConnection(scope)
            token = token_of(conn.headers, conn.cookies)
            if token and core is not None:
                resolved = await principal_for(core, token)
                if resolved is not None:
                    principal, tenant = resolved
                    host_slug = slug_from_host(conn.headers.get("host", ""), core.settings.domain)
                    if host_slug is None or (tenant is not None and tenant.slug == host_slug):
                        # the token is honoured (even for logout) only where its tenant is accepted
                        scope["user"], scope["tenant"], scope["auth"] = principal, tenant, token
        await app(scope, receive, send)

    return middleware


@dataclass
class TenantScope:
    """What a tenant request handler works with: the transaction, the tenant and the caller."""

    conn: AsyncConnection
    tenant: Tenant
    principal: Principal
    core: Core
    _after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def after_commit(self, fn: Callable[[], Awaitable[None]]) -> None:
        """Run `fn` once the transaction has committed (enqueue jobs, publish events)."""
        self._after_commit.append(fn)


Ctx = NamedDependency[TenantScope]  # handlers declare `ctx: Ctx`, provided by `provide_tenant_scope`


def staff(connection: ASGIConnection) -> tuple[Principal, Tenant]:
    principal = connection.scope.get("user")
    tenant = connection.scope.get("tenant")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("Требуется вход в систему")
    if principal.kind != "staff" or tenant is None:
        raise PermissionDeniedException("Доступно только сотрудникам организации")
    return principal, tenant


async def provide_tenant_scope(request: Request) -> AsyncIterator[TenantScope]:
    principal, tenant = staff(request)
    core = core_of(request)
    async with tenant_transaction(core.engines, tenant, principal.user_id) as conn:
        scope = TenantScope(conn=conn, tenant=tenant, principal=principal, core=core)
        yield scope
    for fn in scope._after_commit:
        await fn()


def require_platform_admin(connection: ASGIConnection, _handler) -> None:
    principal = connection.scope.get("user")
    if not isinstance(principal, Principal):
        raise NotAuthorizedException("Требуется вход администратора платформы")
    if principal.kind != "platform":
        raise PermissionDeniedException("Доступно только администраторам платформы")


# the dependency every tenant route declares: `ctx`, the request's TenantScope
DEPS = {"ctx": Provide(provide_tenant_scope)}
