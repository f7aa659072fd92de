"""The tenant→database map: one async engine (and pool) per PostgreSQL database.

Tenants share a database's pool, and a tenant transaction sets its own search_path. PostgreSQL re-parses
and re-plans a prepared statement whenever it runs under another search_path than the one it was prepared
under (plancache.c: the cached query's search_path is compared with the current one), so a pool serving
ten tenants re-parsed nearly every statement. Each statement of a tenant transaction is therefore tagged with
a comment naming the tenant (`/*t<id>*/`, set by `context.bind_tenant` in the connection's `info`, cleared at
check-in): asyncpg prepares one statement per tenant and text, each always run under its own search_path.
The prepared-statement cache per connection is sized for that (`STATEMENT_CACHE`).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from aquabill.tenants import control
from aquabill.tenants.naming import validate_db_key

# A connection outside a tenant transaction sees no tenant tables: unqualified names fail closed.
NO_TENANT_SEARCH_PATH = "aquabill_no_tenant"

# How long a checkout waits for a free connection before it fails (sqlalchemy.exc.TimeoutError, which the
# web layer answers with 503 and Retry-After). SQLAlchemy's default is 30 s: under overload requests then
# queue for tens of seconds. A web process keeps its requests within its pool (web/shedding.py), so a wait
# this long means the database or the pool is saturated; the worker runs fewer jobs than it has connections.
POOL_TIMEOUT_SECONDS = 2.0

# The tenant a pooled connection's current transaction is bound to (its `info`, see the module docstring).
TENANT_TAG = "aquabill_tenant_tag"
# Prepared statements kept per connection (SQLAlchemy's asyncpg dialect, LRU; its default is 100): the
# statements of a few busy tenants, each tenant's its own.
STATEMENT_CACHE = 500


def _tag_statement(conn, cursor, statement, parameters, context, executemany):
    tag = conn.info.get(TENANT_TAG)
    return (statement if tag is None else f"/*{tag}*/ {statement}"), parameters


def _forget_tag(dbapi_connection, connection_record) -> None:
    connection_record.info.pop(TENANT_TAG, None)


def to_async_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    return url


def make_engine(url: str, pool_size: int = 10, pool_timeout: float = POOL_TIMEOUT_SECONDS,
                max_overflow: int | None = None) -> AsyncEngine:
    """An engine with `pool_size` kept connections and `max_overflow` (default: as many) more under load."""
    engine = create_async_engine(
        to_async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=False,
        pool_use_lifo=True,  # the most recently used connections first: fewer of them, their statements prepared
        pool_recycle=1800,
        connect_args={
            "server_settings": {"search_path": NO_TENANT_SEARCH_PATH, "application_name": "aquabill"},
            "prepared_statement_cache_size": STATEMENT_CACHE,
        },
    )
    event.listen(engine.sync_engine, "before_cursor_execute", _tag_statement, retval=True)
    event.listen(engine.sync_engine.pool, "checkin", _forget_tag)
    return engine


class UnknownDatabase(LookupError):
    pass


class EngineRegistry:
    """Holds the control engine and lazily opens one engine per registered tenant database."""

    def __init__(self, control_url: str, pool_size: int = 10, pool_timeout: float = POOL_TIMEOUT_SECONDS) -> None:
        self.control_url = to_async_url(control_url)
        self.pool_size = pool_size
        self.pool_timeout = pool_timeout
        self.control: AsyncEngine = make_engine(self.control_url, pool_size, pool_timeout)
        self._engines: dict[str, AsyncEngine] = {control.MAIN_DB: self.control}
        self._urls: dict[str, str] = {control.MAIN_DB: self.control_url}
        self._lock = asyncio.Lock()

    async def url_for(self, db_key: str) -> str:
        await self.engine(db_key)
        return self._urls[db_key]

    async def engine(self, db_key: str) -> AsyncEngine:
        found = self._engines.get(db_key)
        if found is not None:
            return found
        async with self._lock:
            if db_key in self._engines:
                return self._engines[db_key]
            async with self.control.connect() as conn:
                row = (await conn.execute(
                    select(control.databases.c.url).where(control.databases.c.key == validate_db_key(db_key))
                )).first()
            if row is None or not row.url:
                raise UnknownDatabase(f"База данных {db_key!r} не зарегистрирована")
            self._urls[db_key] = to_async_url(row.url)
            self._engines[db_key] = make_engine(row.url, self.pool_size, self.pool_timeout)
            return self._engines[db_key]

    async def dispose(self) -> None:
        for engine in list(self._engines.values()):
            await engine.dispose()
        self._engines = {control.MAIN_DB: self.control}
