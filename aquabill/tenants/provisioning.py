"""Create tenants (schema + migrations) and migrate all of them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from aquabill.tenants import registry
from aquabill.tenants.context import Tenant, bind_tenant
from aquabill.tenants.databases import EngineRegistry
from aquabill.tenants.migrator import (
    TENANT,
    MigrationResult,
    migrate_control,
    migrate_schema,
    migrate_tenants,
    schema_versions,
)
from aquabill.tenants.naming import quote_schema, schema_for, validate_db_key, validate_slug

Seeder = Callable[[AsyncConnection, Tenant], Awaitable[None]]

# Schemas whose versions are read in one transaction: each holds two locks until it ends.
VERSIONS_PER_TRANSACTION = 1000


class TenantExists(ValueError):
    pass


ABANDONED_AFTER = timedelta(minutes=10)  # far longer than any provisioning takes


async def _abandoned(engines: EngineRegistry, control_conn: AsyncConnection, tenant: Tenant) -> bool:
    """A tenant left `provisioning` by a process that died: old enough, and its schema never committed
    (schema, tables and seed are one transaction, so a missing schema means nothing was made)."""
    if tenant.status != "provisioning":
        return False
    old = (await control_conn.execute(text(
        "SELECT created_at < now() - make_interval(secs => :s) FROM control.tenants WHERE id = :id"),
        {"s": ABANDONED_AFTER.total_seconds(), "id": tenant.id})).scalar()
    if not old:
        return False
    engine = await engines.engine(tenant.db_key)
    async with engine.connect() as conn:
        made = (await conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :n"),
                                   {"n": tenant.schema_name})).first()
    return made is None


async def create_tenant(
    engines: EngineRegistry, slug: str, name: str, *, db_key: str = "main", seed: Seeder | None = None
) -> Tenant:
    """Register the tenant, create its schema in its database, migrate it to head, run `seed`.

    The schema, its tables and the seed are one transaction: a failure leaves no half-made schema
    and marks the tenant `failed` (creating it again retries).
    """
    slug, db_key = validate_slug(slug), validate_db_key(db_key)
    name = (name or "").strip() or slug
    schema = schema_for(slug)
    async with engines.control.begin() as conn:
        existing = await registry.by_slug(conn, slug)
        if existing and existing.status != "failed" and not await _abandoned(engines, conn, existing):
            raise TenantExists(f"Организация с кодом «{slug}» уже существует")
        if existing:
            tenant = existing
        else:
            tenant = await registry.insert_tenant(conn, slug, name, schema, db_key)
    engine = await engines.engine(tenant.db_key)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"CREATE SCHEMA {quote_schema(schema)}"))
            revision = await migrate_schema(conn, TENANT, schema)
            if seed is not None:
                await bind_tenant(conn, tenant)
                await seed(conn, tenant)
    except BaseException:
        async with engines.control.begin() as conn:
            await registry.set_status(conn, tenant.id, "failed")
        raise
    async with engines.control.begin() as conn:
        await registry.set_status(conn, tenant.id, "active", revision)
    return Tenant(tenant.id, tenant.slug, tenant.name, "active", tenant.schema_name, tenant.db_key)


@dataclass
class MigrateSummary:
    results: list[MigrationResult] = field(default_factory=list)

    @property
    def failed(self) -> list[MigrationResult]:
        return [r for r in self.results if not r.ok]

    @property
    def applied(self) -> list[MigrationResult]:
        return [r for r in self.results if r.ok and not r.skipped]

    @property
    def skipped(self) -> list[MigrationResult]:
        return [r for r in self.results if r.skipped]


async def migrate_all(
    engines: EngineRegistry,
    *,
    jobs: int = 2,
    target: str = "head",
    on_result: Callable[[MigrationResult], None] | None = None,
) -> MigrateSummary:
    """Migrate `control`, then every tenant schema; one tenant's failure is reported, not fatal.

    Tenants still provisioning, or failed (their schema was rolled back; creating them again
    retries), are left alone: migrating would create a schema that blocks that retry.
    """
    await migrate_control(engines.control)
    async with engines.control.connect() as conn:
        tenants, _ = await registry.list_tenants(conn)
    summary = MigrateSummary()
    by_db: dict[str, list[Tenant]] = {}
    for t in tenants:
        if t.status not in ("provisioning", "failed"):
            by_db.setdefault(t.db_key, []).append(t)
    for db_key, group in by_db.items():
        engine = await engines.engine(db_key)
        url = await engines.url_for(db_key)
        schemas = [t.schema_name for t in group]
        versions: dict[str, str | None] = {}
        for i in range(0, len(schemas), VERSIONS_PER_TRANSACTION):
            async with engine.connect() as conn:
                versions.update(await schema_versions(conn, schemas[i:i + VERSIONS_PER_TRANSACTION]))
        targets = [(t.slug, t.schema_name, db_key, url) for t in group]
        reached: dict[str, str] = {}
        async for result in migrate_tenants(targets, jobs=jobs, target=target, versions=versions):
            summary.results.append(result)
            if result.ok and not result.skipped and result.after:
                reached[result.schema] = result.after
            if on_result:
                on_result(result)
        async with engines.control.begin() as conn:
            await registry.set_revisions(conn, reached)
    return summary
