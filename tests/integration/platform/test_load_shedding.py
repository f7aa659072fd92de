"""`aquabill serve` in its own processes: several worker processes by default, and a process past its
capacity answers 503 with Retry-After at once — when its requests in flight are at the limit, and when a
request waited longer than the pool's timeout for a database connection (not a 500)."""

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text

from aquabill.devserver.services import free_port
from aquabill.tenants.context import tenant_transaction
from tests.conftest import ROOT
from tests.integration.billing_core.conftest import small_registry

OVERLOADED = {"error": {"code": "overloaded", "message": "Сервер перегружен, повторите запрос через несколько секунд",
                        "fields": []}}


class Served:
    """`aquabill serve` started as an operator would, with some settings of its own."""

    def __init__(self, settings, **env: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "aquabill.cli", "serve", "--port", str(self.port)],
            env={**os.environ, "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
                 "AQUABILL_REDIS_PREFIX": settings.redis_prefix, "AQUABILL_TELEPHONY": "0", **env},
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("aquabill serve did not start")

    def workers(self) -> list[str]:
        """The command lines of the server's child processes that serve (uvicorn's spawned workers)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        lines = [Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode() for pid in children]
        return [line for line in lines if "spawn_main" in line]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def two_residents(conn, tenant=None) -> None:
    await small_registry(conn, tenant)
    await conn.execute(text("INSERT INTO residents(account_id, full_name, registered_from) "
                            "VALUES (1, 'Иванов Иван', DATE '2020-01-01'), (2, 'Петров Пётр', DATE '2020-01-01')"))


async def wait_for_lock_waits(core, count: int) -> None:
    """Until `count` backends of this database wait for a row lock (the slow requests are in flight)."""
    for _ in range(600):
        async with core.engines.control.connect() as conn:
            waiting = (await conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"))).scalar_one()
        if waiting == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{count} requests never waited for the row locks")


async def while_requests_hang(settings, core, handle, residents: list[int], check, **env: str) -> None:
    """Serve with `env`; PATCH each resident while the test holds its row lock (the requests hang in
    flight), run `check`, then let them finish: each ends 200, and the card answers again."""
    server = Served(settings, AQUABILL_WEB_WORKERS="1", **env)
    try:
        async with httpx.AsyncClient(base_url=server.base, headers=handle.headers, timeout=60) as http:
            async with tenant_transaction(core.engines, handle.tenant) as conn:
                await conn.execute(text("SELECT id FROM residents WHERE id = ANY(:ids) FOR UPDATE"), {"ids": residents})
                slow = [asyncio.create_task(http.patch(f"/api/residents/{rid}", json={"full_name": "Сидоров Сидор"}))
                        for rid in residents]
                await wait_for_lock_waits(core, len(residents))
                await check(http)
            assert [r.status_code for r in await asyncio.gather(*slow)] == [200] * len(residents)
            card = await http.get("/api/accounts/1/card")
            assert card.status_code == 200 and card.json()["residents"][0]["full_name"] == "Сидоров Сидор"
    finally:
        server.stop()


async def test_serve_runs_worker_processes(settings, core):
    server = Served(settings, AQUABILL_WEB_WORKERS="2")
    try:
        assert len(server.workers()) == 2
    finally:
        server.stop()


async def test_over_the_in_flight_limit_a_request_gets_503_at_once(settings, core, make_tenant):
    async def check(http):
        r = await http.get("/api/accounts/1/card")
        assert (r.status_code, r.headers["retry-after"], r.json()) == (503, "1", OVERLOADED)
        assert (await http.get("/health/live")).status_code == 200  # probes are not limited

    await while_requests_hang(settings, core, await make_tenant(seed=two_residents), [1], check,
                              AQUABILL_WEB_MAX_IN_FLIGHT="1", AQUABILL_WEB_QUEUE_MS="50")


async def test_a_request_that_waits_too_long_for_a_connection_gets_503_not_500(settings, core, make_tenant):
    async def check(http):
        r = await http.get("/api/accounts/1/card")
        assert (r.status_code, r.headers["retry-after"], r.json()) == (503, "1", OVERLOADED)

    # two connections (1 + 1 overflow), both held by the hanging requests; the limiter would let ten in
    await while_requests_hang(settings, core, await make_tenant(seed=two_residents), [1, 2], check,
                              AQUABILL_DB_POOL_SIZE="1", AQUABILL_WEB_MAX_IN_FLIGHT="10")
