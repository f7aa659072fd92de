"""Benchmark of the subscribers' portal: the account page (`/my/accounts/{id}`: the balance, debt by service,
charges and payments of one linked account) under a steady open-loop load, with the bare liveness probe
measured the same way in the same run as the baseline.

    .venv/bin/python bench/portal.py [--rates 100] [--seconds 10] [--workers 0]

Starts its own PostgreSQL and Redis (or uses DATABASE_URL / REDIS_URL's servers), a tenant like the demo
tenant of `make run` (320 accounts with a year of billing) with one signed-in subscriber per account, and
`aquabill serve` on 127.0.0.1 (the portal's tenant chosen by AQUABILL_PORTAL_TENANT, as on a host without a
tenant subdomain). Each request is a different subscriber's page. Prints p50 / p99 / max, the rate answered,
the CPU per request, and the page's p99 over the probe's. Goal: p99 ≤ 100 ms at 100 requests/s.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

import httpx
from api import get, phase, postmaster_pid, server_pids, show
from benchlib import Server, demo_seeder, redis_url_or_local, start_serve, stop_serve, wait_ready
from console_fanout import pct
from sqlalchemy import text

from aquabill.devserver.services import free_port
from aquabill.platform.auth.passwords import new_token, token_hash
from aquabill.tenants.context import tenant_transaction
from aquabill.tenants.databases import EngineRegistry
from aquabill.tenants.migrator import migrate_control
from aquabill.tenants.provisioning import create_tenant

ROOT = Path(__file__).resolve().parent.parent
GOAL_P99 = 0.100


async def subscribers_with_sessions(engines: EngineRegistry, tenant) -> list[tuple[int, str]]:
    """One confirmed subscriber per account, linked to it and signed in: (account id, session token)."""
    async with tenant_transaction(engines, tenant) as conn:
        account_ids = (await conn.execute(text("SELECT id FROM accounts ORDER BY id"))).scalars().all()
        ids = (await conn.execute(text(
            "INSERT INTO subscribers(email, full_name, email_confirmed_at) "
            "SELECT 'bench' || a || '@example.ru', 'Абонент ' || a, now() FROM unnest(CAST(:a AS int[])) a "
            "RETURNING id"), {"a": list(account_ids)})).scalars().all()
        await conn.execute(text(
            "INSERT INTO subscriber_links(subscriber_id, account_id) "
            "SELECT s, a FROM unnest(CAST(:s AS int[]), CAST(:a AS int[])) AS x(s, a)"),
            {"s": list(ids), "a": list(account_ids)})
    tokens = [new_token() for _ in ids]
    async with engines.control.begin() as conn:
        await conn.execute(text(
            "INSERT INTO control.sessions(token_hash, kind, tenant_id, user_id, expires_at) "
            "SELECT h, 'subscriber', :t, u, now() + interval '1 day' "
            "FROM unnest(CAST(:h AS bytea[]), CAST(:u AS int[])) AS x(h, u)"),
            {"t": tenant.id, "h": [token_hash(t) for t in tokens], "u": list(ids)})
    return list(zip(account_ids, tokens, strict=True))


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rates", default="100")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=0, help="AQUABILL_WEB_WORKERS (0: one per core)")
    args = ap.parse_args()
    rates = [int(x) for x in args.rates.split(",")]

    pg = Server()
    db_url = await pg.start()
    tmp = Path(tempfile.mkdtemp(prefix="aquabill-portal-"))
    redis_url, local_redis = redis_url_or_local(tmp)
    proc = None
    try:
        engines = EngineRegistry(db_url, pool_size=2)
        await migrate_control(engines.control)
        t0 = time.perf_counter()
        tenant = await create_tenant(engines, "demo", "Водоканал (бенчмарк)", seed=demo_seeder("admin", "x" * 12))
        pages = await subscribers_with_sessions(engines, tenant)
        await engines.dispose()
        print(f"demo-like tenant: {len(pages)} accounts, a subscriber each, seeded in "
              f"{time.perf_counter() - t0:.1f} s; {pg.describe()}", flush=True)

        port = free_port()
        proc = start_serve(db_url, redis_url, port, args.workers, AQUABILL_PORTAL_TENANT="demo")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            await wait_ready(http)
            account, token = pages[0]
            r = await http.get(f"/my/accounts/{account}", headers={"Authorization": f"Bearer {token}"})
            if r.status_code != 200:
                print(f"the account page answered {r.status_code}: {r.text[:300]}")
                return 1
        await asyncio.sleep(1.0)
        pids = server_pids(proc.pid)
        db_pids = server_pids(postmaster_pid(pg.local.data_dir)) if pg.local else list
        requests = [get(f"/my/accounts/{a}", t) for a, t in pages]
        results = {}
        for name, make in (("health", lambda i: get("/health/live")),
                           ("account", lambda i: requests[i % len(requests)])):
            for rate in rates:
                results[name, rate] = res = await phase(port, make, rate, args.seconds, pids, db_pids)
                show(name, rate, res)
                await asyncio.sleep(1.0)
        print()
        for rate in rates:
            page, probe = results[("account", rate)], results[("health", rate)]
            if page["lat"] and probe["lat"]:
                print(f"account page / probe at {rate}/s: p99 {pct(page['lat'], 99) * 1000:.1f} / "
                      f"{pct(probe['lat'], 99) * 1000:.1f} ms = {pct(page['lat'], 99) / pct(probe['lat'], 99):.1f}")
        goal = results.get(("account", 100))
        if goal and goal["lat"]:
            met = pct(goal["lat"], 99) <= GOAL_P99 and goal["statuses"][200] == goal["measured"]
            print(f"goal account page p99 ≤ {GOAL_P99 * 1000:.0f} ms at 100/s with every request answered: "
                  f"{'met' if met else 'NOT met'}")
    finally:
        stop_serve(proc)
        if local_redis:
            local_redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        await pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
