"""The tenant context fails closed: outside a tenant transaction no tenant table is visible, and a
tenant transaction leaves nothing behind on the pooled connection it used."""

from __future__ import annotations

from contextlib import AsyncExitStack

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from aquabill.tenants.context import tenant_transaction
from aquabill.tenants.databases import NO_TENANT_SEARCH_PATH, EngineRegistry
from aquabill.tenants.naming import quote_schema

TENANT_TABLES = ("accounts", "users", "roles", "audit_log", "jobs", "streets")


async def assert_no_tenant(conn) -> None:
    """The connection is outside any tenant: the no-tenant search_path, and unqualified tenant tables fail."""
    assert (await conn.execute(text("SHOW search_path"))).scalar_one() == NO_TENANT_SEARCH_PATH
    assert (await conn.execute(text("SELECT current_schemas(false)"))).scalar_one() == []
    assert (await conn.execute(text("SELECT current_setting('aquabill.user_id', true)"))).scalar_one() in (None, "")
    for table in TENANT_TABLES:
        with pytest.raises(ProgrammingError) as caught:
            await conn.execute(text(f"SELECT * FROM {table}"))
        assert isinstance(caught.value.orig.__cause__, asyncpg.UndefinedTableError), caught.value
        await conn.rollback()


async def test_plain_connection_sees_no_tenant_tables(core, make_tenant):
    await make_tenant()
    async with core.engines.control.connect() as conn:
        # the placeholder schema must never exist, or unqualified names would resolve in it
        assert (await conn.execute(text("SELECT to_regnamespace(:s)"), {"s": NO_TENANT_SEARCH_PATH})).scalar_one() is None
        await assert_no_tenant(conn)


async def test_every_pooled_connection_is_outside_any_tenant(core, make_tenant):
    """After tenant transactions (committed, failed, nested in each other), no idle pooled connection
    kept a tenant path. (The app's pool lives on the test client's own event loop; the app's code path,
    tenant_transaction on an engine from make_engine, is the same as here.)"""
    t, other = await make_tenant(), await make_tenant()
    for _ in range(3):
        async with tenant_transaction(core.engines, t.tenant, 1) as conn:
            await conn.execute(text("SELECT count(*) FROM accounts"))
            async with tenant_transaction(core.engines, other.tenant, 1) as inner:  # a second pooled connection
                await inner.execute(text("SELECT count(*) FROM users"))
        with pytest.raises(ProgrammingError):
            async with tenant_transaction(core.engines, t.tenant, 1) as conn:
                await conn.execute(text("SELECT * FROM no_such_table"))
    engine = core.engines.control
    idle = engine.pool.checkedin()
    assert idle >= 2
    async with AsyncExitStack() as stack:  # hold every idle connection at once
        conns = [await stack.enter_async_context(engine.connect()) for _ in range(idle)]
        for conn in conns:
            await assert_no_tenant(conn)


async def test_tenant_transaction_leaves_nothing_on_its_connection(settings, make_tenant):
    t = await make_tenant()
    engines = EngineRegistry(settings.database_url, pool_size=1)  # one connection: the same one every time
    try:
        engine = await engines.engine(t.tenant.db_key)
        async with tenant_transaction(engines, t.tenant, 7) as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            assert (await conn.execute(text("SHOW search_path"))).scalar_one() == quote_schema(t.tenant.schema_name)
            assert (await conn.execute(text("SELECT current_setting('aquabill.user_id')"))).scalar_one() == "7"
            await conn.execute(text("SELECT count(*) FROM accounts"))
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one() == pid
            await assert_no_tenant(conn)

        # a tenant transaction that fails (rolled back) leaves nothing either
        with pytest.raises(RuntimeError):
            async with tenant_transaction(engines, t.tenant, 7) as conn:
                await conn.execute(text("SELECT count(*) FROM users"))
                raise RuntimeError("boom")
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one() == pid
            await assert_no_tenant(conn)
    finally:
        await engines.dispose()


async def test_each_tenant_has_its_own_prepared_statements(settings, make_tenant):
    """The same SQL in two tenants' transactions on one connection is prepared once per tenant (tagged
    `/*t<id>*/`), so PostgreSQL never re-parses it for another search_path; the tag leaves with the check-in."""
    a, b = await make_tenant(), await make_tenant()
    engines = EngineRegistry(settings.database_url, pool_size=1)  # one connection: the same one every time
    sql = "SELECT count(*) FROM accounts WHERE id > :n"
    try:
        engine = await engines.engine(a.tenant.db_key)
        for _ in range(2):
            for t in (a, b):
                async with tenant_transaction(engines, t.tenant) as conn:
                    assert (await conn.execute(text(sql), {"n": -1})).scalar_one() == 0
        async with engine.connect() as conn:
            assert conn.info.get("aquabill_tenant_tag") is None
            prepared = (await conn.execute(text(
                "SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%FROM accounts WHERE id >%' "
                "AND statement NOT LIKE '%pg_prepared_statements%' ORDER BY 1"))).scalars().all()
        assert prepared == sorted([f"/*t{a.tenant.id}*/ SELECT count(*) FROM accounts WHERE id > $1",
                                   f"/*t{b.tenant.id}*/ SELECT count(*) FROM accounts WHERE id > $1"])
    finally:
        await engines.dispose()
