"""Real-time hub: per-tenant events through Redis pub/sub, fanned out to this process's WebSockets.

Publishing goes to Redis (any process may publish: app or worker). Each app process subscribes to a
tenant's channel while at least one of its clients of that tenant is connected, and delivers only to
that tenant's clients, so a client can never receive another tenant's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

from redis.asyncio import Redis

from aquabill.platform.keys import Keys

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000


async def publish(redis: Redis, keys: Keys, tenant_id: int, event_type: str, data: dict[str, Any]) -> int:
    """Publish one event to a tenant's channel; returns its per-tenant sequence number."""
    seq = await redis.incr(keys.events_seq(tenant_id))
    payload = json.dumps({"seq": seq, "type": event_type, "ts": time.time(), "data": data},
                         ensure_ascii=False, default=str)
    await redis.publish(keys.events_channel(tenant_id), payload)
    return seq


class Subscription:
    def __init__(self, tenant_id: int) -> None:
        self.tenant_id = tenant_id
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False

    def offer(self, event: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True  # the socket loop closes it; the client reconnects


class Hub:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._subs: dict[int, set[Subscription]] = {}
        self._channels: dict[bytes, int] = {}
        self._pubsub = None
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        self._pubsub = self.redis.pubsub()
        await self._pubsub.subscribe(self.keys.hub_keepalive)
        self._task = asyncio.create_task(self._reader(), name="realtime-hub")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()

    async def publish(self, tenant_id: int, event_type: str, data: dict[str, Any]) -> int:
        return await publish(self.redis, self.keys, tenant_id, event_type, data)

    async def subscribe(self, tenant_id: int) -> Subscription:
        sub = Subscription(tenant_id)
        async with self._lock:
            group = self._subs.setdefault(tenant_id, set())
            if not group:
                channel = self.keys.events_channel(tenant_id)
                self._channels[channel.encode()] = tenant_id
                await self._pubsub.subscribe(channel)
            group.add(sub)
        return sub

    async def unsubscribe(self, sub: Subscription) -> None:
        async with self._lock:
            group = self._subs.get(sub.tenant_id, set())
            group.discard(sub)
            if not group:
                self._subs.pop(sub.tenant_id, None)
                channel = self.keys.events_channel(sub.tenant_id)
                self._channels.pop(channel.encode(), None)
                with contextlib.suppress(Exception):
                    await self._pubsub.unsubscribe(channel)

    def local_clients(self, tenant_id: int) -> int:
        return len(self._subs.get(tenant_id, ()))

    async def _reader(self) -> None:
        while True:
            try:
                msg = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:  # connection trouble: back off and let redis-py reconnect
                log.exception("realtime hub: reading from Redis failed")
                await asyncio.sleep(0.5)
                continue
            if not msg or msg.get("type") != "message":
                continue
            tenant_id = self._channels.get(msg["channel"])
            if tenant_id is None:
                continue
            try:
                event = json.loads(msg["data"])
            except ValueError:
                continue
            for sub in list(self._subs.get(tenant_id, ())):
                sub.offer(event)
