"""One supervised AMI connection per tenant across all processes.

Every app process (setting `telephony`, on by default) runs a `TelephonySupervisor`. Tenants with an
enabled connection are listed in the Redis set `ami_tenants` (kept by the settings API, rebuilt from the
tenant schemas when a supervisor starts). For each of them the supervisors compete for a Redis lease
(`SET NX PX`); the holder runs the tenant's `TenantLink` and renews the lease at every scan, so exactly one
process holds each connection, and when it dies another takes over once the lease expires. A change of the
tenant's settings bumps `ami_version`: the holder restarts the link with the new settings.

A link connects, logs in, feeds every event to the call tracker and the tenant's `CallSink`, pings the peer
to notice a dead link, and on any failure reconnects with exponential backoff (1 s doubling up to 60 s,
reset after a successful login). When a logged-in link ends, the calls still ringing or in progress can
never be followed to their end: they are marked 'lost' (ended at the last event received) and their
call.ended is published; a new link does the same, right after its login, for calls started before it
(left by a process that died: the PBX's state is unknown to it). Its state (connecting / connected / failed, last error, since, holder,
reconnects) is a Redis hash that the settings API reads from any process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import socket
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from aquabill.channels.asterisk.calls import CallTracker, event_time
from aquabill.channels.asterisk.client import AmiAuthError, AmiClient
from aquabill.channels.asterisk.protocol import Message
from aquabill.channels.asterisk.runtime.ingest import CallSink, end_lost_calls
from aquabill.contact_center import calls as store
from aquabill.platform.secret_box import SecretBox
from aquabill.platform.state import Core
from aquabill.tenants import registry
from aquabill.tenants.context import Tenant, tenant_transaction

log = logging.getLogger(__name__)

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0
PING_SECONDS = 20.0
SEEN_KEPT = 10_000  # calls whose last event time a link remembers
_RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"


def backoff(attempt: int, first: float = BACKOFF_FIRST, most: float = BACKOFF_MAX) -> float:
    """Delay before reconnect attempt `attempt` (0-based): first, 2×first, 4×first … up to `most`."""
    return min(most, first * (2 ** min(attempt, 30)))


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def write_state(core: Core, tenant_id: int, ttl_ms: int, **fields: Any) -> None:
    key = core.keys.ami_state(tenant_id)
    values = {k: "" if v is None else str(v) for k, v in fields.items()}
    async with core.redis.pipeline(transaction=True) as pipe:
        pipe.hset(key, mapping=values)
        pipe.pexpire(key, ttl_ms)
        await pipe.execute()


async def read_state(core: Core, tenant_id: int) -> dict[str, str]:
    raw = await core.redis.hgetall(core.keys.ami_state(tenant_id))
    return {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
            for k, v in raw.items()}


async def connection_settings(core: Core, tenant: Tenant) -> dict[str, Any] | None:
    """The tenant's enabled connection with its secret opened; None when there is none or it is disabled."""
    async with tenant_transaction(core.engines, tenant) as conn:
        row = await store.get_connection(conn, with_secret=True)
    if not row or not row["enabled"]:
        return None
    row["secret"] = SecretBox(core.settings.secret_key).open(row.pop("secret_encrypted")) \
        if row.get("secret_encrypted") else ""
    return row


class TenantLink:
    """The supervised connection of one tenant (runs until cancelled)."""

    def __init__(self, core: Core, tenant: Tenant, holder: str, state_ttl_ms: int) -> None:
        self.core, self.tenant, self.holder, self.state_ttl_ms = core, tenant, holder, state_ttl_ms
        self.reconnects = 0
        self.seen: dict[str, datetime] = {}  # linkedid → its last event's time (Timestamp when sent), calls not ended

    async def _lose_calls(self, **kw: Any) -> None:
        try:
            lost = await end_lost_calls(self.core, self.tenant, **kw)
        except Exception:  # the database is away: the next link's login tries again
            log.exception("telephony (tenant %s): calls in progress not marked lost", self.tenant.slug)
            return
        if lost:
            log.info("telephony (tenant %s): %d call(s) in progress marked lost", self.tenant.slug, lost)

    async def _state(self, state: str, error: str = "", **extra: Any) -> None:
        await write_state(self.core, self.tenant.id, self.state_ttl_ms, state=state, error=error, since=_now(),
                          holder=self.holder, reconnects=self.reconnects, **extra)

    async def run(self) -> None:
        attempt = 0
        while True:
            try:
                cfg = await connection_settings(self.core, self.tenant)
            except Exception as exc:  # the database is away, or the secret does not open under this app key
                await self._state("failed", f"настройки не прочитаны: {exc}")
                self.reconnects += 1
                await asyncio.sleep(backoff(attempt))
                attempt += 1
                continue
            if cfg is None:
                await self._state("disabled")
                return
            await self._state("connecting", host=cfg["host"], port=cfg["port"])
            error = await self._session(cfg)
            if error is None:  # had logged in: start the backoff afresh
                attempt = 0
                error = "соединение прервано"
            await self._state("failed", error, host=cfg["host"], port=cfg["port"])
            self.reconnects += 1
            delay = backoff(attempt) * (1 + random.random() * 0.1)
            attempt += 1
            log.info("AMI %s (tenant %s): %s; reconnect in %.1fs", cfg["host"], self.tenant.slug, error, delay)
            await asyncio.sleep(delay)

    async def _session(self, cfg: dict[str, Any]) -> str | None:
        """One connection: its failure before login (returned as text) or None once it ends after a login."""
        queue: asyncio.Queue[tuple[Message, datetime]] = asyncio.Queue()
        client = AmiClient(cfg["host"], int(cfg["port"]), cfg["username"], cfg["secret"],
                           on_event=lambda m: queue.put_nowait((m, datetime.now(UTC))))
        try:
            await client.connect()
        except AmiAuthError as exc:
            return f"АТС отклонила вход: {exc}"
        except (OSError, TimeoutError, ConnectionError) as exc:
            return f"нет соединения с {cfg['host']}:{cfg['port']}: {exc or type(exc).__name__}"
        await self._state("connected", host=cfg["host"], port=cfg["port"], connected_at=_now(),
                          version=client.version or "")
        await self._lose_calls(last_seen={}, started_before=datetime.now(UTC))
        consumer = asyncio.create_task(self._consume(queue))
        pinger = asyncio.create_task(self._ping(client))
        try:
            await client.closed()
        except (OSError, ConnectionError) as exc:
            log.info("AMI %s (tenant %s) closed: %s", cfg["host"], self.tenant.slug, exc)
        finally:
            pinger.cancel()
            await client.close()
            await queue.join()
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await consumer
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pinger
        await self._lose_calls(last_seen=dict(self.seen))
        self.seen.clear()
        return None

    async def _ping(self, client: AmiClient) -> None:
        while True:
            await asyncio.sleep(PING_SECONDS)
            try:
                await client.send("Ping")
            except (TimeoutError, ConnectionError, OSError):
                await client.close()
                return

    async def _consume(self, queue: asyncio.Queue[tuple[Message, datetime]]) -> None:
        tracker, sink = CallTracker(), CallSink(self.core, self.tenant)
        while True:
            msg, received = await queue.get()
            linkedid = msg.get("Linkedid")
            if linkedid:
                at = event_time(msg, received)
                self.seen[linkedid] = max(at, self.seen.get(linkedid, at))
                while len(self.seen) > SEEN_KEPT:
                    self.seen.pop(next(iter(self.seen)))
            try:
                for update in tracker.feed(msg, received):
                    await sink.apply(update)
                    if update.kind == "ended":
                        self.seen.pop(update.call.linkedid, None)
            except Exception:  # one bad write must not stop the stream
                log.exception("telephony (tenant %s): event %s not recorded", self.tenant.slug, msg.event)
            finally:
                queue.task_done()


class TelephonySupervisor:
    def __init__(self, core: Core, *, scan_seconds: float | None = None) -> None:
        self.core = core
        self.scan_seconds = scan_seconds or core.settings.telephony_scan_seconds
        self.lease_ms = int(max(3 * self.scan_seconds, 10.0) * 1000)
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._links: dict[int, tuple[asyncio.Task, int]] = {}  # tenant id → (task, settings version)
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def kick(self) -> None:
        """Scan now (the settings of a tenant changed in this process)."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="telephony-supervisor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for tenant_id in list(self._links):
            await self._drop(tenant_id)

    @property
    def held(self) -> set[int]:
        return set(self._links)

    async def _run(self) -> None:
        try:
            await rebuild_registry(self.core)
        except Exception:
            log.exception("telephony: the list of tenants with AMI connections was not rebuilt")
        while True:
            try:
                await self.scan()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("telephony: scan failed")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.scan_seconds)

    async def scan(self) -> None:
        redis, keys = self.core.redis, self.core.keys
        wanted = {int(x) for x in await redis.smembers(keys.ami_tenants)}
        for tenant_id in list(self._links):
            if tenant_id not in wanted:
                await self._drop(tenant_id)
        for tenant_id in wanted:
            version = int(await redis.get(keys.ami_version(tenant_id)) or 0)
            if tenant_id in self._links:
                task, running_version = self._links[tenant_id]
                if not await redis.eval(_RENEW, 1, keys.ami_lease(tenant_id), self.holder, self.lease_ms):
                    await self._drop(tenant_id, release=False)  # someone else holds it now
                    continue
                await redis.pexpire(keys.ami_state(tenant_id), self.lease_ms * 2)
                if running_version == version and not task.done():
                    continue
                await self._drop(tenant_id, release=False)
                if task.done() and running_version == version:
                    # the link ended by itself (disabled): forget the tenant until its settings change
                    await redis.srem(keys.ami_tenants, tenant_id)
                    await redis.eval(_RELEASE, 1, keys.ami_lease(tenant_id), self.holder)
                    continue
            elif not await redis.set(keys.ami_lease(tenant_id), self.holder, nx=True, px=self.lease_ms):
                continue
            await self._start(tenant_id, version)

    async def _start(self, tenant_id: int, version: int) -> None:
        async with self.core.engines.control.connect() as conn:
            tenant = await registry.by_id(conn, tenant_id)
        if tenant is None or tenant.status != "active":
            await self.core.redis.srem(self.core.keys.ami_tenants, tenant_id)
            await self.core.redis.eval(_RELEASE, 1, self.core.keys.ami_lease(tenant_id), self.holder)
            return
        link = TenantLink(self.core, tenant, self.holder, self.lease_ms * 2)
        task = asyncio.create_task(link.run(), name=f"ami-link {tenant.slug}")
        self._links[tenant_id] = (task, version)

    async def _drop(self, tenant_id: int, *, release: bool = True) -> None:
        task, _ = self._links.pop(tenant_id)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        if release:
            await self.core.redis.eval(_RELEASE, 1, self.core.keys.ami_lease(tenant_id), self.holder)


async def rebuild_registry(core: Core) -> int:
    """Put every active tenant with an enabled connection into `ami_tenants` (after a Redis loss)."""
    async with core.engines.control.connect() as conn:
        tenants, _ = await registry.list_tenants(conn)
    found = 0
    for tenant in tenants:
        if tenant.status != "active":
            continue
        try:
            async with tenant_transaction(core.engines, tenant) as conn:
                exists = (await conn.execute(text("SELECT to_regclass('ami_connections') IS NOT NULL"))).scalar_one()
                enabled = exists and bool((await conn.execute(
                    text("SELECT enabled FROM ami_connections WHERE id = 1"))).scalar())
        except Exception:  # an unreachable database or an unmigrated schema: skip it
            log.warning("telephony: tenant %s not checked", tenant.slug, exc_info=True)
            continue
        if enabled:
            await core.redis.sadd(core.keys.ami_tenants, tenant.id)
            found += 1
    return found
