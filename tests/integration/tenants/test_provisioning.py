"""Provisioning and migrating many tenants; a broken tenant is reported, the others succeed."""

import os
import subprocess
import sys

import pytest
from sqlalchemy import text

from aquabill.demo.tenant import ensure_platform_admin
from aquabill.tenants import registry
from aquabill.tenants.context import tenant_transaction
from aquabill.tenants.databases import EngineRegistry
from aquabill.tenants.migrator import TENANT, head, migrate_control, schema_versions
from aquabill.tenants.provisioning import TenantExists, create_tenant, migrate_all
from tests.conftest import ROOT


@pytest.fixture
async def isolated_engines(pg_server):
    """A control database of its own, so migrating "every tenant" means only this test's tenants."""
    engines = EngineRegistry(await pg_server.create_database("aquabill_prov"), pool_size=4)
    await migrate_control(engines.control)
    yield engines
    await engines.dispose()


async def test_fifty_tenants_and_a_broken_one(isolated_engines):
    engines = isolated_engines
    slugs = [f"vk-{i:02d}" for i in range(50)]
    for slug in slugs:
        await create_tenant(engines, slug, f"Водоканал №{slug[-2:]}")
    async with engines.control.connect() as conn:
        versions = await schema_versions(conn, [f"t_vk_{i:02d}" for i in range(50)])
    assert set(versions.values()) == {head(TENANT)}

    # nothing to apply: every schema is skipped without a migration context
    summary = await migrate_all(engines)
    assert len(summary.skipped) == 50 and not summary.applied and not summary.failed

    # step every tenant back one revision, then break one so that the upgrade cannot apply there
    summary = await migrate_all(engines, target="t0001")
    assert len(summary.applied) == 50 and not summary.failed
    broken = await _tenant(engines, "vk-13")
    async with tenant_transaction(engines, broken) as conn:
        await conn.execute(text("CREATE TABLE settlements (id int)"))  # t0002 creates this table

    seen = []
    summary = await migrate_all(engines, on_result=seen.append)
    assert len(seen) == 50
    assert [r.slug for r in summary.failed] == ["vk-13"]
    assert "settlements" in summary.failed[0].error and summary.failed[0].after == "t0001"
    assert len(summary.applied) == 49
    async with engines.control.connect() as conn:
        versions = await schema_versions(conn, [f"t_vk_{i:02d}" for i in range(50)])
        revisions = dict((await conn.execute(text(
            "SELECT slug, revision FROM control.tenants WHERE slug LIKE 'vk-%'"))).all())
    assert versions.pop("t_vk_13") == "t0001"
    assert set(versions.values()) == {head(TENANT)}
    assert revisions["vk-13"] == "t0001" and revisions["vk-00"] == head(TENANT)

    # repair and re-run: only the broken tenant is left to migrate
    async with tenant_transaction(engines, broken) as conn:
        await conn.execute(text("DROP TABLE settlements"))
    summary = await migrate_all(engines)
    assert [r.slug for r in summary.applied] == ["vk-13"] and len(summary.skipped) == 49


async def _tenant(engines, slug):
    async with engines.control.connect() as conn:
        return await registry.by_slug(conn, slug)


async def test_create_tenant_twice_is_refused_and_failed_seed_leaves_no_schema(isolated_engines):
    engines = isolated_engines
    await create_tenant(engines, "twice", "Первый")
    with pytest.raises(TenantExists):
        await create_tenant(engines, "twice", "Второй")

    async def failing_seed(conn, tenant):
        raise RuntimeError("seed failed")

    with pytest.raises(RuntimeError):
        await create_tenant(engines, "halfway", "Недоделанный", seed=failing_seed)
    t = await _tenant(engines, "halfway")
    assert t.status == "failed"
    async with engines.control.connect() as conn:
        assert (await conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = 't_halfway'"))).first() is None
    # migrating everything leaves the failed tenant alone (no schema is created behind its back) ...
    summary = await migrate_all(engines)
    assert "halfway" not in {r.slug for r in summary.results}
    # ... so creating it again retries and succeeds
    t = await create_tenant(engines, "halfway", "Недоделанный")
    assert t.status == "active"


async def test_tenant_left_provisioning_by_a_dead_process_can_be_created_again(isolated_engines):
    """A process killed mid-provisioning leaves the row `provisioning` and no schema (one transaction)."""
    engines = isolated_engines
    async with engines.control.begin() as conn:
        await registry.insert_tenant(conn, "orphan", "Брошенный", "t_orphan", "main")
    with pytest.raises(TenantExists):  # a fresh row may be a provisioning still running elsewhere
        await create_tenant(engines, "orphan", "Брошенный")
    async with engines.control.begin() as conn:
        await conn.execute(text("UPDATE control.tenants SET created_at = now() - interval '1 hour' "
                                "WHERE slug = 'orphan'"))
    t = await create_tenant(engines, "orphan", "Брошенный")
    assert t.status == "active"
    with pytest.raises(TenantExists):  # now it exists for real
        await create_tenant(engines, "orphan", "Брошенный")


async def test_tenant_in_a_second_database(core, client, make_tenant, second_database):
    url = await second_database("db2")
    t = await make_tenant(db_key="db2")
    assert t.tenant.db_key == "db2"
    other = EngineRegistry(url, pool_size=1)
    try:
        async with other.control.connect() as conn:
            found = (await conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"),
                                        {"s": t.tenant.schema_name})).first()
        assert found is not None
    finally:
        await other.dispose()
    async with core.engines.control.connect() as conn:
        assert (await conn.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :s"),
                                   {"s": t.tenant.schema_name})).first() is None
    # the app serves it like any other tenant, through its own pool
    r = await client.get("/api/users", headers=t.headers)
    assert r.status_code == 200 and r.json()["items"][0]["login"] == "admin"
    assert set(core.engines._engines) >= {"main", "db2"}


async def test_platform_admin_api_provisions_tenants(core, client, make_tenant):
    await ensure_platform_admin(core, "root", "root-password")
    r = await client.post("/api/platform/login", json={"login": "root", "password": "root-password"})
    h = {"Authorization": f"Bearer {r.json()['token']}"}
    r = await client.post("/api/platform/tenants", headers=h, json={
        "slug": "api-made", "name": "МУП «Созданный через API»", "admin_password": "api-admin-pass"})
    assert r.status_code == 201, r.text
    assert r.json()["schema"] == "t_api_made" and r.json()["status"] == "active"
    login = await client.post("/api/auth/login", json={"tenant": "api-made", "login": "admin",
                                                       "password": "api-admin-pass"})
    assert login.status_code == 200
    assert (await client.post("/api/platform/tenants", headers=h, json={"slug": "api-made", "name": "x"})).status_code == 409
    bad = await client.post("/api/platform/tenants", headers=h, json={"slug": "Bad Slug!", "name": "x"})
    assert bad.status_code == 422 and "Код организации" in bad.json()["error"]["message"]
    listed = (await client.get("/api/platform/tenants?q=api-made", headers=h)).json()
    assert [t["slug"] for t in listed["items"]] == ["api-made"]
    # a tenant's staff token is not a platform token
    staff = await make_tenant()
    assert (await client.get("/api/platform/tenants", headers=staff.headers)).status_code == 403
    assert (await client.get("/api/platform/tenants")).status_code == 401
    # and a platform token does not open tenant routes
    assert (await client.get("/api/users", headers=h)).status_code == 403


def test_cli_create_and_migrate(pg_server):
    import asyncio

    url = asyncio.run(pg_server.create_database("aquabill_cli"))
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": "redis://127.0.0.1:1/0"}
    cli = [sys.executable, "-m", "aquabill.cli"]

    def run(*args):
        return subprocess.run([*cli, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)

    r = run("tenants", "create", "cli-one", "--name", "Водоканал CLI", "--admin-password", "cli-admin-pass")
    assert r.returncode == 0, r.stderr
    assert "Создана организация cli-one (схема t_cli_one, база main)" in r.stdout
    r = run("tenants", "create", "cli-one", "--name", "Снова")
    assert r.returncode == 1 and "уже существует" in r.stderr
    r = run("migrate")
    assert r.returncode == 0, r.stderr
    assert "Итого: применено 0, без изменений 1, ошибок 0" in r.stdout
    r = run("migrate", "--to", "t0001")
    assert r.returncode == 0 and "cli-one" in r.stdout and f"{head(TENANT)} → t0001" in r.stdout
    r = run("migrate")
    assert f"t0001 → {head(TENANT)}" in r.stdout and "применено 1" in r.stdout
    r = run("tenants", "list")
    assert "cli-one" in r.stdout and "active" in r.stdout
