"""Shared pieces of the benchmarks: a throwaway PostgreSQL (or our own database on DATABASE_URL's
server) and peak memory."""

from __future__ import annotations

import asyncio
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx

from aquabill.devserver.services import LocalPostgres, LocalRedis, free_port
from aquabill.tenants.databases import EngineRegistry, to_async_url
from aquabill.tenants.migrator import migrate_control
from aquabill.tenants.provisioning import create_tenant


def peak_rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


# ---- the PostgreSQL server ------------------------------------------------------------------

class Server:
    """A throwaway local PostgreSQL, or a database of our own on the server in DATABASE_URL."""

    def __init__(self) -> None:
        self.tmp: Path | None = None
        self.local: LocalPostgres | None = None
        self.admin_url: str | None = None
        self.dbname = f"aquabill_bench_{secrets.token_hex(4)}"

    async def start(self) -> str:
        given = os.environ.get("DATABASE_URL")
        if given:
            base = given.replace("postgresql+asyncpg://", "postgresql://").split("?")[0]
            self.admin_url = base.rpartition("/")[0] + "/postgres"
            conn = await asyncpg.connect(self.admin_url)
            try:
                await conn.execute(f'CREATE DATABASE "{self.dbname}"')
            finally:
                await conn.close()
            return to_async_url(base.rpartition("/")[0] + "/" + self.dbname)
        self.tmp = Path(tempfile.mkdtemp(prefix="aquabill-bench-"))
        if os.geteuid() == 0:
            os.chmod(self.tmp, 0o755)  # postgres runs as its own user
        self.local = LocalPostgres(self.tmp / "pg" / "data", free_port(), fast_unsafe=True)
        await asyncio.to_thread(self.local.start)
        return self.local.url

    async def stop(self) -> None:
        if self.admin_url:
            conn = await asyncpg.connect(self.admin_url)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
            finally:
                await conn.close()
        if self.local:
            await asyncio.to_thread(self.local.stop)
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def describe(self) -> str:
        if self.local:
            return f"throwaway PostgreSQL on port {self.local.port} (fsync off)"
        return f"database {self.dbname} on the DATABASE_URL server"


@asynccontextmanager
async def bench_tenant(slug: str = "bench", name: str = "Бенчмарк") -> AsyncIterator[tuple]:
    """A throwaway server with the control schema and one tenant: (server, engines, tenant); all dropped
    on exit."""
    server = Server()
    url = await server.start()
    engines = EngineRegistry(url, pool_size=2)
    try:
        await migrate_control(engines.control)
        yield server, engines, await create_tenant(engines, slug, name)
    finally:
        await engines.dispose()
        await server.stop()



def demo_seeder(login: str, password: str):
    """A tenant seed like the demo tenant of `make run`: an admin, the 320-account town with a year of
    billing (tariffs, residents, meters and readings, 12 closed months of charges) and appeals."""
    from datetime import date

    from aquabill.demo.appeals import seed_appeals
    from aquabill.demo.billing import seed_billing
    from aquabill.demo.tenant import seed_registry
    from aquabill.platform.auth.seed import admin_seeder

    admin = admin_seeder(login, password)

    async def seed(conn, tenant) -> None:
        await admin(conn, tenant)
        await seed_registry(conn)
        await seed_billing(conn, today=date.today())
        await seed_appeals(conn, today=date.today())

    return seed


def redis_url_or_local(tmp: Path) -> tuple[str, LocalRedis | None]:
    """REDIS_URL, or a throwaway local Redis in `tmp` (returned too, to be stopped)."""
    given = os.environ.get("REDIS_URL")
    if given:
        return given, None
    local = LocalRedis(tmp / "redis", free_port(), persist=False)
    local.start()
    return local.url, local


# ---- `aquabill serve` as an operator runs it ------------------------------------------------------------

def start_serve(db_url: str, redis_url: str, port: int, workers: int, **extra_env: str):
    """`aquabill serve` on 127.0.0.1:`port` in its own processes (its output discarded)."""
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "AQUABILL_PORT": str(port),
           "AQUABILL_REDIS_PREFIX": f"bench{secrets.token_hex(3)}", "AQUABILL_WEB_WORKERS": str(workers),
           **extra_env}
    root = Path(__file__).resolve().parent.parent
    return subprocess.Popen([sys.executable, "-m", "aquabill.cli", "serve"], env=env, cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_ready(http) -> None:
    """Until the app answers /health/ready (at most a minute); `http` is an httpx client on its address."""
    for _ in range(600):
        try:
            if (await http.get("/health/ready")).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.1)


def stop_serve(proc) -> None:
    if proc is None:
        return
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
