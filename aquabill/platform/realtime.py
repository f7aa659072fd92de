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
import os
import time
from typing import Any, Protocol

from redis.asyncio import Redis

from aquabill.platform.keys import Keys

log = logging.getLogger(__name__)

# A tenant's events arriving within this window go out as one frame (a JSON array), so that a busy
# tenant costs each socket at most 1000/COALESCE_MS frames a second; a quiet one gets each event at once.
COALESCE_MS = float(os.environ.get("AQUABILL_WS_COALESCE_MS", "50"))


# Sequence number, replay log and fan-out in one atomic step, so sequence order = delivery order.
# KEYS: seq counter, replay log (sorted set scored by seq), channel. ARGV: the event's JSON object
# without its opening brace, the replay length, the replay key's lifetime (seconds).
_PUBLISH = """
local seq = redis.call('INCR', KEYS[1])
local payload = '{"seq": ' .. seq .. ', ' .. ARGV[1]
redis.call('ZADD', KEYS[2], seq, payload)
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -tonumber(ARGV[2]) - 1)
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
redis.call('PUBLISH', KEYS[3], payload)
return seq
"""
REPLAY_EVENTS = 2000  # events of a tenant kept for reconnecting clients …
REPLAY_SECONDS = 300  # … and for how long at most


async def publish(redis: Redis, keys: Keys, tenant_id: int, event_type: str, data: dict[str, Any]) -> int:
    """Publish one event to a tenant's channel; returns its per-tenant sequence number.

    The event is also kept in the tenant's replay log (the last REPLAY_EVENTS events, REPLAY_SECONDS at
    most) so a client that reconnects gets what it missed (`replay_since`).
    """
    body = json.dumps({"type": event_type, "ts": time.time(), "data": data}, ensure_ascii=False, default=str)
    seq = await redis.eval(_PUBLISH, 3, keys.events_seq(tenant_id), keys.events_replay(tenant_id),
                           keys.events_channel(tenant_id), body[1:], REPLAY_EVENTS, REPLAY_SECONDS)
    return int(seq)


async def current_seq(redis: Redis, keys: Keys, tenant_id: int) -> int:
    return int(await redis.get(keys.events_seq(tenant_id)) or 0)


async def replay_since(redis: Redis, keys: Keys, tenant_id: int, since: int) -> list[tuple[int, str]] | None:
    """The tenant's events after `since` as (seq, JSON text), oldest first; None when some of them are
    no longer kept (the client must reload its state instead of resuming)."""
    last = await current_seq(redis, keys, tenant_id)
    if since >= last:
        return [] if since == last else None  # since > last: the counter was reset
    rows = await redis.zrangebyscore(keys.events_replay(tenant_id), f"({since}", "+inf", withscores=True)
    events = [(int(score), raw.decode() if isinstance(raw, bytes) else raw) for raw, score in rows]
    if not events or events[0][0] != since + 1:
        return None
    horizon = time.time() - REPLAY_SECONDS
    if json.loads(events[0][1]).get("ts", 0) < horizon:
        return None
    return events


class Frame:
    """Events of one tenant delivered together: the same text goes to every socket of the tenant."""

    __slots__ = ("events", "first", "last", "text")

    def __init__(self, events: list[tuple[int, str]]) -> None:
        self.events = events  # (seq, JSON text), in order
        self.first, self.last = events[0][0], events[-1][0]
        self.text = join(events)


def join(events: list[tuple[int, str]]) -> str:
    """One event as itself, several as a JSON array (in order)."""
    return events[0][1] if len(events) == 1 else "[" + ",".join(t for _, t in events) + "]"


class Outlet(Protocol):
    """A socket's end of the hub (see web/ws_outlet.py): takes a frame synchronously, never blocks."""

    def offer(self, frame: Frame) -> None: ...


class Hub:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self.redis = redis
        self.keys = keys
        self._subs: dict[int, set[Outlet]] = {}
        self._channels: dict[bytes, int] = {}
        self._pubsub = None
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self._pending: dict[int, list[tuple[int, str]]] = {}
        self._last_flush: dict[int, float] = {}
        self._window = COALESCE_MS / 1000

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

    async def subscribe(self, tenant_id: int, outlet: Outlet) -> None:
        """From now on every frame of the tenant is offered to `outlet`."""
        async with self._lock:
            group = self._subs.setdefault(tenant_id, set())
            if not group:
                channel = self.keys.events_channel(tenant_id)
                self._channels[channel.encode()] = tenant_id
                await self._pubsub.subscribe(channel)
            group.add(outlet)

    async def unsubscribe(self, tenant_id: int, outlet: Outlet) -> None:
        async with self._lock:
            group = self._subs.get(tenant_id, set())
            group.discard(outlet)
            if not group:
                self._subs.pop(tenant_id, None)
                channel = self.keys.events_channel(tenant_id)
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
            raw = msg["data"]
            text = raw.decode() if isinstance(raw, bytes) else raw
            try:  # parsed once per event, not per client: clients get the text as published
                seq = int(json.loads(text)["seq"])
            except (ValueError, KeyError, TypeError):
                continue
            self._arrived(tenant_id, seq, text)

    def _arrived(self, tenant_id: int, seq: int, text: str) -> None:
        pending = self._pending.get(tenant_id)
        if pending is not None:  # a flush is already scheduled
            pending.append((seq, text))
            return
        loop = asyncio.get_running_loop()
        self._pending[tenant_id] = [(seq, text)]
        wait = self._last_flush.get(tenant_id, 0.0) + self._window - loop.time()
        if wait <= 0:
            self._flush(tenant_id)
        else:
            loop.call_later(wait, self._flush, tenant_id)

    def _flush(self, tenant_id: int) -> None:
        events = self._pending.pop(tenant_id, None)
        self._last_flush[tenant_id] = asyncio.get_running_loop().time()
        if not events:
            return
        frame = Frame(events)
        for outlet in list(self._subs.get(tenant_id, ())):  # one loop, no task per socket
            try:
                outlet.offer(frame)
            except Exception:  # one broken socket must not starve the others
                log.exception("realtime hub: delivering to a socket failed")
