"""Benchmark of tenant schemas: provisioning, migrating, and the no-op migration.

    .venv/bin/python bench/tenants.py [--tenants 1000] [--jobs 2] [--sample 100]

Starts a throwaway PostgreSQL (fsync off) in a temporary folder, or, when DATABASE_URL is set,
creates and afterwards drops its own database on that server. Then it times:

1. provisioning N tenants through `create_tenant` (run in `--jobs` worker processes, because the
   migrator runs one migration at a time per process);
2. `migrate_all` applying the newest tenant revision to all N schemas (brought down one revision
   first, untimed);
3. `migrate_all` when every schema is already at head (goal: under 10 s for 1,000 tenants);
4. baselines measured in the same run: a bare `SELECT 1` per schema, and the per-schema cost of
   opening an alembic MigrationContext and reading its revision (django-tenants style), timed on
   `--sample` schemas and extrapolated to N.

Exits non-zero if the no-op goal is missed or a check fails. Not a test: bench/ is outside pytest's
testpaths.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

from alembic.runtime.migration import MigrationContext
from benchlib import Server, peak_rss_mb
from sqlalchemy import event, text

from aquabill.tenants import registry
from aquabill.tenants.databases import EngineRegistry
from aquabill.tenants.migrator import TENANT, head, migrate_control, schema_versions, script_directory
from aquabill.tenants.naming import quote_schema
from aquabill.tenants.provisioning import create_tenant, migrate_all

NOOP_GOAL_SECONDS = 10.0  # per 1,000 tenants (and at least this for fewer)
NOOP_RUNS = 3
CHUNK = 10  # tenants per task sent to a provisioning worker


class Fresh:
    """An EngineRegistry with new connections (cold server caches, as in a new `aquabill migrate`)
    that counts the statements it sends."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.statements = 0

    async def __aenter__(self) -> EngineRegistry:
        self.engines = EngineRegistry(self.url, pool_size=2)
        event.listen(self.engines.control.sync_engine, "before_cursor_execute", self._count)
        return self.engines

    async def __aexit__(self, *exc) -> None:
        await self.engines.dispose()

    def _count(self, *_args) -> None:
        self.statements += 1


# ---- provisioning worker processes ----------------------------------------------------------

_loop: asyncio.AbstractEventLoop | None = None
_engines: EngineRegistry | None = None


def _worker_init(url: str) -> None:
    global _loop, _engines
    _loop = asyncio.new_event_loop()
    asyncio.set_event_loop(_loop)
    _engines = EngineRegistry(url, pool_size=2)


def _provision(slugs: list[str]) -> float:
    """Create the tenants one after another; return this worker's peak RSS in MiB."""
    assert _loop is not None and _engines is not None

    async def go() -> None:
        for slug in slugs:
            await create_tenant(_engines, slug, f"Bench {slug}")

    _loop.run_until_complete(go())
    return peak_rss_mb()


async def provision(url: str, slugs: list[str], jobs: int) -> float:
    loop = asyncio.get_running_loop()
    chunks = [slugs[i:i + CHUNK] for i in range(0, len(slugs), CHUNK)]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_worker_init, initargs=(url,)) as pool:
        peaks = await asyncio.gather(*(loop.run_in_executor(pool, _provision, c) for c in chunks))
    return max(peaks, default=0.0)


# ---- baselines ------------------------------------------------------------------------------

async def select_one_per_schema(engines: EngineRegistry, schemas: list[str]) -> None:
    for schema in schemas:
        async with engines.control.begin() as conn:
            await conn.execute(text("SELECT set_config('search_path', :p, true)"), {"p": quote_schema(schema)})
            await conn.execute(text("SELECT 1"))


def _current_revision(sync_conn, schema: str) -> str | None:
    ctx = MigrationContext.configure(sync_conn, opts={"version_table_schema": schema})
    return ctx.get_current_revision()


async def context_per_schema(engines: EngineRegistry, schemas: list[str]) -> None:
    """What a per-schema migrate command pays before it can tell there is nothing to do."""
    want = head(TENANT)
    for schema in schemas:
        async with engines.control.begin() as conn:
            await conn.execute(text("SELECT set_config('search_path', :p, true)"), {"p": quote_schema(schema)})
            current = await conn.run_sync(_current_revision, schema)
        if current != want:
            raise RuntimeError(f"{schema} is at {current}, expected {want}")


# ---- the run --------------------------------------------------------------------------------

class Table:
    def __init__(self) -> None:
        self.rows: list[tuple[str, int | None, float | None, str]] = []

    def add(self, label: str, count: int | None, seconds: float | None, note: str = "") -> None:
        self.rows.append((label, count, seconds, note))
        print(f"  .. {label}: {seconds:.3f} s" if seconds is not None else f"  .. {label}: {note}", flush=True)

    def print(self) -> None:
        width = max(len(r[0]) for r in self.rows)
        print(f"\n{'phase':<{width}}  {'tenants':>7}  {'seconds':>9}  {'ms/tenant':>9}  note")
        print("-" * (width + 40))
        for label, count, seconds, note in self.rows:
            n = f"{count:>7}" if count is not None else " " * 7
            s = f"{seconds:>9.3f}" if seconds is not None else " " * 9
            per = f"{1000 * seconds / count:>9.2f}" if seconds is not None and count else " " * 9
            print(f"{label:<{width}}  {n}  {s}  {per}  {note}".rstrip())


async def run(args: argparse.Namespace) -> bool:
    n, jobs = args.tenants, args.jobs
    script = script_directory(TENANT)
    newest = head(TENANT)
    previous = script.get_revision(newest).down_revision
    if not isinstance(previous, str):
        raise SystemExit(f"the newest tenant revision {newest} has no single previous revision")
    goal = NOOP_GOAL_SECONDS * max(1.0, n / 1000)
    ok = True
    table = Table()

    server = Server()
    started = time.perf_counter()
    engines: EngineRegistry | None = None
    try:
        url = await server.start()
        engines = EngineRegistry(url, pool_size=2)
        print(f"{server.describe()}; {n} tenants, {jobs} jobs, tenant head {newest}; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
        await migrate_control(engines.control)

        # 1. provisioning
        slugs = [f"bench{i:05d}" for i in range(n)]
        t0 = time.perf_counter()
        worker_rss = await provision(url, slugs, jobs)
        table.add(f"provision: create_tenant x N ({jobs} processes)", n, time.perf_counter() - t0,
                  "includes worker start-up")
        async with engines.control.connect() as conn:
            tenants, _ = await registry.list_tenants(conn)
        schemas = [t.schema_name for t in tenants if t.status == "active"]
        if len(schemas) != n:
            print(f"!! {len(schemas)} of {n} tenants are active", file=sys.stderr)
            ok = False

        # 2. a new revision: every schema one revision down (untimed), then back up to head
        t0 = time.perf_counter()
        down = await migrate_all(engines, jobs=jobs, target=previous)
        print(f"  .. (untimed) down to {previous}: {time.perf_counter() - t0:.3f} s, "
              f"{len(down.applied)} applied, {len(down.failed)} failed", flush=True)
        t0 = time.perf_counter()
        up = await migrate_all(engines, jobs=jobs)
        table.add(f"migrate_all {previous} -> {newest} ({jobs} processes)", n, time.perf_counter() - t0,
                  f"{len(up.applied)} applied, {len(up.failed)} failed")
        if len(down.applied) != n or len(up.applied) != n or down.failed or up.failed:
            print("!! migrating did not apply to every tenant: " + "; ".join(
                f"{r.slug}: {r.error}" for r in (down.failed + up.failed)[:5]), file=sys.stderr)
            ok = False

        # 3. the no-op, each run on new connections like a fresh `aquabill migrate`
        noop, statements = [], []
        for _ in range(NOOP_RUNS):
            fresh = Fresh(url)
            t0 = time.perf_counter()
            async with fresh as cold:
                summary = await migrate_all(cold, jobs=jobs)
            noop.append(time.perf_counter() - t0)
            statements.append(fresh.statements)
            if len(summary.skipped) != n or summary.applied or summary.failed:
                print(f"!! no-op run: {len(summary.skipped)} skipped, {len(summary.applied)} applied, "
                      f"{len(summary.failed)} failed", file=sys.stderr)
                ok = False
        worst = max(noop)
        table.add(f"migrate_all, nothing to apply (worst of {NOOP_RUNS})", n, worst,
                  f"runs: {', '.join(f'{s:.3f}' for s in noop)}; goal < {goal:g} s")
        table.add("  statements sent per no-op run", None, None, ", ".join(map(str, statements)))
        if max(statements) > 20 + n // 10:
            print(f"!! the no-op sent {max(statements)} statements: it does per-schema work", file=sys.stderr)
            ok = False
        fresh = Fresh(url)
        t0 = time.perf_counter()
        async with fresh as cold, cold.control.connect() as conn:
            versions = await schema_versions(conn, schemas)
        table.add("  schema_versions alone (catalogue + UNION ALLs)", n, time.perf_counter() - t0,
                  f"{fresh.statements} statements")
        if set(versions.values()) != {newest}:
            print(f"!! schema_versions disagrees: {set(versions.values())}", file=sys.stderr)
            ok = False

        # 4. baselines, also on new connections
        t0 = time.perf_counter()
        async with Fresh(url) as cold:
            await select_one_per_schema(cold, schemas)
        bare = time.perf_counter() - t0
        table.add("baseline: SELECT 1 per schema (own transaction)", n, bare)
        sample = schemas[:min(args.sample, n)]
        t0 = time.perf_counter()
        async with Fresh(url) as cold:
            await context_per_schema(cold, sample)
        per_ctx = (time.perf_counter() - t0) / len(sample)
        table.add("baseline: MigrationContext per schema", n, per_ctx * n,
                  f"timed on {len(sample)} schemas, extrapolated")
    finally:
        if engines is not None:
            await engines.dispose()
        await server.stop()

    table.print()
    median = statistics.median(noop)
    print(f"\nratio, baseline time / no-op migrate_all time (median no-op {median:.3f} s):")
    print(f"  SELECT 1 per schema            {bare / median:8.1f}")
    print(f"  MigrationContext per schema    {per_ctx * n / median:8.1f}")
    print(f"peak RSS: bench process {peak_rss_mb():.0f} MiB, provisioning worker {worker_rss:.0f} MiB, "
          f"largest finished child process {peak_rss_mb(resource.RUSAGE_CHILDREN):.0f} MiB "
          "(includes migrate_all's workers)")
    print(f"total bench time {time.perf_counter() - started:.1f} s; "
          f"load average now {os.getloadavg()[0]:.1f} (other work on the machine skews the figures)")
    if worst >= goal:
        print(f"FAIL: no-op migrate_all took {worst:.3f} s, goal < {goal:g} s", file=sys.stderr)
        ok = False
    else:
        print(f"OK: no-op migrate_all {worst:.3f} s < {goal:g} s")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=1000, help="how many tenants (default 1000)")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--sample", type=int, default=100,
                        help="schemas timed for the MigrationContext baseline (default 100)")
    args = parser.parse_args()
    if args.tenants < 1 or args.jobs < 1 or args.sample < 1:
        parser.error("--tenants, --jobs and --sample must be positive")
    return 0 if asyncio.run(run(args)) else 1


if __name__ == "__main__":
    sys.exit(main())
