"""Platform administration: tenants (provisioning) for platform admins only."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Request, get, post

from aquabill.base.errors import Conflict, Invalid
from aquabill.platform.auth.seed import admin_seeder
from aquabill.platform.auth.service import login_platform
from aquabill.platform.web.context import core_of, require_platform_admin
from aquabill.platform.web.paging import Limit, Offset, Search, page
from aquabill.tenants import registry
from aquabill.tenants.databases import UnknownDatabase
from aquabill.tenants.provisioning import TenantExists, create_tenant


class PlatformLoginIn(msgspec.Struct):
    login: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class TenantIn(msgspec.Struct):
    slug: Annotated[str, msgspec.Meta(min_length=2, max_length=40)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    admin_login: Annotated[str, msgspec.Meta(min_length=2, max_length=64)] = "admin"
    admin_password: Annotated[str, msgspec.Meta(min_length=1, max_length=256)] | None = None
    db_key: Annotated[str, msgspec.Meta(min_length=1, max_length=31)] = "main"


def _tenant(t) -> dict:
    return {"id": t.id, "slug": t.slug, "name": t.name, "status": t.status, "schema": t.schema_name,
            "db_key": t.db_key}


@post("/api/platform/login", tags=["platform"], status_code=200)
async def platform_login(request: Request, data: PlatformLoginIn) -> dict:
    return {"token": await login_platform(core_of(request), data.login, data.password), "token_type": "bearer"}


@get("/api/platform/tenants", guards=[require_platform_admin], tags=["platform"])
async def list_tenants(request: Request, q: Search = "", limit: Limit = 50, offset: Offset = 0) -> dict:
    async with core_of(request).engines.control.connect() as conn:
        items, total = await registry.list_tenants(conn, search=q, limit=limit, offset=offset)
    return page([_tenant(t) for t in items], total, limit, offset)


@post("/api/platform/tenants", guards=[require_platform_admin], tags=["platform"])
async def provision_tenant(request: Request, data: TenantIn) -> dict:
    seed = None
    if data.admin_password is not None:
        try:
            seed = admin_seeder(data.admin_login, data.admin_password)
        except ValueError as exc:
            raise Invalid(str(exc), fields=[{"field": "admin_password", "message": str(exc)}]) from exc
    try:
        tenant = await create_tenant(core_of(request).engines, data.slug, data.name, db_key=data.db_key, seed=seed)
    except TenantExists as exc:
        raise Conflict(str(exc), fields=[{"field": "slug", "message": "занят"}]) from exc
    except UnknownDatabase as exc:
        raise Invalid(str(exc), fields=[{"field": "db_key", "message": "не зарегистрирована"}]) from exc
    return _tenant(tenant)


ROUTES = [platform_login, list_tenants, provision_tenant]
