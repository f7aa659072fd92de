"""Benchmark of the live console's fan-out: WebSocket clients of two tenants, events published at a
steady rate through the real hub (Redis pub/sub → app processes → sockets).

    .venv/bin/python bench/console_fanout.py [--clients 500] [--rate 200] [--seconds 10] [--apps 2]

`--clients` per tenant (two tenants), spread over `--apps` uvicorn processes; `--rate` events per second
in all, alternating between the tenants (each event reaches every client of its tenant). Latency is
publish-to-receive: the publisher stamps each event, client processes note when it arrives. Prints
p50/p99/max, the same for a bare Redis pub/sub round trip measured in the same run (one subscriber per
client, same rate), and checks that no client received an event of the other tenant. Goal: p99 ≤ 100 ms.
Starts its own PostgreSQL and Redis (or uses DATABASE_URL / REDIS_URL's servers).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from benchlib import Server
from fanout_clients import client_proc
from redis.asyncio import Redis

from aquabill.devserver.services import LocalRedis, free_port
from aquabill.platform.auth.seed import admin_seeder
from aquabill.platform.keys import Keys
from aquabill.platform.realtime import publish
from aquabill.platform.serving import uvicorn_cli_args
from aquabill.tenants.databases import EngineRegistry
from aquabill.tenants.migrator import migrate_control
from aquabill.tenants.provisioning import create_tenant

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-admin-pass"
CLIENT_PROCS = 2
PAYLOAD = {"call_id": 0, "caller": "+79161234567", "queue": "600",
           "account": {"id": 1, "number": "00100001", "holder": "Иванов Иван Иванович",
                       "address": "г. Бенчград, ул. Ленина, д. 10, кв. 5", "debt": "1234.56"}}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# ---- the run ------------------------------------------------------------------------------------

async def drive(publish_one, rate: int, seconds: float, warmup: float = 2.0) -> int:
    """Publish at `rate` per second for warm-up + `seconds`; only events after warm-up are measured."""
    interval = 1 / rate
    start = time.perf_counter()
    n = 0
    while True:
        elapsed = time.perf_counter() - start
        if elapsed >= warmup + seconds:
            return n
        await publish_one(n, elapsed >= warmup)
        n += 1
        delay = start + n * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)


def start_processes(kind: str, arg, groups: list[list]) -> tuple[list, list, object, object]:
    ctx = mp.get_context("spawn")
    stop, out = ctx.Event(), ctx.Queue()
    procs, readies = [], []
    for items in groups:
        ready = ctx.Event()
        p = ctx.Process(target=client_proc, args=(kind, arg, items, ready, stop, out), daemon=True)
        p.start()
        procs.append(p)
        readies.append(ready)
    return procs, readies, stop, out


async def collect(procs, readies, stop, out, run, servers: tuple[int, ...] = ()) -> dict:
    for r in readies:
        await asyncio.to_thread(r.wait)
    await asyncio.sleep(1.0)  # every hub subscribed
    before = sum(cpu_seconds(pid) for pid in servers)
    wall = time.perf_counter()
    sent = await run()
    wall = time.perf_counter() - wall
    stop.set()
    results = [await asyncio.to_thread(out.get, True, 120) for _ in procs]
    after = sum(cpu_seconds(pid) for pid in servers)  # till the clients stopped: the backlog's work included
    for p in procs:
        p.join(10)
    lat = [x for r in results for x in r["lat"]]
    return {"sent": sent, "lat": lat, "foreign": sum(r["foreign"] for r in results),
            "received": sum(r["received"] for r in results), "wall": wall,
            "cpu_clients": sum(r["cpu"] for r in results), "cpu_servers": after - before}


def show(label: str, res: dict, expected: int) -> None:
    lat = res["lat"]
    if not lat:
        print(f"{label}: nothing received")
        return
    print(f"{label}: deliveries measured {len(lat):,} of {expected:,} expected · "
          f"p50 {pct(lat, 50) * 1000:.1f} ms · p99 {pct(lat, 99) * 1000:.1f} ms · "
          f"max {max(lat) * 1000:.1f} ms · mean {statistics.fmean(lat) * 1000:.1f} ms")
    per_k = 1000 / max(res["received"], 1)
    print(f"  CPU from the first event to the last delivery (publishing {res['wall']:.1f} s): client processes "
          f"{res['cpu_clients']:.1f} s, servers {res['cpu_servers']:.1f} s — per 1,000 deliveries "
          f"{res['cpu_clients'] * per_k * 1000:.1f} ms and {res['cpu_servers'] * per_k * 1000:.1f} ms")


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=500, help="clients per tenant")
    ap.add_argument("--rate", type=int, default=200, help="events per second, both tenants together")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--apps", type=int, default=2, help="app processes")
    args = ap.parse_args()

    pg = Server()
    db_url = await pg.start()
    tmp = Path(tempfile.mkdtemp(prefix="aquabill-fanout-"))
    local_redis = None
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        local_redis = LocalRedis(tmp / "redis", free_port(), persist=False)
        local_redis.start()
        redis_url = local_redis.url
    prefix = f"bench{secrets.token_hex(3)}"
    keys = Keys(prefix)
    redis = Redis.from_url(redis_url)
    apps: list[subprocess.Popen] = []
    ok = True
    try:
        engines = EngineRegistry(db_url, pool_size=2)
        await migrate_control(engines.control)
        tenants = [await create_tenant(engines, f"fan{i}{secrets.token_hex(3)}", f"Водоканал {i}",
                                       seed=admin_seeder("admin", PASSWORD)) for i in (1, 2)]
        await engines.dispose()
        ports = [free_port() for _ in range(args.apps)]
        env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "AQUABILL_REDIS_PREFIX": prefix}
        for port in ports:
            apps.append(subprocess.Popen(  # noqa: ASYNC220 (started once, before measuring)
                [sys.executable, "-m", "uvicorn", "--factory", "aquabill.platform.app:create_app", "--host",
                 "127.0.0.1", "--port", str(port), *uvicorn_cli_args(), "--log-level", "warning"],
                env={**env, "AQUABILL_PORT": str(port)}, cwd=ROOT))
        tokens = {}
        async with httpx.AsyncClient(timeout=5) as http:
            for port in ports:
                for _ in range(300):
                    try:
                        if (await http.get(f"http://127.0.0.1:{port}/health/live")).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    await asyncio.sleep(0.1)
            for t in tenants:
                r = await http.post(f"http://127.0.0.1:{ports[0]}/api/auth/login",
                                    json={"tenant": t.slug, "login": "admin", "password": PASSWORD})
                r.raise_for_status()
                tokens[t.slug] = r.json()["token"]
        clients = [(f"ws://127.0.0.1:{ports[i % len(ports)]}/ws", tokens[t.slug], t.slug)
                   for i in range(args.clients) for t in tenants]
        groups = [clients[i::CLIENT_PROCS] for i in range(CLIENT_PROCS)]
        print(f"fan-out: {args.clients} clients × 2 tenants over {args.apps} app processes, "
              f"{args.rate} events/s for {args.seconds:.0f} s (after 2 s warm-up); {os.cpu_count()} CPUs; "
              f"{pg.describe()}")

        async def hub_event(n: int, measure: bool) -> None:
            t = tenants[n % 2]
            await publish(redis, keys, t.id, "bench", {**PAYLOAD, "call_id": n, "tenant": t.slug,
                                                        "sent": time.time(), "measure": measure})

        t0 = time.perf_counter()
        hub = await collect(*start_processes("ws", None, groups),
                            lambda: drive(hub_event, args.rate, args.seconds), tuple(p.pid for p in apps))
        connect_and_run = time.perf_counter() - t0
        measured = int(args.rate * args.seconds) * args.clients  # each event reaches one tenant's clients
        show("hub (Redis → app → WebSocket)", hub, measured)
        print(f"  events published {hub['sent']:,}, deliveries {hub['received']:,}, "
              f"foreign deliveries {hub['foreign']} (must be 0); whole phase {connect_and_run:.1f} s")

        channels = [f"{prefix}:bare:{i % 2}" for i in range(args.clients * 2)]
        bare_groups = [channels[i::CLIENT_PROCS] for i in range(CLIENT_PROCS)]

        async def bare_event(n: int, measure: bool) -> None:
            await redis.publish(f"{prefix}:bare:{n % 2}", json.dumps(
                {**PAYLOAD, "call_id": n, "tenant": f"bare{n % 2}", "sent": time.time(), "measure": measure},
                ensure_ascii=False))

        redis_pid = int((await redis.info("server"))["process_id"])
        bare = await collect(*start_processes("redis", redis_url, bare_groups),
                             lambda: drive(bare_event, args.rate, args.seconds), (redis_pid,))
        show("bare Redis pub/sub round trip", bare, measured)
        if hub["lat"] and bare["lat"]:
            print(f"  ratio p99 hub / bare: {pct(hub['lat'], 99) / pct(bare['lat'], 99):.2f}; "
                  f"goal p99 ≤ 100 ms: {'met' if pct(hub['lat'], 99) <= 0.1 else 'NOT met'}")
        if hub["foreign"]:
            print("FAILED: a client received another tenant's event")
            ok = False
        if hub["received"] < measured:
            print(f"FAILED: fewer deliveries than published events × clients ({hub['received']} < {measured})")
            ok = False
    finally:
        for p in apps:
            p.terminate()
        for p in apps:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        await redis.aclose()
        if local_redis:
            local_redis.stop()
        await pg.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
