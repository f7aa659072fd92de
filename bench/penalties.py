"""Benchmark of the penalty run.

    .venv/bin/python bench/penalties.py [--accounts 1000000] [--services 2]

Generates a tenant with N accounts and 24 months of history (January 2024 … December 2025): every month
a charge per service; for ~85 % of the months one payment of 50–100 % of the month's cold-water charge,
paid from 10 days before to 150 days after the due date (the 10th of the next month) and allocated to
that month (as the allocation would), so most months have a paid late part and an unpaid rest. Then
times, in the same run:

1. the penalty run of January 2026 for the whole tenant (`run_penalties`, committed), federal rules and
   the Bank of Russia key rates, rate of the payment day, penalties on all debts;
2. a bare `INSERT … SELECT` writing one row per account × month of origin (the charges grouped) into a
   staging table — the physical floor of reading the debts and writing a row per pair.

Prints the figures, their ratio and the peak memory of this Python process. Goal: ≤ 60 s for 1,000,000
accounts. Exit code 1 when the goal (scaled to N) is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

from benchlib import bench_tenant, peak_rss_mb
from sqlalchemy import text

from aquabill.billing_core.penalties.run import run_penalties
from aquabill.billing_core.periods import Period
from aquabill.tenants.context import tenant_transaction

PERIOD = Period(2026, 1)
GOAL_S = 60.0  # for 1,000,000 accounts

GENERATE = [
    "SET LOCAL session_replication_role = replica",  # generated data: skip audit and FK triggers
    "INSERT INTO settlements(kind, name) VALUES ('г.', 'Бенчмарк')",
    "INSERT INTO streets(settlement_id, kind, name) SELECT 1, 'ул.', 'Улица ' || n FROM generate_series(1, 100) n",
    "INSERT INTO houses(street_id, number, improvement) "
    "SELECT 1 + (n - 1) % 100, ((n - 1) / 100 + 1)::text, CASE WHEN n % 10 = 0 THEN 'partial' ELSE 'full' END "
    "FROM generate_series(1, :houses) n",
    "INSERT INTO premises(house_id, number, area_m2) "
    "SELECT 1 + (n - 1) / 100, (1 + (n - 1) % 100)::text, 30 + n % 50 FROM generate_series(1, :n) n",
    "INSERT INTO accounts(number, premise_id, holder, opened_on) "
    "SELECT lpad(n::text, 10, '0'), n, 'Абонент ' || n, DATE '2020-01-01' FROM generate_series(1, :n) n",
    # 24 months × services: cold water 300–800 ₽, sewage 200–500 ₽
    "INSERT INTO charges(account_id, service_id, period, method, amount, days) "
    "SELECT a, s.id, (DATE '2024-01-01' + make_interval(months => k))::date, 'norm', "
    "CASE s.code WHEN 'cold_water' THEN 300 + (a * 7 + k * 13) % 500 ELSE 200 + (a * 11 + k * 5) % 300 END + 0.37, 30 "
    "FROM generate_series(1, :n) a, generate_series(0, 23) k, "
    "(SELECT id, code FROM services WHERE code IN ('cold_water', 'sewage') ORDER BY sort LIMIT :services) s",
    # one payment for ~85 % of the months: 50–100 % of the cold-water charge, from due − 10 to due + 150 days
    "INSERT INTO payments(id, agent_id, source, paid_on, amount, account_id, status) OVERRIDING SYSTEM VALUE "
    "SELECT a * 24 + k, (SELECT id FROM payment_agents WHERE code = 'manual'), 'manual', "
    "(DATE '2024-02-10' + make_interval(months => k))::date + ((a * 31 + k * 17) % 161 - 10), "
    "round((300 + (a * 7 + k * 13) % 500 + 0.37) * (50 + (a + k) % 51) / 100, 2), a, 'identified' "
    "FROM generate_series(1, :n) a, generate_series(0, 23) k WHERE (a * 3 + k * 7) % 20 < 17",
    "SELECT setval(pg_get_serial_sequence('payments', 'id'), (SELECT max(id) FROM payments))",
    "INSERT INTO payment_allocations(payment_id, account_id, service_id, month_of_origin, kind, amount) "
    "SELECT p.id, p.account_id, (SELECT id FROM services WHERE code = 'cold_water'), "
    "(DATE '2024-01-01' + make_interval(months => (p.id % 24)::int))::date, 'charge', p.amount FROM payments p",
]


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--services", type=int, default=2, choices=(1, 2))
    args = ap.parse_args()
    n = args.accounts
    ok = True
    async with bench_tenant() as (server, engines, tenant):
        t0 = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            for sql in GENERATE:
                params = {"n": n, "houses": (n + 99) // 100, "services": args.services}
                await conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
        async with tenant_transaction(engines, tenant) as conn:
            await conn.execute(text("ANALYZE"))
            counts = (await conn.execute(text(
                "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM charges), "
                "(SELECT count(*) FROM payments), (SELECT count(*) FROM payment_allocations)"))).one()
        print(f"{server.describe()}; generated {counts[0]:,} accounts, {counts[1]:,} charges, {counts[2]:,} payments, "
              f"{counts[3]:,} allocations in {time.perf_counter() - t0:.1f} s", flush=True)
        print(f"load average before the run: {os.getloadavg()[0]:.2f} (2-core machine shared with others)")

        t0 = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            result = await run_penalties(conn, PERIOD)
        run_s = time.perf_counter() - t0
        load_after = os.getloadavg()[0]

        t0 = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            await conn.execute(text(
                "CREATE UNLOGGED TABLE bench_stage AS SELECT account_id, coalesce(corrects_period, period) AS m, "
                "sum(amount) AS amount FROM charges GROUP BY 1, 2"))
            pairs = (await conn.execute(text("SELECT count(*) FROM bench_stage"))).scalar_one()
        bare_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            await run_penalties(conn, PERIOD)  # a re-run of the open month: replaces its rows
        rerun_s = time.perf_counter() - t0

        ratio = run_s / bare_s
        rss = peak_rss_mb()
        goal = GOAL_S * max(n, 1) / 1_000_000
        print(f"penalty run, whole tenant:   {run_s:8.2f} s  ({result.rows:,} penalty rows, {result.accounts:,} "
              f"accounts, total {result.amount} ₽)")
        print(f"  steps: {result.timings}")
        print(f"re-run of the open month:    {rerun_s:8.2f} s")
        print(f"bare INSERT … SELECT, one row per account × month ({pairs:,} rows): {bare_s:6.2f} s")
        print(f"ratio run / bare:            {ratio:8.2f}")
        print(f"load average after the run:  {load_after:8.2f}")
        print(f"peak RSS of this process:    {rss:8.0f} MiB")
        met = run_s <= goal
        print(f"  {'OK  ' if met else 'MISS'} run ≤ {goal:.0f} s ({GOAL_S:.0f} s per 1,000,000 accounts)")
        ok = met
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    sys.exit(asyncio.run(main()))
