"""Benchmark of a payment registry import: N payments (default 100,000) for N accounts with a charge each,
loaded as `aquabill payments-import` does (parse + identify + store + allocate, one transaction, commit
included), then the same lines COPYed bare into a staging table in the same run, for the ratio.

    .venv/bin/python bench/payments.py [--accounts 100000]

Starts a throwaway PostgreSQL (fsync off), or creates and drops its own database on DATABASE_URL's server.
1 % of the lines name an unknown account (unidentified). Exits non-zero if a check fails. Goal: ≤ 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import secrets
import sys
import time

from benchlib import Server, peak_rss_mb
from sqlalchemy import text

from aquabill.channels.bank_files.importer import import_payment_file
from aquabill.tenants.context import tenant_transaction
from aquabill.tenants.databases import EngineRegistry
from aquabill.tenants.migrator import migrate_control
from aquabill.tenants.provisioning import create_tenant

FLATS_PER_HOUSE = 60


def registry(n: int) -> bytes:
    lines = []
    for i in range(n):
        account = f"{1_000_000 + i}" if i % 100 else f"9{i:07d}"
        lines.append(f"20-11-2026;10:{i % 60:02d}:00;8638/0123;SBOL;{5_000_000_000 + i};{account};"
                     f"Абонент {i}, ул. Улица, д. {i // FLATS_PER_HOUSE + 1};1026;{100 + i % 900}.{i % 100:02d};1.00")
    return ("\n".join(lines) + "\n").encode("cp1251")


async def seed(conn, n: int) -> None:
    for sql, params in (
        ("INSERT INTO settlements(kind, name) VALUES ('г.', 'Бенчград')", {}),
        ("INSERT INTO streets(settlement_id, kind, name) VALUES (1, 'ул.', 'Улица')", {}),
        ("INSERT INTO houses(street_id, number, improvement) SELECT 1, h::text, 'full' "
         "FROM generate_series(1, :h) h", {"h": n // FLATS_PER_HOUSE + 1}),
        ("INSERT INTO premises(house_id, number, area_m2) SELECT i / :f + 1, (i % :f + 1)::text, 50 "
         "FROM generate_series(0, :n - 1) i", {"f": FLATS_PER_HOUSE, "n": n}),
        ("INSERT INTO accounts(number, premise_id, holder, opened_on) SELECT (1000000 + i)::text, i + 1, "
         "'Абонент ' || i, DATE '2020-01-01' FROM generate_series(0, :n - 1) i", {"n": n}),
        ("INSERT INTO billing_runs(period, scope, status) VALUES (DATE '2026-10-01', 'tenant', 'done')", {}),
        ("SELECT set_config('aquabill.charges_audit', 'run', true)", {}),  # the generated run's charges are not audited per row (t0018)
        ("INSERT INTO charges(account_id, service_id, period, method, volume, tariff, amount, days, run_id, note) "
         "SELECT a.id, s.id, DATE '2026-10-01', 'norm', 5, 100, 500, 31, 1, '' FROM accounts a, services s "
         "WHERE s.code = 'cold_water'", {}),
        ("INSERT INTO payment_agents(code, name, kind, file_format) VALUES ('sber', 'Сбербанк', 'bank', 'sberbank')",
         {}),
    ):
        await conn.execute(text(sql), params)


async def run(url: str, n: int) -> int:
    engines = EngineRegistry(url, pool_size=2)
    failures: list[str] = []
    try:
        await migrate_control(engines.control)
        tenant = await create_tenant(engines, f"bench{secrets.token_hex(3)}", "Водоканал г. Бенчграда")
        async with tenant_transaction(engines, tenant) as conn:
            await seed(conn, n)
            await conn.execute(text("ANALYZE"))
        data = registry(n)
        timings: dict[str, float] = {}
        start = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            report = await import_payment_file(conn, "sber", data, file_name="bench.txt", timings=timings)
            commit_start = time.perf_counter()
        timings["commit"] = time.perf_counter() - commit_start
        seconds = time.perf_counter() - start
        print(f"import   {len(data) / 1e6:5.1f} MB {report.lines:>8} lines {seconds:7.2f} s   loaded {report.loaded}, "
              f"unidentified {report.unidentified}, duplicates {report.duplicates}, failed {report.failed}",
              flush=True)
        print("         " + ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
              + f"   ({n / seconds:,.0f} lines/s; load average {os.getloadavg()[0]:.1f})", flush=True)
        if report.loaded != n or report.unidentified != (n + 99) // 100 or report.failed:
            failures.append(f"import report: {report.as_dict(max_errors=3)}")
        start = time.perf_counter()
        async with tenant_transaction(engines, tenant) as conn:
            again = await import_payment_file(conn, "sber", data, file_name="bench.txt")
        print(f"again    (same file)              {time.perf_counter() - start:7.2f} s   loaded {again.loaded}")
        if again.loaded or not again.duplicate_file:
            failures.append("the same file again added payments")

        async with engines.control.connect() as conn:  # the bare COPY, same server, same lines
            await conn.execute(text("CREATE TABLE IF NOT EXISTS public.bench_payment_staging ("
                                    + ", ".join(f"c{i} text" for i in range(10)) + ")"))
            await conn.commit()
            raw = (await conn.get_raw_connection()).driver_connection
            start = time.perf_counter()
            async with raw.transaction():
                await raw.copy_to_table("bench_payment_staging", schema_name="public", source=io.BytesIO(
                    data.decode("cp1251").encode()), format="csv", delimiter=";")
            copy_seconds = time.perf_counter() - start
            copied = await raw.fetchval("SELECT count(*) FROM public.bench_payment_staging")
        print(f"bare COPY into a staging table     {copy_seconds:7.2f} s   rows {copied}")
        print(f"ratio import / COPY: {seconds / copy_seconds:.1f}   goal import ≤ 10 s: "
              f"{'met' if seconds <= 10 else 'NOT met'}")
        async with tenant_transaction(engines, tenant) as conn:
            figures = (await conn.execute(text(
                "SELECT (SELECT count(*) FROM payments), (SELECT count(*) FROM payment_allocations), "
                "(SELECT sum(amount) FROM payment_allocations), (SELECT sum(amount) FROM payments "
                "WHERE status = 'identified'), (SELECT count(*) FROM audit_log WHERE table_name = 'payments')"))).one()
        print(f"payments {figures[0]}, allocation rows {figures[1]} (sum {figures[2]} = identified {figures[3]}), "
              f"audit entries for payments {figures[4]}")
        if figures[2] != figures[3]:
            failures.append("allocations do not add up to the identified payments")
    finally:
        await engines.dispose()
    print(f"peak RSS {peak_rss_mb():.0f} MiB")
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    return 1 if failures else 0


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    args = parser.parse_args()
    server = Server()
    url = await server.start()
    try:
        return await run(url, args.accounts)
    finally:
        await server.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
