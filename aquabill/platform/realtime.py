"""Real-time hub: per-tenant events through Redis pub/sub, fanned out to this process's WebSockets.

Publishing goes to Redis (any process may publish: app or worker). Each app process subscribes to a
tenant's channel while at least one of its clients of that tenant is connected, and delivers only to
that tenant's clients, so a client can never receive another tenant's events. Events published while
a process's subscription was down are taken from the replay log when it is back (see `Hub`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.asyncio.client import PubSub

from aquabill.platform.keys import Keys

log = logging.getLogger(__name__)

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
    """Events of one tenant delivered together: the same text goes to every socket of the tenant.

    A reset frame carries one `{"type": "reset", "seq": N}` event: the hub lost events it can no longer
    replay, the client reloads its state, and the socket's numbering continues after N."""

    __slots__ = ("events", "first", "last", "reset", "text")

    def __init__(self, events: list[tuple[int, str]], *, reset: bool = False) -> None:
        self.events = events  # (seq, JSON text), in order
        self.first, self.last = events[0][0], events[-1][0]
        self.reset = reset
        self.text = join(events)

    @classmethod
    def reset_to(cls, seq: int) -> Frame:
        return cls([(seq, json.dumps({"type": "reset", "seq": seq}))], reset=True)


def join(events: list[tuple[int, str]]) -> str:
    """One event as itself, several as a JSON array (in order)."""
    return events[0][1] if len(events) == 1 else "[" + ",".join(t for _, t in events) + "]"


class Outlet(Protocol):
    """A socket's end of the hub (see web/live/outlet.py): takes a frame synchronously, never blocks."""

    def offer(self, frame: Frame) -> None: ...


RETRY_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)  # pauses between attempts to get the subscription back, growing …
HEALTHY_SECONDS = 30.0  # … until the connection has lasted this long (then a failure starts them afresh)


class Hub:
    """This process's subscription to its tenants' channels and the fan-out to their sockets.

    The hub remembers per tenant the sequence number of the last event it handed to the sockets. Whenever
    Redis confirms a subscription to a tenant's channel (the first one, or again after the connection was
    lost and restored) and whenever an event's number jumps past the next one, the events in between are
    taken from the tenant's replay log and delivered first, in order, each once; when they are no longer
    kept the tenant's sockets get `reset` instead. A lost connection is re-established by the reader with
    a growing pause (RETRY_DELAYS) and every channel subscribed again.
    """

    def __init__(self, redis: Redis, keys: Keys, *, coalesce_ms: float = 50.0) -> None:
        self.redis = redis
        self.keys = keys
        self._subs: dict[int, set[Outlet]] = {}  # a tenant is here while its channel is wanted
        self._channels: dict[bytes, int] = {}
        self._last: dict[int, int] = {}  # tenant → seq of the last event handed to the fan-out
        self._pubsub: PubSub | None = None  # None while the connection is being re-established
        self._task: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self._pending: dict[int, list[tuple[int, str]]] = {}
        self._last_flush: dict[int, float] = {}
        # A tenant's events arriving within this window go out as one frame (a JSON array), so that a busy
        # tenant costs each socket at most 1000/coalesce_ms frames a second; a quiet one gets each at once.
        self._window = coalesce_ms / 1000

    async def start(self) -> None:
        await self._connect()
        self._task = asyncio.create_task(self._reader(), name="realtime-hub")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self._drop_connection()

    async def publish(self, tenant_id: int, event_type: str, data: dict[str, Any]) -> int:
        return await publish(self.redis, self.keys, tenant_id, event_type, data)

    async def subscribe(self, tenant_id: int, outlet: Outlet) -> None:
        """From now on every frame of the tenant is offered to `outlet`."""
        async with self._lock:
            if tenant_id not in self._subs:
                # Read before subscribing: what is published in between comes from the replay log when
                # Redis confirms the subscription, so nothing can fall between the two.
                self._last[tenant_id] = await current_seq(self.redis, self.keys, tenant_id)
                channel = self.keys.events_channel(tenant_id)
                self._subs[tenant_id] = set()
                self._channels[channel.encode()] = tenant_id
                await self._command(self._pubsub.subscribe if self._pubsub else None, channel)
            self._subs[tenant_id].add(outlet)

    async def unsubscribe(self, tenant_id: int, outlet: Outlet) -> None:
        async with self._lock:
            self.discard(tenant_id, outlet)
            if tenant_id in self._subs and not self._subs[tenant_id]:
                del self._subs[tenant_id]
                self._last.pop(tenant_id, None)
                channel = self.keys.events_channel(tenant_id)
                self._channels.pop(channel.encode(), None)
                await self._command(self._pubsub.unsubscribe if self._pubsub else None, channel)

    def discard(self, tenant_id: int, outlet: Outlet) -> None:
        """Offer `outlet` nothing more (its socket failed); the channel goes with the handler's unsubscribe."""
        group = self._subs.get(tenant_id)
        if group is not None:
            group.discard(outlet)

    def local_clients(self, tenant_id: int) -> int:
        return len(self._subs.get(tenant_id, ()))

    async def _connect(self) -> None:
        """A new pub/sub connection subscribed to every wanted channel at once."""
        async with self._lock:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.keys.hub_keepalive, *(self.keys.events_channel(t) for t in self._subs))
            except BaseException:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                raise
            self._pubsub = pubsub

    async def _command(self, command: Callable[[str], Awaitable[Any]] | None, channel: str) -> None:
        """(Un)subscribe on the current connection, under the lock. When that fails the connection is
        dropped: the reader makes a new one with every wanted channel (redis-py would otherwise reconnect
        on its own, without the failed channel and without telling the reader)."""
        if command is None:
            return  # no connection now: the reader's next one subscribes what is wanted then
        try:
            await command(channel)
        except Exception as exc:
            log.warning("realtime hub: (un)subscribing %s failed (%r); reconnecting", channel, exc)
            await self._abandon()

    async def _abandon(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()

    async def _drop_connection(self) -> None:
        async with self._lock:
            await self._abandon()

    async def _reader(self) -> None:
        loop = asyncio.get_running_loop()
        failures, healthy_since = 0, loop.time()
        while True:
            try:
                pubsub = self._pubsub
                if pubsub is None:
                    await self._connect()
                    log.warning("realtime hub: subscribed to Redis again")
                    continue
                msg = await pubsub.get_message(timeout=1.0)
                if msg:
                    await self._received(msg)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # connection trouble: a new connection after a pause, never give up
                if loop.time() - healthy_since > HEALTHY_SECONDS:
                    failures = 0  # a failure after a good while starts the pauses afresh
                delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
                failures += 1
                log.warning("realtime hub: Redis subscription failed (%r); reconnecting in %.1f s", exc, delay)
                await self._drop_connection()
                await asyncio.sleep(delay)
                healthy_since = loop.time()

    async def _received(self, msg: dict[str, Any]) -> None:
        tenant_id = self._channels.get(msg.get("channel"))
        if tenant_id is None:
            return
        if msg.get("type") == "subscribe":  # (re)subscribed: what came meanwhile is in the replay log
            await self._catch_up(tenant_id)
            return
        if msg.get("type") != "message":
            return
        raw = msg["data"]
        text = raw.decode() if isinstance(raw, bytes) else raw
        try:  # parsed once per event, not per client: clients get the text as published
            seq = int(json.loads(text)["seq"])
        except (ValueError, KeyError, TypeError):
            return
        last = self._last.get(tenant_id, 0)
        if seq <= last:
            return  # delivered already, from the replay log
        if seq > last + 1:  # some events never arrived: take them from the replay log first
            await self._catch_up(tenant_id)
            if tenant_id not in self._subs or seq <= self._last.get(tenant_id, 0):
                return
        self._last[tenant_id] = seq
        self._arrived(tenant_id, seq, text)

    async def _catch_up(self, tenant_id: int) -> None:
        """Deliver the tenant's events after the last one delivered from its replay log, or a reset."""
        since = self._last.get(tenant_id)
        if since is None:
            return
        missed = await replay_since(self.redis, self.keys, tenant_id, since)
        if missed is None:
            now = await current_seq(self.redis, self.keys, tenant_id)
        if self._last.get(tenant_id) != since:
            return  # unsubscribed (and maybe subscribed again) meanwhile: that subscription catches up
        if missed is None:
            log.warning("realtime hub: tenant %s events after %s are no longer kept; sockets reset",
                        tenant_id, since)
            self._last[tenant_id] = now
            self._reset(tenant_id, now)
            return
        if missed:
            log.info("realtime hub: tenant %s: %s missed events replayed", tenant_id, len(missed))
        for seq, text in missed:
            self._last[tenant_id] = seq
            self._arrived(tenant_id, seq, text)

    def _reset(self, tenant_id: int, seq: int) -> None:
        self._flush(tenant_id)  # what was already waiting goes first
        self._fan_out(tenant_id, Frame.reset_to(seq))

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
        if events:
            self._fan_out(tenant_id, Frame(events))

    def _fan_out(self, tenant_id: int, frame: Frame) -> None:
        for outlet in list(self._subs.get(tenant_id, ())):  # one loop, no task per socket
            try:
                outlet.offer(frame)
            except Exception:  # one broken socket must not starve the others
                log.exception("realtime hub: delivering to a socket failed")
