"""What both messenger adapters share: finding a tenant's bot by the webhook's slug (`BotDirectory`), the
webhook secret (only its hash is stored), and running the conversation core for one event inside the
tenant's transaction (`Conversations`): today's date in the organisation's time zone, the pay links'
secret, events published after the commit, old handled updates pruned now and then."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncEngine

from aquabill.platform.printing.receipt_files import bot_receipt_pdf
from aquabill.platform.realtime import publish
from aquabill.platform.secret_box import SecretBox
from aquabill.platform.state import Core
from aquabill.subscribers.bot import BotEnv, BotEvent, Outcome, handle
from aquabill.subscribers.bot import store as bot_store
from aquabill.subscribers.bot.types import PhotoFetcher
from aquabill.tenants import registry
from aquabill.tenants.context import Tenant, tag_tenant, tenant_transaction
from aquabill.tenants.databases import make_engine
from aquabill.tenants.naming import quote_schema

log = logging.getLogger(__name__)

DIRECTORY_TTL = 10.0  # seconds a process trusts what it read of a tenant's bot settings
UPDATES_KEPT = timedelta(days=3)  # messengers stop redelivering long before
PRUNE_EVERY = 3600.0  # seconds between prunes of a tenant's handled updates (per process)


def new_webhook_secret() -> str:
    """A secret both messengers accept (Telegram: 1–256, MAX: 5–256 characters of A-Z a-z 0-9 _ -)."""
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(given: str | None, stored_hash: str) -> bool:
    """The header's secret against the stored hash, in constant time; no stored hash never matches."""
    if not given or not stored_hash:
        return False
    return hmac.compare_digest(secret_hash(given), stored_hash)


@dataclass(frozen=True, slots=True)
class BotConfig:
    """A tenant's bot on one channel, as the webhook and the sender need it (the token opened)."""

    tenant: Tenant
    channel: str
    token: str
    secret_hash: str
    enabled: bool
    username: str


class BotDirectory:
    """(tenant slug, channel) → its bot, read from the database and kept for DIRECTORY_TTL seconds."""

    def __init__(self, core: Core, ttl: float = DIRECTORY_TTL) -> None:
        self.core = core
        self.ttl = ttl
        self._cache: dict[tuple[str, str], tuple[float, BotConfig | None]] = {}

    async def lookup(self, slug: str, channel: str) -> BotConfig | None:
        """The tenant's enabled bot on the channel, or None (no such tenant, not active, no bot, disabled)."""
        key = (slug, channel)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        config = await self._read(slug, channel)
        self._cache[key] = (time.monotonic() + self.ttl, config)
        return config

    def forget(self, slug: str) -> None:
        for key in [k for k in self._cache if k[0] == slug]:
            del self._cache[key]

    async def _read(self, slug: str, channel: str) -> BotConfig | None:
        if len(slug) > 64:
            return None
        async with self.core.engines.control.connect() as conn:
            tenant = await registry.by_slug(conn, slug)
        if tenant is None or tenant.status != "active":
            return None
        async with tenant_transaction(self.core.engines, tenant) as conn:
            row = await bot_store.get_settings(conn, channel)
        if row is None or not row["enabled"] or not row["token_sealed"]:
            return None
        try:
            token = SecretBox(self.core.settings.secret_key).open(row["token_sealed"])
        except ValueError:
            log.warning("bot %s of tenant %s: the token does not open (secret key changed?)", channel, slug)
            return None
        return BotConfig(tenant, channel, token, row["webhook_secret_hash"], row["enabled"], row["username"])


class Conversations:
    """Runs the conversation for events of any tenant, at most `max_concurrent` at once in this process
    (AQUABILL_BOT_CONCURRENCY, 3 by default; the others wait their turn). Each holds a database connection
    while it runs, and each connection prepares every tenant's statements for itself (tenants/databases.py):
    under bench/subscribers.py's 350 updates/s on 2 cores, 10 at once made 1.2 prepares per update and
    p99 0.75–1.4 s; 3 at once, 1.5 ms of PostgreSQL CPU per update instead of 2.4 and p99 175 ms. An update's
    work is CPU (Python, then PostgreSQL), so a few in flight keep a core busy.

    The conversations have their own pool per database, exactly that many connections: taken from the
    shared pool they came from whichever connections the other requests had left on top, six or more over
    a run, each preparing the tenants' statements again (0.7 prepares per update)."""

    def __init__(self, core: Core, max_concurrent: int | None = None) -> None:
        self.core = core
        self._size = max_concurrent or core.settings.bot_concurrency
        self._slots = asyncio.Semaphore(self._size)
        self._engines: dict[str, AsyncEngine] = {}  # db_key → the conversations' own engine
        self._pruned: dict[int, float] = {}
        self._zone = ZoneInfo(core.settings.timezone)

    def env(self, tenant: Tenant, fetch_photo: PhotoFetcher | None, channel: str = "", schema: str = "") -> BotEnv:
        s = self.core.settings
        return BotEnv(today=datetime.now(self._zone).date(), tenant_slug=tenant.slug, tenant_name=tenant.name,
                      base_url=s.base_url, pay_secret=str(s.secret_key), fetch_photo=fetch_photo, channel=channel,
                      receipt_pdf=bot_receipt_pdf, schema=schema)

    async def handle(self, tenant: Tenant, event: BotEvent, fetch_photo: PhotoFetcher | None = None) -> Outcome:
        """The replies to one event (none for a repeated delivery); its events are published after the
        commit. A failure rolls the transaction back (the update is not marked handled) and propagates."""
        engine = self._engines.get(tenant.db_key)
        if engine is None:
            url = await self.core.engines.url_for(tenant.db_key)
            engine = self._engines.setdefault(tenant.db_key, make_engine(url, self._size, max_overflow=0))
        async with self._slots:
            # the tenant's transaction, bound by the conversation's first statement (env.schema: one round trip
            # less than `tenant_transaction`'s separate binding); its statements tagged with the tenant
            async with engine.begin() as conn:
                tag_tenant(conn, tenant)
                env = self.env(tenant, fetch_photo, event.channel, quote_schema(tenant.schema_name))
                outcome = await handle(conn, event, env)
                if self._pruned.get(tenant.id, 0.0) < time.monotonic() - PRUNE_EVERY:
                    self._pruned[tenant.id] = time.monotonic()
                    await bot_store.prune_updates(conn, UPDATES_KEPT)
        for name, data in outcome.events:
            try:
                await publish(self.core.redis, self.core.keys, tenant.id, name, data)
            except Exception:  # the appeal is stored; the staff's live list catches up on reload
                log.exception("bot event %s of tenant %s not published", name, tenant.slug)
        return outcome

    async def close(self) -> None:
        engines, self._engines = self._engines, {}
        for engine in engines.values():
            await engine.dispose()
