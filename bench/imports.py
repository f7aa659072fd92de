"""Benchmark of the CSV import: a town of N accounts (default 100,000) loaded from one file, then the same
file again (must change nothing), then one meter and one reading per account.

    .venv/bin/python bench/imports.py [--accounts 100000] [--no-meters]

Starts a throwaway PostgreSQL (fsync off) in a temporary folder, or, when DATABASE_URL is set, creates and
afterwards drops its own database on that server. Each import runs as `aquabill import` does: one tenant
transaction per file, timed including the commit. Exits non-zero if a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time

from benchlib import Server, peak_rss_mb
from sqlalchemy import text

from aquabill.billing_core.imports import import_csv
from aquabill.tenants.context import tenant_transaction
from aquabill.tenants.databases import EngineRegistry
from aquabill.tenants.migrator import migrate_control
from aquabill.tenants.provisioning import create_tenant

FLATS_PER_HOUSE = 60
HOUSES_PER_STREET = 40


def accounts_csv(n: int) -> bytes:
    lines = ["account_number;settlement;street;house;apartment;area_m2;residents;holder;opened_on"]
    for i in range(n):
        house, flat = divmod(i, FLATS_PER_HOUSE)
        street, number = divmod(house, HOUSES_PER_STREET)
        lines.append(f"{1_000_000 + i};г. Бенчград;ул. Улица {street + 1};{number + 1};{flat + 1};"
                     f"{30 + i % 60},{i % 100:02d};{1 + i % 5};Абонент {i};01.{1 + i % 12:02d}.2015")
    return ("\n".join(lines) + "\n").encode()


def meters_csv(n: int) -> bytes:
    lines = ["account_number;service;serial;digits;installed_on;initial_reading"]
    lines += [f"{1_000_000 + i};cold_water;B{i:07d};5;2023-01-10;{i % 50}" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


def readings_csv(n: int) -> bytes:
    lines = ["serial;read_on;value"]
    lines += [f"B{i:07d};25.02.2023;{i % 50 + 3},{i % 1000:03d}" for i in range(n)]
    return ("\n".join(lines) + "\n").encode()


async def timed_import(engines, tenant, kind: str, data: bytes) -> tuple[float, dict]:
    start = time.perf_counter()
    async with tenant_transaction(engines, tenant) as conn:
        report = await import_csv(conn, kind, data)
    seconds = time.perf_counter() - start
    d = report.as_dict(max_errors=3)
    print(f"{kind:<10} {len(data) / 1e6:6.1f} MB {d['lines']:>8} lines {seconds:7.2f} s   "
          f"inserted {d['inserted']}, updated {d['updated']}, unchanged {d['unchanged']}, failed {d['failed']}",
          flush=True)
    return seconds, d


async def run(url: str, n: int, meters: bool) -> int:
    engines = EngineRegistry(url, pool_size=2)
    failures = []
    try:
        await migrate_control(engines.control)
        tenant = await create_tenant(engines, f"bench{secrets.token_hex(3)}", "Водоканал г. Бенчграда")
        data = accounts_csv(n)
        _, first = await timed_import(engines, tenant, "accounts", data)
        _, again = await timed_import(engines, tenant, "accounts", data)
        if first["inserted"] != n or first["failed"]:
            failures.append(f"first accounts import: {first}")
        if again["inserted"] or again["updated"] or again["unchanged"] != n:
            failures.append(f"second accounts import changed something: {again}")
        if meters:
            _, m = await timed_import(engines, tenant, "meters", meters_csv(n))
            _, r = await timed_import(engines, tenant, "readings", readings_csv(n))
            if m["inserted"] != n or r["inserted"] != n:
                failures.append(f"meters/readings: {m} {r}")
        async with tenant_transaction(engines, tenant) as conn:
            rows = (await conn.execute(text(
                "SELECT (SELECT count(*) FROM accounts), (SELECT count(*) FROM premises), "
                "(SELECT count(*) FROM houses), (SELECT count(*) FROM account_parameters), "
                "(SELECT count(*) FROM audit_log WHERE table_name = 'accounts')"))).one()
        print(f"accounts {rows[0]}, premises {rows[1]}, houses {rows[2]}, parameters {rows[3]}, "
              f"audit entries for accounts {rows[4]}")
    finally:
        await engines.dispose()
    print(f"peak RSS {peak_rss_mb():.0f} MiB")
    for f in failures:
        print("FAILED:", f, file=sys.stderr)
    return 1 if failures else 0


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--no-meters", action="store_true", help="only the accounts file")
    args = parser.parse_args()
    server = Server()
    url = await server.start()
    try:
        return await run(url, args.accounts, not args.no_meters)
    finally:
        await server.stop()

if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    sys.exit(asyncio.run(main()))
