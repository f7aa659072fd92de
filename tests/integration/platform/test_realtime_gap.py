"""The hub loses no event while its Redis subscription is down, and none whose message went astray.

An app process (uvicorn) runs on a Redis of this module's own, so that Redis can really be restarted and
connections killed without disturbing other tests. To publish while the app's subscription is certainly
down, the app process is frozen (SIGSTOP) while Redis restarts or its connection is killed, events are
published, and only then resumed (SIGCONT): it finds its connection gone, subscribes again and must
deliver what it missed from the tenant's replay log, once and in order, or `reset` when Redis lost it.
A message lost on the way with the subscription alive (a sequence number skipped) is filled in the same
way. In-process: a socket whose send fails is closed with 1011 and leaves the hub; the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from redis.asyncio import Redis

from aquabill.devserver.services import LocalRedis, free_port
from aquabill.platform.keys import Keys
from aquabill.platform.realtime import Hub, current_seq, publish
from aquabill.platform.web.live.outlet import SocketOutlet
from tests.conftest import AppServer, with_settings
from tests.tenancy.test_realtime_isolation import EVENT_WAIT, Client, open_client, wait_until_subscribed

CHANNEL_GONE = 0  # subscribers of the tenant's channel while the app's subscription is down


class OwnRedis:
    """A redis-server of this module's own that can be stopped, started and restarted on the same port."""

    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="aquabill-gap-redis-"))
        self.port = free_port()
        self.generation = 0
        self.server = self._server()
        self.server.start()
        self.client = Redis.from_url(self.server.url)

    @property
    def url(self) -> str:
        return self.server.url

    def _server(self) -> LocalRedis:
        return LocalRedis(self.tmp / f"data{self.generation}", self.port, persist=True)

    async def stop(self, *, keep_data: bool = True) -> None:
        await self.client.aclose()
        self.server.persist = keep_data  # SHUTDOWN SAVE keeps counters and replay logs, NOSAVE loses them
        self.server.stop()

    async def start(self, *, keep_data: bool = True) -> None:
        if not keep_data:  # an empty Redis, as after a restart without persistence
            self.generation += 1
            self.server = self._server()
        self.server.persist = True
        self.server.start()
        self.client = Redis.from_url(self.url)

    async def restart(self, *, keep_data: bool) -> None:
        await self.stop(keep_data=keep_data)
        await self.start(keep_data=keep_data)

    async def subscribers(self, channel: str) -> int:
        return dict(await self.client.pubsub_numsub(channel))[channel.encode()]

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.client.aclose()
        self.server.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


class LostChannel(Keys):
    """The same counter and replay log, but the PUBLISH goes where nobody listens: a message gone astray."""

    def events_channel(self, tenant_id: int) -> str:
        return f"{self.prefix}:t{tenant_id}:nowhere"


@pytest.fixture(scope="module")
async def own_redis():
    redis = OwnRedis()
    yield redis
    await redis.close()


@pytest.fixture(scope="module")
def server(settings, core, own_redis):
    app = AppServer(with_settings(settings, redis_url=own_redis.url))
    yield app
    os.kill(app.proc.pid, signal.SIGCONT)
    app.stop()


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant(f"gap-{secrets.token_hex(4)}")


@contextlib.contextmanager
def frozen(app: AppServer):
    """The app process stopped: whatever happens meanwhile, it does nothing about it until resumed."""
    os.kill(app.proc.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(app.proc.pid, signal.SIGCONT)


async def connected(server: AppServer, tenant, own_redis: OwnRedis, core) -> Client:
    """A client of the app that got the test event `before`: the app's hub is subscribed and up to date."""
    client = await open_client(server.ws, tenant, "agent")
    await wait_until_subscribed(SimpleNamespace(redis=own_redis.client, keys=core.keys), tenant, [client])
    await send(own_redis, core, tenant, "before")
    await client.wait_for(got("before"), "the event before")
    return client


async def send(own_redis: OwnRedis, core, tenant, n: str, keys: Keys | None = None) -> int:
    return await publish(own_redis.client, keys or core.keys, tenant.tenant.id, "t.gap", {"n": n})


def after(client: Client, n: str) -> list[dict]:
    """The events the client got after the test event `n`, presence announcements left out."""
    events = client.events
    start = next(i for i, e in enumerate(events) if e.get("type") == "t.gap" and e["data"]["n"] == n)
    return [e for e in events[start + 1:] if e.get("type") != "presence.changed"]


def got(n: str):
    return lambda e: e.get("type") == "t.gap" and e["data"]["n"] == n


def assert_once_in_order(client: Client, expected: list[str]) -> None:
    assert [e["data"]["n"] for e in client.events if e.get("type") == "t.gap"] == expected
    seqs = [e["seq"] for e in client.events if e.get("type") != "hello"]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs)), seqs
    assert not any(e.get("type") == "reset" for e in client.events)


async def test_events_published_while_redis_restarted_arrive_once_in_order(server, tenant, own_redis, core):
    client = await connected(server, tenant, own_redis, core)
    channel = core.keys.events_channel(tenant.tenant.id)
    try:
        with frozen(server):
            await own_redis.stop()
        await asyncio.sleep(1.0)  # Redis is down: the app's hub fails to reconnect, again and again
        with frozen(server):
            await own_redis.start()
            await send(own_redis, core, tenant, "down-1")
            await send(own_redis, core, tenant, "down-2")
            assert await own_redis.subscribers(channel) == CHANNEL_GONE  # nobody could have got them live
        await client.wait_for(got("down-2"), "the events published while the subscription was down")
        await send(own_redis, core, tenant, "live")
        await client.wait_for(got("live"), "the live event after")
        assert_once_in_order(client, ["before", "down-1", "down-2", "live"])
    finally:
        await client.close()


async def test_events_published_while_the_connection_was_killed_arrive_once_in_order(
        server, tenant, own_redis, core):
    client = await connected(server, tenant, own_redis, core)
    channel = core.keys.events_channel(tenant.tenant.id)
    try:
        with frozen(server):
            killed = await own_redis.client.client_kill_filter(_type="pubsub")
            assert killed == 1  # the app's hub is the only subscriber of this Redis
            await send(own_redis, core, tenant, "down")
            assert await own_redis.subscribers(channel) == CHANNEL_GONE
        await client.wait_for(got("down"), "the event published while the subscription was down")
        await send(own_redis, core, tenant, "live")
        await client.wait_for(got("live"), "the live event after")
        assert_once_in_order(client, ["before", "down", "live"])
    finally:
        await client.close()


async def test_a_skipped_sequence_number_is_filled_from_the_replay_log(server, tenant, own_redis, core):
    client = await connected(server, tenant, own_redis, core)
    try:
        await send(own_redis, core, tenant, "astray", LostChannel(core.keys.prefix))  # numbered, logged, lost
        await send(own_redis, core, tenant, "next")
        await client.wait_for(got("next"), "the event after the lost one")
        assert [e["data"]["n"] for e in after(client, "before")] == ["astray", "next"]
        assert_once_in_order(client, ["before", "astray", "next"])
    finally:
        await client.close()


async def test_a_skipped_event_no_longer_kept_gives_reset(server, tenant, own_redis, core):
    client = await connected(server, tenant, own_redis, core)
    tid = tenant.tenant.id
    try:
        await send(own_redis, core, tenant, "astray", LostChannel(core.keys.prefix))
        await own_redis.client.delete(core.keys.events_replay(tid))  # past the replay window
        nxt = await send(own_redis, core, tenant, "next")
        await client.wait_for(lambda e: e.get("type") == "reset", "reset")
        live = await send(own_redis, core, tenant, "live")
        await client.wait_for(got("live"), "the live event after the reset")
        # the page reloads its state at the reset, which has `next` in it: numbering goes on after it
        assert [(e["type"], e["seq"]) for e in after(client, "before")] == [("reset", nxt), ("t.gap", live)]
    finally:
        await client.close()


async def test_redis_restarted_without_its_data_gives_reset_and_numbering_starts_again(
        server, tenant, own_redis, core):
    client = await connected(server, tenant, own_redis, core)
    tid = tenant.tenant.id
    try:
        with frozen(server):
            await own_redis.restart(keep_data=False)  # counter and replay log gone
            lost = await send(own_redis, core, tenant, "lost")
            assert lost == 1 and await own_redis.subscribers(core.keys.events_channel(tid)) == CHANNEL_GONE
        await client.wait_for(lambda e: e.get("type") == "reset", "reset")
        await send(own_redis, core, tenant, "live")
        await client.wait_for(got("live"), "the live event after the reset")
        assert [(e["type"], e["seq"]) for e in after(client, "before")] == [("reset", 1), ("t.gap", 2)]
    finally:
        await client.close()


class Peer:
    """A socket's send side for an in-process hub: queues what it sent; once `broken`, every send fails."""

    def __init__(self) -> None:
        self.sent: asyncio.Queue[dict] = asyncio.Queue()
        self.closed: asyncio.Future[tuple[int, str]] = asyncio.get_running_loop().create_future()
        self.broken = False

    async def send_text(self, text: str) -> None:
        if self.broken:
            raise ConnectionResetError("transport broke")
        self.sent.put_nowait(json.loads(text))

    async def close(self, code: int, reason: str) -> None:
        self.closed.set_result((code, reason))

    async def next_n(self) -> int:
        return (await asyncio.wait_for(self.sent.get(), EVENT_WAIT))["data"]["n"]


async def test_a_socket_whose_send_fails_is_closed_and_leaves_the_hub(core, tenant):
    hub = Hub(core.redis, core.keys, coalesce_ms=0)
    await hub.start()
    tid = tenant.tenant.id

    def outlet_of(peer: Peer) -> SocketOutlet:
        def detach() -> None:  # as the WebSocket handler does
            hub.discard(tid, outlet)

        outlet = SocketOutlet(peer.send_text, peer.close, detach)
        return outlet

    broken, healthy = Peer(), Peer()
    outlets = [outlet_of(broken), outlet_of(healthy)]
    try:
        for outlet in outlets:
            await hub.subscribe(tid, outlet)
            outlet.release(await current_seq(core.redis, core.keys, tid))
        await publish(core.redis, core.keys, tid, "t.fail", {"n": 1})
        assert [await broken.next_n(), await healthy.next_n()] == [1, 1]
        broken.broken = True  # its transport breaks mid-stream
        await publish(core.redis, core.keys, tid, "t.fail", {"n": 2})
        assert await healthy.next_n() == 2
        assert await asyncio.wait_for(broken.closed, EVENT_WAIT) == (1011, "send failed, reconnect")
        assert outlets[0].closed and hub.local_clients(tid) == 1  # the broken one left the hub
        await publish(core.redis, core.keys, tid, "t.fail", {"n": 3})
        assert await healthy.next_n() == 3
        assert broken.sent.empty() and not healthy.closed.done()
    finally:
        for outlet in outlets:
            await hub.unsubscribe(tid, outlet)
        await hub.stop()
