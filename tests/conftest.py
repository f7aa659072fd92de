"""Test services: a real PostgreSQL and a real Redis.

Given DATABASE_URL / REDIS_URL are preferred (a throwaway database is created on that server);
otherwise throwaway local instances are started in a temporary folder on free loopback ports.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import asyncpg
import httpx
import pytest
from litestar.testing import AsyncTestClient

from aquabill.devserver.services import LocalPostgres, LocalRedis, free_port
from aquabill.platform.app import create_app
from aquabill.platform.auth.seed import admin_seeder
from aquabill.platform.config import Settings
from aquabill.platform.jobs.worker import build_worker
from aquabill.platform.serving import uvicorn_cli_args
from aquabill.platform.state import Core
from aquabill.tenants.databases import to_async_url
from aquabill.tenants.migrator import migrate_control
from aquabill.tenants.provisioning import create_tenant

ADMIN_PASSWORD = "test-admin-pass"
ROOT = Path(__file__).resolve().parent.parent


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


class PgServer:
    """A PostgreSQL server on which the tests create and drop their own databases."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="aquabill-test-"))
        self.local: LocalPostgres | None = None
        given = os.environ.get("DATABASE_URL")
        if given:
            self.base = _plain(given)
        else:
            if os.geteuid() == 0:
                os.chmod(self.tmp, 0o755)
            self.local = LocalPostgres(self.tmp / "pg" / "data", free_port(), fast_unsafe=True)
            self.local.start()
            self.base = _plain(self.local.url)
        self.created: list[str] = []

    def url(self, database: str) -> str:
        head, _, _ = self.base.rpartition("/")
        return f"{head}/{database}"

    async def create_database(self, prefix: str = "aquabill_test") -> str:
        name = f"{prefix}_{secrets.token_hex(4)}"
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created.append(name)
        return to_async_url(self.url(name))

    async def drop_all(self) -> None:
        conn = await asyncpg.connect(self.url("postgres"))
        try:
            for name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    def stop(self) -> None:
        if self.local:
            self.local.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server():
    server = PgServer()
    yield server
    try:
        asyncio.run(server.drop_all()) if server.local is None else None
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_url():
    given = os.environ.get("REDIS_URL")
    if given:
        yield given
        return
    tmp = Path(tempfile.mkdtemp(prefix="aquabill-redis-"))
    redis = LocalRedis(tmp, free_port(), persist=False)
    redis.start()
    yield redis.url
    redis.stop()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
async def settings(pg_server, redis_url) -> Settings:
    database_url = await pg_server.create_database()
    return Settings.from_env(
        env={},
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=f"test{secrets.token_hex(3)}",
        lockout_attempts=3,
        lockout_minutes=15,
        migrate_jobs=2,
    )


@pytest.fixture(scope="session")
async def core(settings) -> AsyncIterator[Core]:
    core = Core.open(settings)
    await migrate_control(core.engines.control)
    yield core
    await core.close()


@pytest.fixture(scope="session")
async def app(core, settings):
    return create_app(settings)


@pytest.fixture(scope="session")
async def client(app) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as c:
        yield c


@pytest.fixture(autouse=True)
def _fresh_cookies(request):
    """The session-wide client must not carry one test's login cookie into the next."""
    yield
    if "client" in request.fixturenames:
        request.getfixturevalue("client").cookies.clear()


@pytest.fixture(scope="session")
async def worker(settings, core):
    """The arq worker running in the background for the whole session, as in production apart from the
    app: in its own thread, event loop and connection pools. (The in-process test client runs each request
    synchronously on the test's loop; a worker on that loop would stall during a request, and a request
    waiting for a row lock held by a job would then wait forever.)"""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="arq-worker", daemon=True)
    thread.start()

    async def start():
        own = Core.open(settings)
        w = build_worker(own)
        return own, w, asyncio.create_task(w.async_run())

    def call(coro):
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

    own, w, task = await call(start())
    yield w

    async def stop():
        task.cancel()
        try:
            await task
        except BaseException:
            pass
        await w.close()
        await own.close()

    await call(stop())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


class TenantHandle:
    def __init__(self, tenant, token: str) -> None:
        self.tenant = tenant
        self.token = token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture(scope="session")
def make_tenant(core, client):
    """Create a tenant with an admin user and return it with an API token of that admin."""

    async def make(slug: str | None = None, *, name: str | None = None, db_key: str = "main", seed=None):
        slug = slug or f"t{secrets.token_hex(4)}"
        admin = admin_seeder("admin", ADMIN_PASSWORD)

        async def seed_all(conn, tenant):
            await admin(conn, tenant)
            if seed is not None:
                await seed(conn, tenant)

        tenant = await create_tenant(core.engines, slug, name or f"Водоканал {slug}", db_key=db_key, seed=seed_all)
        r = await client.post("/api/auth/login", json={"tenant": slug, "login": "admin", "password": ADMIN_PASSWORD})
        assert r.status_code == 200, r.text
        return TenantHandle(tenant, r.json()["token"])

    return make


class AppServer:
    """The app in its own OS process (uvicorn), as in production."""

    def __init__(self, settings: Settings, extra_env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        env = {**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
               "AQUABILL_REDIS_PREFIX": settings.redis_prefix, "AQUABILL_PORT": str(self.port),
               "AQUABILL_WS_RECHECK_SECONDS": "0.5", **(extra_env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "aquabill.platform.app:create_app",
             "--host", "127.0.0.1", "--port", str(self.port), *uvicorn_cli_args(), "--log-level", "warning"],
            env=env, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health/live", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("app server did not start")

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture(scope="session")
def app_servers(settings, core):
    """Two app processes sharing the database and Redis."""
    servers = [AppServer(settings), AppServer(settings)]
    yield servers
    for s in servers:
        s.stop()


@pytest.fixture(scope="session")
def second_database(pg_server, core):
    async def make(key: str) -> str:
        url = await pg_server.create_database("aquabill_db2")
        from aquabill.tenants import registry

        async with core.engines.control.begin() as conn:
            await registry.register_database(conn, key, url)
        return url

    return make


def with_settings(settings: Settings, **kw) -> Settings:
    return replace(settings, **kw)
