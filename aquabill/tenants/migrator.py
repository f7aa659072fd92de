"""Alembic migrations: one history for `control`, one applied to each tenant schema.

Alembic's `op` proxy is process-global, so one process runs one migration at a time (guarded by a
lock); `migrate_tenants` gets concurrency from a pool of worker processes. Schemas already at head
are found with one catalogue query (plus a UNION ALL over their version tables) and skipped without
opening a migration context.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from collections.abc import AsyncIterator, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from aquabill.tenants.naming import quote_schema, validate_schema

MIGRATIONS = Path(__file__).parent / "migrations"
CONTROL = "control"
TENANT = "tenant"

_lock: asyncio.Lock | None = None

# Version tables read per UNION ALL statement. PostgreSQL's planning time grows faster than linearly
# with the number of branches: on a fresh connection 1,000 schemas took 1.0-1.3 s as one statement
# and 0.3-0.4 s in statements of 100; 5,000 schemas 6-11 s in statements of 2,000 and 1 s in 100s.
UNION_CHUNK = 100


@cache
def script_directory(kind: str) -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS / kind), version_locations=[str(MIGRATIONS / kind / "versions")])


def head(kind: str = TENANT) -> str:
    return script_directory(kind).get_current_head()


def _is_ancestor(kind: str, maybe_ancestor: str | None, rev: str | None) -> bool:
    if maybe_ancestor is None:
        return True
    if rev is None:
        return False
    return any(r.revision == maybe_ancestor for r in script_directory(kind).iterate_revisions(rev, "base"))


async def migrate_schema(conn: AsyncConnection, kind: str, schema: str, target: str = "head") -> str | None:
    """Bring one schema to `target` inside the caller's transaction (it creates the schema if missing)."""
    global _lock
    if _lock is None:
        _lock = asyncio.Lock()
    if kind == TENANT:
        validate_schema(schema)
    await conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quote_schema(schema) if kind == TENANT else schema}"))
    search = quote_schema(schema) if kind == TENANT else schema
    await conn.execute(text("SELECT set_config('search_path', :p, true)"), {"p": search})
    async with _lock:
        return await conn.run_sync(_migrate_sync, kind, schema, target)


def _migrate_sync(sync_conn, kind: str, schema: str, target: str) -> str | None:
    script = script_directory(kind)
    current = MigrationContext.configure(sync_conn, opts={"version_table_schema": schema}).get_current_revision()
    dest = script.get_current_head() if target == "head" else (None if target == "base" else target)
    if current == dest:
        return current
    if _is_ancestor(kind, current, dest):
        def steps(rev, _context):
            return script._upgrade_revs(dest, rev)
    else:
        def steps(rev, _context):
            return script._downgrade_revs(dest or "base", rev)
    ctx = MigrationContext.configure(
        sync_conn, opts={"version_table_schema": schema, "fn": steps, "script": script}
    )
    with Operations.context(ctx):
        ctx.run_migrations()
    return dest


async def migrate_control(engine: AsyncEngine, target: str = "head") -> str | None:
    async with engine.begin() as conn:
        await conn.execute(text("SELECT pg_advisory_xact_lock(727001)"))
        return await migrate_schema(conn, CONTROL, CONTROL, target)


async def schema_versions(conn: AsyncConnection, schemas: Iterable[str]) -> dict[str, str | None]:
    """Current revision of each schema: one catalogue query plus UNION ALLs over the version tables.

    Reading a version table locks it and its index until the caller's transaction ends: pass at most
    a few thousand schemas per transaction (`migrate_all` passes 1,000), or a server with the
    default max_locks_per_transaction runs out of shared memory.
    """
    schemas = [validate_schema(s) for s in schemas]
    versions: dict[str, str | None] = dict.fromkeys(schemas)
    if not schemas:
        return versions
    rows = await conn.execute(text(
        "SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relname = 'alembic_version' AND c.relkind = 'r' AND n.nspname = ANY(:schemas)"
    ), {"schemas": schemas})
    with_table = [r[0] for r in rows]
    for i in range(0, len(with_table), UNION_CHUNK):
        chunk = with_table[i:i + UNION_CHUNK]
        sql = " UNION ALL ".join(
            f"SELECT '{s}' AS s, version_num FROM {quote_schema(s)}.alembic_version" for s in chunk
        )
        for s, v in (await conn.execute(text(sql))).all():
            versions[s] = v
    return versions


@dataclass(frozen=True, slots=True)
class MigrationResult:
    slug: str
    schema: str
    before: str | None
    after: str | None
    ok: bool
    error: str = ""
    seconds: float = 0.0
    skipped: bool = False


# ---- worker processes -----------------------------------------------------------------------

_worker_loop: asyncio.AbstractEventLoop | None = None
_worker_engines: dict[str, AsyncEngine] = {}


def _worker_init() -> None:
    global _worker_loop
    _worker_loop = asyncio.new_event_loop()


def _worker_migrate(url: str, slug: str, schema: str, before: str | None, target: str) -> MigrationResult:
    from aquabill.tenants.databases import make_engine

    assert _worker_loop is not None
    engine = _worker_engines.get(url)
    if engine is None:
        engine = _worker_engines[url] = make_engine(url, pool_size=1)

    async def go() -> MigrationResult:
        started = time.perf_counter()
        try:
            async with engine.begin() as conn:
                after = await migrate_schema(conn, TENANT, schema, target)
            return MigrationResult(slug, schema, before, after, True, seconds=time.perf_counter() - started)
        except Exception as exc:  # reported per tenant, never fatal to the others
            msg = str(getattr(exc, "orig", exc)).splitlines()[0] if str(exc) else type(exc).__name__
            return MigrationResult(slug, schema, before, before, False, msg, time.perf_counter() - started)

    return _worker_loop.run_until_complete(go())


async def migrate_tenants(
    targets: list[tuple[str, str, str, str]],
    *,
    jobs: int = 2,
    target: str = "head",
    versions: dict[str, str | None] | None = None,
) -> AsyncIterator[MigrationResult]:
    """Migrate tenants given as (slug, schema, db_key, url); yield a result per tenant as it finishes.

    `versions` (schema → revision) must come from `schema_versions`; schemas already at the
    destination are yielded as skipped without touching a worker.
    """
    dest = head(TENANT) if target == "head" else target
    versions = versions or {}
    todo = []
    for slug, schema, _db_key, url in targets:
        before = versions.get(schema)
        if before == dest:
            yield MigrationResult(slug, schema, before, before, True, skipped=True)
        else:
            todo.append((url, slug, schema, before))
    if not todo:
        return
    loop = asyncio.get_running_loop()
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=max(1, min(jobs, len(todo))), mp_context=ctx,
                             initializer=_worker_init) as pool:
        futures = [loop.run_in_executor(pool, _worker_migrate, url, slug, schema, before, target)
                   for url, slug, schema, before in todo]
        for fut in asyncio.as_completed(futures):
            yield await fut
