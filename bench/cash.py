"""Benchmark of the cash desk through the on-site agent (#15): receipts per minute through the Shtrih-M simulator at
115,200 baud, the time to drain receipts queued while the agent was offline, and a kill of the agent midway.

    .venv/bin/python bench/cash.py [--receipts 1000] [--direct 200] [--print-delay 0.05] [--kill-at 0.4]

Starts its own PostgreSQL (or a database on DATABASE_URL's server) and Redis (or REDIS_URL), `aquabill serve` (one
web worker) and one tenant seeded like the demo (320 accounts with a year of billing), a cash point, and the
register simulator (`python -m aquabill.edge_agent.shtrih.simulator`, its own process, on a pty at `--baud`, each
printing document taking `--print-delay` s). The agent runs as a cashier's computer runs it: `aquabill-edge enroll`
with a one-time code (POST /edge/enroll), then `aquabill-edge run` in its own process over the WebSocket.

Printed:
1. the simulator's bare command rate: short-status (10h) commands per second through the driver;
2. baseline — the register's own speed: the first `--direct` of the receipts queued in 3 (their payloads, as the
   agent reads them) printed straight through the driver (`ShtrihRegister.sale`; no server, no journal, no
   WebSocket) on a fresh simulator, receipts per minute;
3. drain: `--receipts` cash sales made at the desk (payment, receipt, queued command) while the agent is
   offline; then the agent starts: the time until every receipt is fiscalized, receipts per minute and the
   ratio to the baseline (goal: the queue drains at the register's own speed, a ratio near 1);
4. kill: as many again, the agent SIGKILLed when `--kill-at` of them are done (mid-receipt, whatever it was
   doing), started again; lost (a sale never fiscalized) and duplicated (a sale fiscalized twice: the register's
   documents against the sales, by their distinct amounts) must both be 0.
Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
from benchlib import Server, demo_seeder, redis_url_or_local, start_serve, stop_serve, wait_ready
from sqlalchemy import text

from aquabill.cash import agents, sales, shifts
from aquabill.devserver.services import free_port
from aquabill.edge_agent.payloads import receipt as receipt_payload
from aquabill.edge_agent.shtrih.driver import ShtrihRegister
from aquabill.edge_agent.shtrih.simulator import bare_command_rate
from aquabill.tenants.context import tenant_transaction
from aquabill.tenants.databases import EngineRegistry
from aquabill.tenants.migrator import migrate_control
from aquabill.tenants.provisioning import create_tenant

SLUG = "bench"
ROOT = Path(__file__).resolve().parent.parent


def start_simulator(folder: Path, name: str, baud: int, print_delay: float) -> tuple[subprocess.Popen, Path, Path]:
    link, state = folder / f"{name}.tty", folder / f"{name}.json"
    proc = subprocess.Popen([sys.executable, "-m", "aquabill.edge_agent.shtrih.simulator", "--link", str(link),
                             "--state", str(state), "--baud", str(baud), "--print-delay", str(print_delay)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if link.exists():
            break
        time.sleep(0.05)
    return proc, link, state


def stop(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def direct_rate(link: Path, baud: int, payloads: list[dict]) -> float:
    """Receipts per minute straight through the driver: the same receipts (the queued commands' payloads, as
    the agent turns them into a ReceiptSpec) with no server, journal or WebSocket."""
    specs = [receipt_payload(p).spec for p in payloads]
    with ShtrihRegister(str(link), baud) as register:
        if not register.status().shift_open:
            register.open_shift("Бенчмарк")
        started = time.perf_counter()
        for spec in specs:
            register.sale(spec)
        return len(specs) * 60 / (time.perf_counter() - started)


def agent_proc(config: Path, log: Path) -> subprocess.Popen:
    out = open(log, "ab")  # noqa: SIM115 - the child keeps it
    return subprocess.Popen([sys.executable, "-m", "aquabill.edge_agent.cli", "run", "--config", str(config)],
                            cwd=ROOT, stdout=out, stderr=out)


async def count_done(engines, tenant, keys: list[uuid.UUID]) -> int:
    async with tenant_transaction(engines, tenant) as conn:
        return (await conn.execute(text(
            "SELECT count(*) FROM cash_receipts WHERE key = ANY(:k) AND status = 'done'"), {"k": keys})).scalar_one()


async def wait_done(engines, tenant, keys: list[uuid.UUID], *, within: float, at: int | None = None) -> int:
    """Until every receipt of `keys` is done (or `at` of them, or `within` seconds): how many are done."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        done = await count_done(engines, tenant, keys)
        if done >= (at if at is not None else len(keys)):
            return done
        await asyncio.sleep(0.05)
    return await count_done(engines, tenant, keys)


async def queue_sales(engines, tenant, point_id: int, user_id: int, n: int, start: int) -> list[uuid.UUID]:
    """`n` cash sales at the desk (distinct sums: 100.00 + k kopecks), each in its own transaction."""
    async with tenant_transaction(engines, tenant) as conn:
        accounts = [r.id for r in (await conn.execute(text(
            "SELECT id FROM accounts WHERE status = 'open' ORDER BY id"))).all()]
    keys = []
    for i in range(start, start + n):
        key = uuid.uuid4()
        async with tenant_transaction(engines, tenant, user_id) as conn:
            await sales.sell(conn, sales.Sale(key=key, point_id=point_id, account_id=accounts[i % len(accounts)],
                                              tender="cash", on=date.today(),
                                              amount=Decimal("100.00") + Decimal(i) / 100), user_id=user_id)
        keys.append(key)
    return keys


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--receipts", type=int, default=1000)
    ap.add_argument("--direct", type=int, default=200)
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--print-delay", type=float, default=0.05)
    ap.add_argument("--kill-at", type=float, default=0.4)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="aquabill-bench-cash-"))
    server = Server()
    db_url = await server.start()
    redis_url, local_redis = redis_url_or_local(tmp)
    engines = EngineRegistry(db_url, pool_size=2)
    serve = agent = sim = None
    try:
        await migrate_control(engines.control)
        tenant = await create_tenant(engines, SLUG, "Бенчмарк", seed=demo_seeder("admin", "admin12345"))
        print(f"Server: {server.describe()}; line {args.baud} baud, printing {args.print_delay} s a document")

        # 3. the product: serve, a cash point, its agent enrolled with a code
        port = free_port()
        serve = start_serve(db_url, redis_url, port, 1)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            await wait_ready(http)
        sim, link, state = start_simulator(tmp, "register", args.baud, args.print_delay)
        async with tenant_transaction(engines, tenant) as conn:
            user_id = (await conn.execute(text("SELECT id FROM users WHERE login = 'admin'"))).scalar_one()
            point_id = (await conn.execute(text(
                "INSERT INTO cash_points(name, address, tax_system, vat) VALUES ('Касса бенчмарка', 'ул. Ленина, 1', 1, "
                "'22') RETURNING id"))).scalar_one()
            agent_id = (await agents.create_agent(conn, point_id, "Бенчмарк", user_id=user_id))["id"]
            code = (await agents.issue_code(conn, agent_id, user_id=user_id))["code"]
        config, log = tmp / "agent.toml", tmp / "agent.log"
        await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "aquabill.edge_agent.cli", "enroll", "--config", str(config),
             "--server", f"http://127.0.0.1:{port}", "--tenant", SLUG, "--code", code, "--port", str(link),
             "--baud", str(args.baud), "--data-dir", str(tmp / "agent-data")], cwd=ROOT, check=True,
            stdout=subprocess.DEVNULL)
        agent = agent_proc(config, log)
        async with tenant_transaction(engines, tenant, user_id) as conn:
            shift = await shifts.open_shift(conn, point_id=point_id, user_id=user_id)
        for _ in range(600):
            async with tenant_transaction(engines, tenant) as conn:
                if (await shifts.get_shift(conn, shift["id"]))["status"] == "open":
                    break
            await asyncio.sleep(0.1)
        else:
            raise SystemExit(f"the shift did not open; the agent's log: {log}")
        stop(agent)

        t0 = time.perf_counter()
        keys = await queue_sales(engines, tenant, point_id, user_id, args.receipts, 0)
        queued = time.perf_counter() - t0

        # 1–2. the simulator alone, with the same receipts
        async with tenant_transaction(engines, tenant) as conn:
            payloads = [r.payload for r in (await conn.execute(text(
                "SELECT payload FROM edge_commands WHERE kind = 'receipt' ORDER BY id LIMIT :n"),
                {"n": args.direct})).all()]
        items = sum(len(p["items"]) for p in payloads) / len(payloads)
        probe, probe_link, _ = start_simulator(tmp, "probe", args.baud, args.print_delay)
        try:
            bare = await asyncio.to_thread(bare_command_rate, str(probe_link), 300, args.baud)
            direct = await asyncio.to_thread(direct_rate, probe_link, args.baud, payloads)
        finally:
            stop(probe)
        print(f"1. simulator, bare short-status commands: {bare:,.0f}/s")
        print(f"2. baseline, the first {len(payloads)} of these receipts ({items:.1f} items each on average) straight "
              f"through the driver: {direct:,.1f} receipts/min")
        started = time.perf_counter()
        agent = agent_proc(config, log)
        done = await wait_done(engines, tenant, keys, within=3600)
        drain = time.perf_counter() - started
        rate = done * 60 / drain
        print(f"3. drain: {args.receipts} sales made offline in {queued:.1f} s; the agent started: {done} fiscalized "
              f"in {drain:.1f} s = {rate:,.1f} receipts/min, ratio to the baseline {rate / direct:.2f}")

        # 4. a kill midway
        stop(agent)
        keys2 = await queue_sales(engines, tenant, point_id, user_id, args.receipts, args.receipts)
        agent = agent_proc(config, log)
        at = await wait_done(engines, tenant, keys2, within=3600, at=int(args.receipts * args.kill_at))
        agent.send_signal(signal.SIGKILL)
        agent.wait()
        agent = agent_proc(config, log)
        done2 = await wait_done(engines, tenant, keys2, within=3600)
        stop(agent)
        agent = None
        stop(sim)
        sim = None
        documents = [json.loads(line) for line in
                     state.with_name(state.name + ".documents.jsonl").read_text(encoding="utf-8").splitlines()]
        printed = Counter(d["amount"] for d in documents if d["type"] == 3)
        wanted = {10000 + i for i in range(args.receipts, 2 * args.receipts)}  # kopecks of the second batch
        duplicated = sum(printed[a] - 1 for a in wanted if printed[a] > 1)
        lost = args.receipts - done2
        never = sum(1 for a in wanted if printed[a] == 0)
        async with tenant_transaction(engines, tenant) as conn:
            recovered = (await conn.execute(text(
                "SELECT count(*) FROM edge_commands WHERE kind = 'receipt' AND (result->>'recovered')::boolean"))
            ).scalar_one()
        print(f"4. kill: the agent SIGKILLed at {at} of {args.receipts} done, started again: {done2} fiscalized; "
              f"lost {lost} (never printed {never}), duplicated {duplicated}; receipts found already printed after "
              f"the crash: {recovered}")
    finally:
        stop(agent)
        stop(sim)
        stop_serve(serve)
        await engines.dispose()
        await server.stop()
        if local_redis is not None:
            local_redis.stop()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(main())
