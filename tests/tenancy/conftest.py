"""Helpers shared by the tenant-isolation tests."""

from __future__ import annotations

from sqlalchemy import text

from aquabill.platform.state import Core
from aquabill.tenants.context import Tenant
from aquabill.tenants.naming import quote_schema


async def schema_tables(core: Core, tenant: Tenant) -> list[str]:
    """Every base table of the tenant's schema (business tables, audit_log, jobs, alembic_version)."""
    engine = await core.engines.engine(tenant.db_key)
    async with engine.connect() as conn:
        rows = await conn.execute(text(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = :s AND table_type = 'BASE TABLE' ORDER BY table_name"
        ), {"s": tenant.schema_name})
        return [r[0] for r in rows]


async def schema_digest(core: Core, tenant: Tenant) -> dict[str, tuple[int, str | None]]:
    """(row count, md5 of all rows in a stable order) for each table of the tenant's schema."""
    tables = await schema_tables(core, tenant)
    assert tables, f"no tables in {tenant.schema_name}"
    schema = quote_schema(tenant.schema_name)
    engine = await core.engines.engine(tenant.db_key)
    digest: dict[str, tuple[int, str | None]] = {}
    async with engine.connect() as conn:
        for table in tables:
            assert table.replace("_", "").isalnum(), table
            row = (await conn.execute(text(
                f'SELECT count(*), md5(string_agg(t::text, \',\' ORDER BY t::text)) FROM {schema}."{table}" t'
            ))).one()
            digest[table] = (row[0], row[1])
    return digest
