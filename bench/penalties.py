"""Benchmark of the penalty run: the first (full) run and the monthly (incremental) run.

    .venv/bin/python bench/penalties.py [--accounts 1000000] [--services 2]

Generates a tenant with N accounts and 23 months of history (January 2024 … November 2025): every month
a charge per service; for ~85 % of the months one payment of 50–100 % of the month's cold-water charge,
paid from 10 days before to 150 days after the due date (the 10th of the next month) and allocated to
that month (as the allocation would), so most months have a paid late part and an unpaid rest. History
is bulk-loaded (one INSERT … SELECT per table, triggers off, secondary indexes built afterwards); payments
dated from December 2025 on are not in it. Then, in the same run:

1. the penalty run of November 2025 (`run_penalties`, committed): the first run, which builds the
   incremental state from the tables (printed as the full run);
2. the new month, through the same tables with the change-tracking triggers on: billing posts the charges
   of December 2025 (one INSERT per service, as the set-based billing run does), the payments dated in
   December 2025 arrive and get their allocations;
3. timed: the penalty run of December 2025 (incremental: applies the recorded changes, one pass over the
   state, one row per account), then a re-run of the open month;
4. a bare `INSERT … SELECT` writing one row per account × month of origin (the charges grouped) into a
   staging table — the physical floor of reading the debts and writing a row per pair (the old run's
   shape), and a bare per-account insert of one row per account (the new run's output).

Prints the figures, their ratios, the load average and the peak memory of this Python process. Goal:
the monthly run ≤ 60 s for 1,000,000 accounts. Exit code 1 when the goal (scaled to N) is missed.
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

FIRST, NEW = Period(2025, 11), Period(2025, 12)
GOAL_S = 60.0  # for 1,000,000 accounts
INDEXED = ("charges", "payments", "payment_allocations")

# payment of month k (0 = January 2024) of account a: ~85 % of the months, 50–100 % of the cold-water
# charge, from due − 10 to due + 150 days
PAY = ("SELECT a * 24 + k AS id, (DATE '2024-02-10' + make_interval(months => k))::date + ((a * 31 + k * 17) % 161 - 10) "
       "AS paid_on, round((300 + (a * 7 + k * 13) % 500 + 0.37) * (50 + (a + k) % 51) / 100, 2) AS amount, a, k "
       "FROM generate_series(1, :n) a, generate_series(0, 23) k WHERE (a * 3 + k * 7) % 20 < 17")
# generated charges stand for billing runs' rows: the audit triggers skip them as they skip a run's (t0018)
AS_RUN = "SELECT set_config('aquabill.charges_audit', 'run', true)"
CHARGES = ("INSERT INTO charges(account_id, service_id, period, method, amount, days) "
           "SELECT a, s.id, (DATE '2024-01-01' + make_interval(months => k))::date, 'norm', "
           "CASE s.code WHEN 'cold_water' THEN 300 + (a * 7 + k * 13) % 500 ELSE 200 + (a * 11 + k * 5) % 300 END "
           "+ 0.37, 30 FROM generate_series(1, :n) a, generate_series(CAST(:k0 AS integer), CAST(:k1 AS integer)) k, "
           "(SELECT id, code FROM services WHERE code IN ('cold_water', 'sewage') ORDER BY sort LIMIT :services) s "
           "ORDER BY k, a, s.id")
PAYMENTS = ("INSERT INTO payments(id, agent_id, source, paid_on, amount, account_id, status) OVERRIDING SYSTEM VALUE "
            "SELECT x.id, (SELECT id FROM payment_agents WHERE code = 'manual'), 'manual', x.paid_on, x.amount, x.a, "
            f"'identified' FROM ({PAY}) x WHERE x.paid_on >= :d0 AND x.paid_on < :d1 ORDER BY x.id")
ALLOCATIONS = ("INSERT INTO payment_allocations(payment_id, account_id, service_id, month_of_origin, kind, amount) "
               "SELECT p.id, p.account_id, (SELECT id FROM services WHERE code = 'cold_water'), "
               "(DATE '2024-01-01' + make_interval(months => (p.id % 24)::int))::date, 'charge', p.amount "
               "FROM payments p WHERE p.paid_on >= :d0 AND p.paid_on < :d1 ORDER BY p.id")

GENERATE = [
    "SET LOCAL session_replication_role = replica",  # generated history: skip audit, FK and tracking triggers
    "SET LOCAL maintenance_work_mem = '1GB'",
    "INSERT INTO settlements(kind, name) VALUES ('г.', 'Бенчмарк')",
    "INSERT INTO streets(settlement_id, kind, name) SELECT 1, 'ул.', 'Улица ' || n FROM generate_series(1, 100) n",
    "INSERT INTO houses(street_id, number, improvement) "
    "SELECT 1 + (n - 1) % 100, ((n - 1) / 100 + 1)::text, CASE WHEN n % 10 = 0 THEN 'partial' ELSE 'full' END "
    "FROM generate_series(1, :houses) n",
    "INSERT INTO premises(house_id, number, area_m2) "
    "SELECT 1 + (n - 1) / 100, (1 + (n - 1) % 100)::text, 30 + n % 50 FROM generate_series(1, :n) n",
    "INSERT INTO accounts(number, premise_id, holder, opened_on) "
    "SELECT lpad(n::text, 10, '0'), n, 'Абонент ' || n, DATE '2020-01-01' FROM generate_series(1, :n) n",
]


async def _timed(engines, tenant, sql: str, params: dict) -> float:
    t0 = time.perf_counter()
    async with tenant_transaction(engines, tenant) as conn:
        await conn.execute(text(AS_RUN))  # generated charges stand for a billing run's: not audited per row
        await conn.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
    return time.perf_counter() - t0


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=1_000_000)
    ap.add_argument("--services", type=int, default=2, choices=(1, 2))
    args = ap.parse_args()
    n = args.accounts
    base = {"n": n, "houses": (n + 99) // 100, "services": args.services}
    async with bench_tenant() as (server, engines, tenant):
        t0 = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            indexes = (await conn.execute(text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "AND tablename = ANY(CAST(:t AS text[])) AND indexname NOT LIKE '%pkey'"), {"t": list(INDEXED)})).all()
            for sql in GENERATE:
                await conn.execute(text(sql), {k: v for k, v in base.items() if f":{k}" in sql})
            for name, _ in indexes:  # bulk load, then build the indexes once
                await conn.execute(text(f'DROP INDEX "{name}"'))
            hist = {**base, "k0": 0, "k1": 22, "d0": Period(2024, 1).first_day, "d1": NEW.first_day}
            await conn.execute(text(AS_RUN))
            for sql in (CHARGES, PAYMENTS, ALLOCATIONS):
                await conn.execute(text(sql), {k: v for k, v in hist.items() if f":{k}" in sql})
            await conn.execute(text("SELECT setval(pg_get_serial_sequence('payments', 'id'), :m)"), {"m": n * 24 + 24})
            for _, ddl in indexes:
                await conn.execute(text(ddl))
        async with tenant_transaction(engines, tenant) as conn:
            await conn.execute(text("ANALYZE"))
            counts = (await conn.execute(text(
                "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM charges), "
                "(SELECT count(*) FROM payments), (SELECT count(*) FROM payment_allocations)"))).one()
        print(f"{server.describe()}; generated {counts[0]:,} accounts, {counts[1]:,} charges, {counts[2]:,} payments, "
              f"{counts[3]:,} allocations (history to {FIRST}) in {time.perf_counter() - t0:.1f} s", flush=True)

        print(f"load average before the full run: {os.getloadavg()} (2-core machine shared with others)")
        t0 = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            first = await run_penalties(conn, FIRST)
        full_s = time.perf_counter() - t0
        print(f"first (full) run of {FIRST}: {full_s:8.2f} s  ({first.rows:,} rows, total {first.amount} ₽; "
              f"{first.state}; steps {first.timings}); load {os.getloadavg()}", flush=True)

        # the new month through the same tables, the tracking triggers on
        new = {**base, "k0": 23, "k1": 23, "d0": NEW.first_day, "d1": NEW.next().first_day}
        billing_s = await _timed(engines, tenant, CHARGES, new)
        pay_s = await _timed(engines, tenant, PAYMENTS, new)
        alloc_s = await _timed(engines, tenant, ALLOCATIONS, new)
        async with tenant_transaction(engines, tenant) as conn:
            await conn.execute(text("ANALYZE charges, payments, payment_allocations, penalty_deltas"))
            deltas = (await conn.execute(text("SELECT count(*) FROM penalty_deltas"))).scalar_one()
            fresh = (await conn.execute(text("SELECT count(*) FROM payments WHERE paid_on >= :d"),
                                        {"d": NEW.first_day})).scalar_one()
        print(f"new month {NEW}: charges posted in {billing_s:.2f} s, {fresh:,} payments in {pay_s:.2f} s, "
              f"allocated in {alloc_s:.2f} s; {deltas:,} changes recorded by the triggers", flush=True)

        load_before = os.getloadavg()
        t0 = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            result = await run_penalties(conn, NEW)
        run_s = time.perf_counter() - t0
        load_after = os.getloadavg()

        t0 = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            rerun = await run_penalties(conn, NEW)  # a re-run of the open month: replaces its rows
        rerun_s = time.perf_counter() - t0

        t0 = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            await conn.execute(text(
                "CREATE UNLOGGED TABLE bench_stage AS SELECT account_id, coalesce(corrects_period, period) AS m, "
                "sum(amount) AS amount FROM charges GROUP BY 1, 2"))
            pairs = (await conn.execute(text("SELECT count(*) FROM bench_stage"))).scalar_one()
        bare_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            await conn.execute(text(
                "CREATE TABLE bench_rows (LIKE penalty_charges INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)"))
            await conn.execute(text(
                "INSERT INTO bench_rows(account_id, period, kind, amount, days, debt) "
                "SELECT id, DATE '2025-12-01', 'accrual', 1.23, 40, 100 FROM accounts ORDER BY id"))
        bare_rows_s = time.perf_counter() - t0

        rss = peak_rss_mb()
        goal = GOAL_S * max(n, 1) / 1_000_000
        print(f"monthly (incremental) run:   {run_s:8.2f} s  ({result.rows:,} penalty rows = accounts, total "
              f"{result.amount} ₽; {result.state})")
        print(f"  steps: {result.timings}")
        print(f"re-run of the open month:    {rerun_s:8.2f} s  ({rerun.state}; steps {rerun.timings})")
        print(f"first (full) run:            {full_s:8.2f} s")
        print(f"bare INSERT … SELECT, one row per account × month ({pairs:,} rows): {bare_s:6.2f} s")
        print(f"bare INSERT of one indexed penalty row per account ({n:,} rows): {bare_rows_s:6.2f} s")
        print(f"ratio monthly run / bare per-pair insert: {run_s / bare_s:6.2f}; full run / bare: {full_s / bare_s:6.2f}")
        print(f"load average before / after the monthly run: {load_before} / {load_after}")
        print(f"peak RSS of this process:    {rss:8.0f} MiB")
        met = run_s <= goal
        print(f"  {'OK  ' if met else 'MISS'} monthly run ≤ {goal:.1f} s ({GOAL_S:.0f} s per 1,000,000 accounts)")
    return 0 if met else 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    sys.exit(asyncio.run(main()))
