"""Tenant context: every tenant query runs inside a transaction bound to that tenant's schema."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.tenants.databases import TENANT_TAG, EngineRegistry
from aquabill.tenants.naming import quote_schema


@dataclass(frozen=True, slots=True)
class Tenant:
    id: int
    slug: str
    name: str
    status: str
    schema_name: str
    db_key: str


_BIND_SQL = text(
    "SELECT set_config('search_path', :search_path, true), set_config('aquabill.user_id', :user_id, true)"
)


def tag_tenant(conn: AsyncConnection, tenant: Tenant) -> None:
    """Tag the connection's next statements with the tenant (databases.py: one prepared statement per tenant,
    so PostgreSQL does not re-parse it for another search_path); the tag goes when the connection is checked
    in. For a transaction that sets the tenant's search_path itself (`bind_tenant` does both)."""
    conn.info[TENANT_TAG] = f"t{int(tenant.id)}"


async def bind_tenant(conn: AsyncConnection, tenant: Tenant, user_id: int | None = None) -> None:
    """Set the tenant for the current transaction only (SET LOCAL semantics): nothing leaks to the pool."""
    conn.info.pop(TENANT_TAG, None)  # the binding statement itself is the same for every tenant
    await conn.execute(_BIND_SQL, {
        "search_path": quote_schema(tenant.schema_name),
        "user_id": "" if user_id is None else str(user_id),
    })
    tag_tenant(conn, tenant)


@asynccontextmanager
async def tenant_transaction(
    engines: EngineRegistry, tenant: Tenant, user_id: int | None = None
) -> AsyncIterator[AsyncConnection]:
    """Open a transaction on the tenant's database with its search_path; commit on success."""
    engine = await engines.engine(tenant.db_key)
    async with engine.begin() as conn:
        await bind_tenant(conn, tenant, user_id)
        yield conn
