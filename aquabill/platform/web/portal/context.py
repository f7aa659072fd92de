"""The subscribers' portal (`/my/…`): which tenant it serves and who is calling.

The tenant comes from the host (`<slug>.<domain>`), or, on a host without a tenant subdomain, from the
setting `AQUABILL_PORTAL_TENANT` (the dev server sets it to the demo tenant). Never from a header, a
parameter or the body. The subscriber comes only from a subscriber session (cookie `aquabill_my` or a
bearer token) of that same tenant: a staff token opens no portal route and a subscriber token no staff
route (`Principal.kind` is "subscriber": `staff()` refuses it).

Every portal handler declares `my: My` and works inside the tenant transaction it provides, in which
`aquabill.subscriber_id` is set for the audit triggers (who: the subscriber).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException, NotFoundException
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.platform.auth.service import principal_for
from aquabill.platform.state import Core
from aquabill.platform.web.context import core_of, slug_from_host
from aquabill.tenants import registry
from aquabill.tenants.context import Tenant, tenant_transaction

PORTAL_COOKIE = "aquabill_my"
NO_PORTAL = "Личный кабинет этой организации не найден"


def portal_slug(connection: ASGIConnection) -> str | None:
    core = core_of(connection)
    return slug_from_host(connection.headers.get("host", ""), core.settings.domain) or (
        core.settings.portal_tenant or None)


async def portal_tenant(connection: ASGIConnection) -> Tenant:
    """The tenant whose portal this host shows (404 when there is none or it is not active)."""
    slug = portal_slug(connection)
    if not slug:
        raise NotFoundException(NO_PORTAL)
    async with core_of(connection).engines.control.connect() as conn:
        tenant = await registry.by_slug(conn, slug)
    if tenant is None or tenant.status != "active":
        raise NotFoundException(NO_PORTAL)
    return tenant


def portal_token(connection: ASGIConnection) -> str | None:
    auth = connection.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return connection.cookies.get(PORTAL_COOKIE) or None


async def current_subscriber(connection: ASGIConnection) -> tuple[int, Tenant] | None:
    """(subscriber id, tenant) of the request's subscriber session on this portal, or None."""
    token = portal_token(connection)
    if not token:
        return None
    resolved = await principal_for(core_of(connection), token)
    if resolved is None:
        return None
    principal, tenant = resolved
    if principal.kind != "subscriber" or tenant is None or tenant.slug != portal_slug(connection):
        return None
    return principal.user_id, tenant


@dataclass
class PortalScope:
    """What a portal handler works with: the transaction, the tenant and the subscriber."""

    conn: AsyncConnection
    tenant: Tenant
    subscriber_id: int
    core: Core
    token: str
    _after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def after_commit(self, fn: Callable[[], Awaitable[None]]) -> None:
        self._after_commit.append(fn)


My = NamedDependency[PortalScope]


async def bind_subscriber(conn: AsyncConnection, subscriber_id: int) -> None:
    """Name the subscriber in the transaction for the audit triggers (t0021)."""
    await conn.execute(text("SELECT set_config('aquabill.subscriber_id', :s, true)"), {"s": str(subscriber_id)})


async def provide_portal_scope(request: Request) -> AsyncIterator[PortalScope]:
    found = await current_subscriber(request)
    if found is None:
        raise NotAuthorizedException("Войдите в личный кабинет")
    subscriber_id, tenant = found
    core = core_of(request)
    async with tenant_transaction(core.engines, tenant) as conn:
        await bind_subscriber(conn, subscriber_id)
        scope = PortalScope(conn=conn, tenant=tenant, subscriber_id=subscriber_id, core=core,
                            token=portal_token(request) or "")
        yield scope
    for fn in scope._after_commit:
        await fn()


# the dependency every signed-in portal route declares: `my`, the request's PortalScope
PORTAL_DEPS = {"my": Provide(provide_portal_scope)}
