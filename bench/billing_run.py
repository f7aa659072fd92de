"""Benchmark of the month billing run.

    .venv/bin/python bench/billing_run.py [--accounts 1000000]

Generates a tenant with N accounts (70% with a cold-water meter and 12 months of month-end readings,
5% of those silent for the last two months so they are averaged; everyone has cold water + sewage,
one or two registered residents), then times, in the same run:

1. the month run for the whole tenant (`run_billing`, set-based SQL, committed);
2. a bare `INSERT … SELECT` writing the same number of charge rows (the physical floor);
3. the run for one account on the same data.

Prints the figures, their ratio and the peak memory of this Python process. Goals: ratio ≤ 3,
run ≤ 120 s for 1,000,000 accounts, Python memory ≤ 1 GB. Exit code 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from benchlib import bench_tenant, peak_rss_mb
from sqlalchemy import text

from aquabill.billing_core.periods import Period
from aquabill.billing_core.run.compute import Scope
from aquabill.billing_core.run.service import run_billing
from aquabill.tenants.context import tenant_transaction

PERIOD = Period(2026, 1)


async def backend_cpu(conn) -> float | None:
    """CPU seconds used so far by the server process of this connection (local server only): a figure much
    less sensitive than wall time to other work on a shared machine."""
    pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()  # noqa: ASYNC240
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

GENERATE = [
    "SET LOCAL session_replication_role = replica",  # generated data: skip audit and FK triggers
    "INSERT INTO settlements(kind, name) VALUES ('г.', 'Бенчмарк')",
    "INSERT INTO streets(settlement_id, kind, name) SELECT 1, 'ул.', 'Улица ' || n FROM generate_series(1, 100) n",
    "INSERT INTO houses(street_id, number, improvement) "
    "SELECT 1 + (n - 1) % 100, ((n - 1) / 100 + 1)::text, 'full' FROM generate_series(1, :houses) n",
    "INSERT INTO premises(house_id, number, area_m2) "
    "SELECT 1 + (n - 1) / 100, (1 + (n - 1) % 100)::text, 30 + n % 50 FROM generate_series(1, :n) n",
    "INSERT INTO accounts(number, premise_id, holder, opened_on) "
    "SELECT lpad(n::text, 10, '0'), n, 'Абонент ' || n, DATE '2020-01-01' FROM generate_series(1, :n) n",
    "INSERT INTO residents(account_id, full_name, registered_from) "
    "SELECT n, 'Житель', DATE '2020-01-01' FROM generate_series(1, :n) n "
    "UNION ALL SELECT n, 'Житель 2', DATE '2020-01-01' FROM generate_series(2, :n, 2) n",
    "INSERT INTO meters(account_id, service_id, serial, digits, installed_on, initial_reading) "
    "SELECT n, (SELECT id FROM services WHERE code = 'cold_water'), 'S' || n, 5, DATE '2025-01-31', 0 "
    "FROM generate_series(1, :n) n WHERE n % 10 < 7",
    # month-end readings February 2025 … January 2026, 3–7 m³ a month
    "INSERT INTO readings(meter_id, read_on, value, source, status, consumption) "
    "SELECT m.id, (DATE '2025-03-01' + make_interval(months => k - 1))::date - 1, k * (3 + m.id % 5), 'import', "
    "'accepted', 3 + m.id % 5 FROM meters m, generate_series(1, 12) k "
    "WHERE m.id % 20 <> 0 OR k <= 10",
    "INSERT INTO tariffs(service_id, price, valid_from) SELECT id, CASE code WHEN 'cold_water' THEN 48.37 "
    "ELSE 36.12 END, DATE '2025-07-01' FROM services WHERE code IN ('cold_water', 'sewage')",
    "INSERT INTO norms(service_id, improvement, volume, valid_from) SELECT id, 'full', CASE code "
    "WHEN 'cold_water' THEN 4.85 ELSE 8.12 END, DATE '2020-01-01' FROM services WHERE code IN ('cold_water', 'sewage')",
]


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=1_000_000)
    args = ap.parse_args()
    n = args.accounts
    ok = True
    async with bench_tenant() as (server, engines, tenant):
        t0 = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            for sql in GENERATE:
                await conn.execute(text(sql), {k: v for k, v in {"n": n, "houses": (n + 99) // 100}.items()
                                               if f":{k}" in sql})
        async with tenant_transaction(engines, tenant) as conn:
            await conn.execute(text("ANALYZE"))
            counts = (await conn.execute(text(
                "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM meters), "
                "(SELECT count(*) FROM readings)"))).one()
        print(f"{server.describe()}; generated {counts[0]:,} accounts, {counts[1]:,} meters, "
              f"{counts[2]:,} readings in {time.perf_counter() - t0:.1f} s", flush=True)

        t0 = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            c0 = await backend_cpu(conn)
            result = await run_billing(conn, PERIOD)
            c1 = await backend_cpu(conn)
        run_s = time.perf_counter() - t0
        async with tenant_transaction(engines, tenant) as conn:
            methods = (await conn.execute(text(
                "SELECT method, count(*) FROM charges WHERE period = :p GROUP BY 1 ORDER BY 1"),
                {"p": PERIOD.first_day})).all()

        t0 = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            # the bare insert does what the run's posting does: its rows skip the audit triggers (t0018)
            await conn.execute(text("SELECT set_config('aquabill.charges_audit', 'run', true)"))
            b0 = await backend_cpu(conn)
            await conn.execute(text(
                "INSERT INTO charges(account_id, service_id, period, method, volume, tariff, coefficient, amount, "
                "days, run_id) SELECT account_id, service_id, DATE '2026-02-01', method, volume, tariff, coefficient, "
                "amount, days, run_id FROM charges WHERE period = :p"), {"p": PERIOD.first_day})
            b1 = await backend_cpu(conn)
        bare_s = time.perf_counter() - t0
        async with tenant_transaction(engines, tenant) as conn:
            await conn.execute(text("SELECT set_config('aquabill.charges_audit', 'run', true)"))
            await conn.execute(text("DELETE FROM charges WHERE period = DATE '2026-02-01'"))

        one = []
        for account_id in (1, 7, n // 2):
            t0 = time.perf_counter()
            async with tenant_transaction(engines, tenant) as conn:
                await run_billing(conn, PERIOD, Scope("account", account_id))
            one.append(time.perf_counter() - t0)

        ratio = run_s / bare_s
        rss = peak_rss_mb()
        print(f"month run, whole tenant:      {run_s:8.2f} s  ({result.charges:,} charge rows, "
              f"{result.accounts:,} accounts, total {result.amount} ₽)")
        print("  by method: " + ", ".join(f"{m} {c:,}" for m, c in methods))
        print(f"bare INSERT … SELECT, same rows: {bare_s:6.2f} s")
        print(f"ratio run / bare:             {ratio:8.2f}   (goal ≤ 3)   load average {os.getloadavg()[0]:.2f}")
        if None not in (c0, c1, b0, b1):
            print(f"server CPU run / bare:        {c1 - c0:8.2f} s / {b1 - b0:.2f} s = {(c1 - c0) / (b1 - b0):.2f}")
        print(f"one-account run:              {min(one) * 1000:8.0f} ms best, {max(one) * 1000:.0f} ms worst (goal < 1 s)")
        print(f"peak RSS of this process:     {rss:8.0f} MiB (goal ≤ 1024)")
        goals = {"ratio ≤ 3": ratio <= 3, "run ≤ 120 s": run_s <= 120 * n / 1_000_000 or run_s <= 120,
                 "one account < 1 s": max(one) < 1, "memory ≤ 1 GB": rss <= 1024}
        for name, met in goals.items():
            print(f"  {'OK  ' if met else 'MISS'} {name}")
        ok = all(goals.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    sys.exit(asyncio.run(main()))
