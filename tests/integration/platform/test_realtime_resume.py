"""Reconnecting clients resume without losing events; agents' presence is shared across processes.

Clients connect to two real app processes (uvicorn) sharing Redis: a client that was away while events
were published reconnects with `?since=<last seq>` (to the other process) and gets exactly the missed
events, in order, once; a gap no longer kept gives `reset`.
"""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest

from aquabill.platform import realtime
from aquabill.platform.realtime import publish
from tests.tenancy.test_realtime_isolation import open_client, wait_until_subscribed


@pytest.fixture(scope="module")
async def tenant(make_tenant):
    return await make_tenant(f"resume-{secrets.token_hex(4)}")


def _nonces(client, kind: str) -> list[str]:
    return [e["data"]["n"] for e in client.events if e.get("type") == kind]


async def test_reconnect_with_since_replays_missed_events_once_in_order(tenant, app_servers, core):
    first, second = app_servers
    client = await open_client(first.ws, tenant, "agent")
    await wait_until_subscribed(core, tenant, [client])
    await publish(core.redis, core.keys, tenant.tenant.id, "t.before", {"n": "b1"})
    seen = await client.wait_for(lambda e: e.get("type") == "t.before", "t.before")
    last = seen["seq"]
    await client.close()

    missed = [f"m{i}" for i in range(5)]
    for n in missed:  # published while the client is away
        await publish(core.redis, core.keys, tenant.tenant.id, "t.missed", {"n": n})

    back = await open_client(f"{second.ws}?since={last}", tenant, "agent again")
    try:
        await back.wait_for(lambda e: e.get("type") == "t.missed" and e["data"]["n"] == "m4", "the last missed")
        await wait_until_subscribed(core, tenant, [back])
        await publish(core.redis, core.keys, tenant.tenant.id, "t.live", {"n": "l1"})
        await back.wait_for(lambda e: e.get("type") == "t.live", "t.live")
        assert _nonces(back, "t.missed") == missed  # each once, in order
        assert _nonces(back, "t.before") == []  # not what it had already
        seqs = [e["seq"] for e in back.events if "seq" in e and e.get("type") not in ("hello",)]
        assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
        hello = next(e for e in back.events if e["type"] == "hello")
        assert hello["seq"] >= last + len(missed)
        assert not any(e.get("type") == "reset" for e in back.events)
    finally:
        await back.close()


async def test_gap_no_longer_kept_gives_reset(tenant, app_servers, core, monkeypatch):
    first, _ = app_servers
    await publish(core.redis, core.keys, tenant.tenant.id, "t.x", {"n": "x"})
    since = await realtime.current_seq(core.redis, core.keys, tenant.tenant.id)
    await publish(core.redis, core.keys, tenant.tenant.id, "t.y", {"n": "y"})
    await core.redis.delete(core.keys.events_replay(tenant.tenant.id))  # the window has passed
    client = await open_client(f"{first.ws}?since={since}", tenant, "late agent")
    try:
        await client.wait_for(lambda e: e.get("type") == "reset", "reset")
        assert _nonces(client, "t.y") == []
    finally:
        await client.close()
    # within the window the log answers, past the counter it is a reset too
    assert await realtime.replay_since(core.redis, core.keys, tenant.tenant.id, since + 5) is None
    now = await realtime.current_seq(core.redis, core.keys, tenant.tenant.id)
    assert await realtime.replay_since(core.redis, core.keys, tenant.tenant.id, now) == []


async def test_replay_log_is_capped(tenant, core, monkeypatch):
    monkeypatch.setattr(realtime, "REPLAY_EVENTS", 3)
    tid = tenant.tenant.id
    for i in range(6):
        await publish(core.redis, core.keys, tid, "t.cap", {"n": i})
    assert await core.redis.zcard(core.keys.events_replay(tid)) == 3
    now = await realtime.current_seq(core.redis, core.keys, tid)
    kept = await realtime.replay_since(core.redis, core.keys, tid, now - 3)
    assert [seq for seq, _ in kept] == [now - 2, now - 1, now]
    assert await realtime.replay_since(core.redis, core.keys, tid, now - 4) is None


async def test_presence_follows_sockets_and_choices_across_processes(tenant, app_servers, core):
    first, second = app_servers
    auth = {"Authorization": f"Bearer {tenant.token}"}

    async def mine() -> dict:
        async with httpx.AsyncClient(base_url=second.base, headers=auth) as http:
            r = await http.get("/api/console/presence")
            assert r.status_code == 200, r.text
            return next(p for p in r.json()["items"] if p["login"] == "admin")

    watcher = await open_client(second.ws, tenant, "supervisor")
    agent = await open_client(first.ws, tenant, "agent")
    try:
        assert (await mine())["status"] == "online"
        await agent.ws.send('{"type": "presence", "status": "busy"}')
        changed = await watcher.wait_for(lambda e: e.get("type") == "presence.changed"
                                         and e["data"]["status"] == "busy", "presence busy")
        assert changed["data"]["login"] == "admin" and changed["data"]["status_name"] == "Занят"
        assert (await mine())["status"] == "busy"
        async with httpx.AsyncClient(base_url=first.base, headers=auth) as http:
            r = await http.put("/api/console/presence", json={"status": "sleeping"})
            assert r.status_code == 422 and "статус" in r.text
            r = await http.put("/api/console/presence", json={"status": "away"})
            assert r.status_code == 200 and r.json()["status"] == "away"
        await watcher.wait_for(lambda e: e.get("type") == "presence.changed" and e["data"]["status"] == "away",
                               "presence away")
    finally:
        await agent.close()
        await watcher.close()
    # the last socket of the user closed: offline for everyone (the server notices the close shortly)
    for _ in range(100):
        if (await mine())["status"] == "offline":
            break
        await asyncio.sleep(0.1)
    assert (await mine())["status"] == "offline"
