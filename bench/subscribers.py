"""Benchmark of the subscribers' bots: simulated subscribers of several tenants' bots talking to the service
through the messengers' webhooks, against the local fakes of the Telegram Bot API and the MAX Bot API (which
never throttle).

    .venv/bin/python bench/subscribers.py [--users 1000] [--tenants 10] [--rate 350] [--think 1.0]
                                          [--channels telegram,max] [--workers 0]

Starts its own PostgreSQL and Redis (or uses DATABASE_URL / REDIS_URL's servers), `--tenants` tenants with
`--users / --tenants` accounts each (a cold water meter, two months of charges, readings taken any day),
and `aquabill serve` on 127.0.0.1 as an operator would (`--workers 0`: one worker process per core), its
Bot API URLs pointing at the fakes in this process. Staff enable each tenant's bot through the settings API
(`PUT /api/bots/<channel>`: the fake gets `setWebhook` / `POST /subscriptions` with the secret).

Each simulated subscriber (a chat of its own) goes through 7 updates:
/start, «Привязать лицевой счёт», the account number, the receipt's amount (linking), «Баланс»,
«Показания», the meter's value. It sends an update, waits for the bot's reply, "reads" it for `--think`
seconds (±20 %), then sends the next one — as a person would, and above the bots' pace of about one
message per second per chat, so the figures are the service's own, not the pacing's. Subscribers start one
after another at `--rate` / 7 a second, so once the first ones are half-way the offered load is about
`--rate` updates per second until the last ones start (an open-loop arrival of people). An update's latency
is from the moment the fake delivers it (POST to the webhook) to the moment the fake receives the reply
(sendMessage / POST /messages or /answers). Printed per channel: updates answered per second over the run
(first delivery to last reply) and in its busiest 10 seconds, p50 / p99 / max latency, flows that ended as expected, webhook answers
other than 200 (re-delivered after a second, as the messengers do), the CPU of the app processes and of
PostgreSQL per update; then the bare liveness probe at the same rate (bench/api.py's open-loop phase) as the
baseline, and each channel's latency over the probe's. Goal (Telegram): ≥ 300 updates/s and p99 ≤ 250 ms on this machine. Traffic goes
only to 127.0.0.1; each run stops by itself (a reply not received within 30 s counts as lost).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from api import HttpConn, db_cpu, get, phase, postmaster_pid, server_pids
from api import show as show_probe
from benchlib import Server, redis_url_or_local, start_serve, stop_serve, wait_ready
from console_fanout import cpu_seconds, pct
from sqlalchemy import text

from aquabill.devserver.fakes.max_api import FakeMax, MaxCall
from aquabill.devserver.fakes.telegram_api import Call, FakeTelegram
from aquabill.devserver.services import free_port
from aquabill.platform.auth.seed import admin_seeder
from aquabill.tenants.context import tenant_transaction
from aquabill.tenants.databases import EngineRegistry
from aquabill.tenants.migrator import migrate_control
from aquabill.tenants.provisioning import create_tenant

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-admin-pass"
REPLY_TIMEOUT = 30.0
GOAL_RATE, GOAL_P99 = 300.0, 0.250


def seeder(accounts: int):
    admin = admin_seeder("admin", PASSWORD)

    async def seed(conn, tenant) -> None:
        await admin(conn, tenant)
        await conn.execute(text("INSERT INTO settlements(kind, name) VALUES ('г.', 'Бенчград')"))
        await conn.execute(text("INSERT INTO streets(settlement_id, kind, name) VALUES (1, 'ул.', 'Ботов')"))
        await conn.execute(text("INSERT INTO houses(street_id, number, improvement) VALUES (1, '1', 'full')"))
        await conn.execute(text("INSERT INTO premises(house_id, number, area_m2) "
                                "SELECT 1, n::text, 40 + n % 30 FROM generate_series(1, :n) n"), {"n": accounts})
        await conn.execute(text(
            "INSERT INTO accounts(number, premise_id, holder, opened_on) "
            "SELECT lpad(n::text, 8, '0'), n, 'Абонентов Бот ' || n, DATE '2020-01-01' FROM generate_series(1, :n) n"),
            {"n": accounts})
        await conn.execute(text(
            "INSERT INTO meters(account_id, service_id, serial, digits, fraction_digits, installed_on, initial_reading) "
            "SELECT a.id, s.id, 'ХВ-' || a.id, 5, 3, CURRENT_DATE - 400, 10 FROM accounts a, services s "
            "WHERE s.code = 'cold_water'"))
        for months_ago in (2, 1):  # two months of charges: the latest is the receipt the subscriber has
            await conn.execute(text(
                "INSERT INTO charges(account_id, service_id, period, method, volume, tariff, amount) "
                "SELECT a.id, s.id, CAST(date_trunc('month', CURRENT_DATE - make_interval(months => :m)) AS date), "
                "'norm', 6, 50, CASE s.code WHEN 'cold_water' THEN 300 ELSE 200 END + a.id % 100 "
                "FROM accounts a, services s WHERE s.code IN ('cold_water', 'sewage')"), {"m": months_ago})
        await conn.execute(text("UPDATE billing_settings SET value = '[1, 31]' WHERE key = 'portal_reading_days'"))

    return seed


async def dues(engines, tenant) -> dict[str, str]:
    """Each account's sum to pay by its last receipt (no payments: every charge is still owed)."""
    async with tenant_transaction(engines, tenant) as conn:
        rows = await conn.execute(text("SELECT a.number, sum(c.amount) FROM accounts a JOIN charges c "
                                       "ON c.account_id = a.id GROUP BY 1"))
        return {r[0]: f"{r[1]:.2f}".replace(".", ",") for r in rows}


class WebhookConn(HttpConn):
    """One keep-alive HTTP/1.1 connection to the app (bench/api.py's lean client: the simulated messengers
    share the two cores with the service); its waiter gets (status, body)."""

    def answer(self, status: int) -> tuple[int, bytes]:
        return status, self.body


class Deliverer:
    """POSTs updates to the app's webhooks over a pool of `WebhookConn`."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.free: list[WebhookConn] = []

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        path = "/" + url.split("/", 3)[3]
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        raw = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{extra}"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
        for _ in range(2):  # a connection the server closed meanwhile: once more on a new one
            conn = None
            while self.free and conn is None:
                conn = self.free.pop()
                conn = None if conn.closed else conn
            try:
                if conn is None:
                    _, conn = await asyncio.get_running_loop().create_connection(WebhookConn, "127.0.0.1", self.port)
                conn.waiter = asyncio.get_running_loop().create_future()
                conn.transport.write(raw)
                result = await conn.waiter
            except (OSError, ConnectionError):
                continue
            if not conn.closed:
                self.free.append(conn)
            return result
        return -1, b""


class Channel:
    """One messenger's fake and how a simulated subscriber talks to it."""

    name: str

    def __init__(self) -> None:
        self.waiting: dict[tuple[str, int], asyncio.Future] = {}
        self.deliverer: Deliverer | None = None

    def replied(self, token: str, chat: int | None, call) -> None:
        fut = self.waiting.pop((token, chat), None) if chat is not None else None
        if fut is not None and not fut.done():
            fut.set_result((time.monotonic(), call))


class TelegramChannel(Channel):
    name = "telegram"

    def __init__(self) -> None:
        super().__init__()
        self.fake = FakeTelegram(record=False, on_call=self.on_call)

    def on_call(self, call: Call) -> None:
        if call.method in ("sendMessage", "sendDocument"):
            self.replied(call.token, call.chat_id, call)

    def add_bot(self, token: str) -> None:
        self.fake.add_bot(token)

    async def deliver(self, token: str, update: dict) -> int:
        bot = self.fake.bots[token]
        status, body = await self.deliverer.post(bot.webhook_url, json.dumps(update).encode(),
                                                 {"X-Telegram-Bot-Api-Secret-Token": bot.secret_token})
        if status == 200:
            await self.fake.webhook_answer(token, body)  # answerCallbackQuery in the response, as Telegram runs it
        return status

    def token(self) -> str:
        return f"{secrets.randbelow(10**9) + 10**9}:{secrets.token_urlsafe(24)}"

    def start(self, token: str, chat: int) -> dict:
        return self.fake.message(chat, "/start")

    def text(self, token: str, chat: int, value: str) -> dict:
        return self.fake.message(chat, value)

    def press(self, token: str, chat: int, payload: str) -> dict:
        return self.fake.callback(chat, payload)


class MaxChannel(Channel):
    name = "max"

    def __init__(self) -> None:
        super().__init__()
        self.fake = FakeMax(record=False, on_call=self.on_call)

    def on_call(self, call: MaxCall) -> None:
        if call.method == "POST" and (call.path == "/messages" or call.path == "/answers" and call.message):
            self.replied(call.token, call.user_id, call)

    def add_bot(self, token: str) -> None:
        self.fake.add_bot(token)

    async def deliver(self, token: str, update: dict) -> int:
        [(url, sub)] = self.fake.bots[token].subscriptions.items()
        status, _ = await self.deliverer.post(url, json.dumps(update).encode(), {"X-Max-Bot-Api-Secret": sub["secret"]})
        return status

    def token(self) -> str:
        return secrets.token_urlsafe(32)

    def start(self, token: str, chat: int) -> dict:
        return self.fake.started(token, chat)

    def text(self, token: str, chat: int, value: str) -> dict:
        return self.fake.message(token, chat, value)

    def press(self, token: str, chat: int, payload: str) -> dict:
        return self.fake.callback(token, chat, payload)


async def subscriber(ch: Channel, token: str, chat: int, number: str, due: str, think: float, delay: float,
                     stats: dict) -> None:
    await asyncio.sleep(delay)
    steps = [(lambda: ch.start(token, chat), "Здравствуйте"), (lambda: ch.press(token, chat, "link"), "номер"),
             (lambda: ch.text(token, chat, number), "квитанции"), (lambda: ch.text(token, chat, due), "Готово!"),
             (lambda: ch.press(token, chat, "bal"), "К оплате"), (lambda: ch.press(token, chat, "rd"), "Счётчик"),
             (lambda: ch.text(token, chat, "15"), "Показания переданы")]
    for make, expect in steps:
        update = make()
        fut = ch.waiting[(token, chat)] = asyncio.get_running_loop().create_future()
        sent = time.monotonic()
        stats["first"] = min(stats["first"], sent)
        while True:
            status = await ch.deliver(token, update)
            stats["status"][status] += 1
            if status == 200:
                break
            await asyncio.sleep(1.0)  # the messenger delivers it again later
        try:
            async with asyncio.timeout(REPLY_TIMEOUT):
                at, call = await fut
        except TimeoutError:
            stats["lost"] += 1
            ch.waiting.pop((token, chat), None)
            return
        stats["lat"].append(at - sent)
        stats["at"].append(at)
        stats["last"] = max(stats["last"], at)
        if expect not in (call.text or ""):
            stats["wrong"] += 1
            stats["example"] = f"expected «{expect}», got «{(call.text or '')[:120]}»"
            return
        await asyncio.sleep(think * random.uniform(0.8, 1.2))
    stats["done"] += 1


async def run_channel(ch: Channel, http: httpx.AsyncClient, tenants: list, args, pids, db_pids) -> dict:
    for handle in tenants:
        token = ch.token()
        ch.add_bot(token)
        r = await http.put(f"/api/bots/{ch.name}", json={"token": token, "enabled": True},
                           headers={"Authorization": f"Bearer {handle['token']}"})
        r.raise_for_status()
        handle["bot"] = token
    stats: dict = {"lat": [], "at": [], "status": Counter(), "lost": 0, "wrong": 0, "done": 0, "first": float("inf"),
                   "last": 0.0, "example": ""}
    per_tenant = args.users // len(tenants)
    users = []
    for i in range(per_tenant):
        for handle in tenants:
            number = f"{i + 1:08d}"
            users.append((handle["bot"], 10**8 + len(users), number, handle["dues"][number]))
    random.shuffle(users)
    cpu0, db0 = sum(map(cpu_seconds, pids())), db_cpu(db_pids())
    ramp = len(users) * 7 / args.rate
    await asyncio.gather(*(subscriber(ch, token, chat, number, due, args.think, ramp * k / len(users), stats)
                           for k, (token, chat, number, due) in enumerate(users)))
    stats["cpu"], stats["db_cpu"] = sum(map(cpu_seconds, pids())) - cpu0, db_cpu(db_pids()) - db0
    return stats


def show(name: str, s: dict, users: int) -> None:
    lat, n = s["lat"], len(s["lat"])
    wall = max(s["last"] - s["first"], 1e-9)
    buckets = Counter(int(a - s["first"]) for a in s["at"])
    busiest = max((sum(buckets[b] for b in range(k, k + 10)) for k in range(max(buckets, default=0) + 1)), default=0)
    other = {k: v for k, v in s["status"].items() if k != 200}
    print(f"{name:8}: {n} updates answered in {wall:.1f} s = {n / wall:6.1f} updates/s (busiest 10 s: "
          f"{busiest / 10:6.1f}/s) · "
          f"p50 {pct(lat, 50) * 1000:6.1f} ms · p99 {pct(lat, 99) * 1000:7.1f} ms · max {max(lat) * 1000:7.1f} ms · "
          f"flows done {s['done']}/{users} (wrong {s['wrong']}, lost {s['lost']}) · webhook non-200 {other or 0} · "
          f"CPU per update: app {s['cpu'] / max(n, 1) * 1000:.2f} ms, PostgreSQL {s['db_cpu'] / max(n, 1) * 1000:.2f} ms",
          flush=True)
    windows: dict[int, list[float]] = {}
    for a, x in zip(s["at"], lat, strict=True):
        windows.setdefault(int((a - s["first"]) // 5), []).append(x)
    print("          p99 by 5 s of the run: " + " · ".join(
        f"{k * 5}–{k * 5 + 5} s {pct(v, 99) * 1000:.0f} ms ({len(v) / 5:.0f}/s)" for k, v in sorted(windows.items())),
        flush=True)
    if s["example"]:
        print(f"          first unexpected reply: {s['example']}")


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--tenants", type=int, default=10)
    ap.add_argument("--think", type=float, default=1.0, help="seconds a subscriber reads a reply (±20 %%)")
    ap.add_argument("--rate", type=float, default=350.0, help="updates per second offered once all are talking")
    ap.add_argument("--channels", default="telegram,max")
    ap.add_argument("--workers", type=int, default=0, help="AQUABILL_WEB_WORKERS (0: one per core)")
    args = ap.parse_args()
    random.seed(13)

    pg = Server()
    db_url = await pg.start()
    tmp = Path(tempfile.mkdtemp(prefix="aquabill-subscribers-"))
    redis_url, local_redis = redis_url_or_local(tmp)
    channels = {"telegram": TelegramChannel(), "max": MaxChannel()}
    chosen = [channels[c] for c in args.channels.split(",")]
    proc = None
    try:
        engines = EngineRegistry(db_url, pool_size=2)
        await migrate_control(engines.control)
        t0 = time.perf_counter()
        accounts = args.users // args.tenants
        tenants = []
        for i in range(args.tenants):
            tenant = await create_tenant(engines, f"bot{i:02d}", f"Водоканал {i}", seed=seeder(accounts))
            tenants.append({"tenant": tenant, "dues": await dues(engines, tenant)})
        await engines.dispose()
        print(f"{args.tenants} tenants × {accounts} accounts seeded in {time.perf_counter() - t0:.1f} s; "
              f"{pg.describe()}", flush=True)
        port = free_port()
        for ch in chosen:
            await ch.fake.start()
            ch.deliverer = Deliverer(port)
        proc = start_serve(db_url, redis_url, port, args.workers,
                           AQUABILL_TELEGRAM_API_URL=channels["telegram"].fake.url,
                           AQUABILL_MAX_API_URL=channels["max"].fake.url,
                           AQUABILL_PUBLIC_URL=f"http://127.0.0.1:{port}", AQUABILL_TELEPHONY="0")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            await wait_ready(http)
            for t in tenants:
                r = await http.post("/api/auth/login", json={"tenant": t["tenant"].slug, "login": "admin",
                                                             "password": PASSWORD})
                r.raise_for_status()
                t["token"] = r.json()["token"]
            await asyncio.sleep(1.0)
            pids = server_pids(proc.pid)
            db_pids = server_pids(postmaster_pid(pg.local.data_dir)) if pg.local else list
            print(f"`aquabill serve` with {len(pids()) - 1} child processes on 127.0.0.1:{port}; {os.cpu_count()} CPUs; "
                  f"{args.users} subscribers, 7 updates each, think {args.think:g} s, offered ≈ {args.rate:g} updates/s; "
                  f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
            results = {}
            for ch in chosen:
                results[ch.name] = await run_channel(ch, http, tenants, args, pids, db_pids)
                show(ch.name, results[ch.name], args.users)
                await asyncio.sleep(2.0)
        # the baseline, measured the same way in the same run: the bare liveness probe at the offered rate
        probe = await phase(port, lambda i: get("/health/live"), int(args.rate), 5.0, pids, db_pids)
        show_probe("probe", int(args.rate), probe)
        for name, r in results.items():
            if r["lat"] and probe["lat"]:
                print(f"{name} / probe: p50 {pct(r['lat'], 50) / pct(probe['lat'], 50):.1f}, "
                      f"p99 {pct(r['lat'], 99) / pct(probe['lat'], 99):.1f}")
        tg = results.get("telegram")
        if tg and tg["lat"]:
            buckets = Counter(int(a - tg["first"]) for a in tg["at"])
            rate = max(sum(buckets[b] for b in range(k, k + 10)) for k in range(max(buckets) + 1)) / 10
            met = rate >= GOAL_RATE and pct(tg["lat"], 99) <= GOAL_P99 and tg["done"] == args.users
            print(f"goal (telegram) ≥ {GOAL_RATE:.0f} updates/s (busiest 10 s) and p99 ≤ {GOAL_P99 * 1000:.0f} ms with every flow "
                  f"done: {'met' if met else 'NOT met'}")
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        stop_serve(proc)
        for ch in chosen:
            await ch.fake.stop()
        if local_redis:
            local_redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        await pg.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
