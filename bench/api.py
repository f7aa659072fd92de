"""Benchmark of the API under a steady open-loop load: the account card, the account search and login, with
the bare liveness probe measured the same way in the same run as the baseline.

    .venv/bin/python bench/api.py [--rates 100,200,400] [--seconds 10] [--workers 0]

Starts its own PostgreSQL and Redis (or uses DATABASE_URL / REDIS_URL's servers), a tenant like the demo
tenant of `make run` (320 accounts with a year of billing), and `aquabill serve` on 127.0.0.1 as an operator
would (`--workers 0`: its default, one worker process per core). Each phase sends one kind of request at a
fixed rate for a warm-up second, then `--seconds` measured: open-loop, every request leaves at its
scheduled time whether or not the earlier ones have been answered (a new keep-alive connection when none
is free), and its latency counts from that scheduled time, so a server that falls behind shows it.
Prints, per endpoint and rate: p50 / p99 / max of the answered (200) requests, the rate answered, 503s
(shed) and other failures, the CPU of the app processes and of PostgreSQL per answered request (shed ones
cost little), how late the client itself sent (it shares the cores), the load average; then the card's p99
over the probe's. `me` (`GET /api/auth/me`: the session and permission look-up alone) shows what every
authenticated request pays before its handler. Goal: card p99 ≤ 50 ms at 200 requests/s. Traffic goes only
to 127.0.0.1; each phase stops by itself (what is unanswered DRAIN_SECONDS after the last send counts as a
timeout), so a run takes at most about a minute per phase.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import httpx
from benchlib import Server, demo_seeder, redis_url_or_local, start_serve, stop_serve, wait_ready
from console_fanout import cpu_seconds, pct

from aquabill.devserver.services import free_port
from aquabill.tenants.context import tenant_transaction
from aquabill.tenants.databases import EngineRegistry
from aquabill.tenants.migrator import migrate_control
from aquabill.tenants.provisioning import create_tenant

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-admin-pass"
WARMUP_SECONDS = 1.0
DRAIN_SECONDS = 15.0
GOAL_P99 = 0.050
SEARCHES = ("Ленина", "Иванов", "00100", "пр-т Мира", "Петрова", "0010021", "Строителей", "Ольга")


class HttpConn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection, one request at a time, the answer read by hand (status line and
    Content-Length): the client shares the two cores with the server, so it stays lean."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.body = b""  # the last answer's body
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future | None = None
        self.closed = False

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        head = bytes(self.buf[:end]).lower()
        at = head.find(b"\r\ncontent-length:")
        length = int(head[at + 17:].split(b"\r\n", 1)[0]) if at >= 0 else 0
        if len(self.buf) < end + 4 + length:
            return
        status, self.body = int(self.buf[9:12]), bytes(self.buf[end + 4:end + 4 + length])
        del self.buf[:end + 4 + length]
        if b"\r\nconnection: close" in head:
            self.closed = True
        waiter, self.waiter = self.waiter, None
        if not waiter.done():  # not given up on (a phase cancels what is unanswered at its end)
            waiter.set_result(self.answer(status))

    def answer(self, status: int):
        """What a request gets: the status (a subclass may add the body, `self.body`)."""
        return status

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))

    async def request(self, raw: bytes) -> int:
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self.waiter


def get(path: str, token: str | None = None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n".encode()


def post_json(path: str, body: dict) -> bytes:
    data = json.dumps(body).encode()
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n").encode() + data


async def phase(port: int, make, rate: int, seconds: float, pids, db_pids) -> dict:
    """Send `make(i)` at `rate` per second for the warm-up and `seconds`; measure the latter."""
    loop = asyncio.get_running_loop()
    free: list[HttpConn] = []
    lat: list[float] = []
    statuses: Counter = Counter()
    last = [0.0]
    lag = 0.0

    async def one(i: int, due: float, measure: bool) -> None:
        conn = None
        try:
            while free and conn is None:  # the newest idle connection the server has not closed
                conn = free.pop()
                conn = None if conn.closed else conn
            if conn is None:
                _, conn = await loop.create_connection(HttpConn, "127.0.0.1", port)
            status = await conn.request(make(i))
        except (OSError, ConnectionError):
            status = "error"
        except asyncio.CancelledError:
            if conn is not None:
                conn.transport.close()
            raise
        if measure:
            statuses[status] += 1
            last[0] = max(last[0], loop.time())
            if status == 200:
                lat.append(loop.time() - due)
        if conn is not None and not conn.closed:
            free.append(conn)

    warm, total = int(rate * WARMUP_SECONDS), int(rate * (WARMUP_SECONDS + seconds))
    start = loop.time() + 0.05
    tasks = []
    cpu0, db0, load0 = sum(map(cpu_seconds, pids())), db_cpu(db_pids()), os.getloadavg()[0]
    for i in range(total):
        due = start + i / rate
        if due > loop.time():
            await asyncio.sleep(due - loop.time())
        lag = max(lag, loop.time() - due)
        tasks.append(loop.create_task(one(i, due, i >= warm)))
    _, pending = await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
    for t in pending:
        t.cancel()
    statuses["timeout"] += sum(1 for i, t in enumerate(tasks) if t in pending and i >= warm)
    cpu, db = sum(map(cpu_seconds, pids())) - cpu0, db_cpu(db_pids()) - db0
    for conn in free:
        conn.transport.close()
    first = start + warm / rate
    return {"lat": lat, "statuses": statuses, "measured": total - warm, "lag": lag, "cpu": cpu, "db_cpu": db,
            "answered_rate": statuses[200] / max(last[0] - first, 1e-9), "load": (load0, os.getloadavg()[0])}


def show(name: str, rate: int, r: dict) -> None:
    lat, st = r["lat"], r["statuses"]
    other = sum(n for k, n in st.items() if k not in (200, 503))
    figures = (f"p50 {pct(lat, 50) * 1000:7.1f} ms · p99 {pct(lat, 99) * 1000:8.1f} ms · max {max(lat) * 1000:8.1f} ms"
               if lat else "nothing answered 200")
    print(f"{name:7} {rate:4}/s: {figures} · answered {r['answered_rate']:6.1f}/s · 503 {st[503]:5} · "
          f"other {other:4} {({k: n for k, n in st.items() if k not in (200, 503) and n}) or ''} · "
          f"CPU per answered request: app {r['cpu'] / max(st[200], 1) * 1000:5.2f} ms, PostgreSQL "
          f"{r['db_cpu'] / max(st[200], 1) * 1000:5.2f} ms · send lag ≤ {r['lag'] * 1000:.0f} ms · "
          f"load {r['load'][0]:.1f}→{r['load'][1]:.1f}", flush=True)


def with_children_cpu(pid: int) -> float:
    """A process's CPU seconds and those of its children that ended (PostgreSQL's backends come and go)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return cpu_seconds(pid) + (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().split()[0])


def db_cpu(pids: list[int]) -> float:
    return (with_children_cpu(pids[0]) + sum(map(cpu_seconds, pids[1:]))) if pids else 0.0


def spawned_workers(pids: list[int]) -> int:
    return sum(b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes() for p in pids[1:])


def server_pids(parent: int):
    def pids() -> list[int]:
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            children = []
        return [parent, *map(int, children)]  # uvicorn's parent, its workers and multiprocessing's tracker

    return pids


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rates", default="100,200,400")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=0, help="AQUABILL_WEB_WORKERS (0: one per core)")
    ap.add_argument("--only", default="health,me,card,search,login")
    args = ap.parse_args()
    rates = [int(x) for x in args.rates.split(",")]

    pg = Server()
    db_url = await pg.start()
    tmp = Path(tempfile.mkdtemp(prefix="aquabill-api-"))
    redis_url, local_redis = redis_url_or_local(tmp)
    proc = None
    try:
        engines = EngineRegistry(db_url, pool_size=2)
        await migrate_control(engines.control)
        t0 = time.perf_counter()
        tenant = await create_tenant(engines, "demo", "Водоканал (бенчмарк)", seed=demo_seeder("admin", PASSWORD))
        async with tenant_transaction(engines, tenant) as conn:
            from sqlalchemy import text

            account_ids = (await conn.execute(text("SELECT id FROM accounts ORDER BY id"))).scalars().all()
        await engines.dispose()
        print(f"demo-like tenant: {len(account_ids)} accounts, seeded in {time.perf_counter() - t0:.1f} s; "
              f"{pg.describe()}", flush=True)

        port = free_port()
        proc = start_serve(db_url, redis_url, port, args.workers)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            await wait_ready(http)
            r = await http.post("/api/auth/login", json={"tenant": "demo", "login": "admin", "password": PASSWORD})
            r.raise_for_status()
            token = r.json()["token"]
        await asyncio.sleep(1.0)  # every worker up
        pids = server_pids(proc.pid)
        db_pids = server_pids(postmaster_pid(pg.local.data_dir)) if pg.local else list  # backends: its children
        workers = spawned_workers(pids())
        print(f"`aquabill serve`: {workers} worker processes on 127.0.0.1:{port}; {os.cpu_count()} CPUs; "
              f"{args.seconds:g} s measured per phase after {WARMUP_SECONDS:g} s warm-up; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)

        searches = [get(f"/api/accounts?q={quote(q)}", token) for q in SEARCHES]
        cards = [get(f"/api/accounts/{a}/card", token) for a in account_ids]
        login = post_json("/api/auth/login", {"tenant": "demo", "login": "admin", "password": PASSWORD})
        me = get("/api/auth/me", token)  # the session and permission look-up alone, no tenant data
        kinds = {"health": lambda i: get("/health/live"), "me": lambda i: me, "card": lambda i: cards[i % len(cards)],
                 "search": lambda i: searches[i % len(searches)], "login": lambda i: login}
        results: dict[tuple[str, int], dict] = {}
        for name in args.only.split(","):
            for rate in rates:
                results[name, rate] = res = await phase(port, kinds[name], rate, args.seconds, pids, db_pids)
                show(name, rate, res)
                await asyncio.sleep(1.0)  # let the servers settle between phases
        print()
        for rate in rates:
            card, probe = results.get(("card", rate)), results.get(("health", rate))
            if card and probe and card["lat"] and probe["lat"]:
                print(f"card / probe at {rate}/s: p99 {pct(card['lat'], 99) * 1000:.1f} / "
                      f"{pct(probe['lat'], 99) * 1000:.1f} ms = {pct(card['lat'], 99) / pct(probe['lat'], 99):.1f}; "
                      f"p50 ratio {pct(card['lat'], 50) / pct(probe['lat'], 50):.1f}")
        goal = results.get(("card", 200))
        if goal and goal["lat"]:
            met = pct(goal["lat"], 99) <= GOAL_P99 and goal["statuses"][200] == goal["measured"]
            print(f"goal card p99 ≤ {GOAL_P99 * 1000:.0f} ms at 200/s with every request answered: "
                  f"{'met' if met else 'NOT met'}")
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        stop_serve(proc)
        if local_redis:
            local_redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        await pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
